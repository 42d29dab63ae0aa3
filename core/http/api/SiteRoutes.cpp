// /api/v1/sites: where a tenant's devices are, each with an IANA time zone (checked against the database's
// zone list, the one reports use). Tenant-admins create, change and delete them; a site still named by a
// device, rule or routing rule is not deleted.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "services/ServiceErrors.h"
#include "storage/SiteStore.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::SiteRow& s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", s.id);
    o->set("name", s.name);
    o->set("time_zone", s.timeZone);
    o->set("devices", s.devices);
    o->set("created_at", s.createdAt);
    return o;
}

void sendSite(Call& call, const std::string& id, int status) {
    auto site = storage::SiteStore(*call.api.services().pool).find(call.tenant(), id);
    if (!site) throw ApiError(404, "Not Found", "no such site");
    sendObject(call.ex, status, describe(*site));
}

// A site's save: a name in use is a 409 naming the field, a time zone PostgreSQL does not know a 422.
template <typename Fn>
void save(Fn&& fn) {
    try {
        fn();
    } catch (const services::Conflict& e) {
        throw ApiError(409, "Conflict", e.what(), "name");
    } catch (const std::invalid_argument& e) {
        throw ApiError(422, "Unprocessable Content", e.what(), "time_zone");
    }
}

}  // namespace

void addSiteRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/sites", "api.sites.list", Access::Reader, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& s : storage::SiteStore(*call.api.services().pool).list(call.tenant()))
            items->add(describe(s));
        call.sendPage(items, std::nullopt);
    });

    api.route(router, "GET", "/api/v1/sites/{id}", "api.sites.get", Access::Reader,
              [](Call& call) { sendSite(call, call.uuidId("site"), 200); });

    api.route(router, "POST", "/api/v1/sites", "api.sites.create", Access::TenantAdmin, [](Call& call) {
        auto body = parseSite(call.bodyText(), true);
        std::string id;
        save([&] {
            id = storage::SiteStore(*call.api.services().pool)
                     .create(call.tenant(), *body.name, body.timeZone);
        });
        call.audit("site.create", id);
        call.ex.response.set("Location", "/api/v1/sites/" + id);
        sendSite(call, id, 201);
    });

    api.route(router, "PATCH", "/api/v1/sites/{id}", "api.sites.update", Access::TenantAdmin, [](Call& call) {
        const std::string& id = call.uuidId("site");
        auto body = parseSite(call.bodyText(), false);
        bool found = false;
        save([&] {
            found = storage::SiteStore(*call.api.services().pool)
                        .update(call.tenant(), id, body.name, body.timeZone);
        });
        if (!found) throw ApiError(404, "Not Found", "no such site");
        call.audit("site.update", id);
        sendSite(call, id, 200);
    });

    api.route(
        router, "DELETE", "/api/v1/sites/{id}", "api.sites.delete", Access::TenantAdmin, [](Call& call) {
            const std::string& id = call.uuidId("site");
            auto removal = storage::SiteStore(*call.api.services().pool).remove(call.tenant(), id);
            if (!removal.found) throw ApiError(404, "Not Found", "no such site");
            if (removal.references != 0) {
                call.audit("site.delete", id, "failed", "{\"reason\":\"in use\"}");
                throw ApiError(409, "Conflict",
                               "the site is named by " + std::to_string(removal.references) +
                                   " device(s), rule(s) (deleted rules keep their scope) or routing rule(s)");
            }
            call.audit("site.delete", id);
            call.sendNoContent();
        });
}

}  // namespace pulse::http
