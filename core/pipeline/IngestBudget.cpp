#include "pipeline/IngestBudget.h"

namespace pulse::pipeline {

// Up to a million devices' buckets; beyond, the oldest half is dropped (they refill to full anyway).
IngestBudget::IngestBudget(BudgetSettings s)
    : settings_(s),
      devices_(s.deviceReadingsPerS, s.deviceBurst, 1000000),
      tenants_(s.tenantReadingsPerS, s.tenantBurst) {}

IngestBudget::Verdict IngestBudget::check(int64_t deviceId, const std::string& tenant) {
    if (int wait = devices_.take(std::to_string(deviceId)))
        return {false, static_cast<uint32_t>(wait), "device"};
    if (int wait = tenants_.take(tenant)) return {false, static_cast<uint32_t>(wait), "tenant"};
    return {};
}

void IngestBudget::charge(int64_t deviceId, const std::string& tenant, size_t readings) {
    if (readings <= 1) return;
    devices_.charge(std::to_string(deviceId), static_cast<double>(readings - 1));
    tenants_.charge(tenant, static_cast<double>(readings - 1));
}

}  // namespace pulse::pipeline
