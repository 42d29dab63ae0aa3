#pragma once

#include <array>
#include <string>
#include <string_view>

namespace pulse::services {

// Alert severities, most severe first. Declared once here: rules, channel routes and the alert filters
// read this list.
inline constexpr std::array<std::string_view, 5> kSeverities = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"};

inline bool isSeverity(std::string_view s) {
    for (auto k : kSeverities)
        if (k == s) return true;
    return false;
}

// "CRITICAL, HIGH, MEDIUM, LOW or INFO", for messages.
inline std::string severityList() {
    std::string out;
    for (size_t i = 0; i < kSeverities.size(); ++i)
        out += std::string(i == 0                        ? ""
                           : i + 1 == kSeverities.size() ? " or "
                                                         : ", ") +
               std::string(kSeverities[i]);
    return out;
}

}  // namespace pulse::services
