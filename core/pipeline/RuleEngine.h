#pragma once

#include "pipeline/TelemetryDecoder.h"
#include "services/AlertService.h"
#include "storage/RuleStore.h"

#include <map>
#include <memory>
#include <mutex>
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
class RuleEngine {
  public:
    RuleEngine(storage::PgPool& pool, services::AlertService& alerts, services::DeviceRegistry& registry,
               metrics::MetricsRegistry* metrics);
    ~RuleEngine();

    // The plugins that provide rule types; rules load only once these are known.
    void setPlugins(const plugins::PluginManager* plugins);
    // Re-reads the rules when they changed; throws when the database cannot be read.
    void reload();
    // The ingest path: every reading of one message of one device.
    void evaluate(const services::DeviceIdentity& device, const std::vector<Reading>& readings);
    // Advances time-based rules (hold-for, heartbeat).
    void tick(int64_t nowMs);

    size_t ruleCount() const;

  private:
    using Index = std::unordered_map<std::string, std::vector<std::shared_ptr<const ActiveRule>>>;
    std::shared_ptr<const Index> snapshot() const;
    std::shared_ptr<ActiveRule> build(const storage::ActiveRuleRow& row);
    void track(const ActiveRule& rule);

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
};

}  // namespace pulse::pipeline
