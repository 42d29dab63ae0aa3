#pragma once

#include <optional>
#include <string_view>

namespace pulse::ingest_mqtt {

struct DeviceTopic {
    std::string_view tenant;
    std::string_view device;
};

// "devices/<tenant>/<device>/telemetry" -> tenant and device (views into topic); nullopt for anything
// else, including empty levels and wildcard characters.
std::optional<DeviceTopic> parseTelemetryTopic(std::string_view topic);

}  // namespace pulse::ingest_mqtt
