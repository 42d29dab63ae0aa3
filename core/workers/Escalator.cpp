#include "workers/Escalator.h"

#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

#include <algorithm>

namespace pulse::workers {

Escalator::Escalator(storage::PgPool& pool, EscalatorSettings settings, std::shared_ptr<WakeSignal> wake,
                     std::shared_ptr<WakeSignal> deliveriesWake, metrics::MetricsRegistry* metrics,
                     Fired fired)
    : store_(pool),
      groups_(pool),
      settings_(std::move(settings)),
      wake_(std::move(wake)),
      deliveriesWake_(std::move(deliveriesWake)),
      metrics_(metrics),
      fired_(std::move(fired)) {}

Escalator::~Escalator() {
    stop();
}

void Escalator::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void Escalator::stop() {
    stopping_ = true;
    wake_->notify();
    if (thread_.joinable()) thread_.join();
}

namespace {

// Claims batches until one comes back short (or the thread is stopping), handing each row to `handle` and
// waking the dispatcher when a batch queued deliveries. Returns how many rows.
template <typename Claim, typename Handle>
int drainBatches(int batch, const std::atomic<bool>& stopping, WakeSignal* deliveriesWake, Claim claim,
                 Handle handle) {
    int total = 0;
    for (;;) {
        auto rows = claim();
        int deliveries = 0;
        for (const auto& row : rows) {
            deliveries += row.deliveries;
            handle(row);
        }
        total += static_cast<int>(rows.size());
        if (deliveries > 0 && deliveriesWake) deliveriesWake->notify();
        if (static_cast<int>(rows.size()) < batch || stopping) return total;
    }
}

}  // namespace

int Escalator::fireDue(std::optional<long long> nowMs) {
    return drainBatches(
        settings_.batch, stopping_, deliveriesWake_.get(),
        [&] { return store_.fireDue(nowMs, settings_.batch, settings_.maxAttempts, settings_.consoleUrl); },
        [&](const storage::FiredEscalation& f) {
            logging::get("escalation")
                ->debug("alert {} escalated: level {} (pass {}), {} page(s), due {}", f.alertId, f.level,
                        f.repeat + 1, f.deliveries, f.dueAt);
            if (metrics_)
                metrics_->counter("pulse_escalation_levels_fired_total", "Escalation levels fired").add();
            if (fired_) fired_(f);
        });
}

int Escalator::flushGroups(std::optional<long long> nowMs) {
    return drainBatches(
        settings_.batch, stopping_, deliveriesWake_.get(),
        [&] { return groups_.flushDue(nowMs, settings_.batch, settings_.maxAttempts, settings_.consoleUrl); },
        [&](const storage::FlushedGroup& g) {
            logging::get("escalation")
                ->debug("notification group {} flushed: {} ({} alert(s), {} delivery(ies))", g.groupId,
                        g.kind, g.alerts, g.deliveries);
            if (metrics_ && g.kind != "ENDED")
                metrics_
                    ->counter("pulse_notification_group_notices_total", "Notification group notices sent",
                              {{"kind", g.kind}})
                    .add();
        });
}

void Escalator::run() {
    auto log = logging::get("escalation");
    uint64_t seen = wake_->generation();
    bool failing = false;
    while (!stopping_) {
        auto sleep = settings_.poll;
        try {
            fireDue();
            flushGroups();
            // A timer still due after firing is another instance's, claimed right now: look again shortly.
            for (auto ms : {store_.msUntilNextDue(), groups_.msUntilNextDue()})
                if (ms) sleep = std::min(sleep, std::chrono::milliseconds(std::max(10LL, *ms)));
            if (failing) log->info("escalations recovered");
            failing = false;
        } catch (const std::exception& e) {
            if (!failing) log->error("escalations failing (their timers stay due): {}", e.what());
            failing = true;
            sleep = std::chrono::seconds(1);
        }
        if (stopping_) break;
        seen = wake_->wait(seen, sleep);
    }
}

}  // namespace pulse::workers
