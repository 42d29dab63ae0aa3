// /api/v1/devices: the tenant's devices (cursor pages, filters), one device, and for tenant-admins:
// provisioning with the token shown once, CSV import (all or nothing), changes of tags, site and
// thresholds, token rotation, revocation and decommissioning (each audited, effective at ingest within
// seconds).
#include "http/Problem.h"
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/DeviceImport.h"
#include "services/DeviceProvisioning.h"
#include "services/ServiceErrors.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>
#include <Poco/String.h>

#include <map>
#include <set>

namespace pulse::http {
namespace {

const std::string kColumns = "d.id::text, d.name, d.status, d.site_id::text, array_to_json(d.tags)::text, " +
                             storage::isoTime("d.last_seen_at") + ", " + storage::isoTime("d.created_at") +
                             ", " + storage::isoTime("d.decommissioned_at") +
                             ", d.stale_after_s::text, d.offline_after_s::text, d.tenant_id::text";

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
    o->set("stale_after_s", r[8] ? Poco::Dynamic::Var(std::stoi(*r[8])) : Poco::Dynamic::Var());
    o->set("offline_after_s", r[9] ? Poco::Dynamic::Var(std::stoi(*r[9])) : Poco::Dynamic::Var());
    o->set("tenant_id", *r[10]);
    return o;
}

void sendDevice(Call& call, long long id, int status) {
    storage::PgRows rows;
    call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
        rows = conn.query("SELECT " + kColumns + " FROM pulse.devices d WHERE d.id = $1::bigint",
                          {std::to_string(id)});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such device");
    sendObject(call.ex, status, describe(rows.rows[0]));
}

std::string tenantSlug(storage::PgConnection& conn, const std::string& tenantId) {
    auto rows = conn.query("SELECT slug FROM pulse.tenants WHERE id = $1::uuid", {tenantId});
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such tenant");
    return *rows.rows[0][0];
}

// The device as created or re-keyed: its token is in this answer only.
Poco::JSON::Object::Ptr describeProvisioned(const services::ProvisionedDevice& d) {
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    out->set("id", d.deviceId);
    out->set("name", d.name);
    out->set("token", d.token);
    out->set("mqtt_username", d.mqttUsername);
    out->set("mqtt_topic", "devices/" + d.mqttUsername + "/telemetry");
    return out;
}

// credentials: tokens were issued or revoked (the broker's password file changes too).
void devicesChanged(Call& call, bool credentials) {
    if (call.api.services().devicesChanged) call.api.services().devicesChanged(credentials);
}

// POST /devices/import: a CSV file (text/csv) of name, tags, site. Every line is checked first (the file,
// then the names and sites against the tenant, then the device limit); any problem and nothing is
// imported, every problem is listed. Otherwise all devices are created in one transaction.
void importDevices(Call& call) {
    constexpr size_t kMaxRows = 10000;
    auto plan = services::planDeviceImport(call.bodyText("text/csv"), kMaxRows);
    std::vector<services::ProvisionedDevice> created;
    std::optional<std::string> limitProblem;
    if (plan.problems.empty()) {
        try {
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                // The tenant's side in two queries, however long the file: names taken, and the sites.
                std::vector<std::string> names;
                for (const auto& row : plan.rows) names.push_back(row.device.name);
                std::set<std::string> taken;
                for (const auto& r :
                     conn.query("SELECT name FROM pulse.devices WHERE name = ANY ($1::text[])",
                                {services::textArrayLiteral(names)})
                         .rows)
                    taken.insert(*r[0]);
                std::map<std::string, std::string> siteByName;
                std::set<std::string> siteIds;
                for (const auto& r : conn.query("SELECT id::text, name FROM pulse.sites").rows) {
                    siteByName[*r[1]] = *r[0];
                    siteIds.insert(*r[0]);
                }
                for (auto& row : plan.rows) {
                    if (taken.count(row.device.name))
                        plan.problems.push_back(
                            {row.line, "name", "a device named '" + row.device.name + "' exists"});
                    if (row.site.empty()) continue;
                    auto byName = siteByName.find(row.site);
                    std::string asId = Poco::toLower(row.site);
                    if (byName != siteByName.end())
                        row.device.siteId = byName->second;
                    else if (siteIds.count(asId))
                        row.device.siteId = asId;
                    else
                        plan.problems.push_back({row.line, "site", "no site named '" + row.site + "'"});
                }
                if (!plan.problems.empty()) return;
                std::vector<services::DeviceSpec> specs;
                for (const auto& row : plan.rows) specs.push_back(row.device);
                created =
                    services::insertDevices(conn, call.tenant(), tenantSlug(conn, call.tenant()), specs);
            });
        } catch (const services::LimitExceeded& e) {
            limitProblem = e.what();
        }
    }
    if (!plan.problems.empty() || limitProblem) {
        std::string errors;
        for (size_t i = 0; i < plan.problems.size() && i < 1000;
             ++i) {  // enough to fix a file; detail counts
            const auto& p = plan.problems[i];
            errors += std::string(i ? "," : "") + "{\"line\":" + std::to_string(p.line) + ",\"field\":\"" +
                      logging::jsonEscape(p.field) + "\",\"message\":\"" + logging::jsonEscape(p.message) +
                      "\"}";
        }
        call.audit("device.import", "", "failed",
                   "{\"rows\":" + std::to_string(plan.rows.size()) + ",\"problems\":" +
                       std::to_string(plan.problems.size() + (limitProblem ? 1 : 0)) + "}");
        if (limitProblem)
            sendProblem(call.ex.response, 409, "Conflict",
                        "importing " + std::to_string(plan.rows.size()) +
                            " device(s) would pass the device limit: " + *limitProblem,
                        call.ex.path, "", "\"errors\":[]");
        else
            sendProblem(
                call.ex.response, 422, "Unprocessable Content",
                std::to_string(plan.problems.size()) + " problem(s) in the file; nothing was imported",
                call.ex.path, "", "\"errors\":[" + errors + "]");
        return;
    }
    devicesChanged(call, true);
    call.audit("device.import", "", "ok", "{\"devices\":" + std::to_string(created.size()) + "}");
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    for (const auto& d : created) items->add(describeProvisioned(d));
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    out->set("imported", static_cast<long long>(created.size()));
    out->set("items", items);
    sendObject(call.ex, 201, out);
}

}  // namespace

void addDeviceRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/devices", "api.devices.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        std::string status = call.oneOf("status", {"ONLINE", "STALE", "OFFLINE"}), tag = call.query("tag"),
                    site = call.query("site_id"), q = call.query("q");
        auto after = call.idQuery("cursor", "cursor is not one this API returned");
        if (!site.empty() && !storage::isUuid(site))
            throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
        storage::PgRows rows;
        call.api.services().pool->withTenants(call.listedTenants(), [&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns +
                                  " FROM pulse.devices d WHERE ($1::text IS NULL OR d.status = $1) "
                                  "AND ($2::text IS NULL OR $2 = ANY (d.tags)) "
                                  "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
                                  "AND ($4::bigint IS NULL OR d.id > $4::bigint) "
                                  "AND ($5::text IS NULL OR d.name LIKE replace(replace(replace($5, '\\', "
                                  "'\\\\'), '%', '\\%'), '_', '\\_') || '%') "
                                  "ORDER BY d.id LIMIT $6::int",
                              {storage::nonEmpty(status), storage::nonEmpty(tag), storage::nonEmpty(site),
                               after, storage::nonEmpty(q), std::to_string(limit + 1)});
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
        services::ProvisionedDevice d;
        try {
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                d = services::insertDevices(conn, call.tenant(), tenantSlug(conn, call.tenant()),
                                            {services::DeviceSpec{body.name, body.tags, body.siteId}})
                        .front();
            });
        } catch (const std::invalid_argument& e) {
            call.audit("device.create", body.name.substr(0, 128), "failed",
                       "{\"reason\":\"" + logging::jsonEscape(e.what()) + "\"}");
            if (dynamic_cast<const services::Conflict*>(&e))
                throw ApiError(409, "Conflict", e.what(), "name");
            if (dynamic_cast<const services::NotFound*>(&e))
                throw ApiError(422, "Unprocessable Content", e.what(), "site_id");
            throw ApiError(422, "Unprocessable Content", e.what(), "name");
        }
        devicesChanged(call, true);
        call.audit("device.create", std::to_string(d.deviceId), "ok",
                   "{\"name\":\"" + logging::jsonEscape(body.name) + "\"}");
        call.ex.response.set("Location", "/api/v1/devices/" + std::to_string(d.deviceId));
        sendObject(call.ex, 201, describeProvisioned(d));
    });

    api.route(
        router, "PATCH", "/api/v1/devices/{id}", "api.devices.update", Access::TenantAdmin, [](Call& call) {
            long long id = call.numericId("device");
            auto body = parseDeviceChange(call.bodyText());
            std::optional<std::string> tags;
            if (body.tags) {
                std::string field,
                    problem = services::deviceSpecProblem({"x", *body.tags, std::nullopt}, field);
                if (!problem.empty()) throw ApiError(422, "Unprocessable Content", problem, "tags");
                tags = services::textArrayLiteral(*body.tags);
            }
            if (body.siteId && *body.siteId && !storage::isUuid(**body.siteId))
                throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
            bool found = false;
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                if (body.siteId && *body.siteId &&
                    conn.query("SELECT 1 FROM pulse.sites WHERE id = $1::uuid", {**body.siteId}).rows.empty())
                    throw ApiError(422, "Unprocessable Content", "no such site", "site_id");
                found =
                    !conn.query(
                             "UPDATE pulse.devices SET tags = coalesce($2::text[], tags), "
                             "site_id = CASE WHEN $3::boolean THEN $4::uuid ELSE site_id END, "
                             "stale_after_s = CASE WHEN $5::boolean THEN $6::integer ELSE stale_after_s END, "
                             "offline_after_s = CASE WHEN $7::boolean THEN $8::integer ELSE offline_after_s "
                             "END "
                             "WHERE id = $1::bigint RETURNING id",
                             {std::to_string(id), tags, changes(body.siteId), changedTo(body.siteId),
                              changes(body.staleAfterS), changedTo(body.staleAfterS),
                              changes(body.offlineAfterS), changedTo(body.offlineAfterS)})
                         .rows.empty();
                // A device goes STALE before OFFLINE: the thresholds in effect (the device's or its tenant's
                // defaults) keep that order, checked in the transaction that changed them.
                if (found) {
                    auto t = conn.query(
                        "SELECT coalesce(d.stale_after_s, t.default_stale_after_s)::text, "
                        "coalesce(d.offline_after_s, t.default_offline_after_s)::text FROM pulse.devices d "
                        "JOIN pulse.tenants t ON t.id = d.tenant_id WHERE d.id = $1::bigint",
                        {std::to_string(id)});
                    int stale = std::stoi(*t.rows.at(0).at(0)), offline = std::stoi(*t.rows.at(0).at(1));
                    if (offline <= stale)
                        throw ApiError(
                            422, "Unprocessable Content",
                            "offline_after_s (" + std::to_string(offline) +
                                ", with the tenant's default) must be greater than stale_after_s (" +
                                std::to_string(stale) + ")",
                            body.offlineAfterS ? "offline_after_s" : "stale_after_s");
                }
            });
            if (!found) throw ApiError(404, "Not Found", "no such device");
            devicesChanged(call, false);  // the registry caches tags and site for rule scopes
            call.audit("device.update", std::to_string(id));
            sendDevice(call, id, 200);
        });

    api.route(router, "POST", "/api/v1/devices/{id}/rotate-token", "api.devices.rotate_token",
              Access::TenantAdmin, [](Call& call) {
                  long long id = call.numericId("device");
                  std::optional<services::ProvisionedDevice> rotated;
                  call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                      rotated = services::rotateDeviceToken(conn, call.tenant(),
                                                            tenantSlug(conn, call.tenant()), id);
                  });
                  if (!rotated) {
                      call.audit("device.rotate_token", std::to_string(id), "failed",
                                 "{\"reason\":\"no such device, or decommissioned\"}");
                      throw ApiError(404, "Not Found", "no such device (or it is decommissioned)");
                  }
                  devicesChanged(call, true);
                  call.audit("device.rotate_token", std::to_string(id));
                  sendObject(call.ex, 200, describeProvisioned(*rotated));
              });

    api.route(router, "POST", "/api/v1/devices/{id}/revoke", "api.devices.revoke", Access::TenantAdmin,
              [](Call& call) {
                  long long id = call.numericId("device");
                  std::optional<int> revoked;
                  call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                      revoked = services::revokeDeviceCredentials(conn, id);
                  });
                  if (!revoked) throw ApiError(404, "Not Found", "no such device");
                  devicesChanged(call, true);
                  call.audit("device.revoke", std::to_string(id), "ok",
                             "{\"credentials\":" + std::to_string(*revoked) + "}");
                  sendDevice(call, id, 200);
              });

    api.route(router, "POST", "/api/v1/devices/{id}/decommission", "api.devices.decommission",
              Access::TenantAdmin, [](Call& call) {
                  long long id = call.numericId("device");
                  bool done = false;
                  call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                      done = services::decommissionDevice(conn, id);
                  });
                  call.audit("device.decommission", std::to_string(id), done ? "ok" : "failed");
                  if (done) devicesChanged(call, true);
                  sendDevice(call, id,
                             done ? 200 : 409);  // 409: decommissioned already, 404: not the tenant's
              });

    api.route(router, "POST", "/api/v1/devices/import", "api.devices.import", Access::TenantAdmin,
              [](Call& call) { importDevices(call); });
}

}  // namespace pulse::http
