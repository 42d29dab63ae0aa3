// /api/v1/alerts: the alert inbox (filters, cursor pages, newest first), one alert with its events and
// its deliveries, and the actions acknowledge, close and silence (each an event, notified through the
// outbox), assign, comment, and the first three on many alerts at once.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/AlertService.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

#include <map>

namespace pulse::http {
namespace {

const std::string kColumns =
    "a.id::text, a.status, a.condition, a.severity, a.flapping::text, a.summary, "
    "a.last_value::text, a.device_id::text, d.name, a.rule_id::text, r.name, r.type, " +
    storage::isoTime("a.triggered_at") + ", " + storage::isoTime("a.opened_at") + ", " +
    storage::isoTime("a.acknowledged_at") + ", a.acknowledged_by, " + storage::isoTime("a.closed_at") +
    ", a.closed_by, a.close_reason, " + storage::isoTime("a.silenced_until") +
    ", a.assignee_id::text, a.tenant_id::text";
const std::string kFrom =
    " FROM pulse.alerts a JOIN pulse.devices d ON d.id = a.device_id JOIN pulse.rules r ON r.id = a.rule_id";

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", std::stoll(*r[0]));
    o->set("status", *r[1]);
    o->set("condition", *r[2]);
    o->set("severity", *r[3]);
    o->set("flapping", *r[4] == "true");
    o->set("summary", *r[5]);
    o->set("last_value", r[6] ? Poco::Dynamic::Var(storage::sqlNumber(*r[6])) : Poco::Dynamic::Var());
    Poco::JSON::Object::Ptr device = new Poco::JSON::Object;
    device->set("id", std::stoll(*r[7]));
    device->set("name", *r[8]);
    o->set("device", device);
    Poco::JSON::Object::Ptr rule = new Poco::JSON::Object;
    rule->set("id", *r[9]);
    rule->set("name", *r[10]);
    rule->set("type", *r[11]);
    o->set("rule", rule);
    o->set("triggered_at", orNull(r[12]));
    o->set("opened_at", orNull(r[13]));
    o->set("acknowledged_at", orNull(r[14]));
    o->set("acknowledged_by", orNull(r[15]));
    o->set("closed_at", orNull(r[16]));
    o->set("closed_by", orNull(r[17]));
    o->set("close_reason", orNull(r[18]));
    o->set("silenced_until", orNull(r[19]));
    o->set("assignee_id", orNull(r[20]));
    o->set("tenant_id", *r[21]);
    return o;
}

services::AlertService& alertService(Call& call) {
    if (!call.api.services().alerts)
        throw ApiError(503, "Service Unavailable", "alerting is not running on this instance");
    return *call.api.services().alerts;
}

// Sends the alert as it is now (after an action), or 404 when it is not the tenant's.
void sendAlert(Call& call, long long id, int status) {
    storage::PgRows rows;
    call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
        rows = conn.query("SELECT " + kColumns + kFrom + " WHERE a.id = $1::bigint", {std::to_string(id)});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such alert");
    sendObject(call.ex, status, describe(rows.rows[0]));
}

// The actor named in the alert's history: the principal's audit label.
std::string actor(const Call& call) {
    return call.principal->label;
}

}  // namespace

void addAlertRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/alerts", "api.alerts.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        std::string status = call.oneOf("status", kAlertStatusFilters, "OPEN"),
                    severity = call.oneOf("severity", kAlertSeverities), site = call.query("site_id");
        auto device = call.idQuery("device_id", "device_id must be a device id");
        auto before = call.idQuery("cursor", "cursor is not one this API returned");
        if (!site.empty() && !storage::isUuid(site))
            throw ApiError(422, "Unprocessable Content", "site_id must be a site id", "site_id");
        storage::PgRows rows;
        call.api.services().pool->withTenants(call.listedTenants(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT " + kColumns + kFrom +
                    " WHERE ($1 = 'ALL' OR a.status = $1) AND ($2::text IS NULL OR a.severity = $2) "
                    "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
                    "AND ($4::bigint IS NULL OR a.device_id = $4::bigint) "
                    "AND ($5::bigint IS NULL OR a.id < $5::bigint) ORDER BY a.id DESC LIMIT $6::int",
                {status, storage::nonEmpty(severity), storage::nonEmpty(site), device, before,
                 std::to_string(limit + 1)});
        });
        call.sendRows(rows, limit, describe);
    });

    api.route(router, "GET", "/api/v1/alerts/{id}", "api.alerts.get", Access::Reader, [](Call& call) {
        long long id = call.numericId("alert");
        storage::PgRows alert, events;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            alert =
                conn.query("SELECT " + kColumns + kFrom + " WHERE a.id = $1::bigint", {std::to_string(id)});
            events =
                conn.query("SELECT kind, " + storage::isoTime("at") +
                               ", actor, value::text, detail::text FROM pulse.alert_events WHERE alert_id = "
                               "$1::bigint ORDER BY id",
                           {std::to_string(id)});
        });
        if (alert.rows.empty()) throw ApiError(404, "Not Found", "no such alert");
        auto out = describe(alert.rows[0]);
        Poco::JSON::Array::Ptr history = new Poco::JSON::Array;
        for (const auto& e : events.rows) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("kind", *e[0]);
            o->set("at", *e[1]);
            o->set("actor", *e[2]);
            o->set("value", e[3] ? Poco::Dynamic::Var(storage::sqlNumber(*e[3])) : Poco::Dynamic::Var());
            o->set("detail", jsonValue(*e[4]));
            history->add(o);
        }
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

    api.route(
        router, "POST", "/api/v1/alerts/{id}/assign", "api.alerts.assign", Access::Member, [](Call& call) {
            long long id = call.numericId("alert");
            auto assignee = parseAssignee(call.bodyText());
            bool done = alertService(call).assign(call.tenant(), id, assignee, actor(call));
            call.audit("alert.assign", std::to_string(id), done ? "ok" : "failed",
                       assignee ? "{\"assignee_id\":\"" + *assignee + "\"}" : "{\"assignee_id\":null}");
            if (!done) {
                bool exists = false;
                call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                    exists =
                        !conn.query("SELECT 1 FROM pulse.alerts WHERE id = $1::bigint AND status <> 'CLOSED'",
                                    {std::to_string(id)})
                             .rows.empty();
                });
                if (exists)
                    throw ApiError(422, "Unprocessable Content",
                                   "assignee_id is not an enabled user of the tenant", "assignee_id");
            }
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

    api.route(
        router, "GET", "/api/v1/alerts/{id}/deliveries", "api.alerts.deliveries", Access::Reader,
        [](Call& call) {
            long long id = call.numericId("alert");
            storage::PgRows alert, deliveries, attempts;
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                alert = conn.query("SELECT 1 FROM pulse.alerts WHERE id = $1::bigint", {std::to_string(id)});
                deliveries = conn.query(
                    "SELECT dl.id::text, dl.channel_id::text, c.name, c.type, e.kind, dl.status, "
                    "dl.attempts::text, dl.max_attempts::text, dl.last_status_code::text, dl.last_error, "
                    "dl.idempotency_key, " +
                        storage::isoTime("dl.created_at") + ", " + storage::isoTime("dl.next_attempt_at") +
                        ", " + storage::isoTime("dl.completed_at") +
                        " FROM pulse.deliveries dl JOIN pulse.channels c ON c.id = dl.channel_id "
                        "JOIN pulse.alert_events e ON e.id = dl.event_id WHERE dl.alert_id = $1::bigint "
                        "ORDER BY dl.id LIMIT 500",
                    {std::to_string(id)});
                attempts = conn.query(
                    "SELECT t.delivery_id::text, t.attempt::text, " + storage::isoTime("t.started_at") +
                        ", t.duration_ms::text, t.outcome, t.status_code::text, t.detail FROM "
                        "pulse.delivery_attempts t JOIN pulse.deliveries dl ON dl.id = t.delivery_id WHERE "
                        "dl.alert_id = $1::bigint ORDER BY t.delivery_id, t.attempt LIMIT 5000",
                    {std::to_string(id)});
            });
            if (alert.rows.empty()) throw ApiError(404, "Not Found", "no such alert");
            std::map<std::string, Poco::JSON::Array::Ptr> byDelivery;
            for (const auto& t : attempts.rows) {
                Poco::JSON::Object::Ptr a = new Poco::JSON::Object;
                a->set("attempt", std::stoi(*t[1]));
                a->set("started_at", *t[2]);
                a->set("duration_ms", std::stoi(*t[3]));
                a->set("outcome", *t[4]);
                a->set("status_code", t[5] ? Poco::Dynamic::Var(std::stoi(*t[5])) : Poco::Dynamic::Var());
                a->set("detail", *t[6]);
                auto& list = byDelivery[*t[0]];
                if (!list) list = new Poco::JSON::Array;
                list->add(a);
            }
            Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
            for (const auto& r : deliveries.rows) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("id", std::stoll(*r[0]));
                Poco::JSON::Object::Ptr channel = new Poco::JSON::Object;
                channel->set("id", *r[1]);
                channel->set("name", *r[2]);
                channel->set("type", *r[3]);
                o->set("channel", channel);
                o->set("event", *r[4]);
                o->set("status", *r[5]);
                o->set("attempts", std::stoi(*r[6]));
                o->set("max_attempts", std::stoi(*r[7]));
                o->set("last_status_code",
                       r[8] ? Poco::Dynamic::Var(std::stoi(*r[8])) : Poco::Dynamic::Var());
                o->set("last_error", *r[9]);
                o->set("idempotency_key", *r[10]);
                o->set("created_at", *r[11]);
                o->set("next_attempt_at", orNull(r[12]));
                o->set("completed_at", orNull(r[13]));
                auto it = byDelivery.find(*r[0]);
                o->set("attempt_log",
                       it == byDelivery.end() ? Poco::JSON::Array::Ptr(new Poco::JSON::Array) : it->second);
                items->add(o);
            }
            call.sendPage(items, std::nullopt);
        });
}

}  // namespace pulse::http
