#include "TopicParser.h"

namespace pulse::ingest_mqtt {

std::optional<DeviceTopic> parseTelemetryTopic(std::string_view topic) {
    constexpr std::string_view prefix = "devices/", suffix = "/telemetry";
    if (topic.size() <= prefix.size() + suffix.size() || topic.substr(0, prefix.size()) != prefix ||
        topic.substr(topic.size() - suffix.size()) != suffix)
        return std::nullopt;
    std::string_view middle = topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
    size_t slash = middle.find('/');
    if (slash == std::string_view::npos || middle.find('/', slash + 1) != std::string_view::npos)
        return std::nullopt;
    DeviceTopic t{middle.substr(0, slash), middle.substr(slash + 1)};
    if (t.tenant.empty() || t.device.empty()) return std::nullopt;
    for (char c : middle)
        if (c == '+' || c == '#' || c == '\0') return std::nullopt;
    return t;
}

}  // namespace pulse::ingest_mqtt
