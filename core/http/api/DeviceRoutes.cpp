// /api/v1/devices: the tenant's devices (cursor pages, filters), one device, provisioning with the token
// shown once (tenant-admins).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/DeviceProvisioning.h"
#include "services/ServiceErrors.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns = "d.id::text, d.name, d.status, d.site_id::text, array_to_json(d.tags)::text, " +
                             isoTime("d.last_seen_at") + ", " + isoTime("d.created_at") + ", " +
                             isoTime("d.decommissioned_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", std::stoll(*r[0]));
    o->set("name", *r[1]);
    o->set("status", *r[2]);
    o->set("site_id", orNull(r[3]));
    o->set("tags", jsonValue(*r[4]));
    o->set("last_seen_at", orNull(r[5]));
    o->set("created_at", orNull(r[6]));
    o->set("decommissioned_at", orNull(r[7]));
    return o;
}

}  // namespace

void addDeviceRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/devices", "api.devices.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        std::string status = call.query("status"), tag = call.query("tag"), site = call.query("site_id"),
                    q = call.query("q");
        auto after = call.idQuery("cursor", "cursor is not one this API returned");
        if (!status.empty() && status != "ONLINE" && status != "STALE" && status != "OFFLINE")
            throw ApiError(422, "Unprocessable Content", "status must be ONLINE, STALE or OFFLINE", "status");
        if (!site.empty() && !storage::isUuid(site))
            throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns +
                                  " FROM pulse.devices d WHERE ($1::text IS NULL OR d.status = $1) "
                                  "AND ($2::text IS NULL OR $2 = ANY (d.tags)) "
                                  "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
                                  "AND ($4::bigint IS NULL OR d.id > $4::bigint) "
                                  "AND ($5::text IS NULL OR d.name LIKE replace(replace(replace($5, '\\', "
                                  "'\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                                  "ORDER BY d.id LIMIT $6::int",
                              {nonEmpty(status), nonEmpty(tag), nonEmpty(site), after, nonEmpty(q),
                               std::to_string(limit + 1)});
        });
        call.sendRows(rows, limit, describe);
    });

    api.route(router, "GET", "/api/v1/devices/{id}", "api.devices.get", Access::Reader, [](Call& call) {
        long long id = call.numericId("device");
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns + " FROM pulse.devices d WHERE d.id = $1::bigint",
                              {std::to_string(id)});
        });
        if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such device");
        sendObject(call.ex, 200, describe(rows.rows[0]));
    });

    api.route(router, "POST", "/api/v1/devices", "api.devices.create", Access::TenantAdmin, [](Call& call) {
        auto body = parseNewDevice(call.bodyText());
        std::string slug;
        call.api.services().pool->with([&](storage::PgConnection& conn) {
            auto rows = conn.query("SELECT slug FROM pulse.tenants WHERE id = $1::uuid", {call.tenant()});
            if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such tenant");
            slug = *rows.rows[0][0];
        });
        const std::string& name = body.name;
        services::ProvisionedDevice d;
        try {
            d = services::createDevice(*call.api.services().db, slug, name, body.tags);
        } catch (const std::invalid_argument& e) {
            call.audit("device.create", name.substr(0, 128), "failed",
                       "{\"reason\":\"" + logging::jsonEscape(e.what()) + "\"}");
            if (dynamic_cast<const services::Conflict*>(&e))
                throw ApiError(409, "Conflict", e.what(), "name");
            throw ApiError(422, "Unprocessable Content", e.what(), "name");
        }
        call.audit("device.create", std::to_string(d.deviceId), "ok",
                   "{\"name\":\"" + logging::jsonEscape(name) + "\"}");
        Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
        out->set("id", d.deviceId);
        out->set("name", d.name);
        out->set("token", d.token);  // shown once
        out->set("mqtt_username", d.mqttUsername);
        out->set("mqtt_topic", "devices/" + d.mqttUsername + "/telemetry");
        call.ex.response.set("Location", "/api/v1/devices/" + std::to_string(d.deviceId));
        sendObject(call.ex, 201, out);
    });
}

}  // namespace pulse::http
