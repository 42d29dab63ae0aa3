#include "services/AlertService.h"

#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"
#include "storage/PgConnection.h"
#include "storage/PgPool.h"
#include "storage/TenantScope.h"

#include <pulse/json.hpp>

namespace pulse::services {
namespace {

std::string num(double v) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string msToTimestamp(int64_t ms) {
    return "to_timestamp(" + std::to_string(ms) + " / 1000.0)";
}

// Deliveries for one alert event, with the payload built in the same statement. Which events notify:
// OPENED (throttled per routing rule, rule and device), ACKNOWLEDGED and CLOSED (only where the
// opening was notified, so receivers never see a resolve without its trigger). Silenced and flapping
// alerts notify nobody.
constexpr const char* kRouteSql = R"SQL(
WITH a AS (
    SELECT a.*, t.slug, r.name AS rule_name, r.type AS rule_type, d.name AS device_name, d.site_id, d.tags,
           e.kind AS event_kind, e.at AS event_at, e.actor AS event_actor
    FROM pulse.alerts a
    JOIN pulse.tenants t ON t.id = a.tenant_id
    JOIN pulse.rules r ON r.id = a.rule_id
    JOIN pulse.devices d ON d.id = a.device_id
    JOIN pulse.alert_events e ON e.id = $2::bigint AND e.alert_id = a.id
    WHERE a.id = $1::bigint
), p AS (
    SELECT a.*, jsonb_build_object(
        'type', 'alert.' || lower(a.event_kind),
        'event', jsonb_build_object('id', $2::bigint, 'kind', a.event_kind, 'at', a.event_at, 'actor', a.event_actor),
        'tenant', jsonb_build_object('id', a.tenant_id, 'slug', a.slug),
        'alert', jsonb_build_object(
            'id', a.id, 'status', a.status, 'condition', a.condition, 'severity', a.severity,
            'summary', a.summary, 'value', a.last_value, 'flapping', a.flapping,
            'triggered_at', a.triggered_at,
            'triggered_at_ms', (extract(epoch FROM a.triggered_at) * 1000)::bigint,
            'opened_at', a.opened_at, 'acknowledged_at', a.acknowledged_at,
            'acknowledged_by', a.acknowledged_by, 'closed_at', a.closed_at, 'close_reason', a.close_reason,
            'rule', jsonb_build_object('id', a.rule_id, 'name', a.rule_name, 'type', a.rule_type),
            'device', jsonb_build_object('id', a.device_id, 'name', a.device_name)))::text AS payload
    FROM a
    WHERE NOT a.flapping AND (a.silenced_until IS NULL OR a.silenced_until <= now())
)
INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, routing_rule_id, payload, max_attempts)
SELECT p.tenant_id, p.id, $2::bigint, r.channel_id, r.id, p.payload, $3::int
FROM p
JOIN pulse.routing_rules r ON r.tenant_id = p.tenant_id AND r.enabled
JOIN pulse.channels c ON c.id = r.channel_id AND c.enabled
WHERE (cardinality(r.severities) = 0 OR p.severity = ANY (r.severities))
  AND (cardinality(r.rule_types) = 0 OR p.rule_type = ANY (r.rule_types))
  AND (r.site_id IS NULL OR r.site_id = p.site_id)
  AND (r.tag IS NULL OR r.tag = ANY (p.tags))
  AND CASE WHEN p.event_kind = 'OPENED' THEN
          r.throttle_s = 0 OR NOT EXISTS (
              SELECT 1 FROM pulse.deliveries d JOIN pulse.alerts a2 ON a2.id = d.alert_id
              WHERE d.routing_rule_id = r.id AND a2.rule_id = p.rule_id AND a2.device_id = p.device_id
                AND d.created_at > now() - make_interval(secs => r.throttle_s))
      ELSE EXISTS (SELECT 1 FROM pulse.deliveries d WHERE d.alert_id = p.id AND d.routing_rule_id = r.id)
  END
)SQL";

}  // namespace

AlertService::AlertService(storage::PgPool& pool, AlertSettings settings, metrics::MetricsRegistry* metrics,
                           std::function<void()> deliveriesCreated)
    : pool_(pool), settings_(settings), metrics_(metrics), deliveriesCreated_(std::move(deliveriesCreated)) {}

AlertService::~AlertService() {
    stop();
}

void AlertService::start() {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void AlertService::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool AlertService::submit(Transition t) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= settings_.queueCapacity) {
            if (metrics_)
                metrics_
                    ->counter("pulse_alert_transitions_dropped_total",
                              "Rule transitions dropped (queue full, or refused by the database)")
                    .add();
            return false;
        }
        queue_.push_back(std::move(t));
    }
    wake_.notify_one();
    return true;
}

size_t AlertService::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

int64_t AlertService::addEvent(storage::PgConnection& conn, const std::string& tenantId, int64_t alertId,
                               const char* kind, const std::string& actor, std::optional<double> value,
                               const std::string& detailJson) {
    auto rows = conn.query(
        "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, actor, value, detail) "
        "VALUES ($1::uuid, $2::bigint, $3, $4, $5::double precision, $6::jsonb) RETURNING id",
        {tenantId, std::to_string(alertId), std::string(kind), actor,
         value ? std::optional<std::string>(num(*value)) : std::nullopt, detailJson});
    if (metrics_)
        metrics_->counter("pulse_alert_events_total", "Alert events by kind", {{"kind", kind}}).add();
    return std::stoll(*rows.rows.at(0).at(0));
}

int AlertService::route(storage::PgConnection& conn, int64_t alertId, int64_t eventId, const char*) {
    auto rows =
        conn.query(std::string(kRouteSql) + " RETURNING id",
                   {std::to_string(alertId), std::to_string(eventId), std::to_string(settings_.maxAttempts)});
    return static_cast<int>(rows.rows.size());
}

bool AlertService::flapCheck(const Transition& t) {
    auto& opens = opens_[{t.rule->id, t.deviceId}];
    int64_t cutoff = t.atMs - static_cast<int64_t>(t.rule->flapWindowS) * 1000;
    while (!opens.empty() && opens.front() < cutoff) opens.pop_front();
    return static_cast<int>(opens.size()) > t.rule->flapThreshold;
}

void AlertService::apply(storage::PgConnection& conn, const Transition& t) {
    const RuleInfo& rule = *t.rule;
    std::string detail = json::objectOf({{"summary", t.summary}});
    int created = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
        conn.exec("BEGIN");
        storage::scopeToTenants(conn, {rule.tenantId});
        auto open = conn.query(
            "SELECT id, condition, flapping FROM pulse.alerts WHERE rule_id = $1::uuid AND device_id = "
            "$2::bigint "
            "AND status <> 'CLOSED' FOR UPDATE",
            {rule.id, std::to_string(t.deviceId)});
        if (t.kind == PULSE_TRANSITION_FIRING) {
            if (open.rows.empty()) {
                auto inserted = conn.query(
                    "INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, summary, last_value, "
                    "triggered_at) VALUES ($1::uuid, $2::uuid, $3::bigint, $4, $5, $6::double precision, " +
                        msToTimestamp(t.atMs) +
                        ") ON CONFLICT (rule_id, device_id) WHERE status <> 'CLOSED' DO NOTHING RETURNING id",
                    {rule.tenantId, rule.id, std::to_string(t.deviceId), rule.severity, t.summary,
                     num(t.observed)});
                if (inserted.rows.empty()) {  // another instance opened it meanwhile: treat as an update
                    conn.exec("ROLLBACK");
                    continue;
                }
                int64_t alertId = std::stoll(*inserted.rows[0][0]);
                int64_t eventId =
                    addEvent(conn, rule.tenantId, alertId, "OPENED", "system", t.observed, detail);
                created = route(conn, alertId, eventId, "OPENED");
                opens_[{rule.id, t.deviceId}].push_back(t.atMs);
                if (metrics_)
                    metrics_
                        ->counter("pulse_alerts_opened_total", "Alerts opened", {{"severity", rule.severity}})
                        .add();
            } else if (*open.rows[0][1] == "CLEARED") {
                int64_t alertId = std::stoll(*open.rows[0][0]);
                conn.query(
                    "UPDATE pulse.alerts SET condition = 'FIRING', last_value = $2::double precision, "
                    "summary = $3, changed_at = now() WHERE id = $1::bigint",
                    {std::to_string(alertId), num(t.observed), t.summary});
                addEvent(conn, rule.tenantId, alertId, "FIRING", "system", t.observed, detail);
                opens_[{rule.id, t.deviceId}].push_back(t.atMs);
            } else {
                conn.query(
                    "UPDATE pulse.alerts SET last_value = $2::double precision, summary = $3 WHERE id = "
                    "$1::bigint",
                    {*open.rows[0][0], num(t.observed), t.summary});
            }
        } else if (t.kind == PULSE_TRANSITION_CLEARED && !open.rows.empty() && *open.rows[0][1] == "FIRING") {
            int64_t alertId = std::stoll(*open.rows[0][0]);
            std::string id = std::to_string(alertId);
            bool flapping = *open.rows[0][2] == "t";
            if (flapping) {
                conn.query(
                    "UPDATE pulse.alerts SET condition = 'CLEARED', changed_at = now() WHERE id = $1::bigint",
                    {id});
                addEvent(conn, rule.tenantId, alertId, "CLEARED", "system", t.observed, detail);
            } else if (flapCheck(t)) {
                conn.query(
                    "UPDATE pulse.alerts SET condition = 'CLEARED', flapping = true, changed_at = now() "
                    "WHERE id = $1::bigint",
                    {id});
                addEvent(conn, rule.tenantId, alertId, "FLAPPING", "system", t.observed,
                         "{\"opens\":" + std::to_string(opens_[{rule.id, t.deviceId}].size()) +
                             ",\"window_s\":" + std::to_string(rule.flapWindowS) + "}");
                logging::get("alerts")->info(
                    "alert {} ({} on {}) is flapping: held open, notifications paused", alertId, rule.name,
                    t.deviceName);
            } else if (rule.autoClose) {
                conn.query(
                    "UPDATE pulse.alerts SET status = 'CLOSED', condition = 'CLEARED', closed_at = now(), "
                    "closed_by = 'system', close_reason = 'recovered', changed_at = now(), "
                    "last_value = $2::double precision WHERE id = $1::bigint",
                    {id, num(t.observed)});
                int64_t eventId =
                    addEvent(conn, rule.tenantId, alertId, "CLOSED", "system", t.observed, detail);
                created = route(conn, alertId, eventId, "CLOSED");
            } else {
                conn.query(
                    "UPDATE pulse.alerts SET condition = 'CLEARED', changed_at = now() WHERE id = $1::bigint",
                    {id});
                addEvent(conn, rule.tenantId, alertId, "CLEARED", "system", t.observed, detail);
            }
        }
        conn.exec("COMMIT");
        break;
    }
    if (created > 0 && deliveriesCreated_) deliveriesCreated_();
}

void AlertService::drain() {
    for (;;) {
        Transition t;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) return;
            t = queue_.front();
        }
        try {
            pool_.with([&](storage::PgConnection& conn) { apply(conn, t); });
        } catch (const storage::DatabaseError& e) {
            if (storage::isTransient(e)) throw;  // the database is away: keep the transition, retry later
            // The database refused this transition itself (its rule or device was deleted meanwhile):
            // retrying cannot help, and it must not block the ones behind it.
            logging::get("alerts")->error("rule transition for rule {} and device {} dropped: {}",
                                          t.rule->name, t.deviceName, e.what());
            if (metrics_)
                metrics_
                    ->counter("pulse_alert_transitions_dropped_total",
                              "Rule transitions dropped (queue full, or refused by the database)")
                    .add();
        }
        std::lock_guard lock(mutex_);
        queue_.pop_front();
    }
}

void AlertService::sweepFlapping() {
    // Opening times older than any flapping window are of no use: forget them.
    int64_t nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    for (auto it = opens_.begin(); it != opens_.end();)
        it = it->second.empty() || it->second.back() < nowMs - 86400000LL ? opens_.erase(it) : std::next(it);
    int created = 0;
    pool_.with([&](storage::PgConnection& conn) {
        conn.exec("BEGIN");
        // Every tenant's settled alerts (SECURITY DEFINER, sql/004), locked for this transaction; each is
        // then changed with its own tenant set.
        auto rows =
            conn.query("SELECT id, tenant_id, condition, auto_close FROM pulse.settled_flapping_alerts()");
        for (const auto& row : rows.rows) {
            int64_t alertId = std::stoll(*row[0]);
            storage::scopeToTenants(conn, {*row[1]});
            conn.query("UPDATE pulse.alerts SET flapping = false WHERE id = $1::bigint", {*row[0]});
            addEvent(conn, *row[1], alertId, "STABLE", "system", std::nullopt, "{}");
            if (*row[2] == "CLEARED" && *row[3] == "t") {
                conn.query(
                    "UPDATE pulse.alerts SET status = 'CLOSED', closed_at = now(), closed_by = 'system', "
                    "close_reason = 'recovered' WHERE id = $1::bigint",
                    {*row[0]});
                int64_t eventId = addEvent(conn, *row[1], alertId, "CLOSED", "system", std::nullopt, "{}");
                created += route(conn, alertId, eventId, "CLOSED");
            }
        }
        conn.exec("COMMIT");
    });
    if (created > 0 && deliveriesCreated_) deliveriesCreated_();
}

// An operator's change: the guarded UPDATE (its $1 is the alert id, $2 the tenant; it returns one
// column, for the event's detail), the event, and (when the kind notifies) the deliveries, together.
bool AlertService::operatorChange(const std::string& tenantId, int64_t alertId, const std::string& updateSql,
                                  std::vector<std::optional<std::string>> extraParams, const char* kind,
                                  const std::string& actor,
                                  const std::function<std::string(const std::string&)>& detail, bool notify) {
    bool done = false;
    int created = 0;
    std::vector<std::optional<std::string>> params = {std::to_string(alertId), tenantId};
    params.insert(params.end(), extraParams.begin(), extraParams.end());
    pool_.with([&](storage::PgConnection& conn) {
        conn.exec("BEGIN");
        storage::scopeToTenants(conn, {tenantId});
        auto rows = conn.query(updateSql, params);
        if (!rows.rows.empty()) {
            int64_t eventId = addEvent(conn, tenantId, alertId, kind, actor, std::nullopt,
                                       detail(rows.rows[0][0].value_or("")));
            if (notify) created = route(conn, alertId, eventId, kind);
            done = true;
        }
        conn.exec("COMMIT");
    });
    if (created > 0 && deliveriesCreated_) deliveriesCreated_();
    return done;
}

bool AlertService::acknowledge(const std::string& tenantId, int64_t alertId, const std::string& actor) {
    return operatorChange(
        tenantId, alertId,
        "UPDATE pulse.alerts SET status = 'ACKNOWLEDGED', acknowledged_at = now(), acknowledged_by = $3 "
        "WHERE id = $1::bigint AND tenant_id = $2::uuid AND status = 'OPEN' RETURNING id",
        {actor}, "ACKNOWLEDGED", actor, [](const std::string&) { return std::string("{}"); }, true);
}

bool AlertService::close(const std::string& tenantId, int64_t alertId, const std::string& actor,
                         const std::string& reason) {
    return operatorChange(
        tenantId, alertId,
        "UPDATE pulse.alerts SET status = 'CLOSED', closed_at = now(), closed_by = $3, close_reason = $4 "
        "WHERE id = $1::bigint AND tenant_id = $2::uuid AND status <> 'CLOSED' RETURNING id",
        {actor, reason}, "CLOSED", actor,
        [&](const std::string&) {
            return json::objectOf({{"reason", reason}});
        },
        true);
}

bool AlertService::silence(const std::string& tenantId, int64_t alertId, int64_t untilMs,
                           const std::string& actor) {
    return operatorChange(
        tenantId, alertId,
        "UPDATE pulse.alerts SET silenced_until = " + msToTimestamp(untilMs) +
            " WHERE id = $1::bigint AND tenant_id = $2::uuid AND status <> 'CLOSED' RETURNING "
            "silenced_until::text",
        {}, "SILENCED", actor,
        [](const std::string& until) {
            return json::objectOf({{"until", until}});
        },
        false);
}

bool AlertService::assign(const std::string& tenantId, int64_t alertId,
                          const std::optional<std::string>& userId, const std::string& actor) {
    // The users table is under row-level security too: only the tenant's users can be found.
    return operatorChange(
        tenantId, alertId,
        "UPDATE pulse.alerts SET assignee_id = $3::uuid WHERE id = $1::bigint AND tenant_id = $2::uuid AND "
        "status <> 'CLOSED' AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM pulse.users u WHERE u.id = "
        "$3::uuid "
        "AND u.tenant_id = $2::uuid AND NOT u.disabled)) RETURNING coalesce(assignee_id::text, '')",
        {userId}, "ASSIGNED", actor,
        [](const std::string& user) {
            return user.empty() ? std::string("{\"assignee_id\":null}")
                                : json::objectOf({{"assignee_id", user}});
        },
        false);
}

bool AlertService::comment(const std::string& tenantId, int64_t alertId, const std::string& text,
                           const std::string& actor) {
    return operatorChange(
        tenantId, alertId, "SELECT id FROM pulse.alerts WHERE id = $1::bigint AND tenant_id = $2::uuid", {},
        "COMMENTED", actor,
        [&](const std::string&) {
            return json::objectOf({{"text", text}});
        },
        false);
}

void AlertService::run() {
    auto log = logging::get("alerts");
    auto nextSweep = std::chrono::steady_clock::now() + settings_.sweepInterval;
    bool failing = false;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_until(lock, nextSweep, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_ && (queue_.empty() || failing)) break;
        }
        try {
            drain();
            if (std::chrono::steady_clock::now() >= nextSweep) {
                sweepFlapping();
                nextSweep = std::chrono::steady_clock::now() + settings_.sweepInterval;
            }
            if (failing) log->info("alert writes recovered");
            failing = false;
        } catch (const std::exception& e) {
            if (!failing) log->error("alert writes failing (transitions stay queued): {}", e.what());
            failing = true;
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
        }
    }
    size_t left = queued();
    if (left)
        log->warn("{} rule transition(s) not written at shutdown (rules re-fire on the next readings)", left);
}

}  // namespace pulse::services
