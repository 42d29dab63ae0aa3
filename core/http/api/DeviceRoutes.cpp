// /api/v1/devices: the tenant's devices (cursor pages, filters), one device, provisioning with the token
// shown once (tenant-admins).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/DeviceProvisioning.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns =
    "d.id::text, d.name, d.status, coalesce(d.site_id::text, ''), "
    "array_to_string(d.tags, E'\\x1f'), " +
    isoTime("d.last_seen_at") + ", " + isoTime("d.created_at") + ", " + isoTime("d.decommissioned_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    auto nullable = [&](const char* name, const std::optional<std::string>& v) {
        if (!v || v->empty())
            o->set(name, Poco::Dynamic::Var());
        else
            o->set(name, *v);
    };
    o->set("id", std::stoll(*r[0]));
    o->set("name", *r[1]);
    o->set("status", *r[2]);
    nullable("site_id", r[3]);
    Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
    const std::string& joined = *r[4];
    for (size_t start = 0; !joined.empty() && start <= joined.size();) {
        size_t end = joined.find('\x1f', start);
        if (end == std::string::npos) end = joined.size();
        tags->add(joined.substr(start, end - start));
        start = end + 1;
    }
    o->set("tags", tags);
    nullable("last_seen_at", r[5]);
    nullable("created_at", r[6]);
    nullable("decommissioned_at", r[7]);
    return o;
}

}  // namespace

void addDeviceRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/devices", "api.devices.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        std::string status = call.query("status"), tag = call.query("tag"), site = call.query("site_id"),
                    after = call.query("cursor"), q = call.query("q");
        if (!status.empty() && status != "ONLINE" && status != "STALE" && status != "OFFLINE")
            throw ApiError(422, "Unprocessable Content", "status must be ONLINE, STALE or OFFLINE", "status");
        if (!site.empty() && !isUuid(site))
            throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
        if (!after.empty() &&
            (after.size() > 18 || after.find_first_not_of("0123456789") != std::string::npos))
            throw ApiError(422, "Unprocessable Content", "cursor is not one this API returned", "cursor");
        auto opt = [](const std::string& v) {
            return v.empty() ? std::nullopt : std::optional<std::string>(v);
        };
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows =
                conn.query("SELECT " + kColumns +
                               " FROM pulse.devices d WHERE ($1::text IS NULL OR d.status = $1) "
                               "AND ($2::text IS NULL OR $2 = ANY (d.tags)) "
                               "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
                               "AND ($4::bigint IS NULL OR d.id > $4::bigint) "
                               "AND ($5::text IS NULL OR d.name LIKE replace(replace(replace($5, '\\', "
                               "'\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                               "ORDER BY d.id LIMIT $6::int",
                           {opt(status), opt(tag), opt(site), opt(after), opt(q), std::to_string(limit + 1)});
        });
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        size_t shown = std::min(rows.rows.size(), static_cast<size_t>(limit));
        for (size_t i = 0; i < shown; ++i) items->add(describe(rows.rows[i]));
        call.sendPage(items,
                      rows.rows.size() > static_cast<size_t>(limit) ? rows.rows[shown - 1][0] : std::nullopt);
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
            std::string what = e.what();
            int status = what.find("already has") != std::string::npos ? 409 : 422;
            call.audit("device.create", name.substr(0, 128), "failed",
                       "{\"reason\":\"" + logging::jsonEscape(what) + "\"}");
            throw ApiError(status, status == 409 ? "Conflict" : "Unprocessable Content", what, "name");
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
