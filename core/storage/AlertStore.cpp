#include "storage/AlertStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"
#include "storage/TenantScope.h"

#include <cstdio>
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
    " AS silenced_until, a.assignee_id, a.tenant_id, a.maintenance_window_id, mw.name AS maintenance_name, "
    "a.notice_held, a.suppressed_by, pd.name AS suppressed_by_name, a.suppression_reason";
const std::string kAlertFrom =
    " FROM pulse.alerts a JOIN pulse.devices d ON d.id = a.device_id JOIN pulse.rules r ON r.id = a.rule_id "
    "LEFT JOIN pulse.maintenance_windows mw ON mw.id = a.maintenance_window_id "
    "LEFT JOIN pulse.devices pd ON pd.id = a.suppressed_by";

// One alert, after an action or for its detail page.
const std::string kAlertById = "SELECT " + kAlertColumns + kAlertFrom + " WHERE a.id = $1::bigint";

// The inbox: every filter optional (NULL), newest first, a page and one more row to tell whether more follow.
const std::string kAlertPage =
    "SELECT " + kAlertColumns + kAlertFrom +
    " WHERE ($1 = 'ALL' OR a.status = $1) AND ($2::text IS NULL OR a.severity = $2) "
    "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
    "AND ($4::bigint IS NULL OR a.device_id = $4::bigint) "
    "AND ($5::bigint IS NULL OR a.id < $5::bigint) "
    "AND ($7::uuid IS NULL OR a.rule_id = $7::uuid) "
    "AND ($8::text IS NULL OR ($8 = 'none' AND a.assignee_id IS NULL) OR a.assignee_id::text = $8) "
    "ORDER BY a.id DESC LIMIT $6::int";

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

// The writer's look at the alert a rule holds open for a device, locked so that writers (several pulsed
// instances) change it one after the other.
const char* kLockOpenAlert =
    "SELECT id, condition, flapping FROM pulse.alerts WHERE rule_id = $1::uuid AND device_id = $2::bigint "
    "AND status <> 'CLOSED' FOR UPDATE";

// A rule fired for a device: one open alert per (rule, device), so another writer's alert opened meanwhile
// leaves no row here. It takes what an opening takes (sql/020, pulse.opening_terms): its rule's escalation
// policy (or the tenant's default), its first level due at once; in a maintenance window (sql/015), or while
// a parent of the device is in trouble (sql/016: suppressed, with the parent and why), it is held instead:
// neither notified nor escalated until the window ends and the parents are well ($8: how long a parent
// settles after recovering).
const char* kOpenAlert =
    "INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, summary, last_value, triggered_at, "
    "escalation_policy_id, next_escalation_at, maintenance_window_id, notice_held, suppressed_by, "
    "suppression_reason) "
    "SELECT $1::uuid, $2::uuid, $3::bigint, $4, $5, $6::double precision, to_timestamp($7::bigint / 1000.0), "
    "o.policy_id, o.escalate_at, o.window_id, o.held, o.parent_id, o.reason "
    "FROM pulse.opening_terms($1::uuid, $2::uuid, $3::bigint, $8::int) o "
    "ON CONFLICT (rule_id, device_id) WHERE status <> 'CLOSED' DO NOTHING "
    "RETURNING id, next_escalation_at IS NOT NULL AS escalates, suppressed_by, suppression_reason";

// How often the rule's condition began for the device within the last $3 seconds (openings and re-firings
// of its alerts): the flapping check, from the history every instance shares (sql/017).
const char* kOpensWithin =
    "SELECT count(*) AS opens FROM pulse.alert_events e JOIN pulse.alerts a ON a.id = e.alert_id WHERE "
    "a.rule_id = $1::uuid AND a.device_id = $2::bigint AND e.kind IN ('OPENED', 'FIRING') AND e.at >= now() "
    "- "
    "make_interval(secs => $3::int) AND (a.closed_at IS NULL OR a.closed_at >= now() - make_interval(secs => "
    "$3::int))";

// A cleared alert fires again: the same alert, not a new one (changed_at tells the inbox).
const char* kRefireAlert =
    "UPDATE pulse.alerts SET condition = 'FIRING', last_value = $2::double precision, summary = $3, "
    "changed_at = now() WHERE id = $1::bigint";

// A firing alert's latest reading: no state changes, so changed_at stays.
const char* kUpdateAlertReading =
    "UPDATE pulse.alerts SET last_value = $2::double precision, summary = $3 WHERE id = $1::bigint";

// The condition recovered but the alert stays open (flapping, or a rule without auto-close).
const char* kClearAlert =
    "UPDATE pulse.alerts SET condition = 'CLEARED', changed_at = now() WHERE id = $1::bigint";

// The condition recovered once too often within the window: held open as flapping.
const char* kClearAlertAsFlapping =
    "UPDATE pulse.alerts SET condition = 'CLEARED', flapping = true, changed_at = now() WHERE id = "
    "$1::bigint";

// The condition recovered and the rule closes its alerts itself.
const char* kCloseRecoveredAlert =
    "UPDATE pulse.alerts SET status = 'CLOSED', condition = 'CLEARED', closed_at = now(), "
    "closed_by = 'system', close_reason = 'recovered', changed_at = now(), "
    "last_value = $2::double precision WHERE id = $1::bigint";

// Every tenant's settled flapping alerts, through a SECURITY DEFINER function (sql/004) that locks them.
const char* kLockSettledFlapping =
    "SELECT id, tenant_id, condition, auto_close FROM pulse.settled_flapping_alerts()";

// A flapping alert stable for its rule's window notifies again.
const char* kMarkAlertStable = "UPDATE pulse.alerts SET flapping = false WHERE id = $1::bigint";

// Held alerts whose maintenance window is over and whose parents are well (settled for $2 seconds), every
// tenant's, locked (sql/016).
const char* kLockHeldReleases =
    "SELECT alert_id, tenant_id, status, condition, opened_event_id, released_by FROM "
    "pulse.held_releases(now(), $1::int, $2::int)";
// Released: when it is to be notified now ($2), its escalation starts too while it is open.
const char* kReleaseHold =
    "UPDATE pulse.alerts SET notice_held = false, next_escalation_at = CASE WHEN $2::boolean AND status = "
    "'OPEN' AND escalation_policy_id IS NOT NULL THEN now() END WHERE id = $1::bigint RETURNING "
    "next_escalation_at IS NOT NULL AS escalates";

// A settled alert whose condition had recovered is closed, as it would have been had it not flapped.
const char* kCloseSettledAlert =
    "UPDATE pulse.alerts SET status = 'CLOSED', closed_at = now(), closed_by = 'system', "
    "close_reason = 'recovered' WHERE id = $1::bigint";

// The operator actions: each guarded by the alert's status, $1 the alert, $2 the tenant.
const char* kAcknowledgeAlert =
    "UPDATE pulse.alerts SET status = 'ACKNOWLEDGED', acknowledged_at = now(), acknowledged_by = $3 "
    "WHERE id = $1::bigint AND tenant_id = $2::uuid AND status = 'OPEN' RETURNING id";
const char* kCloseAlert =
    "UPDATE pulse.alerts SET status = 'CLOSED', closed_at = now(), closed_by = $3, close_reason = $4 "
    "WHERE id = $1::bigint AND tenant_id = $2::uuid AND status <> 'CLOSED' RETURNING id";
// Opened again by a person (sql/020): acknowledged or closed, its rule still there, and no other alert of the
// rule open on the device (one open alert per rule and device). It takes what an opening takes
// (pulse.opening_terms) afresh and starts a new escalation round at level 1 ($3: how long a parent settles).
// Returns the status it had.
const char* kReopenAlert =
    "UPDATE pulse.alerts a SET status = 'OPEN', acknowledged_at = NULL, acknowledged_by = NULL, closed_at = "
    "NULL, "
    "closed_by = NULL, close_reason = NULL, changed_at = now(), escalation_policy_id = o.policy_id, "
    "escalation_level = 1, escalation_repeat = 0, escalation_round = a.escalation_round + 1, "
    "next_escalation_at = o.escalate_at, maintenance_window_id = o.window_id, notice_held = o.held, "
    "suppressed_by = o.parent_id, suppression_reason = o.reason "
    "FROM (SELECT x.id, x.status, x.rule_id, x.device_id FROM pulse.alerts x JOIN pulse.rules r ON r.id = "
    "x.rule_id AND r.deleted_at IS "
    "NULL WHERE x.id = $1::bigint AND x.tenant_id = $2::uuid AND NOT EXISTS (SELECT 1 FROM pulse.alerts o "
    "WHERE "
    "o.rule_id = x.rule_id AND o.device_id = x.device_id AND o.status <> 'CLOSED' AND o.id <> x.id)) s, "
    "LATERAL pulse.opening_terms($2::uuid, s.rule_id, s.device_id, $3::int) o "
    "WHERE a.id = s.id AND a.status IN ('ACKNOWLEDGED', 'CLOSED') "
    "RETURNING s.status AS was, a.next_escalation_at IS NOT NULL AS escalates, a.suppressed_by, "
    "coalesce(a.suppression_reason, '') AS suppression_reason";
const char* kSilenceAlert =
    "UPDATE pulse.alerts SET silenced_until = to_timestamp($3::bigint / 1000.0) WHERE id = $1::bigint AND "
    "tenant_id = $2::uuid AND status <> 'CLOSED' RETURNING silenced_until::text AS silenced_until";
// The users table is under row-level security too: only the tenant's users can be found.
const char* kAssignAlert =
    "UPDATE pulse.alerts SET assignee_id = $3::uuid WHERE id = $1::bigint AND tenant_id = $2::uuid AND "
    "status <> 'CLOSED' AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM pulse.users u WHERE u.id = $3::uuid "
    "AND u.tenant_id = $2::uuid AND NOT u.disabled)) RETURNING coalesce(assignee_id::text, '') AS "
    "assignee_id";
const char* kAlertOfTenant = "SELECT id FROM pulse.alerts WHERE id = $1::bigint AND tenant_id = $2::uuid";

// Every change of an alert leaves an event in its history.
const char* kAddAlertEvent =
    "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, actor, value, detail) "
    "VALUES ($1::uuid, $2::bigint, $3, $4, $5::double precision, $6::jsonb) RETURNING id";

// Deliveries for one alert event, with the payload built in the same statement. Which events notify:
// OPENED (throttled per routing rule, rule and device; held while its maintenance window or its parent's
// trouble lasts),
// ACKNOWLEDGED and CLOSED (only where the opening was notified, so receivers never see a resolve without
// its trigger, and an alert that opened and closed in maintenance sends nothing). Silenced and flapping
// alerts notify nobody.
const char* kRouteAlertEvent = R"SQL(
WITH a AS (
    SELECT a.*, r.type AS rule_type, d.site_id, d.tags, e.kind AS event_kind
    FROM pulse.alerts a
    JOIN pulse.rules r ON r.id = a.rule_id
    JOIN pulse.devices d ON d.id = a.device_id
    JOIN pulse.alert_events e ON e.id = $2::bigint AND e.alert_id = a.id
    WHERE a.id = $1::bigint
), p AS (
    SELECT a.*, pulse.alert_notice(a.id, $2::bigint, $4::text)::text AS payload
    FROM a
    WHERE NOT a.flapping AND (a.silenced_until IS NULL OR a.silenced_until <= now())
      AND NOT (a.event_kind = 'OPENED' AND a.notice_held)
)
INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, routing_rule_id, payload, max_attempts)
SELECT p.tenant_id, p.id, $2::bigint, r.channel_id, r.id, p.payload, $3::int
FROM p
JOIN pulse.routing_rules r ON r.tenant_id = p.tenant_id AND r.enabled
JOIN pulse.channels c ON c.id = r.channel_id AND c.enabled
WHERE CASE WHEN p.event_kind = 'OPENED' THEN
          cardinality(r.group_by) = 0  -- a grouping rule's openings join a group (group_alert_event)
          AND (cardinality(r.severities) = 0 OR p.severity = ANY (r.severities))
          AND (cardinality(r.rule_types) = 0 OR p.rule_type = ANY (r.rule_types))
          AND (r.site_id IS NULL OR r.site_id = p.site_id)
          AND (r.tag IS NULL OR r.tag = ANY (p.tags))
          AND (r.throttle_s = 0 OR NOT EXISTS (
              SELECT 1 FROM pulse.deliveries d JOIN pulse.alerts a2 ON a2.id = d.alert_id
              WHERE d.routing_rule_id = r.id AND a2.rule_id = p.rule_id AND a2.device_id = p.device_id
                AND d.created_at > now() - make_interval(secs => r.throttle_s)))
      -- What follows an opening goes where the opening went, whatever the device's site or tags are now:
      -- an incident opened at one site is resolved after the device moved.
      ELSE EXISTS (SELECT 1 FROM pulse.deliveries d WHERE d.alert_id = p.id AND d.routing_rule_id = r.id
                   AND d.notification_group_id IS NULL)
  END
 RETURNING id)SQL";

// The rest of routing: openings into the groups of grouping routing rules, and an acknowledgement or closing
// bringing its groups' next notices forward (sql/018). How many groups it touched.
const char* kGroupAlertEvent = "SELECT pulse.group_alert_event($1::bigint, $2::bigint) AS touched";

// The acknowledgement or closing of an escalated alert also reaches whoever its escalation paged: once per
// channel and contact method (the page's recipient kept), unless the routing rules already sent it there.
const char* kRouteToEscalationTargets = R"SQL(
INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, contact_method_id, payload, max_attempts)
SELECT DISTINCT ON (d.channel_id, d.contact_method_id) d.tenant_id, d.alert_id, $2::bigint, d.channel_id,
       d.contact_method_id,
       (pulse.alert_notice($1::bigint, $2::bigint, $4::text) || CASE WHEN d.contact_method_id IS NULL
            THEN '{}'::jsonb ELSE jsonb_build_object('recipient', d.payload::jsonb -> 'recipient') END)::text,
       $3::int
FROM pulse.deliveries d
JOIN pulse.channels c ON c.id = d.channel_id AND c.enabled
JOIN pulse.alert_events e ON e.id = $2::bigint AND e.kind IN ('ACKNOWLEDGED', 'CLOSED')
WHERE d.alert_id = $1::bigint AND d.escalation_level IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pulse.deliveries x WHERE x.event_id = $2::bigint AND x.channel_id = d.channel_id
                  AND x.contact_method_id IS NOT DISTINCT FROM d.contact_method_id)
ORDER BY d.channel_id, d.contact_method_id, d.id
RETURNING id)SQL";

// A double as a parameter, every digit kept.
std::string numberText(double v) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

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
    a.maintenanceWindowId = r.optionalText("maintenance_window_id");
    a.maintenanceName = r.optionalText("maintenance_name");
    a.noticeHeld = r.flag("notice_held");
    a.suppressedBy = r.optionalInteger("suppressed_by");
    a.suppressedByName = r.optionalText("suppressed_by_name");
    a.suppressionReason = r.optionalText("suppression_reason");
    return a;
}

AlertEventRow eventOf(const ResultRow& r) {
    return {r.text("kind"), r.text("at"), r.text("actor"), r.optionalNumber("value"), r.text("detail")};
}

DeliveryAttemptRow attemptOf(const ResultRow& r) {
    return {r.int32("attempt"), r.text("started_at"),           r.int32("duration_ms"),
            r.text("outcome"),  r.optionalInt32("status_code"), r.text("detail")};
}

DeliveryRow deliveryOf(const ResultRow& r) {
    DeliveryRow d;
    d.id = r.integer("id");
    d.channelId = r.text("channel_id");
    d.channelName = r.text("channel_name");
    d.channelType = r.text("channel_type");
    d.eventKind = r.text("event_kind");
    d.status = r.text("status");
    d.attempts = r.int32("attempts");
    d.maxAttempts = r.int32("max_attempts");
    d.lastStatusCode = r.optionalInt32("last_status_code");
    d.lastError = r.text("last_error");
    d.idempotencyKey = r.text("idempotency_key");
    d.createdAt = r.text("created_at");
    d.nextAttemptAt = r.text("next_attempt_at");
    d.completedAt = r.optionalText("completed_at");
    return d;
}

AlertExportRow exportRowOf(const ResultRow& r) {
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
    return a;
}

OpenAlertRow openAlertOf(const ResultRow& r) {
    return {r.integer("id"), r.text("condition"), r.flag("flapping")};
}

SettledFlappingAlertRow settledOf(const ResultRow& r) {
    return {r.integer("id"), r.text("tenant_id"), r.text("condition"), r.flag("auto_close")};
}

long long idOf(const ResultRow& r) {
    return r.integer("id");
}

}  // namespace

Page<AlertRow> AlertStore::list(const std::vector<std::string>& tenantIds, const AlertFilter& f) {
    PgRows rows;
    pool_.withTenants(tenantIds, [&](PgConnection& conn) {
        rows = conn.query(kAlertPage,
                          {f.status, f.severity, f.siteId, integerParam(f.deviceId), integerParam(f.beforeId),
                           std::to_string(f.limit + 1), f.ruleId, f.assignee});
    });
    return pageOf(rowsOf(rows, alertOf), f.limit);
}

std::optional<AlertRow> AlertStore::find(const std::string& tenantId, long long id) {
    return firstOf(pool_.queryAsTenant(tenantId, kAlertById, {std::to_string(id)}), alertOf);
}

std::optional<AlertHistory> AlertStore::findWithHistory(const std::string& tenantId, long long id) {
    PgRows alert, events;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        alert = conn.query(kAlertById, {std::to_string(id)});
        events = conn.query(kEventsOfAlert, {std::to_string(id)});
    });
    auto found = firstOf(alert, alertOf);
    if (!found) return std::nullopt;
    return AlertHistory{std::move(*found), rowsOf(events, eventOf)};
}

bool AlertStore::isOpen(const std::string& tenantId, long long id) {
    return !pool_.queryAsTenant(tenantId, kAlertIsOpen, {std::to_string(id)}).rows.empty();
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
        byDelivery[r.integer("delivery_id")].push_back(attemptOf(r));
    }
    auto out = rowsOf(deliveries, deliveryOf);
    for (auto& d : out)
        if (auto it = byDelivery.find(d.id); it != byDelivery.end()) d.attemptLog = std::move(it->second);
    return out;
}

std::vector<AlertExportRow> AlertStore::exportRows(const std::string& tenantId, const std::string& status,
                                                   long long fromMs, long long toMs, int maxRows) {
    return rowsOf(
        pool_.queryAsTenant(tenantId, kAlertExport,
                            {status, std::to_string(fromMs), std::to_string(toMs), std::to_string(maxRows)}),
        exportRowOf);
}

// The writer's transactions: BEGIN and the tenant as separate statements, and a plain COMMIT, as the writer
// has always sent them (a statement that fails throws, and the pool rolls the connection back).
void AlertStore::writeAsTenant(const std::string& tenantId, const std::function<bool(AlertTransaction&)>& fn,
                               int tries) {
    pool_.with([&](PgConnection& conn) {
        for (int attempt = 0; attempt < tries; ++attempt) {
            conn.exec("BEGIN");
            scopeToTenants(conn, {tenantId});
            AlertTransaction tx(conn);
            if (fn(tx)) {
                conn.exec("COMMIT");
                committed(tx);
                return;
            }
            conn.exec("ROLLBACK");
        }
    });
}

void AlertStore::writeAcrossTenants(const std::function<void(AlertTransaction&)>& fn) {
    pool_.with([&](PgConnection& conn) {
        conn.exec("BEGIN");
        AlertTransaction tx(conn);
        fn(tx);
        conn.exec("COMMIT");
        committed(tx);
    });
}

void AlertStore::committed(const AlertTransaction& tx) const {
    if (committed_ && !tx.added_.empty()) committed_(tx.added_);
}

void AlertTransaction::scopeTo(const std::string& tenantId) {
    scopeToTenants(conn_, {tenantId});
}

std::optional<OpenAlertRow> AlertTransaction::lockOpenAlert(const std::string& ruleId, long long deviceId) {
    return firstOf(conn_.query(kLockOpenAlert, {ruleId, std::to_string(deviceId)}), openAlertOf);
}

std::optional<OpenedAlert> AlertTransaction::openAlert(const NewAlertFields& a, int parentSettleS) {
    return firstOf(conn_.query(kOpenAlert, {a.tenantId, a.ruleId, std::to_string(a.deviceId), a.severity,
                                            a.summary, numberText(a.value), std::to_string(a.triggeredAtMs),
                                            std::to_string(parentSettleS)}),
                   [](const ResultRow& r) {
                       return OpenedAlert{r.integer("id"), r.flag("escalates"),
                                          r.optionalInteger("suppressed_by"),
                                          r.optionalText("suppression_reason").value_or("")};
                   });
}

int AlertTransaction::opensWithin(const std::string& ruleId, long long deviceId, int windowS) {
    auto rows = conn_.query(kOpensWithin, {ruleId, std::to_string(deviceId), std::to_string(windowS)});
    return ResultRow(rows, 0).int32("opens");
}

void AlertTransaction::refire(long long alertId, double value, const std::string& summary) {
    conn_.query(kRefireAlert, {std::to_string(alertId), numberText(value), summary});
}

void AlertTransaction::updateReading(long long alertId, double value, const std::string& summary) {
    conn_.query(kUpdateAlertReading, {std::to_string(alertId), numberText(value), summary});
}

void AlertTransaction::clear(long long alertId) {
    conn_.query(kClearAlert, {std::to_string(alertId)});
}

void AlertTransaction::clearAsFlapping(long long alertId) {
    conn_.query(kClearAlertAsFlapping, {std::to_string(alertId)});
}

void AlertTransaction::closeRecovered(long long alertId, double value) {
    conn_.query(kCloseRecoveredAlert, {std::to_string(alertId), numberText(value)});
}

std::vector<HeldReleaseRow> AlertTransaction::lockHeldReleases(int limit, int parentSettleS) {
    return rowsOf(conn_.query(kLockHeldReleases, {std::to_string(limit), std::to_string(parentSettleS)}),
                  [](const ResultRow& r) {
                      return HeldReleaseRow{r.integer("alert_id"),
                                            r.text("tenant_id"),
                                            r.text("status"),
                                            r.text("condition"),
                                            r.optionalInteger("opened_event_id"),
                                            r.text("released_by")};
                  });
}

bool AlertTransaction::releaseHold(long long alertId, bool notify) {
    auto rows = conn_.query(kReleaseHold, {std::to_string(alertId), notify ? "true" : "false"});
    return !rows.rows.empty() && ResultRow(rows, 0).flag("escalates");
}

std::vector<SettledFlappingAlertRow> AlertTransaction::lockSettledFlapping() {
    return rowsOf(conn_.query(kLockSettledFlapping), settledOf);
}

void AlertTransaction::markStable(long long alertId) {
    conn_.query(kMarkAlertStable, {std::to_string(alertId)});
}

void AlertTransaction::closeSettled(long long alertId) {
    conn_.query(kCloseSettledAlert, {std::to_string(alertId)});
}

bool AlertTransaction::acknowledge(const std::string& tenantId, long long alertId, const std::string& actor) {
    return !conn_.query(kAcknowledgeAlert, {std::to_string(alertId), tenantId, actor}).rows.empty();
}

std::optional<ReopenedAlert> AlertTransaction::reopen(const std::string& tenantId, long long alertId,
                                                      int parentSettleS) {
    return firstOf(
        conn_.query(kReopenAlert, {std::to_string(alertId), tenantId, std::to_string(parentSettleS)}),
        [](const ResultRow& r) {
            return ReopenedAlert{r.text("was"), r.flag("escalates"), r.optionalInteger("suppressed_by"),
                                 r.text("suppression_reason")};
        });
}

bool AlertTransaction::close(const std::string& tenantId, long long alertId, const std::string& actor,
                             const std::string& reason) {
    return !conn_.query(kCloseAlert, {std::to_string(alertId), tenantId, actor, reason}).rows.empty();
}

std::optional<std::string> AlertTransaction::silence(const std::string& tenantId, long long alertId,
                                                     long long untilMs) {
    return firstOf(conn_.query(kSilenceAlert, {std::to_string(alertId), tenantId, std::to_string(untilMs)}),
                   [](const ResultRow& r) { return r.text("silenced_until"); });
}

std::optional<std::string> AlertTransaction::assign(const std::string& tenantId, long long alertId,
                                                    const std::optional<std::string>& userId) {
    return firstOf(conn_.query(kAssignAlert, {std::to_string(alertId), tenantId, userId}),
                   [](const ResultRow& r) { return r.text("assignee_id"); });
}

bool AlertTransaction::exists(const std::string& tenantId, long long alertId) {
    return !conn_.query(kAlertOfTenant, {std::to_string(alertId), tenantId}).rows.empty();
}

long long AlertTransaction::addEvent(const AlertEventFields& e) {
    auto rows = conn_.query(
        kAddAlertEvent,
        {e.tenantId, std::to_string(e.alertId), e.kind, e.actor,
         e.value ? std::optional<std::string>(numberText(*e.value)) : std::nullopt, e.detailJson});
    added_.push_back(e);
    return idOf(ResultRow(rows, 0));
}

Routed AlertTransaction::route(long long alertId, long long eventId, int maxAttempts,
                               const std::string& consoleUrl, bool followsUp) {
    std::vector<std::optional<std::string>> params = {std::to_string(alertId), std::to_string(eventId),
                                                      std::to_string(maxAttempts), consoleUrl};
    Routed routed;
    routed.deliveries = static_cast<int>(conn_.query(kRouteAlertEvent, params).rows.size());
    if (followsUp)
        routed.deliveries += static_cast<int>(conn_.query(kRouteToEscalationTargets, params).rows.size());
    routed.groups = static_cast<int>(
        firstOf(conn_.query(kGroupAlertEvent, {params[0], params[1]}), [](const ResultRow& r) {
            return r.integer("touched");
        }).value_or(0));
    return routed;
}

}  // namespace pulse::storage
