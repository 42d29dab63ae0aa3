#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace pulse::pipeline {

// How many distinct metric names a tenant may have in the catalog (every new name is a catalog row, an
// index entry and a series in every query). A message that would take its tenant past the cap is refused
// whole with the names it tried to add; names already known always pass. The names a tenant has are
// read from the catalog once per process and then followed as messages add them, so several instances
// together may exceed the cap by what each adds before it sees the others' names (documented).
class MetricNameLimit {
  public:
    using Loader = std::function<std::vector<std::string>(const std::string& tenantId)>;
    MetricNameLimit(size_t maxPerTenant, Loader load) : max_(maxPerTenant), load_(std::move(load)) {}

    struct Admission {
        std::vector<std::string> refused;  // new names that do not fit (at most a few, for the message)
        std::vector<std::string> fresh;    // new names that fit: confirm() them once the readings are queued
    };
    Admission admit(const std::string& tenantId, const std::vector<std::string>& names);
    // The names are the tenant's from now on (a message refused later, by backpressure, adds none).
    void confirm(const std::string& tenantId, const std::vector<std::string>& fresh);
    size_t max() const { return max_; }

  private:
    struct Tenant {
        bool loaded = false;
        std::unordered_set<std::string> names;
    };
    size_t max_;
    Loader load_;
    std::mutex mutex_;
    std::unordered_map<std::string, Tenant> tenants_;
};

}  // namespace pulse::pipeline
