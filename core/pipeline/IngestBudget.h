#pragma once

#include "config/Settings.h"
#include "services/RateLimits.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pulse::pipeline {

using BudgetSettings = config::BudgetSettings;

// Readings each device and each tenant may send, whatever the channel (HTTP, MQTT, a third party's): two
// token buckets per message (services::RateLimiter). A message is let in while both have a token and
// then pays for all its readings, so a device sends large batches at its sustained rate, and a flooding
// device or tenant is refused before its messages are decoded: it cannot fill the shared telemetry
// queue that every other tenant's readings wait in.
class IngestBudget {
  public:
    explicit IngestBudget(BudgetSettings settings);

    struct Verdict {
        bool allowed = true;
        uint32_t retryAfterS = 0;
        const char* over = "";  // "device" or "tenant"
    };
    Verdict check(int64_t deviceId, const std::string& tenant);
    // The rest of what a message let in by check() costs (one reading was paid there).
    void charge(int64_t deviceId, const std::string& tenant, size_t readings);
    const BudgetSettings& settings() const { return settings_; }

  private:
    BudgetSettings settings_;
    services::RateLimiter devices_, tenants_;
};

}  // namespace pulse::pipeline
