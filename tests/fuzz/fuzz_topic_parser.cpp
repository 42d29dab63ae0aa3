// libFuzzer target: the MQTT topic parser of ingest_mqtt (topics come from the broker, shaped by devices).
#include "TopicParser.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view topic(reinterpret_cast<const char*>(data), size);
    auto t = pulse::ingest_mqtt::parseTelemetryTopic(topic);
    if (t && (t->tenant.empty() || t->device.empty() || t->tenant.find('/') != std::string_view::npos ||
              t->device.find('/') != std::string_view::npos))
        __builtin_trap();
    return 0;
}
