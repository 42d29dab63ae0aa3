// /api/v1/tenants: operators list and read every tenant (each read audited); operator-admins create
// tenants and change their name and subscription (the device limit). Tenant users see their own tenant,
// with its subscription and how much of it is in use.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/ServiceErrors.h"
#include "storage/TenantStore.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::TenantRow& t) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", t.id);
    o->set("slug", t.slug);
    o->set("name", t.name);
    o->set("device_limit", t.deviceLimit ? Poco::Dynamic::Var(*t.deviceLimit) : Poco::Dynamic::Var());
    o->set("created_at", t.createdAt);
    return o;
}

// The tenant with the devices it uses; 404 for a tenant user asking about another tenant.
void sendTenant(Call& call, const std::string& id, int status) {
    if (!call.principal->isOperator() && id != call.principal->tenantId)
        throw ApiError(404, "Not Found", "no such tenant");
    storage::TenantStore tenants(*call.api.services().pool);
    auto tenant = tenants.find(id);
    if (!tenant) throw ApiError(404, "Not Found", "no such tenant");
    auto out = describe(*tenant);
    out->set("devices_in_use", tenants.devicesInUse(id));
    sendObject(call.ex, status, out);
}

void sendSettings(Call& call, int status) {
    auto t = storage::TenantStore(*call.api.services().pool).thresholds(call.tenant());
    if (!t) throw ApiError(404, "Not Found", "no such tenant");
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    out->set("default_stale_after_s", t->staleAfterS);
    out->set("default_offline_after_s", t->offlineAfterS);
    sendObject(call.ex, status, out);
}

}  // namespace

void addTenantRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/tenants", "api.tenants.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        auto after = call.query("cursor");
        if (!after.empty() && !storage::isUuid(after))
            throw ApiError(422, "Unprocessable Content", "cursor is not one this API returned", "cursor");
        bool everyone = call.principal->isOperator();
        auto page = storage::TenantStore(*call.api.services().pool)
                        .page(everyone ? std::nullopt : std::optional<std::string>(call.principal->tenantId),
                              storage::nonEmpty(after), limit);
        if (everyone) call.audit("tenant.list", "");
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& t : page.rows) items->add(describe(t));
        call.sendPage(items, page.more ? std::optional<std::string>(page.rows.back().id) : std::nullopt);
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
            id = storage::TenantStore(*call.api.services().pool)
                     .create(body.slug, body.name, body.deviceLimit);
        } catch (const services::Conflict& e) {
            call.audit("tenant.create", body.slug, "failed", "{\"reason\":\"slug in use\"}");
            throw ApiError(409, "Conflict", e.what(), "slug");
        }
        call.audit("tenant.create", id, "ok", "{\"slug\":\"" + body.slug + "\"}");
        call.ex.response.set("Location", "/api/v1/tenants/" + id);
        sendTenant(call, id, 201);
    });

    api.route(router, "PATCH", "/api/v1/tenants/{id}", "api.tenants.update", Access::OperatorAdmin,
              [](Call& call) {
                  const std::string& id = call.uuidId("tenant");
                  auto body = parseTenantChange(call.bodyText());
                  bool found = storage::TenantStore(*call.api.services().pool)
                                   .update(id, body.name, body.deviceLimit.has_value(),
                                           body.deviceLimit ? *body.deviceLimit : std::nullopt);
                  if (!found) throw ApiError(404, "Not Found", "no such tenant");
                  std::string detail = "{}";
                  if (body.deviceLimit)
                      detail = "{\"device_limit\":" + changedTo(body.deviceLimit).value_or("null") + "}";
                  call.audit("tenant.update", id, "ok", detail);
                  sendTenant(call, id, 200);
              });

    // The tenant's own settings, which its tenant-admins change (the console's settings page): the
    // thresholds its devices go STALE and OFFLINE by when they have none of their own.
    api.route(router, "GET", "/api/v1/settings", "api.settings.get", Access::Reader,
              [](Call& call) { sendSettings(call, 200); });

    api.route(
        router, "PATCH", "/api/v1/settings", "api.settings.update", Access::TenantAdmin, [](Call& call) {
            auto body = parseSettingsChange(call.bodyText());
            storage::TenantStore tenants(*call.api.services().pool);
            auto now = tenants.thresholds(call.tenant());
            if (!now) throw ApiError(404, "Not Found", "no such tenant");
            storage::TenantThresholds next{body.defaultStaleAfterS.value_or(now->staleAfterS),
                                           body.defaultOfflineAfterS.value_or(now->offlineAfterS)};
            if (next.staleAfterS >= next.offlineAfterS) {
                call.audit("settings.update", call.tenant(), "failed");
                throw ApiError(422, "Unprocessable Content",
                               "default_stale_after_s must be less than default_offline_after_s (" +
                                   std::to_string(next.staleAfterS) + " and " +
                                   std::to_string(next.offlineAfterS) + ")",
                               body.defaultStaleAfterS ? "default_stale_after_s" : "default_offline_after_s");
            }
            std::string clash = tenants.setThresholds(call.tenant(), next);
            if (!clash.empty()) {
                call.audit("settings.update", call.tenant(), "failed");
                throw ApiError(
                    422, "Unprocessable Content",
                    "device " + clash +
                        " has its own threshold and would go OFFLINE before STALE with these "
                        "defaults: change its thresholds first",
                    body.defaultOfflineAfterS ? "default_offline_after_s" : "default_stale_after_s");
            }
            call.audit("settings.update", call.tenant(), "ok",
                       "{\"default_stale_after_s\":" + std::to_string(next.staleAfterS) +
                           ",\"default_offline_after_s\":" + std::to_string(next.offlineAfterS) + "}");
            sendSettings(call, 200);
        });
}

}  // namespace pulse::http
