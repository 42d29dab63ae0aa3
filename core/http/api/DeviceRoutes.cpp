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
#include "storage/DeviceStatusStore.h"
#include "storage/DeviceStore.h"
#include "storage/TenantStore.h"

#include <pulse/json.hpp>

#include <Poco/JSON/Array.h>

#include <map>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::DeviceRow& d) {
    auto optionalInt = [](const std::optional<int>& v) {
        return v ? Poco::Dynamic::Var(*v) : Poco::Dynamic::Var();
    };
    Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
    for (const auto& t : d.tags) tags->add(t);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", d.id);
    o->set("name", d.name);
    o->set("status", d.status);
    o->set("site_id", orNull(d.siteId));
    o->set("tags", tags);
    o->set("last_seen_at", orNull(d.lastSeenAt));
    o->set("created_at", d.createdAt);
    o->set("decommissioned_at", orNull(d.decommissionedAt));
    o->set("stale_after_s", optionalInt(d.staleAfterS));
    o->set("offline_after_s", optionalInt(d.offlineAfterS));
    o->set("tenant_id", d.tenantId);
    o->set("parent_id", d.parentId ? Poco::Dynamic::Var(*d.parentId) : Poco::Dynamic::Var());
    return o;
}

void sendDevice(Call& call, long long id, int status) {
    auto device = storage::DeviceStore(*call.api.services().pool).find(call.tenant(), id);
    if (!device) throw ApiError(404, "Not Found", "no such device");
    sendObject(call.ex, status, describe(*device));
}

// Devices are named "<slug>/<name>" on MQTT.
std::string tenantSlug(Call& call) {
    auto slug = storage::TenantStore(*call.api.services().pool).slugOf(call.tenant());
    if (!slug) throw ApiError(404, "Not Found", "no such tenant");
    return *slug;
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
            created =
                services::importDevices(*call.api.services().pool, call.tenant(), tenantSlug(call), plan);
        } catch (const services::LimitExceeded& e) {
            limitProblem = e.what();
        }
    }
    if (!plan.problems.empty() || limitProblem) {
        json::Writer errors;  // the problem's "errors" member: enough to fix a file; detail counts
        errors.key("errors").beginArray();
        for (size_t i = 0; i < plan.problems.size() && i < 1000; ++i) {
            const auto& p = plan.problems[i];
            errors.beginObject().member("line", p.line).member("field", p.field).member("message", p.message);
            errors.endObject();
        }
        errors.endArray();
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
                call.ex.path, "", errors.str());
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
        // Newest first is not offered by name: "-last_seen" (recently seen) and "id" (the order made) cover
        // it.
        static const std::map<std::string, storage::DeviceOrder> orders = {
            {"id", storage::DeviceOrder::Id},
            {"name", storage::DeviceOrder::Name},
            {"-name", storage::DeviceOrder::NameDescending},
            {"last_seen", storage::DeviceOrder::LastSeen},
            {"-last_seen", storage::DeviceOrder::LastSeenDescending}};
        std::string sort = call.oneOf("sort", {"id", "name", "-name", "last_seen", "-last_seen"}, "id");
        storage::DeviceFilter filter{status,          tag,         site, q, std::nullopt, limit,
                                     orders.at(sort), std::nullopt};
        if (after) filter.afterId = std::stoll(*after);
        if (auto parent = call.idQuery("parent_id", "parent_id must be a device id"))
            filter.parentId = std::stoll(*parent);
        auto page = storage::DeviceStore(*call.api.services().pool).list(call.listedTenants(), filter);
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& d : page.rows) items->add(describe(d));
        call.sendPage(items, page.more ? std::optional<std::string>(std::to_string(page.rows.back().id))
                                       : std::nullopt);
    });

    api.route(router, "GET", "/api/v1/devices/{id}", "api.devices.get", Access::Reader,
              [](Call& call) { sendDevice(call, call.numericId("device"), 200); });

    api.route(
        router, "GET", "/api/v1/devices/{id}/status-history", "api.devices.status_history", Access::Reader,
        [](Call& call) {
            long long id = call.numericId("device");
            int limit = call.limit();
            auto before = call.idQuery("cursor", "cursor is not one this API returned");
            auto page =
                storage::DeviceStatusStore(*call.api.services().pool)
                    .history(call.tenant(), id,
                             before ? std::optional<long long>(std::stoll(*before)) : std::nullopt, limit);
            if (!page) throw ApiError(404, "Not Found", "no such device");
            Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
            for (const auto& c : page->rows) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("from", c.fromStatus);
                o->set("to", c.toStatus);
                o->set("at", c.at);
                o->set("reason", c.reason);
                items->add(o);
            }
            call.sendPage(items, page->more ? std::optional<std::string>(std::to_string(page->rows.back().id))
                                            : std::nullopt);
        });

    api.route(router, "POST", "/api/v1/devices", "api.devices.create", Access::TenantAdmin, [](Call& call) {
        auto body = parseNewDevice(call.bodyText());
        services::ProvisionedDevice d;
        try {
            d = services::provisionDevices(*call.api.services().pool, call.tenant(), tenantSlug(call),
                                           {services::DeviceSpec{body.name, body.tags, body.siteId}})
                    .front();
        } catch (const std::invalid_argument& e) {
            call.audit("device.create", body.name.substr(0, 128), "failed",
                       json::objectOf({{"reason", e.what()}}));
            if (dynamic_cast<const services::Conflict*>(&e))
                throw ApiError(409, "Conflict", e.what(), "name");
            if (dynamic_cast<const services::NotFound*>(&e))
                throw ApiError(422, "Unprocessable Content", e.what(), "site_id");
            throw ApiError(422, "Unprocessable Content", e.what(), "name");
        }
        devicesChanged(call, true);
        call.audit("device.create", std::to_string(d.deviceId), "ok", json::objectOf({{"name", body.name}}));
        call.ex.response.set("Location", "/api/v1/devices/" + std::to_string(d.deviceId));
        sendObject(call.ex, 201, describeProvisioned(d));
    });

    api.route(router, "PATCH", "/api/v1/devices/{id}", "api.devices.update", Access::TenantAdmin,
              [](Call& call) {
                  long long id = call.numericId("device");
                  auto body = parseDeviceChange(call.bodyText());
                  if (body.tags) {
                      std::string field,
                          problem = services::deviceSpecProblem({"x", *body.tags, std::nullopt}, field);
                      if (!problem.empty()) throw ApiError(422, "Unprocessable Content", problem, "tags");
                  }
                  if (body.siteId && *body.siteId && !storage::isUuid(**body.siteId))
                      throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
                  bool found = false;
                  try {
                      found = storage::DeviceStore(*call.api.services().pool)
                                  .update(call.tenant(), id,
                                          {body.tags, body.siteId, body.staleAfterS, body.offlineAfterS,
                                           body.parentId});
                  } catch (const storage::InvalidParent& e) {
                      throw ApiError(422, "Unprocessable Content", e.what(), "parent_id");
                  } catch (const services::NotFound& e) {
                      throw ApiError(422, "Unprocessable Content", e.what(), "site_id");
                  } catch (const std::invalid_argument& e) {  // the thresholds' order
                      throw ApiError(422, "Unprocessable Content", e.what(),
                                     body.offlineAfterS ? "offline_after_s" : "stale_after_s");
                  }
                  if (!found) throw ApiError(404, "Not Found", "no such device");
                  devicesChanged(call, false);  // the registry caches tags and site for rule scopes
                  call.audit("device.update", std::to_string(id));
                  sendDevice(call, id, 200);
              });

    api.route(router, "POST", "/api/v1/devices/{id}/rotate-token", "api.devices.rotate_token",
              Access::TenantAdmin, [](Call& call) {
                  long long id = call.numericId("device");
                  auto rotated = services::rotateDeviceToken(*call.api.services().pool, call.tenant(),
                                                             tenantSlug(call), id);
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
                  auto revoked =
                      storage::DeviceStore(*call.api.services().pool).revokeCredentials(call.tenant(), id);
                  if (!revoked) throw ApiError(404, "Not Found", "no such device");
                  devicesChanged(call, true);
                  call.audit("device.revoke", std::to_string(id), "ok",
                             "{\"credentials\":" + std::to_string(*revoked) + "}");
                  sendDevice(call, id, 200);
              });

    api.route(router, "POST", "/api/v1/devices/{id}/decommission", "api.devices.decommission",
              Access::TenantAdmin, [](Call& call) {
                  long long id = call.numericId("device");
                  bool done = storage::DeviceStore(*call.api.services().pool).decommission(call.tenant(), id);
                  call.audit("device.decommission", std::to_string(id), done ? "ok" : "failed");
                  if (done) devicesChanged(call, true);
                  sendDevice(call, id,
                             done ? 200 : 409);  // 409: decommissioned already, 404: not the tenant's
              });

    api.route(router, "POST", "/api/v1/devices/import", "api.devices.import", Access::TenantAdmin,
              [](Call& call) { importDevices(call); });
}

}  // namespace pulse::http
