#include "pipeline/IngestBudget.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace pulse::pipeline {
namespace {

int64_t nowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

uint32_t secondsToPositive(double tokens, double rate) {
    return static_cast<uint32_t>(std::max(1.0, std::ceil((1.0 - tokens) / rate)));
}

}  // namespace

void IngestBudget::refill(Bucket& b, int64_t now, double rate, double burst) {
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.atUs) / 1e6 * rate);
    b.atUs = now;
}

IngestBudget::Verdict IngestBudget::check(int64_t deviceId, const std::string& tenant) {
    int64_t now = nowUs();
    if (settings_.deviceReadingsPerS > 0) {
        auto& shard = devices_[static_cast<uint64_t>(deviceId) % kShards];
        std::lock_guard lock(shard.mutex);
        auto [it, fresh] = shard.buckets.try_emplace(deviceId, Bucket{settings_.deviceBurst, now});
        refill(it->second, now, settings_.deviceReadingsPerS, settings_.deviceBurst);
        if (it->second.tokens <= 0)
            return {false, secondsToPositive(it->second.tokens, settings_.deviceReadingsPerS), "device"};
    }
    if (settings_.tenantReadingsPerS > 0) {
        std::lock_guard lock(tenantMutex_);
        auto [it, fresh] = tenants_.try_emplace(tenant, Bucket{settings_.tenantBurst, now});
        refill(it->second, now, settings_.tenantReadingsPerS, settings_.tenantBurst);
        if (it->second.tokens <= 0)
            return {false, secondsToPositive(it->second.tokens, settings_.tenantReadingsPerS), "tenant"};
    }
    return {};
}

void IngestBudget::charge(int64_t deviceId, const std::string& tenant, size_t readings) {
    auto cost = static_cast<double>(readings);
    if (settings_.deviceReadingsPerS > 0) {
        auto& shard = devices_[static_cast<uint64_t>(deviceId) % kShards];
        std::lock_guard lock(shard.mutex);
        auto it = shard.buckets.find(deviceId);
        if (it != shard.buckets.end()) it->second.tokens -= cost;
    }
    if (settings_.tenantReadingsPerS > 0) {
        std::lock_guard lock(tenantMutex_);
        auto it = tenants_.find(tenant);
        if (it != tenants_.end()) it->second.tokens -= cost;
    }
}

}  // namespace pulse::pipeline
