#include "storage/AlertStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

#include <map>

namespace pulse::storage {
namespace {

// An alert with the names of its device and rule, as AlertRow reads it.
const std::string kAlertColumns =
    "a.id, a.status, a.condition, a.severity, a.flapping, a.summary, a.last_value, a.device_id, "
    "d.name AS device_name, a.rule_id, r.name AS rule_name, r.type AS rule_type, " +
    isoTime("a.triggered_at") + " AS triggered_at, " + isoTime("a.opened_at") + " AS opened_at, " +
    isoTime("a.acknowledged_at") + " AS acknowledged_at, a.acknowledged_by, " + isoTime("a.closed_at") +
    " AS closed_at, a.closed_by, a.close_reason, " + isoTime("a.silenced_until") +
    " AS silenced_until, a.assignee_id, a.tenant_id";
const std::string kAlertFrom =
    " FROM pulse.alerts a JOIN pulse.devices d ON d.id = a.device_id JOIN pulse.rules r ON r.id = a.rule_id";

// One alert, after an action or for its detail page.
const std::string kAlertById = "SELECT " + kAlertColumns + kAlertFrom + " WHERE a.id = $1::bigint";

// The inbox: every filter optional (NULL), newest first, a page and one more row to tell whether more follow.
const std::string kAlertPage =
    "SELECT " + kAlertColumns + kAlertFrom +
    " WHERE ($1 = 'ALL' OR a.status = $1) AND ($2::text IS NULL OR a.severity = $2) "
    "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
    "AND ($4::bigint IS NULL OR a.device_id = $4::bigint) "
    "AND ($5::bigint IS NULL OR a.id < $5::bigint) ORDER BY a.id DESC LIMIT $6::int";

// The alert's history, in the order it happened.
const std::string kEventsOfAlert = "SELECT kind, " + isoTime("at") +
                                   " AS at, actor, value, detail FROM pulse.alert_events WHERE alert_id = "
                                   "$1::bigint ORDER BY id";

// Whether an action that found nothing to change met a closed alert or none (an assignment's answer).
const char* kAlertIsOpen = "SELECT 1 FROM pulse.alerts WHERE id = $1::bigint AND status <> 'CLOSED'";

// Whether the tenant has the alert at all (an empty delivery list is not a missing alert).
const char* kAlertExists = "SELECT 1 FROM pulse.alerts WHERE id = $1::bigint";

// The alert's deliveries with their channel and event, bounded: an alert routed to many channels for
// a long time still answers in one page.
const std::string kDeliveriesOfAlert =
    "SELECT dl.id, dl.channel_id, c.name AS channel_name, c.type AS channel_type, e.kind AS event_kind, "
    "dl.status, dl.attempts, dl.max_attempts, dl.last_status_code, dl.last_error, dl.idempotency_key, " +
    isoTime("dl.created_at") + " AS created_at, " + isoTime("dl.next_attempt_at") + " AS next_attempt_at, " +
    isoTime("dl.completed_at") +
    " AS completed_at FROM pulse.deliveries dl JOIN pulse.channels c ON c.id = dl.channel_id "
    "JOIN pulse.alert_events e ON e.id = dl.event_id WHERE dl.alert_id = $1::bigint ORDER BY dl.id LIMIT 500";

// Every attempt of those deliveries, read at once rather than per delivery.
const std::string kAttemptsOfAlert =
    "SELECT t.delivery_id, t.attempt, " + isoTime("t.started_at") +
    " AS started_at, t.duration_ms, t.outcome, t.status_code, t.detail FROM pulse.delivery_attempts t JOIN "
    "pulse.deliveries dl ON dl.id = t.delivery_id WHERE dl.alert_id = $1::bigint ORDER BY t.delivery_id, "
    "t.attempt LIMIT 5000";

// The export: alerts opened in a time range, oldest first, bounded by the export's row limit.
const std::string kAlertExport =
    "SELECT a.id, a.status, a.severity, a.condition, d.name AS device_name, r.name AS rule_name, a.summary, "
    "a.last_value, " +
    isoTime("a.opened_at") + " AS opened_at, " + isoTime("a.acknowledged_at") +
    " AS acknowledged_at, a.acknowledged_by, " + isoTime("a.closed_at") +
    " AS closed_at, a.closed_by, a.close_reason" + kAlertFrom +
    " WHERE ($1 = 'ALL' OR a.status = $1) AND a.opened_at >= " + timeFromMs("$2") + " AND a.opened_at < " +
    timeFromMs("$3") + " ORDER BY a.id LIMIT $4::int";

AlertRow alertOf(const ResultRow& r) {
    AlertRow a;
    a.id = r.integer("id");
    a.status = r.text("status");
    a.condition = r.text("condition");
    a.severity = r.text("severity");
    a.flapping = r.flag("flapping");
    a.summary = r.text("summary");
    a.lastValue = r.optionalNumber("last_value");
    a.deviceId = r.integer("device_id");
    a.deviceName = r.text("device_name");
    a.ruleId = r.text("rule_id");
    a.ruleName = r.text("rule_name");
    a.ruleType = r.text("rule_type");
    a.triggeredAt = r.text("triggered_at");
    a.openedAt = r.text("opened_at");
    a.acknowledgedAt = r.optionalText("acknowledged_at");
    a.acknowledgedBy = r.optionalText("acknowledged_by");
    a.closedAt = r.optionalText("closed_at");
    a.closedBy = r.optionalText("closed_by");
    a.closeReason = r.optionalText("close_reason");
    a.silencedUntil = r.optionalText("silenced_until");
    a.assigneeId = r.optionalText("assignee_id");
    a.tenantId = r.text("tenant_id");
    return a;
}

std::vector<AlertRow> alertsOf(const PgRows& rows) {
    std::vector<AlertRow> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(alertOf(ResultRow(rows, i)));
    return out;
}

std::optional<int> optionalInt(const ResultRow& r, const char* column) {
    auto value = r.optionalInteger(column);
    return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
}

}  // namespace

Page<AlertRow> AlertStore::list(const std::vector<std::string>& tenantIds, const AlertFilter& f) {
    auto number = [](const std::optional<long long>& v) {
        return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
    };
    PgRows rows;
    pool_.withTenants(tenantIds, [&](PgConnection& conn) {
        rows = conn.query(kAlertPage, {f.status, f.severity, f.siteId, number(f.deviceId), number(f.beforeId),
                                       std::to_string(f.limit + 1)});
    });
    return pageOf(alertsOf(rows), f.limit);
}

std::optional<AlertRow> AlertStore::find(const std::string& tenantId, long long id) {
    PgRows rows;
    pool_.withTenant(tenantId,
                     [&](PgConnection& conn) { rows = conn.query(kAlertById, {std::to_string(id)}); });
    if (rows.rows.empty()) return std::nullopt;
    return alertOf(ResultRow(rows, 0));
}

std::optional<AlertHistory> AlertStore::findWithHistory(const std::string& tenantId, long long id) {
    PgRows alert, events;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        alert = conn.query(kAlertById, {std::to_string(id)});
        events = conn.query(kEventsOfAlert, {std::to_string(id)});
    });
    if (alert.rows.empty()) return std::nullopt;
    AlertHistory history{alertOf(ResultRow(alert, 0)), {}};
    for (size_t i = 0; i < events.rows.size(); ++i) {
        ResultRow r(events, i);
        history.events.push_back(
            {r.text("kind"), r.text("at"), r.text("actor"), r.optionalNumber("value"), r.text("detail")});
    }
    return history;
}

bool AlertStore::isOpen(const std::string& tenantId, long long id) {
    bool open = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        open = !conn.query(kAlertIsOpen, {std::to_string(id)}).rows.empty();
    });
    return open;
}

std::optional<std::vector<DeliveryRow>> AlertStore::deliveries(const std::string& tenantId,
                                                               long long alertId) {
    PgRows alert, deliveries, attempts;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        alert = conn.query(kAlertExists, {std::to_string(alertId)});
        deliveries = conn.query(kDeliveriesOfAlert, {std::to_string(alertId)});
        attempts = conn.query(kAttemptsOfAlert, {std::to_string(alertId)});
    });
    if (alert.rows.empty()) return std::nullopt;
    std::map<long long, std::vector<DeliveryAttemptRow>> byDelivery;
    for (size_t i = 0; i < attempts.rows.size(); ++i) {
        ResultRow r(attempts, i);
        byDelivery[r.integer("delivery_id")].push_back(
            {static_cast<int>(r.integer("attempt")), r.text("started_at"),
             static_cast<int>(r.integer("duration_ms")), r.text("outcome"), optionalInt(r, "status_code"),
             r.text("detail")});
    }
    std::vector<DeliveryRow> out;
    for (size_t i = 0; i < deliveries.rows.size(); ++i) {
        ResultRow r(deliveries, i);
        DeliveryRow d;
        d.id = r.integer("id");
        d.channelId = r.text("channel_id");
        d.channelName = r.text("channel_name");
        d.channelType = r.text("channel_type");
        d.eventKind = r.text("event_kind");
        d.status = r.text("status");
        d.attempts = static_cast<int>(r.integer("attempts"));
        d.maxAttempts = static_cast<int>(r.integer("max_attempts"));
        d.lastStatusCode = optionalInt(r, "last_status_code");
        d.lastError = r.text("last_error");
        d.idempotencyKey = r.text("idempotency_key");
        d.createdAt = r.text("created_at");
        d.nextAttemptAt = r.text("next_attempt_at");
        d.completedAt = r.optionalText("completed_at");
        if (auto it = byDelivery.find(d.id); it != byDelivery.end()) d.attemptLog = std::move(it->second);
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<AlertExportRow> AlertStore::exportRows(const std::string& tenantId, const std::string& status,
                                                   long long fromMs, long long toMs, int maxRows) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        rows = conn.query(kAlertExport,
                          {status, std::to_string(fromMs), std::to_string(toMs), std::to_string(maxRows)});
    });
    std::vector<AlertExportRow> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
        ResultRow r(rows, i);
        AlertExportRow a;
        a.id = r.integer("id");
        a.status = r.text("status");
        a.severity = r.text("severity");
        a.condition = r.text("condition");
        a.deviceName = r.text("device_name");
        a.ruleName = r.text("rule_name");
        a.summary = r.text("summary");
        a.lastValue = r.optionalText("last_value");
        a.openedAt = r.text("opened_at");
        a.acknowledgedAt = r.optionalText("acknowledged_at");
        a.acknowledgedBy = r.optionalText("acknowledged_by");
        a.closedAt = r.optionalText("closed_at");
        a.closedBy = r.optionalText("closed_by");
        a.closeReason = r.optionalText("close_reason");
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace pulse::storage
