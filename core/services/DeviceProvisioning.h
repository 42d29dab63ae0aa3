#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pulse::storage {
class Database;
}

namespace pulse::services {

struct ProvisionedDevice {
    std::string tenantSlug;
    std::string name;
    int64_t deviceId = 0;
    std::string token;         // shown once; only its SHA-256 and Mosquitto hash are stored
    std::string mqttUsername;  // "<tenant>/<device>"; the MQTT password is the token
};

// Creates a device in a tenant with a fresh token. Throws NotFound for an unknown tenant, Conflict for a
// name already in use, std::invalid_argument for a bad name or tag (ServiceErrors.h), with the reason.
ProvisionedDevice createDevice(storage::Database& db, const std::string& tenantSlug, const std::string& name,
                               const std::vector<std::string>& tags = {});

// A new random device token: "pt_" and 43 characters of base64url (256 bits).
std::string newDeviceToken();

// The token in Mosquitto's password-file format ($7$: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt),
// so the broker can check a device's MQTT login without Pulse storing the token.
std::string mosquittoHash(const std::string& secret);

}  // namespace pulse::services
