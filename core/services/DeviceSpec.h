#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::services {

// What a new device is given: its name (part of its MQTT topic and username), tags and site.
struct DeviceSpec {
    std::string name;
    std::vector<std::string> tags;
    std::optional<std::string> siteId;
};

// Why a spec is not acceptable, or empty; `field` is set to the member at fault ("name", "tags" or
// "site_id"). Tags may not hold what would need escaping in a PostgreSQL array literal or a CSV cell.
std::string deviceSpecProblem(const DeviceSpec& spec, std::string& field);

// A PostgreSQL text[] literal of device names or tags that deviceSpecProblem accepted (they hold nothing
// that would need escaping).
std::string textArrayLiteral(const std::vector<std::string>& items);

}  // namespace pulse::services
