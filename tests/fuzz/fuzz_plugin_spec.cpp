// libFuzzer target: the plugins.d file parser (admin-written properties files).
#include "plugins/PluginConfig.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        pulse::plugins::parsePluginSpecText(std::string(reinterpret_cast<const char*>(data), size),
                                            "/nonexistent/fuzz.properties");
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
