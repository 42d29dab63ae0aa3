// /api/v1/users: the tenant's users, managed by its tenant-admins (and operator-admins naming the tenant):
// create with an Argon2id password, change role or name, disable. A disabled or demoted user's sessions and
// API keys stop working at their next request (they are checked on every request); role changes are
// audited with the old and new role. Nobody changes their own role or disables themselves.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/PasswordHasher.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns = "u.id::text, u.email::text, u.display_name, u.role, u.disabled::text, " +
                             storage::isoTime("u.created_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", *r[0]);
    o->set("email", *r[1]);
    o->set("display_name", *r[2]);
    o->set("role", *r[3]);
    o->set("disabled", *r[4] == "true");
    o->set("created_at", *r[5]);
    return o;
}

void sendUser(Call& call, const std::string& id, int status) {
    storage::PgRows rows;
    call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
        rows = conn.query("SELECT " + kColumns + " FROM pulse.users u WHERE u.id = $1::uuid", {id});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such user");
    sendObject(call.ex, status, describe(rows.rows[0]));
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
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns + " FROM pulse.users u ORDER BY u.email LIMIT 5000");
        });
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows.rows) items->add(describe(r));
        call.sendPage(items, std::nullopt);
    });

    api.route(router, "GET", "/api/v1/users/{id}", "api.users.get", Access::TenantAdmin,
              [](Call& call) { sendUser(call, call.uuidId("user"), 200); });

    api.route(router, "POST", "/api/v1/users", "api.users.create", Access::TenantAdmin, [](Call& call) {
        refuseApiKeys(call, "user.create", "create users");
        auto body = parseNewUser(call.bodyText());
        std::string hash = services::hashPassword(body.password);
        std::string id;
        try {
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                id = *conn.query(
                              "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash) "
                              "VALUES ($1::uuid, $2, $3, $4, $5) RETURNING id::text",
                              {call.tenant(), body.email, body.displayName, body.role, hash})
                          .rows[0][0];
            });
        } catch (const storage::DatabaseError& e) {
            if (e.sqlState() != "23505") throw;
            call.audit("user.create", body.email, "failed", "{\"reason\":\"e-mail in use\"}");
            throw ApiError(409, "Conflict", "the e-mail address is in use", "email");
        }
        call.audit("user.create", id, "ok",
                   "{\"email\":\"" + logging::jsonEscape(body.email) + "\",\"role\":\"" + body.role + "\"}");
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
        std::optional<std::vector<std::optional<std::string>>> before, after;  // role, disabled
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            auto old = conn.query(
                "SELECT role, disabled::text FROM pulse.users WHERE id = $1::uuid FOR UPDATE", {id});
            if (old.rows.empty()) return;
            before = old.rows[0];
            after =
                conn.query(
                        "UPDATE pulse.users SET role = coalesce($2, role), disabled = coalesce($3::boolean, "
                        "disabled), display_name = coalesce($4, display_name) WHERE id = $1::uuid RETURNING "
                        "role, disabled::text",
                        {id, body.role,
                         body.disabled ? std::optional<std::string>(*body.disabled ? "true" : "false")
                                       : std::nullopt,
                         body.displayName})
                    .rows[0];
        });
        if (!before) throw ApiError(404, "Not Found", "no such user");
        if ((*before)[0] != (*after)[0])
            call.audit("user.role_change", id, "ok",
                       "{\"from\":\"" + *(*before)[0] + "\",\"to\":\"" + *(*after)[0] + "\"}");
        if ((*before)[1] != (*after)[1])
            call.audit(*(*after)[1] == "true" ? "user.disable" : "user.enable", id);
        if (body.displayName) call.audit("user.update", id);
        sendUser(call, id, 200);
    });
}

}  // namespace pulse::http
