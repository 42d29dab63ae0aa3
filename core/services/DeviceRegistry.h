#pragma once

#include "services/Tokens.h"
#include "storage/DeviceIdentityStore.h"
#include "storage/TelemetryStore.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pulse::storage {
class Database;
}

namespace pulse::services {

// The device and tenant the store found, with the tenant's id parsed once for the telemetry writer.
struct DeviceIdentity : storage::DeviceIdentityRow {
    storage::Uuid tenantUuid{};
};

// Maps what a device presents (a token, or the MQTT username "<tenant>/<device>" the broker checked) to
// its tenant and device. Answers, positive and negative, are cached for ttl, so that revocation and
// decommissioning take effect within ttl while a flood of unknown tokens does not reach the database.
// While the database is unreachable, expired answers are still used: known devices keep reporting.
class DeviceRegistry {
  public:
    DeviceRegistry(storage::Database& db, std::chrono::milliseconds ttl = std::chrono::seconds(5));

    std::optional<DeviceIdentity> byToken(std::string_view token);
    std::optional<DeviceIdentity> byName(std::string_view tenantSlug, std::string_view deviceName);
    void invalidate();

  private:
    std::optional<DeviceIdentity> cached(const std::string& key, bool& hit, bool allowStale);
    template <class Lookup>
    std::optional<DeviceIdentity> resolve(const std::string& key, Lookup&& lookup);
    void remember(const std::string& key, const std::optional<DeviceIdentity>& identity);

    storage::Database& db_;
    std::chrono::milliseconds ttl_;
    std::mutex mutex_;
    struct Entry {
        std::optional<DeviceIdentity> identity;
        std::chrono::steady_clock::time_point expires;
    };
    std::unordered_map<std::string, Entry> cache_;
};

}  // namespace pulse::services
