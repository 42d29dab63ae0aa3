#pragma once

#include "services/DeviceSpec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {
class Database;
class PgConnection;
}  // namespace pulse::storage

namespace pulse::services {

struct ProvisionedDevice {
    std::string tenantSlug;
    std::string name;
    int64_t deviceId = 0;
    std::string token;         // shown once; only its SHA-256 and Mosquitto hash are stored
    std::string mqttUsername;  // "<tenant>/<device>"; the MQTT password is the token
};

// Creates devices with fresh tokens in the transaction open on conn, which must be scoped to the tenant;
// the caller commits. Throws std::invalid_argument for a bad spec, Conflict for a name in use, NotFound for
// a site that is not the tenant's, LimitExceeded when the subscription's device limit would be passed
// (ServiceErrors.h): one failure and the caller's transaction holds none of them.
std::vector<ProvisionedDevice> insertDevices(storage::PgConnection& conn, const std::string& tenantId,
                                             const std::string& tenantSlug,
                                             const std::vector<DeviceSpec>& specs);

// A new token for the device in the scoped transaction on conn; its other live credentials are revoked.
// nullopt when the device is not the tenant's or is decommissioned.
std::optional<ProvisionedDevice> rotateDeviceToken(storage::PgConnection& conn, const std::string& tenantId,
                                                   const std::string& tenantSlug, int64_t deviceId);

// Revokes every live credential of the device (it can no longer report until rotated); the number revoked,
// or nullopt when the device is not the tenant's.
std::optional<int> revokeDeviceCredentials(storage::PgConnection& conn, int64_t deviceId);

// Marks the device decommissioned and revokes its credentials. False when it is not the tenant's or was
// decommissioned already.
bool decommissionDevice(storage::PgConnection& conn, int64_t deviceId);

// One device in a tenant named by slug, in its own transaction (command line and demo seed).
ProvisionedDevice createDevice(storage::Database& db, const std::string& tenantSlug, const std::string& name,
                               const std::vector<std::string>& tags = {});

// A new random device token: "pt_" and 43 characters of base64url (256 bits).
std::string newDeviceToken();

// The token in Mosquitto's password-file format ($7$: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt),
// so the broker can check a device's MQTT login without Pulse storing the token.
std::string mosquittoHash(const std::string& secret);

}  // namespace pulse::services
