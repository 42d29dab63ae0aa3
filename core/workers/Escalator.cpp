#include "workers/Escalator.h"

#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

#include <algorithm>

namespace pulse::workers {

Escalator::Escalator(storage::PgPool& pool, EscalatorSettings settings, std::shared_ptr<WakeSignal> wake,
                     std::shared_ptr<WakeSignal> deliveriesWake, metrics::MetricsRegistry* metrics,
                     Fired fired)
    : store_(pool),
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

int Escalator::fireDue(std::optional<long long> nowMs) {
    int total = 0;
    for (;;) {
        auto fired = store_.fireDue(nowMs, settings_.batch, settings_.maxAttempts, settings_.consoleUrl);
        int deliveries = 0;
        for (const auto& f : fired) {
            deliveries += f.deliveries;
            logging::get("escalation")
                ->debug("alert {} escalated: level {} (pass {}), {} page(s), due {}", f.alertId, f.level,
                        f.repeat + 1, f.deliveries, f.dueAt);
            if (metrics_)
                metrics_->counter("pulse_escalation_levels_fired_total", "Escalation levels fired").add();
            if (fired_) fired_(f);
        }
        total += static_cast<int>(fired.size());
        if (deliveries > 0 && deliveriesWake_) deliveriesWake_->notify();
        if (static_cast<int>(fired.size()) < settings_.batch || stopping_) return total;
    }
}

void Escalator::run() {
    auto log = logging::get("escalation");
    uint64_t seen = wake_->generation();
    bool failing = false;
    while (!stopping_) {
        auto sleep = settings_.poll;
        try {
            fireDue();
            // A timer still due after firing is another instance's, claimed right now: look again shortly.
            if (auto ms = store_.msUntilNextDue())
                sleep = std::min(sleep, std::chrono::milliseconds(std::max(10LL, *ms)));
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
