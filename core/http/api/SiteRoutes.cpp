// /api/v1/sites: where a tenant's devices are, each with an IANA time zone (checked against the database's
// zone list, the one reports use). Tenant-admins create, change and delete them; a site still named by a
// device, rule or routing rule is not deleted.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "services/ServiceErrors.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns =
    "s.id::text, s.name, s.time_zone, (SELECT count(*) FROM pulse.devices d WHERE d.site_id = s.id "
    "AND d.decommissioned_at IS NULL)::text, " +
    storage::isoTime("s.created_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", *r[0]);
    o->set("name", *r[1]);
    o->set("time_zone", *r[2]);
    o->set("devices", std::stoll(*r[3]));
    o->set("created_at", *r[4]);
    return o;
}

void checkTimeZone(storage::PgConnection& conn, const std::optional<std::string>& zone) {
    if (zone && conn.query("SELECT 1 FROM pg_timezone_names WHERE name = $1", {*zone}).rows.empty())
        throw ApiError(422, "Unprocessable Content",
                       "time_zone must be an IANA time zone name such as Europe/Berlin", "time_zone");
}

void sendSite(Call& call, const std::string& id, int status) {
    storage::PgRows rows;
    call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
        rows = conn.query("SELECT " + kColumns + " FROM pulse.sites s WHERE s.id = $1::uuid", {id});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such site");
    sendObject(call.ex, status, describe(rows.rows[0]));
}

// A unique violation on (tenant, name) as a 409 naming the field.
template <typename Fn>
void nameMustBeFree(const std::optional<std::string>& name, Fn&& fn) {
    try {
        fn();
    } catch (const storage::DatabaseError& e) {
        if (e.sqlState() == "23505")
            throw ApiError(409, "Conflict", "a site named '" + name.value_or("") + "' exists", "name");
        throw;
    }
}

}  // namespace

void addSiteRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/sites", "api.sites.list", Access::Reader, [](Call& call) {
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns + " FROM pulse.sites s ORDER BY s.name LIMIT 2000");
        });
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows.rows) items->add(describe(r));
        call.sendPage(items, std::nullopt);
    });

    api.route(router, "GET", "/api/v1/sites/{id}", "api.sites.get", Access::Reader,
              [](Call& call) { sendSite(call, call.uuidId("site"), 200); });

    api.route(router, "POST", "/api/v1/sites", "api.sites.create", Access::TenantAdmin, [](Call& call) {
        auto body = parseSite(call.bodyText(), true);
        std::string id;
        nameMustBeFree(body.name, [&] {
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                checkTimeZone(conn, body.timeZone);
                id =
                    *conn.query(
                             "INSERT INTO pulse.sites (tenant_id, name, time_zone) VALUES ($1::uuid, $2, $3) "
                             "RETURNING id::text",
                             {call.tenant(), *body.name, body.timeZone.value_or("UTC")})
                         .rows[0][0];
            });
        });
        call.audit("site.create", id);
        call.ex.response.set("Location", "/api/v1/sites/" + id);
        sendSite(call, id, 201);
    });

    api.route(router, "PATCH", "/api/v1/sites/{id}", "api.sites.update", Access::TenantAdmin, [](Call& call) {
        const std::string& id = call.uuidId("site");
        auto body = parseSite(call.bodyText(), false);
        bool found = false;
        nameMustBeFree(body.name, [&] {
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                checkTimeZone(conn, body.timeZone);
                found = !conn.query(
                                 "UPDATE pulse.sites SET name = coalesce($2, name), time_zone = coalesce($3, "
                                 "time_zone) WHERE id = $1::uuid RETURNING id",
                                 {id, body.name, body.timeZone})
                             .rows.empty();
            });
        });
        if (!found) throw ApiError(404, "Not Found", "no such site");
        call.audit("site.update", id);
        sendSite(call, id, 200);
    });

    api.route(
        router, "DELETE", "/api/v1/sites/{id}", "api.sites.delete", Access::TenantAdmin, [](Call& call) {
            const std::string& id = call.uuidId("site");
            std::string users;
            bool found = false;
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                auto rows = conn.query(
                    "SELECT (SELECT count(*) FROM pulse.devices WHERE site_id = $1::uuid) + "
                    "(SELECT count(*) FROM pulse.rules WHERE scope_site_id = $1::uuid) + "
                    "(SELECT count(*) FROM pulse.routing_rules WHERE site_id = $1::uuid), "
                    "EXISTS (SELECT 1 FROM pulse.sites WHERE id = $1::uuid)",
                    {id});
                found = *rows.rows[0][1] == "t";
                users = *rows.rows[0][0];
                if (found && users == "0") conn.query("DELETE FROM pulse.sites WHERE id = $1::uuid", {id});
            });
            if (!found) throw ApiError(404, "Not Found", "no such site");
            if (users != "0") {
                call.audit("site.delete", id, "failed", "{\"reason\":\"in use\"}");
                throw ApiError(409, "Conflict",
                               "the site is named by " + users +
                                   " device(s), rule(s) (deleted rules keep their scope) or routing rule(s)");
            }
            call.audit("site.delete", id);
            call.sendNoContent();
        });
}

}  // namespace pulse::http
