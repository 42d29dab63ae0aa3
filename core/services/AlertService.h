#pragma once

#include "config/Settings.h"
#include "storage/AlertStore.h"

#include <pulse/plugin.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pulse::metrics {
class MetricsRegistry;
}
namespace pulse::storage {
class PgPool;
}

namespace pulse::services {

// What the alert service needs to know of the rule that concluded something.
struct RuleInfo {
    std::string id;
    std::string tenantId;
    std::string tenantSlug;
    std::string name;
    std::string type;      // "threshold", "heartbeat"
    std::string severity;  // CRITICAL..INFO
    bool autoClose = true;
    int flapThreshold = 3;  // more opens than this within flapWindow: flapping
    int flapWindowS = 600;
};

// One verdict of a rule about one device, on its way to the database.
struct Transition {
    std::shared_ptr<const RuleInfo> rule;
    int64_t deviceId = 0;
    std::string deviceName;
    pulse_transition kind = PULSE_TRANSITION_NONE;
    double observed = 0;
    std::string summary;
    int64_t atMs = 0;  // the reading's time (or the tick's)
};

// Turns rule transitions into alerts: one open alert per (device, rule), its event history, and the
// deliveries the tenant's routing rules ask for, all in one transaction (the outbox). Holds a flapping
// alert open instead of re-paging, and releases it once stable. Transitions are queued (bounded) and
// written by one thread, so that the ingest path never waits on the database for them.
class AlertService {
  public:
    // deliveriesCreated: the outbox has new deliveries; escalationsScheduled: a timer the escalator keeps is
    // due sooner (an alert opened with an escalation policy, a notification group formed or changed).
    AlertService(storage::PgPool& pool, config::AlertSettings settings, metrics::MetricsRegistry* metrics,
                 std::function<void()> deliveriesCreated, std::function<void()> escalationsScheduled = {});
    ~AlertService();

    void start();
    void stop();  // writes what is queued (while the database answers), then returns

    // Queues a transition; false when the queue is full (counted and logged, the rule re-fires later).
    bool submit(Transition transition);
    // Processes everything queued so far on the calling thread (tests, and stop()).
    void drain();
    size_t queued() const;

    // Operator actions; they return false when the alert does not exist in the tenant or is closed.
    bool acknowledge(const std::string& tenantId, int64_t alertId, const std::string& actor);
    bool close(const std::string& tenantId, int64_t alertId, const std::string& actor,
               const std::string& reason);
    bool silence(const std::string& tenantId, int64_t alertId, int64_t untilMs, const std::string& actor);
    // Opens an acknowledged or closed alert again: an opening by the actor (OPENED, detail "reopened"),
    // routed, grouped, held and escalated from level 1 in a new round as a new alert's; false when it is
    // open, not the tenant's, its rule deleted, or another alert of its rule is open on the device.
    bool reopen(const std::string& tenantId, int64_t alertId, const std::string& actor);
    // Assigns the alert to a user of the tenant who is not disabled (nullopt: unassigns); false also when the
    // user is not one.
    bool assign(const std::string& tenantId, int64_t alertId, const std::optional<std::string>& userId,
                const std::string& actor);
    // Adds a comment to the alert's history (closed alerts included).
    bool comment(const std::string& tenantId, int64_t alertId, const std::string& text,
                 const std::string& actor);

    // Releases flapping alerts that were stable for their rule's window (runs on the service's thread).
    void sweepFlapping();
    // Notifies the openings held by maintenance windows that are over or by parents now well (and settled),
    // and starts their escalations (runs on the service's thread, with the flapping sweep).
    void releaseHeld();

    // Told of every alert event once committed, whoever wrote it (the live stream). Set before start().
    void onCommitted(storage::AlertStore::EventsCommitted committed) {
        store_.onCommitted(std::move(committed));
    }

  private:
    void run();
    void apply(const Transition& t);
    int64_t addEvent(storage::AlertTransaction& tx, const std::string& tenantId, int64_t alertId,
                     const char* kind, const std::string& actor, std::optional<double> value,
                     const std::string& detailJson);
    // What a transaction left for the workers: deliveries to send, timers brought forward.
    struct Notified {
        int deliveries = 0;
        bool timers = false;
    };
    void route(storage::AlertTransaction& tx, int64_t alertId, int64_t eventId, const char* kind,
               Notified& notified);
    void wakeWorkers(const Notified& notified);
    // change: the guarded change (nullopt: nothing to change); its result goes into the event's detail.
    bool operatorChange(const std::string& tenantId, int64_t alertId,
                        const std::function<std::optional<std::string>(storage::AlertTransaction&)>& change,
                        const char* kind, const std::string& actor,
                        const std::function<std::string(const std::string&)>& detail, bool notify);

    storage::AlertStore store_;
    config::AlertSettings settings_;
    metrics::MetricsRegistry* metrics_;
    std::function<void()> deliveriesCreated_;
    std::function<void()> escalationsScheduled_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Transition> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace pulse::services
