#pragma once

#include "pipeline/TelemetryDecoder.h"
#include "services/AlertService.h"
#include "storage/RuleStateStore.h"
#include "storage/RuleStore.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace pulse::metrics {
class MetricsRegistry;
class Counter;
}  // namespace pulse::metrics
namespace pulse::plugins {
class PluginManager;
class PluginInstance;
struct RuleVerdict;
}  // namespace pulse::plugins
namespace pulse::storage {
class PgPool;
}
namespace pulse::services {
class DeviceRegistry;
struct DeviceIdentity;
}  // namespace pulse::services

namespace pulse::pipeline {

// A stored rule with its plugin instance.
struct ActiveRule : services::RuleInfo {
    std::string scopeKind;  // tenant, site, tag, device
    std::string scopeSiteId;
    std::string scopeTag;
    int64_t scopeDeviceId = 0;
    std::string configJson;
    std::string updatedAt;
    std::shared_ptr<plugins::PluginInstance> instance;

    bool inScope(const services::DeviceIdentity& device) const;
};

// The rules of every tenant, evaluated in memory on the ingest path: each reading of a device goes to
// the rules of its tenant whose scope holds the device, before the batch is written; transitions go to
// the alert service's queue. Rules are read from the database (and re-read when they change); one
// plugin instance per rule keeps the per-device state, so a rule whose row did not change keeps it.
// What a rule's state holds beyond idle is saved (ABI 1.4) to pulse.rule_state on every tick for the
// devices just evaluated, restored into a new instance of the rule, and restored into this instance when
// another pulsed saved it (the instances splitting a device's readings go on from each other's state).
// A silence a rule reports on its tick is checked against the stored last-seen time first.
class RuleEngine {
  public:
    // instanceId names this pulsed in the saved states (unique per process; generated when empty).
    RuleEngine(storage::PgPool& pool, services::AlertService& alerts, services::DeviceRegistry& registry,
               metrics::MetricsRegistry* metrics, std::string instanceId = "");
    ~RuleEngine();

    // The plugins that provide rule types; rules load only once these are known.
    void setPlugins(const plugins::PluginManager* plugins);
    // Re-reads the rules when they changed; throws when the database cannot be read.
    void reload();
    // The ingest path: every reading of one message of one device.
    void evaluate(const services::DeviceIdentity& device, const std::vector<Reading>& readings);
    // Restores what other instances saved, advances time-based rules (hold-for, heartbeat), and saves the
    // states of the devices evaluated since the last tick.
    void tick(int64_t nowMs);
    // The states changed since the last save, saved now (tick() does it; tests, and stopping).
    void saveStates();
    // What other instances saved since the last look, restored into this instance's rules.
    void restoreChangedStates();

    size_t ruleCount() const;

  private:
    using Index = std::unordered_map<std::string, std::vector<std::shared_ptr<const ActiveRule>>>;
    std::shared_ptr<const Index> snapshot() const;
    std::shared_ptr<ActiveRule> build(const storage::ActiveRuleRow& row);
    void track(const ActiveRule& rule);
    void restoreSaved(const ActiveRule& rule);
    // The device's state in the rule may change now (atMs): saved on the next tick, and not overwritten by
    // another instance's older save meanwhile.
    void markEvaluated(const std::shared_ptr<const ActiveRule>& rule, int64_t deviceId,
                       const std::string& deviceName, int64_t atMs);
    // tick()'s verdicts of one rule, a silence withdrawn when another instance has heard of the device.
    std::vector<std::pair<plugins::RuleVerdict, services::DeviceIdentity>> tickRule(
        const std::shared_ptr<const ActiveRule>& rule, int64_t nowMs);

    storage::RuleStore store_;
    services::AlertService& alerts_;
    services::DeviceRegistry& registry_;
    metrics::MetricsRegistry* metrics_;
    metrics::Counter* evaluations_ = nullptr;
    metrics::Counter* transitions_ = nullptr;
    const plugins::PluginManager* plugins_ = nullptr;

    mutable std::mutex indexMutex_;
    std::shared_ptr<const Index> index_;
    std::mutex reloadMutex_;
    std::string version_;
    std::map<std::string, std::shared_ptr<const ActiveRule>> byId_;
    std::map<std::string, std::string> failed_;  // rule id -> updated_at of a version that failed to load

    // Rule state (ABI 1.4): the devices evaluated since the last save, and the text saved or restored last
    // per (rule, device), so that an unchanged state is not written again.
    using StateKey = std::pair<std::string, int64_t>;  // rule id, device id
    struct Evaluated {
        std::shared_ptr<const ActiveRule> rule;  // the latest instance of the rule
        std::string deviceName;
        int64_t atMs = 0;
    };
    struct Known {                   // what this instance last saved or restored
        std::string state;           // the text
        int64_t stateAtMs = 0;       // when that state was reached
        int64_t appliedSavedUs = 0;  // the saved_at of another instance's change restored (0: none)
    };
    storage::RuleStateStore states_;
    std::string instanceId_;
    std::mutex evaluatedMutex_;
    std::map<StateKey, Evaluated> evaluated_;
    std::mutex statesMutex_;  // the members below: the tick thread and the reload thread
    std::map<StateKey, Known> known_;
    int64_t changesSeenUpToUs_ = 0;  // others' changes are read from here (minus a margin); 0: not yet
    bool changesPageFull_ = false;   // the last read hit its limit: the next goes on without the margin
};

}  // namespace pulse::pipeline
