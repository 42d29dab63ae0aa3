// libFuzzer target: the device payload decoder, the first code every untrusted device message reaches.
#include "pipeline/TelemetryDecoder.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto d = pulse::pipeline::decodeTelemetry(std::string_view(reinterpret_cast<const char*>(data), size),
                                              1'795'500'000'000'000);
    if (d.ok && d.readings.empty() && d.ignored.empty()) __builtin_trap();  // "no readings" must be an error
    return 0;
}
