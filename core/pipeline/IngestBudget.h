#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pulse::pipeline {

struct BudgetSettings {
    double deviceReadingsPerS = 1000;  // 0: no device budget
    double deviceBurst = 10000;
    double tenantReadingsPerS = 50000;  // 0: no tenant budget
    double tenantBurst = 200000;
};

// Readings each device and each tenant may send, as token buckets in memory, whatever the channel (HTTP,
// MQTT, a third party's). A message is let in while both buckets are above zero and then pays for all
// its readings, so the bucket may go into debt: a device sends large batches at its sustained rate, and
// one flooding device or tenant is refused before its messages are decoded, so it cannot fill the
// shared telemetry queue that every other tenant's readings wait in.
class IngestBudget {
  public:
    explicit IngestBudget(BudgetSettings settings) : settings_(settings) {}

    struct Verdict {
        bool allowed = true;
        uint32_t retryAfterS = 0;
        const char* over = "";  // "device" or "tenant"
    };
    Verdict check(int64_t deviceId, const std::string& tenant);
    void charge(int64_t deviceId, const std::string& tenant, size_t readings);
    const BudgetSettings& settings() const { return settings_; }

  private:
    struct Bucket {
        double tokens;
        int64_t atUs;
    };
    static constexpr size_t kShards = 16;
    struct DeviceShard {
        std::mutex mutex;
        std::unordered_map<int64_t, Bucket> buckets;
    };
    static void refill(Bucket& b, int64_t nowUs, double rate, double burst);

    BudgetSettings settings_;
    DeviceShard devices_[kShards];
    std::mutex tenantMutex_;
    std::unordered_map<std::string, Bucket> tenants_;
};

}  // namespace pulse::pipeline
