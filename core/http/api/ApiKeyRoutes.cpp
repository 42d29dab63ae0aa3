// /api/v1/api-keys: keys for automation, scoped to the tenant, shown once, revocable (tenant-admins).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const services::ApiKeyInfo& k) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", k.id);
    o->set("name", k.name);
    o->set("role", k.role);
    o->set("prefix", k.prefix);
    o->set("created_at", k.createdAt);
    auto optional = [&](const char* name, const std::string& v) {
        if (v.empty())
            o->set(name, Poco::Dynamic::Var());
        else
            o->set(name, v);
    };
    optional("last_used_at", k.lastUsedAt);
    optional("expires_at", k.expiresAt);
    optional("revoked_at", k.revokedAt);
    return o;
}

}  // namespace

void addApiKeyRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/api-keys", "api.api_keys.list", Access::TenantAdmin, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& k : call.api.services().identity->listApiKeys(call.tenant()))
            items->add(describe(k));
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });

    api.route(router, "POST", "/api/v1/api-keys", "api.api_keys.create", Access::TenantAdmin, [](Call& call) {
        auto body = parseNewApiKey(call.bodyText());
        auto key = call.api.services().identity->createApiKey(*call.principal, call.tenant(), body.name,
                                                              body.role, body.ttlDays);
        call.audit("api_key.create", key.info.id, "ok", "{\"role\":\"" + body.role + "\"}");
        auto out = describe(key.info);
        out->set("token", key.token);  // shown once
        sendObject(call.ex, 201, out);
    });

    api.route(
        router, "DELETE", "/api/v1/api-keys/{id}", "api.api_keys.revoke", Access::TenantAdmin,
        [](Call& call) {
            const std::string& id = call.ex.params.at("id");
            if (!storage::isUuid(id) || !call.api.services().identity->revokeApiKey(call.tenant(), id)) {
                call.audit("api_key.revoke", id.substr(0, 64), "failed", "{\"reason\":\"not found\"}");
                throw ApiError(404, "Not Found", "no such API key");
            }
            call.audit("api_key.revoke", id);
            call.sendNoContent();
        });
}

}  // namespace pulse::http
