#pragma once

#include "storage/RuleStore.h"

#include <cstdint>
#include <string>
#include <vector>

namespace pulse::plugins {
class PluginManager;
}
namespace pulse::storage {
class PgPool;
}

namespace pulse::services {

// A moment the previewed rule would have opened an alert.
struct PreviewFiring {
    long long deviceId = 0;
    std::string deviceName;
    int64_t atMs = 0;
    double observed = 0;
    std::string summary;
};

struct RulePreviewResult {
    int64_t fromMs = 0, toMs = 0;  // the window replayed (toMs is earlier than asked when truncated)
    int devices = 0;               // in the rule's scope
    long long readings = 0;        // replayed
    bool truncated = false;        // more readings than maxReadings: the window was cut short
    long long fired = 0, cleared = 0;
    std::vector<PreviewFiring> firings;  // the first maxFirings, oldest first
};

// "This rule would have fired N times in the last 24 hours": the rule, as it would be saved, replayed over
// the stored readings of the devices in its scope by a fresh instance of its own plugin, so that a
// third-party rule type previews like ours. Readings are fed in time order as ingest feeds them, and time
// advances in ticks of tickMs between them (hold-for and heartbeat rules); every device in scope is taken
// as seen at the window's start. What the alert service adds on top (flapping, silences) is not replayed:
// the count is the plugin's openings. Nothing is written.
class RulePreview {
  public:
    struct Limits {
        int maxReadings = 200000;
        size_t maxFirings = 500;
        int64_t tickMs = 10000;
    };

    RulePreview(storage::PgPool& pool, const plugins::PluginManager* plugins, Limits limits);
    RulePreview(storage::PgPool& pool, const plugins::PluginManager* plugins)
        : RulePreview(pool, plugins, Limits{}) {}

    // Throws InvalidRule as RuleService::save would (and for a scope's site or device that is not the
    // tenant's).
    RulePreviewResult run(const std::string& tenantId, const std::string& tenantSlug,
                          const storage::RuleFields& rule, int64_t fromMs, int64_t toMs);

  private:
    storage::PgPool& pool_;
    const plugins::PluginManager* plugins_;
    Limits limits_;
};

}  // namespace pulse::services
