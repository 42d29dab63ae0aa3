#include "pipeline/MetricNameLimit.h"

namespace pulse::pipeline {

MetricNameLimit::Admission MetricNameLimit::admit(const std::string& tenantId,
                                                  const std::vector<std::string>& names) {
    if (max_ == 0) return {};
    std::unique_lock lock(mutex_);
    if (!tenants_[tenantId].loaded) {
        lock.unlock();  // the catalog query must not hold every other tenant's ingest
        std::vector<std::string> existing;
        try {
            existing = load_(tenantId);
        } catch (const std::exception&) {
            return {};  // the database is away: ingest rides it out (R4); the cap applies once it is back
        }
        lock.lock();
        Tenant& t = tenants_[tenantId];
        if (!t.loaded) {
            t.names.insert(existing.begin(), existing.end());
            t.loaded = true;
        }
    }
    Tenant& tenant = tenants_[tenantId];
    std::unordered_set<std::string> distinct;
    for (const auto& n : names)
        if (!tenant.names.count(n)) distinct.insert(n);
    Admission a;
    if (distinct.empty()) return a;
    if (tenant.names.size() + distinct.size() > max_) {
        a.refused.assign(distinct.begin(), distinct.end());
        if (a.refused.size() > 5) a.refused.resize(5);
        return a;
    }
    a.fresh.assign(distinct.begin(), distinct.end());
    return a;
}

void MetricNameLimit::confirm(const std::string& tenantId, const std::vector<std::string>& fresh) {
    if (fresh.empty()) return;
    std::lock_guard lock(mutex_);
    auto& t = tenants_[tenantId];
    t.names.insert(fresh.begin(), fresh.end());
}

}  // namespace pulse::pipeline
