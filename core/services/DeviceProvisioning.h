#pragma once

#include "services/DeviceSpec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {
class Database;
class PgPool;
}  // namespace pulse::storage

namespace pulse::services {

struct ImportPlan;

struct ProvisionedDevice {
    std::string tenantSlug;
    std::string name;
    int64_t deviceId = 0;
    std::string token;         // shown once; only its SHA-256 and Mosquitto hash are stored
    std::string mqttUsername;  // "<tenant>/<device>"; the MQTT password is the token
};

// Creates devices with fresh tokens, all in one transaction of the tenant: the one way devices are made
// (the API, its CSV import, the command line and the demo seed). Throws std::invalid_argument for a bad
// spec, Conflict for a name in use or given twice, NotFound for a site that is not the tenant's,
// LimitExceeded when the subscription's device limit would be passed (ServiceErrors.h): one failure and
// none is created.
std::vector<ProvisionedDevice> provisionDevices(storage::PgPool& pool, const std::string& tenantId,
                                                const std::string& tenantSlug,
                                                const std::vector<DeviceSpec>& specs);

// Checks an import plan without problems (DeviceImport.h) against the tenant (names in use; sites, named by
// name or id, resolved to ids) and adds what it finds to plan.problems. When there is none, creates every
// device through provisionDevices and returns them; throws LimitExceeded when the device limit would be
// passed. Imports nothing otherwise.
std::vector<ProvisionedDevice> importDevices(storage::PgPool& pool, const std::string& tenantId,
                                             const std::string& tenantSlug, ImportPlan& plan);

// A new token for the device; its other live credentials are revoked. nullopt when the device is not the
// tenant's or is decommissioned.
std::optional<ProvisionedDevice> rotateDeviceToken(storage::PgPool& pool, const std::string& tenantId,
                                                   const std::string& tenantSlug, int64_t deviceId);

// One device in a tenant named by slug (command line and demo seed), through provisionDevices. Throws
// NotFound when there is no such tenant, and what provisionDevices throws.
ProvisionedDevice createDevice(storage::Database& db, const std::string& tenantSlug, const std::string& name,
                               const std::vector<std::string>& tags = {});

// A new random device token: "pt_" and 43 characters of base64url (256 bits).
std::string newDeviceToken();

// The token in Mosquitto's password-file format ($7$: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt),
// so the broker can check a device's MQTT login without Pulse storing the token.
std::string mosquittoHash(const std::string& secret);

}  // namespace pulse::services
