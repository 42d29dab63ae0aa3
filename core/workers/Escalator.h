#pragma once

#include "storage/EscalationStore.h"
#include "storage/NotificationGroupStore.h"
#include "workers/WakeSignal.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace pulse::metrics {
class MetricsRegistry;
}
namespace pulse::storage {
class PgPool;
}

namespace pulse::workers {

struct EscalatorSettings {
    std::chrono::milliseconds poll;  // the longest sleep: other instances' alerts are seen within it
    int batch;                       // levels fired per transaction
    int maxAttempts;                 // of each page's delivery
    std::string consoleUrl;          // pages link to the alert there
};

// Fires escalation levels and sends notification groups' notices when they are due. The timers are in the
// database (alerts' next_escalation_at, groups' next_flush_at), so the thread sleeps until the earliest of
// any tenant (or the poll interval), woken early when this process opens an alert with a policy or forms or
// changes a group; several instances may run one each (sql/012 and sql/018 claim with SKIP LOCKED).
class Escalator {
  public:
    using Fired = std::function<void(const storage::FiredEscalation&)>;

    Escalator(storage::PgPool& pool, EscalatorSettings settings, std::shared_ptr<WakeSignal> wake,
              std::shared_ptr<WakeSignal> deliveriesWake, metrics::MetricsRegistry* metrics,
              Fired fired = {});
    ~Escalator();

    void start();
    void stop();

    // Fires every level due by nowMs (nullopt: the database's now) on the calling thread; returns how many
    // (tests drive time with it).
    int fireDue(std::optional<long long> nowMs = std::nullopt);
    // Sends every group notice due by nowMs (nullopt: the database's now); returns how many groups were
    // flushed (notified or ended).
    int flushGroups(std::optional<long long> nowMs = std::nullopt);

  private:
    void run();

    storage::EscalationStore store_;
    storage::NotificationGroupStore groups_;
    EscalatorSettings settings_;
    std::shared_ptr<WakeSignal> wake_;
    std::shared_ptr<WakeSignal> deliveriesWake_;
    metrics::MetricsRegistry* metrics_;
    Fired fired_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace pulse::workers
