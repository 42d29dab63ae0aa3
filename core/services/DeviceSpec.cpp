#include "services/DeviceSpec.h"

#include "storage/Uuid.h"

#include <Poco/RegularExpression.h>

namespace pulse::services {

std::string deviceSpecProblem(const DeviceSpec& spec, std::string& field) {
    static const Poco::RegularExpression validName("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$");
    field = "name";
    if (!validName.match(spec.name))
        return "device name '" + spec.name.substr(0, 140) +
               "' must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or digit (it is part of MQTT "
               "topics)";
    field = "tags";
    if (spec.tags.size() > 64) return "a device has at most 64 tags";
    for (const auto& t : spec.tags)
        if (t.empty() || t.size() > 64 || t.find_first_of("\",{}\\;\r\n") != std::string::npos ||
            static_cast<unsigned char>(t.front()) <= ' ' || static_cast<unsigned char>(t.back()) <= ' ')
            return "tag '" + t.substr(0, 80) +
                   "' must be 1-64 characters, not starting or ending with a space, without quotes, commas, "
                   "semicolons, braces or backslashes";
    field = "site_id";
    if (spec.siteId && !storage::isUuid(*spec.siteId)) return "site_id must be a site id";
    field.clear();
    return "";
}

std::string textArrayLiteral(const std::vector<std::string>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
    return out + "}";
}

}  // namespace pulse::services
