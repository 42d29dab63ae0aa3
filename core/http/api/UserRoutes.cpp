// /api/v1/users: the tenant's users, managed by its tenant-admins (and operator-admins naming the tenant):
// create with an Argon2id password, change role or name, disable. A disabled or demoted user's sessions and
// API keys stop working at their next request (they are checked on every request); role changes are
// audited with the old and new role. Nobody changes their own role or disables themselves.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/PasswordHasher.h"
#include "services/ServiceErrors.h"
#include "storage/UserStore.h"

#include <pulse/json.hpp>

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::UserRow& u) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", u.id);
    o->set("email", u.email);
    o->set("display_name", u.displayName);
    o->set("role", u.role);
    o->set("disabled", u.disabled);
    o->set("created_at", u.createdAt);
    return o;
}

void sendUser(Call& call, const std::string& id, int status) {
    auto user = storage::UserStore(*call.api.services().pool).find(call.tenant(), id);
    if (!user) throw ApiError(404, "Not Found", "no such user");
    sendObject(call.ex, status, describe(*user));
}

// Nothing a key creates may outlive or outrank it: a user made (or promoted) by a key would keep its
// rights after the key expires or is revoked, and could make a key that never expires. People manage
// people; keys do not, as they do not create keys either.
void refuseApiKeys(Call& call, const std::string& action, const std::string& what) {
    if (call.principal->kind != services::Principal::Kind::ApiKey) return;
    call.audit(action, "", "denied");
    throw ApiError(403, "Forbidden",
                   "API keys cannot " + what + ": a user would outlive the key; sign in as an administrator");
}

}  // namespace

void addUserRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/users", "api.users.list", Access::TenantAdmin, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& u : storage::UserStore(*call.api.services().pool).list(call.tenant()))
            items->add(describe(u));
        call.sendPage(items, std::nullopt);
    });

    api.route(router, "GET", "/api/v1/users/{id}", "api.users.get", Access::TenantAdmin,
              [](Call& call) { sendUser(call, call.uuidId("user"), 200); });

    api.route(router, "POST", "/api/v1/users", "api.users.create", Access::TenantAdmin, [](Call& call) {
        refuseApiKeys(call, "user.create", "create users");
        auto body = parseNewUser(call.bodyText());
        storage::NewUser user{body.email, body.displayName, body.role, services::hashPassword(body.password)};
        std::string id;
        try {
            id = storage::UserStore(*call.api.services().pool).create(call.tenant(), user);
        } catch (const services::Conflict& e) {
            call.audit("user.create", body.email, "failed", "{\"reason\":\"e-mail in use\"}");
            throw ApiError(409, "Conflict", e.what(), "email");
        }
        call.audit("user.create", id, "ok", json::objectOf({{"email", body.email}, {"role", body.role}}));
        call.ex.response.set("Location", "/api/v1/users/" + id);
        sendUser(call, id, 201);
    });

    api.route(router, "PATCH", "/api/v1/users/{id}", "api.users.update", Access::TenantAdmin, [](Call& call) {
        const std::string& id = call.uuidId("user");
        auto body = parseUserChange(call.bodyText());
        if (body.role || body.disabled) refuseApiKeys(call, "user.update", "change roles or disable users");
        if (id == call.principal->id && (body.role || body.disabled))
            throw ApiError(409, "Conflict",
                           "you cannot change your own role or disable yourself; ask another admin");
        auto update = storage::UserStore(*call.api.services().pool)
                          .update(call.tenant(), id, {body.role, body.disabled, body.displayName});
        if (!update) throw ApiError(404, "Not Found", "no such user");
        const auto& [before, after] = *update;
        if (before.role != after.role)
            call.audit("user.role_change", id, "ok",
                       "{\"from\":\"" + before.role + "\",\"to\":\"" + after.role + "\"}");
        if (before.disabled != after.disabled)
            call.audit(after.disabled ? "user.disable" : "user.enable", id);
        if (body.displayName) call.audit("user.update", id);
        sendUser(call, id, 200);
    });
}

}  // namespace pulse::http
