// /api/v1/tenants: operators list and read every tenant (each read audited); operator-admins create
// tenants and change their name and subscription (the device limit). Tenant users see their own tenant,
// with its subscription and how much of it is in use.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns =
    "t.id::text, t.slug, t.name, t.device_limit::text, " + storage::isoTime("t.created_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", *r[0]);
    o->set("slug", *r[1]);
    o->set("name", *r[2]);
    o->set("device_limit", r[3] ? Poco::Dynamic::Var(std::stoll(*r[3])) : Poco::Dynamic::Var());
    o->set("created_at", *r[4]);
    return o;
}

// The tenant with the devices it uses; 404 for a tenant user asking about another tenant.
void sendTenant(Call& call, const std::string& id, int status) {
    if (!call.principal->isOperator() && id != call.principal->tenantId)
        throw ApiError(404, "Not Found", "no such tenant");
    storage::PgRows rows, used;
    // pulse.tenants carries no tenant_id (no row-level security); the device count is read in the tenant.
    call.api.services().pool->with([&](storage::PgConnection& conn) {
        rows = conn.query("SELECT " + kColumns + " FROM pulse.tenants t WHERE t.id = $1::uuid", {id});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such tenant");
    call.api.services().pool->withTenant(id, [&](storage::PgConnection& conn) {
        used = conn.query("SELECT count(*)::text FROM pulse.devices WHERE decommissioned_at IS NULL");
    });
    auto out = describe(rows.rows[0]);
    out->set("devices_in_use", std::stoll(*used.rows[0][0]));
    sendObject(call.ex, status, out);
}

}  // namespace

void addTenantRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/tenants", "api.tenants.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        auto after = call.query("cursor");
        if (!after.empty() && !storage::isUuid(after))
            throw ApiError(422, "Unprocessable Content", "cursor is not one this API returned", "cursor");
        storage::PgRows rows;
        bool everyone = call.principal->isOperator();
        call.api.services().pool->with([&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns +
                                  " FROM pulse.tenants t WHERE ($1::uuid IS NULL OR t.id = $1::uuid) "
                                  "AND ($2::uuid IS NULL OR t.id > $2::uuid) ORDER BY t.id LIMIT $3::int",
                              {everyone ? std::nullopt : std::optional<std::string>(call.principal->tenantId),
                               storage::nonEmpty(after), std::to_string(limit + 1)});
        });
        if (everyone) call.audit("tenant.list", "");
        call.sendRows(rows, limit, describe);
    });

    api.route(router, "GET", "/api/v1/tenants/{id}", "api.tenants.get", Access::Reader, [](Call& call) {
        const std::string& id = call.uuidId("tenant");
        if (call.principal->isOperator()) call.audit("operator.access", "GET /api/v1/tenants/" + id);
        sendTenant(call, id, 200);
    });

    api.route(router, "POST", "/api/v1/tenants", "api.tenants.create", Access::OperatorAdmin, [](Call& call) {
        auto body = parseNewTenant(call.bodyText());
        std::string id;
        try {
            call.api.services().pool->with([&](storage::PgConnection& conn) {
                id = *conn.query("SELECT pulse.create_tenant($1, $2, $3::integer)::text",
                                 {body.slug, body.name,
                                  body.deviceLimit
                                      ? std::optional<std::string>(std::to_string(*body.deviceLimit))
                                      : std::nullopt})
                          .rows[0][0];
            });
        } catch (const storage::DatabaseError& e) {
            if (e.sqlState() != "23505") throw;
            call.audit("tenant.create", body.slug, "failed", "{\"reason\":\"slug in use\"}");
            throw ApiError(409, "Conflict", "a tenant with the slug '" + body.slug + "' exists", "slug");
        }
        call.audit("tenant.create", id, "ok", "{\"slug\":\"" + body.slug + "\"}");
        call.ex.response.set("Location", "/api/v1/tenants/" + id);
        sendTenant(call, id, 201);
    });

    api.route(
        router, "PATCH", "/api/v1/tenants/{id}", "api.tenants.update", Access::OperatorAdmin, [](Call& call) {
            const std::string& id = call.uuidId("tenant");
            auto body = parseTenantChange(call.bodyText());
            bool found = false;
            call.api.services().pool->with([&](storage::PgConnection& conn) {
                found =
                    *conn.query("SELECT pulse.update_tenant($1::uuid, $2, $3::boolean, $4::integer)::text",
                                {id, body.name, changes(body.deviceLimit), changedTo(body.deviceLimit)})
                         .rows[0][0] == "true";
            });
            if (!found) throw ApiError(404, "Not Found", "no such tenant");
            std::string detail = "{}";
            if (body.deviceLimit)
                detail = "{\"device_limit\":" + changedTo(body.deviceLimit).value_or("null") + "}";
            call.audit("tenant.update", id, "ok", detail);
            sendTenant(call, id, 200);
        });
}

}  // namespace pulse::http
