// /api/v1/maintenance-windows: planned work during which a tenant's devices (all, a site's, listed ones, or a
// tag's) notify nobody and escalate nothing, once or recurring in a time zone. Alerts are still recorded and
// show the window; what opened in it is notified when it ends, if still open (sql/015). Members plan
// maintenance (everyday work); every change is audited.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "services/ServiceErrors.h"
#include "storage/MaintenanceStore.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::MaintenanceWindowRow& w) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", w.id);
    o->set("name", w.name);
    o->set("description", w.description);
    o->set("time_zone", w.timeZone);
    o->set("recurrence", w.recurrence);
    o->set("enabled", w.enabled);
    o->set("active", w.active);
    if (w.recurrence == "once") {
        o->set("starts_at", orNull(w.startsAt));
        o->set("ends_at", orNull(w.endsAt));
    } else {
        o->set("start_time", w.startTime);
        o->set("duration_minutes", w.durationMinutes);
        Poco::JSON::Array::Ptr days = new Poco::JSON::Array;
        for (int d : w.days) days->add(d);
        o->set("days", w.days.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(days));
        o->set("from", w.validFrom);
        o->set("until", orNull(w.validUntil));
    }
    Poco::JSON::Object::Ptr scope = new Poco::JSON::Object;
    scope->set("type", w.scope);
    if (w.siteId) {
        scope->set("site_id", *w.siteId);
        scope->set("site_name", w.siteName);
    }
    if (!w.deviceIds.empty()) {
        Poco::JSON::Array::Ptr ids = new Poco::JSON::Array;
        for (long long d : w.deviceIds) ids->add(d);
        scope->set("device_ids", ids);
    }
    if (w.tag) scope->set("tag", *w.tag);
    o->set("scope", scope);
    o->set("created_by", w.createdBy);
    o->set("created_at", w.createdAt);
    o->set("updated_at", w.updatedAt);
    return o;
}

storage::MaintenanceStore windows(Call& call) {
    return storage::MaintenanceStore(*call.api.services().pool);
}

void sendWindow(Call& call, const std::string& id, int status) {
    auto w = windows(call).find(call.tenant(), id);
    if (!w) throw ApiError(404, "Not Found", "no such maintenance window");
    sendObject(call.ex, status, describe(*w));
}

std::string saveWindow(Call& call, const std::optional<std::string>& id) {
    auto body = parseMaintenanceWindow(call.bodyText());
    storage::MaintenanceSave saved;
    try {
        saved = windows(call).save(call.tenant(), id, body, call.principal->label);
    } catch (const services::Conflict& e) {
        throw ApiError(409, "Conflict", e.what(), "name");
    }
    if (!saved.found) throw ApiError(404, "Not Found", "no such maintenance window");
    if (saved.unknownZone)
        throw ApiError(422, "Unprocessable Content",
                       "time_zone must be an IANA time zone name such as Europe/Berlin", "time_zone");
    if (!saved.badReference.empty())
        throw ApiError(422, "Unprocessable Content", "no such site or device in the tenant",
                       saved.badReference);
    return saved.id;
}

}  // namespace

void addMaintenanceRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/maintenance-windows", "api.maintenance.list", Access::Reader,
              [](Call& call) {
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& w : windows(call).list(call.tenant())) items->add(describe(w));
                  call.sendPage(items, std::nullopt);
              });
    api.route(router, "GET", "/api/v1/maintenance-windows/{id}", "api.maintenance.get", Access::Reader,
              [](Call& call) { sendWindow(call, call.uuidId("maintenance window"), 200); });
    api.route(router, "POST", "/api/v1/maintenance-windows", "api.maintenance.create", Access::Member,
              [](Call& call) {
                  std::string id = saveWindow(call, std::nullopt);
                  call.audit("maintenance_window.create", id);
                  call.ex.response.set("Location", "/api/v1/maintenance-windows/" + id);
                  sendWindow(call, id, 201);
              });
    api.route(router, "PUT", "/api/v1/maintenance-windows/{id}", "api.maintenance.replace", Access::Member,
              [](Call& call) {
                  std::string id = saveWindow(call, call.uuidId("maintenance window"));
                  call.audit("maintenance_window.update", id);
                  sendWindow(call, id, 200);
              });
    api.route(router, "DELETE", "/api/v1/maintenance-windows/{id}", "api.maintenance.delete", Access::Member,
              [](Call& call) {
                  const std::string& id = call.uuidId("maintenance window");
                  if (!windows(call).remove(call.tenant(), id))
                      throw ApiError(404, "Not Found", "no such maintenance window");
                  call.audit("maintenance_window.delete", id);
                  call.sendNoContent();
              });
}

}  // namespace pulse::http
