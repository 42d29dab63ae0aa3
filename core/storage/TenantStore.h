#pragma once

#include "storage/Page.h"

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

struct TenantRow {
    std::string id, slug, name;
    std::optional<long long> deviceLimit;  // nullopt: no limit
    std::string createdAt;                 // RFC 3339 UTC
};

// The thresholds of a tenant's devices that have none of their own.
struct TenantThresholds {
    int staleAfterS = 300, offlineAfterS = 900;
};

// Tenants. pulse.tenants carries no tenant_id (no row-level security): it is read outside any tenant's
// scope, and written only through the SECURITY DEFINER functions of sql/006. What a tenant uses is counted
// inside its scope.
class TenantStore {
  public:
    explicit TenantStore(PgPool& pool) : pool_(pool) {}

    // Every tenant's id, in id order.
    std::vector<std::string> ids();
    bool exists(const std::string& id);
    std::optional<std::string> idBySlug(const std::string& slug);
    std::optional<std::string> slugOf(const std::string& id);
    std::optional<TenantRow> find(const std::string& id);
    // Tenants with ids after `after` (from the first when nullopt); only the tenant `only` when set.
    Page<TenantRow> page(const std::optional<std::string>& only, const std::optional<std::string>& after,
                         int limit);
    // The tenant's devices that are not decommissioned (what its device limit counts).
    long long devicesInUse(const std::string& id);
    std::optional<TenantThresholds> thresholds(const std::string& id);
    // Sets the tenant's default thresholds (stale below offline, checked by the caller) unless one of its
    // devices would then go OFFLINE before STALE by its own threshold: that device's name is returned and
    // nothing is changed; empty when changed.
    std::string setThresholds(const std::string& id, const TenantThresholds& thresholds);

    // The new tenant's id; throws services::Conflict when the slug is taken.
    std::string create(const std::string& slug, const std::string& name, std::optional<int> deviceLimit);
    // Changes the name (when set) and, when setDeviceLimit, the device limit (nullopt: none). False: no
    // such tenant.
    bool update(const std::string& id, const std::optional<std::string>& name, bool setDeviceLimit,
                std::optional<int> deviceLimit);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
