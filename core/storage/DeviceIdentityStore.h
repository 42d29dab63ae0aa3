#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class Database;

// The device behind what a device presents, with its tenant.
struct DeviceIdentityRow {
    std::string tenantId, tenantSlug;
    int64_t deviceId = 0;
    std::string deviceName;
    bool decommissioned = false;
    std::string siteId;  // empty when the device has no site
    std::vector<std::string> tags;
};

// Identifies devices before any tenant is known (ingest over HTTP and MQTT), on the Database pool through
// SECURITY DEFINER functions (sql/004): the application role cannot read devices across tenants itself.
// Managing a tenant's devices is DeviceStore's.
class DeviceIdentityStore {
  public:
    explicit DeviceIdentityStore(Database& db) : db_(db) {}

    // By the SHA-256 digest (hex) of a live token; nullopt when no live credential has it.
    std::optional<DeviceIdentityRow> byToken(const std::string& tokenSha256);
    // By the MQTT user name's parts, "<tenant slug>/<device name>".
    std::optional<DeviceIdentityRow> byName(const std::string& tenantSlug, const std::string& deviceName);

  private:
    Database& db_;
};

}  // namespace pulse::storage
