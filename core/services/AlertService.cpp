#include "services/AlertService.h"

#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"
#include "storage/PgConnection.h"

#include <pulse/json.hpp>

#include <string_view>

namespace pulse::services {
namespace {

// A guarded change that reports only whether it changed anything.
std::optional<std::string> changed(bool done) {
    return done ? std::optional<std::string>("") : std::nullopt;
}

}  // namespace

AlertService::AlertService(storage::PgPool& pool, config::AlertSettings settings,
                           metrics::MetricsRegistry* metrics, std::function<void()> deliveriesCreated,
                           std::function<void()> escalationsScheduled)
    : store_(pool),
      settings_(settings),
      metrics_(metrics),
      deliveriesCreated_(std::move(deliveriesCreated)),
      escalationsScheduled_(std::move(escalationsScheduled)) {}

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

int64_t AlertService::addEvent(storage::AlertTransaction& tx, const std::string& tenantId, int64_t alertId,
                               const char* kind, const std::string& actor, std::optional<double> value,
                               const std::string& detailJson) {
    int64_t eventId = tx.addEvent({tenantId, alertId, kind, actor, value, detailJson});
    if (metrics_)
        metrics_->counter("pulse_alert_events_total", "Alert events by kind", {{"kind", kind}}).add();
    return eventId;
}

void AlertService::route(storage::AlertTransaction& tx, int64_t alertId, int64_t eventId, const char* kind,
                         Notified& notified) {
    // Only an acknowledgement or a closing follows up where an escalation paged.
    bool followsUp = std::string_view(kind) == "ACKNOWLEDGED" || std::string_view(kind) == "CLOSED";
    auto routed = tx.route(alertId, eventId, settings_.maxAttempts, settings_.consoleUrl, followsUp);
    notified.deliveries += routed.deliveries;
    if (routed.groups > 0) notified.timers = true;
}

// After the commit: what the transaction wrote is there for the workers to find.
void AlertService::wakeWorkers(const Notified& notified) {
    if (notified.deliveries > 0 && deliveriesCreated_) deliveriesCreated_();
    if (notified.timers && escalationsScheduled_) escalationsScheduled_();
}

void AlertService::apply(const Transition& t) {
    const RuleInfo& rule = *t.rule;
    std::string detail = json::objectOf({{"summary", t.summary}});
    Notified notified;
    // Two tries: an alert another instance opened meanwhile is, the second time, found open and updated.
    store_.writeAsTenant(
        rule.tenantId,
        [&](storage::AlertTransaction& tx) {
            auto open = tx.lockOpenAlert(rule.id, t.deviceId);
            if (t.kind == PULSE_TRANSITION_FIRING) {
                if (!open) {
                    auto opened = tx.openAlert(
                        {rule.tenantId, rule.id, t.deviceId, rule.severity, t.summary, t.observed, t.atMs},
                        settings_.parentSettleS);
                    if (!opened) return false;  // another instance opened it meanwhile: treat as an update
                    int64_t alertId = opened->id;
                    if (opened->escalates) notified.timers = true;
                    // Suppressed by a parent in trouble: its history says by which, and why.
                    std::string openedDetail = detail;
                    if (opened->suppressedBy) {
                        json::Writer w;
                        w.beginObject().member("summary", t.summary);
                        w.member("suppressed_by", static_cast<long long>(*opened->suppressedBy));
                        w.member("reason", opened->suppressionReason).endObject();
                        openedDetail = w.str();
                        if (metrics_)
                            metrics_
                                ->counter("pulse_alerts_suppressed_total",
                                          "Alerts opened while a parent device was in trouble (not notified)")
                                .add();
                    }
                    int64_t eventId =
                        addEvent(tx, rule.tenantId, alertId, "OPENED", "system", t.observed, openedDetail);
                    route(tx, alertId, eventId, "OPENED", notified);
                    if (metrics_)
                        metrics_
                            ->counter("pulse_alerts_opened_total", "Alerts opened",
                                      {{"severity", rule.severity}})
                            .add();
                } else if (open->condition == "CLEARED") {
                    tx.refire(open->id, t.observed, t.summary);
                    addEvent(tx, rule.tenantId, open->id, "FIRING", "system", t.observed, detail);
                } else {
                    tx.updateReading(open->id, t.observed, t.summary);
                }
            } else if (t.kind == PULSE_TRANSITION_CLEARED && open && open->condition == "FIRING") {
                int64_t alertId = open->id;
                if (open->flapping) {
                    tx.clear(alertId);
                    addEvent(tx, rule.tenantId, alertId, "CLEARED", "system", t.observed, detail);
                } else if (int opens = tx.opensWithin(rule.id, t.deviceId, rule.flapWindowS);
                           opens > rule.flapThreshold) {
                    tx.clearAsFlapping(alertId);
                    addEvent(tx, rule.tenantId, alertId, "FLAPPING", "system", t.observed,
                             "{\"opens\":" + std::to_string(opens) +
                                 ",\"window_s\":" + std::to_string(rule.flapWindowS) + "}");
                    logging::get("alerts")->info(
                        "alert {} ({} on {}) is flapping: held open, notifications paused", alertId,
                        rule.name, t.deviceName);
                } else if (rule.autoClose) {
                    tx.closeRecovered(alertId, t.observed);
                    int64_t eventId =
                        addEvent(tx, rule.tenantId, alertId, "CLOSED", "system", t.observed, detail);
                    route(tx, alertId, eventId, "CLOSED", notified);
                } else {
                    tx.clear(alertId);
                    addEvent(tx, rule.tenantId, alertId, "CLEARED", "system", t.observed, detail);
                }
            }
            return true;
        },
        2);
    wakeWorkers(notified);
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
            apply(t);
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
    Notified notified;
    // Every tenant's settled alerts, locked for this transaction; each is then changed with its own tenant
    // set.
    store_.writeAcrossTenants([&](storage::AlertTransaction& tx) {
        for (const auto& alert : tx.lockSettledFlapping()) {
            tx.scopeTo(alert.tenantId);
            tx.markStable(alert.id);
            addEvent(tx, alert.tenantId, alert.id, "STABLE", "system", std::nullopt, "{}");
            if (alert.condition == "CLEARED" && alert.autoClose) {
                tx.closeSettled(alert.id);
                int64_t eventId =
                    addEvent(tx, alert.tenantId, alert.id, "CLOSED", "system", std::nullopt, "{}");
                route(tx, alert.id, eventId, "CLOSED", notified);
            }
        }
    });
    wakeWorkers(notified);
}

void AlertService::releaseHeld() {
    constexpr int kBatch = 500;
    Notified notified;
    store_.writeAcrossTenants([&](storage::AlertTransaction& tx) {
        for (const auto& alert : tx.lockHeldReleases(kBatch, settings_.parentSettleS)) {
            tx.scopeTo(alert.tenantId);
            // Still open when the window ends: the opening is notified now (acknowledged or closed meanwhile:
            // nothing to tell). Held by a parent: only a child still in trouble notifies (one whose condition
            // cleared behind the recovered parent, its rule not closing it, stays quiet).
            bool notify = alert.status == "OPEN" && alert.openedEventId &&
                          (alert.releasedBy != "PARENT_RECOVERED" || alert.condition == "FIRING");
            if (tx.releaseHold(alert.id, notify)) notified.timers = true;
            addEvent(tx, alert.tenantId, alert.id, alert.releasedBy.c_str(), "system", std::nullopt, "{}");
            if (notify) route(tx, alert.id, *alert.openedEventId, "OPENED", notified);
        }
    });
    wakeWorkers(notified);
}

// An operator's change: the guarded change, the event, and (when the kind notifies) the deliveries,
// together.
bool AlertService::operatorChange(
    const std::string& tenantId, int64_t alertId,
    const std::function<std::optional<std::string>(storage::AlertTransaction&)>& change, const char* kind,
    const std::string& actor, const std::function<std::string(const std::string&)>& detail, bool notify) {
    bool done = false;
    Notified notified;
    store_.writeAsTenant(tenantId, [&](storage::AlertTransaction& tx) {
        if (auto result = change(tx)) {
            int64_t eventId = addEvent(tx, tenantId, alertId, kind, actor, std::nullopt, detail(*result));
            if (notify) route(tx, alertId, eventId, kind, notified);
            done = true;
        }
        return true;
    });
    wakeWorkers(notified);
    return done;
}

bool AlertService::acknowledge(const std::string& tenantId, int64_t alertId, const std::string& actor) {
    return operatorChange(
        tenantId, alertId,
        [&](storage::AlertTransaction& tx) { return changed(tx.acknowledge(tenantId, alertId, actor)); },
        "ACKNOWLEDGED", actor, [](const std::string&) { return std::string("{}"); }, true);
}

bool AlertService::close(const std::string& tenantId, int64_t alertId, const std::string& actor,
                         const std::string& reason) {
    return operatorChange(
        tenantId, alertId,
        [&](storage::AlertTransaction& tx) { return changed(tx.close(tenantId, alertId, actor, reason)); },
        "CLOSED", actor,
        [&](const std::string&) {
            return json::objectOf({{"reason", reason}});
        },
        true);
}

bool AlertService::reopen(const std::string& tenantId, int64_t alertId, const std::string& actor) {
    bool done = false;
    Notified notified;
    store_.writeAsTenant(tenantId, [&](storage::AlertTransaction& tx) {
        auto reopened = tx.reopen(tenantId, alertId, settings_.parentSettleS);
        if (!reopened) return true;
        if (reopened->escalates) notified.timers = true;
        json::Writer w;
        w.beginObject().member("reopened", true).member("was", reopened->was);
        if (reopened->suppressedBy)
            w.member("suppressed_by", static_cast<long long>(*reopened->suppressedBy))
                .member("reason", reopened->suppressionReason);
        w.endObject();
        int64_t eventId = addEvent(tx, tenantId, alertId, "OPENED", actor, std::nullopt, w.str());
        route(tx, alertId, eventId, "OPENED", notified);
        done = true;
        return true;
    });
    wakeWorkers(notified);
    return done;
}

bool AlertService::silence(const std::string& tenantId, int64_t alertId, int64_t untilMs,
                           const std::string& actor) {
    return operatorChange(
        tenantId, alertId,
        [&](storage::AlertTransaction& tx) { return tx.silence(tenantId, alertId, untilMs); }, "SILENCED",
        actor,
        [](const std::string& until) {
            return json::objectOf({{"until", until}});
        },
        false);
}

bool AlertService::assign(const std::string& tenantId, int64_t alertId,
                          const std::optional<std::string>& userId, const std::string& actor) {
    return operatorChange(
        tenantId, alertId,
        [&](storage::AlertTransaction& tx) { return tx.assign(tenantId, alertId, userId); }, "ASSIGNED",
        actor,
        [](const std::string& user) {
            return user.empty() ? std::string("{\"assignee_id\":null}")
                                : json::objectOf({{"assignee_id", user}});
        },
        false);
}

bool AlertService::comment(const std::string& tenantId, int64_t alertId, const std::string& text,
                           const std::string& actor) {
    return operatorChange(
        tenantId, alertId,
        [&](storage::AlertTransaction& tx) { return changed(tx.exists(tenantId, alertId)); }, "COMMENTED",
        actor,
        [&](const std::string&) {
            return json::objectOf({{"text", text}});
        },
        false);
}

void AlertService::run() {
    auto log = logging::get("alerts");
    auto nextSweep = std::chrono::steady_clock::now() + settings_.flappingSweep;
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
                releaseHeld();
                nextSweep = std::chrono::steady_clock::now() + settings_.flappingSweep;
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
