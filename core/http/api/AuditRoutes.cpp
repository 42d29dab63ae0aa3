// /api/v1/audit-log: newest first; tenant-admins see their tenant's entries, operator-admins every entry
// (or one tenant's with ?tenant=).
#include "http/api/Api.h"
#include "services/AuditLog.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {

void addAuditRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/audit-log", "api.audit.list", Access::TenantAdmin, [](Call& call) {
        int limit = call.limit();
        auto cursor = call.idQuery("cursor", "cursor is not one this API returned");
        long long before = cursor ? std::stoll(*cursor) : 0;
        // Operator-admins may read everything; everyone else reads their own tenant only.
        std::string tenant = call.principal->isOperator() ? call.tenantId : call.tenant();
        auto entries = call.api.services().audit->page(tenant, before, limit + 1);
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        size_t shown = std::min(entries.size(), static_cast<size_t>(limit));
        for (size_t i = 0; i < shown; ++i) {
            const auto& e = entries[i];
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("id", e.id);
            o->set("at", e.at);
            o->set("actor", e.actor);
            o->set("actor_role", e.actorRole);
            if (e.tenantId.empty())
                o->set("tenant_id", Poco::Dynamic::Var());
            else
                o->set("tenant_id", e.tenantId);
            o->set("address", e.address);
            o->set("action", e.action);
            o->set("target", e.target);
            o->set("result", e.result);
            o->set("detail", jsonValue(e.detailJson));
            items->add(o);
        }
        call.sendPage(items, entries.size() > static_cast<size_t>(limit)
                                 ? std::optional<std::string>(std::to_string(entries[shown - 1].id))
                                 : std::nullopt);
    });
}

}  // namespace pulse::http
