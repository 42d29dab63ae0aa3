// /api/v1/alerts: the alert inbox (filters, cursor pages, newest first), one alert with its events and
// its deliveries, and the actions acknowledge, close and silence (each an event, notified through the
// outbox), assign, comment, and the first three on many alerts at once.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/AlertService.h"
#include "storage/AlertStore.h"

#include <Poco/JSON/Array.h>
#include <Poco/String.h>

namespace pulse::http {
namespace {

Poco::Dynamic::Var numberOrNull(const std::optional<double>& value) {
    return value ? Poco::Dynamic::Var(*value) : Poco::Dynamic::Var();
}

Poco::JSON::Object::Ptr describe(const storage::AlertRow& a) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", a.id);
    o->set("status", a.status);
    o->set("condition", a.condition);
    o->set("severity", a.severity);
    o->set("flapping", a.flapping);
    o->set("summary", a.summary);
    o->set("last_value", numberOrNull(a.lastValue));
    Poco::JSON::Object::Ptr device = new Poco::JSON::Object;
    device->set("id", a.deviceId);
    device->set("name", a.deviceName);
    o->set("device", device);
    Poco::JSON::Object::Ptr rule = new Poco::JSON::Object;
    rule->set("id", a.ruleId);
    rule->set("name", a.ruleName);
    rule->set("type", a.ruleType);
    o->set("rule", rule);
    o->set("triggered_at", a.triggeredAt);
    o->set("opened_at", a.openedAt);
    o->set("acknowledged_at", orNull(a.acknowledgedAt));
    o->set("acknowledged_by", orNull(a.acknowledgedBy));
    o->set("closed_at", orNull(a.closedAt));
    o->set("closed_by", orNull(a.closedBy));
    o->set("close_reason", orNull(a.closeReason));
    o->set("silenced_until", orNull(a.silencedUntil));
    o->set("assignee_id", orNull(a.assigneeId));
    o->set("tenant_id", a.tenantId);
    if (a.maintenanceWindowId) {
        Poco::JSON::Object::Ptr m = new Poco::JSON::Object;
        m->set("window_id", *a.maintenanceWindowId);
        m->set("name", orNull(a.maintenanceName));
        m->set("held", a.noticeHeld);
        o->set("maintenance", m);
    } else {
        o->set("maintenance", Poco::Dynamic::Var());
    }
    // Opened while a parent (its gateway) was in trouble: which, why, and whether it still holds the notice.
    if (a.suppressionReason) {
        Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
        p->set("parent_id", a.suppressedBy ? Poco::Dynamic::Var(*a.suppressedBy) : Poco::Dynamic::Var());
        p->set("parent_name", orNull(a.suppressedByName));
        p->set("reason", *a.suppressionReason);
        p->set("held", a.noticeHeld);
        o->set("suppressed", p);
    } else {
        o->set("suppressed", Poco::Dynamic::Var());
    }
    return o;
}

Poco::JSON::Object::Ptr describe(const storage::AlertEventRow& e) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("kind", e.kind);
    o->set("at", e.at);
    o->set("actor", e.actor);
    o->set("value", numberOrNull(e.value));
    o->set("detail", jsonValue(e.detailJson));
    return o;
}

Poco::JSON::Object::Ptr describe(const storage::DeliveryAttemptRow& t) {
    Poco::JSON::Object::Ptr a = new Poco::JSON::Object;
    a->set("attempt", t.attempt);
    a->set("started_at", t.startedAt);
    a->set("duration_ms", t.durationMs);
    a->set("outcome", t.outcome);
    a->set("status_code", t.statusCode ? Poco::Dynamic::Var(*t.statusCode) : Poco::Dynamic::Var());
    a->set("detail", t.detail);
    return a;
}

Poco::JSON::Object::Ptr describe(const storage::DeliveryRow& d) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", d.id);
    Poco::JSON::Object::Ptr channel = new Poco::JSON::Object;
    channel->set("id", d.channelId);
    channel->set("name", d.channelName);
    channel->set("type", d.channelType);
    o->set("channel", channel);
    o->set("event", d.eventKind);
    o->set("status", d.status);
    o->set("attempts", d.attempts);
    o->set("max_attempts", d.maxAttempts);
    o->set("last_status_code",
           d.lastStatusCode ? Poco::Dynamic::Var(*d.lastStatusCode) : Poco::Dynamic::Var());
    o->set("last_error", d.lastError);
    o->set("idempotency_key", d.idempotencyKey);
    o->set("created_at", d.createdAt);
    o->set("next_attempt_at", d.nextAttemptAt);
    o->set("completed_at", orNull(d.completedAt));
    Poco::JSON::Array::Ptr attempts = new Poco::JSON::Array;
    for (const auto& t : d.attemptLog) attempts->add(describe(t));
    o->set("attempt_log", attempts);
    return o;
}

services::AlertService& alertService(Call& call) {
    if (!call.api.services().alerts)
        throw ApiError(503, "Service Unavailable", "alerting is not running on this instance");
    return *call.api.services().alerts;
}

// Sends the alert as it is now (after an action), or 404 when it is not the tenant's.
void sendAlert(Call& call, long long id, int status) {
    auto alert = storage::AlertStore(*call.api.services().pool).find(call.tenant(), id);
    if (!alert) throw ApiError(404, "Not Found", "no such alert");
    sendObject(call.ex, status, describe(*alert));
}

// The actor named in the alert's history: the principal's audit label.
std::string actor(const Call& call) {
    return call.principal->label;
}

}  // namespace

void addAlertRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/alerts", "api.alerts.list", Access::Reader, [](Call& call) {
        storage::AlertFilter filter;
        filter.limit = call.limit();
        filter.status = call.oneOf("status", kAlertStatusFilters, "OPEN");
        filter.severity = storage::nonEmpty(call.oneOf("severity", kAlertSeverities));
        std::string site = call.query("site_id");
        auto device = call.idQuery("device_id", "device_id must be a device id");
        auto before = call.idQuery("cursor", "cursor is not one this API returned");
        if (!site.empty() && !storage::isUuid(site))
            throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
        filter.siteId = storage::nonEmpty(site);
        std::string rule = call.query("rule_id"), assignee = call.query("assignee");
        if (!rule.empty() && !storage::isUuid(rule))
            throw ApiError(422, "Unprocessable Content", "rule_id must be a rule id", "rule_id");
        if (!assignee.empty() && assignee != "none" && !storage::isUuid(assignee))
            throw ApiError(422, "Unprocessable Content", "assignee must be a user id or none", "assignee");
        filter.ruleId = storage::nonEmpty(rule);
        filter.assignee = storage::nonEmpty(Poco::toLower(assignee));
        if (device) filter.deviceId = std::stoll(*device);
        if (before) filter.beforeId = std::stoll(*before);
        auto page = storage::AlertStore(*call.api.services().pool).list(call.listedTenants(), filter);
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& a : page.rows) items->add(describe(a));
        call.sendPage(items, page.more ? std::optional<std::string>(std::to_string(page.rows.back().id))
                                       : std::nullopt);
    });

    api.route(router, "GET", "/api/v1/alerts/{id}", "api.alerts.get", Access::Reader, [](Call& call) {
        long long id = call.numericId("alert");
        auto found = storage::AlertStore(*call.api.services().pool).findWithHistory(call.tenant(), id);
        if (!found) throw ApiError(404, "Not Found", "no such alert");
        auto out = describe(found->alert);
        Poco::JSON::Array::Ptr history = new Poco::JSON::Array;
        for (const auto& e : found->events) history->add(describe(e));
        out->set("events", history);
        sendObject(call.ex, 200, out);
    });

    api.route(router, "POST", "/api/v1/alerts/{id}/acknowledge", "api.alerts.acknowledge", Access::Member,
              [](Call& call) {
                  long long id = call.numericId("alert");
                  bool done = alertService(call).acknowledge(call.tenant(), id, actor(call));
                  call.audit("alert.acknowledge", std::to_string(id), done ? "ok" : "failed");
                  sendAlert(call, id, done ? 200 : 409);  // 409: not open, or 404: not the tenant's
              });

    api.route(
        router, "POST", "/api/v1/alerts/{id}/close", "api.alerts.close", Access::Member, [](Call& call) {
            long long id = call.numericId("alert");
            bool hasBody =
                call.ex.request.getContentLength64() > 0 || call.ex.request.getChunkedTransferEncoding();
            std::string reason = parseCloseReason(hasBody ? call.bodyText() : "");
            bool done = alertService(call).close(call.tenant(), id, actor(call), reason);
            call.audit("alert.close", std::to_string(id), done ? "ok" : "failed");
            sendAlert(call, id, done ? 200 : 409);
        });

    // Opened again (sql/020): routed and escalated from level 1 as a new opening.
    api.route(router, "POST", "/api/v1/alerts/{id}/reopen", "api.alerts.reopen", Access::Member,
              [](Call& call) {
                  long long id = call.numericId("alert");
                  bool done = alertService(call).reopen(call.tenant(), id, actor(call));
                  call.audit("alert.reopen", std::to_string(id), done ? "ok" : "failed");
                  sendAlert(call, id, done ? 200 : 409);  // 409: open, its rule deleted, or another open
              });

    api.route(router, "POST", "/api/v1/alerts/{id}/silence", "api.alerts.silence", Access::Member,
              [](Call& call) {
                  long long id = call.numericId("alert");
                  int minutes = parseSilenceMinutes(call.bodyText());
                  long long until = nowMs() + minutes * 60000LL;
                  bool done = alertService(call).silence(call.tenant(), id, until, actor(call));
                  call.audit("alert.silence", std::to_string(id), done ? "ok" : "failed",
                             "{\"minutes\":" + std::to_string(minutes) + "}");
                  sendAlert(call, id, done ? 200 : 409);
              });

    api.route(router, "POST", "/api/v1/alerts/{id}/assign", "api.alerts.assign", Access::Member,
              [](Call& call) {
                  long long id = call.numericId("alert");
                  auto assignee = parseAssignee(call.bodyText());
                  bool done = alertService(call).assign(call.tenant(), id, assignee, actor(call));
                  call.audit("alert.assign", std::to_string(id), done ? "ok" : "failed",
                             assignee ? "{\"assignee_id\":\"" + *assignee + "\"}" : "{\"assignee_id\":null}");
                  if (!done && storage::AlertStore(*call.api.services().pool).isOpen(call.tenant(), id))
                      throw ApiError(422, "Unprocessable Content",
                                     "assignee_id is not an enabled user of the tenant", "assignee_id");
                  sendAlert(call, id, done ? 200 : 409);
              });

    api.route(router, "POST", "/api/v1/alerts/{id}/comments", "api.alerts.comment", Access::Member,
              [](Call& call) {
                  long long id = call.numericId("alert");
                  std::string text = parseComment(call.bodyText());
                  bool done = alertService(call).comment(call.tenant(), id, text, actor(call));
                  call.audit("alert.comment", std::to_string(id), done ? "ok" : "failed");
                  if (!done) throw ApiError(404, "Not Found", "no such alert");
                  sendAlert(call, id, 201);
              });

    // Each alert on its own: one that is not the tenant's or not in a state for the action is reported,
    // the others are changed.
    api.route(router, "POST", "/api/v1/alerts/bulk", "api.alerts.bulk", Access::Member, [](Call& call) {
        auto body = parseBulkAlertAction(call.bodyText());
        auto& alerts = alertService(call);
        long long until = nowMs() + body.minutes * 60000LL;
        Poco::JSON::Array::Ptr results = new Poco::JSON::Array;
        int changed = 0;
        for (long long id : body.ids) {
            // Each alert commits on its own: one that fails is reported, and the others still count.
            std::string result = "skipped";
            try {
                bool done = body.action == "acknowledge" ? alerts.acknowledge(call.tenant(), id, actor(call))
                            : body.action == "close"
                                ? alerts.close(call.tenant(), id, actor(call), body.reason)
                                : alerts.silence(call.tenant(), id, until, actor(call));
                if (done) result = "ok";
            } catch (const std::exception& e) {
                result = "error";
                logging::get("api")->warn("bulk {} of alert {} failed: {}", body.action, id, e.what());
            }
            bool done = result == "ok";
            changed += done;
            Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
            r->set("id", id);
            r->set("result", result);
            results->add(r);
            call.audit("alert." + body.action, std::to_string(id), done ? "ok" : "failed", "{\"bulk\":true}");
        }
        Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
        out->set("action", body.action);
        out->set("changed", changed);
        out->set("results", results);
        sendObject(call.ex, 200, out);
    });

    api.route(router, "GET", "/api/v1/alerts/{id}/deliveries", "api.alerts.deliveries", Access::Reader,
              [](Call& call) {
                  long long id = call.numericId("alert");
                  auto deliveries =
                      storage::AlertStore(*call.api.services().pool).deliveries(call.tenant(), id);
                  if (!deliveries) throw ApiError(404, "Not Found", "no such alert");
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& d : *deliveries) items->add(describe(d));
                  call.sendPage(items, std::nullopt);
              });
}

}  // namespace pulse::http
