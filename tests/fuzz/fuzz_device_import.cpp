// libFuzzer target: the device import file reader (services/DeviceImport.cpp over formats/Csv.cpp) on
// arbitrary bytes. It must never throw, and what it accepts must hold: every planned row passes the
// device rules, no name twice, problems name a line inside the file, and a file with problems plans
// nothing that would be imported by accident (the route imports only when there are none).
#include "services/DeviceImport.h"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto plan = pulse::services::planDeviceImport(text, 50);
    size_t lines = 1;
    for (char c : text) lines += c == '\n' || c == '\r';
    std::set<std::string> names;
    for (const auto& row : plan.rows) {
        std::string field;
        if (!pulse::services::deviceSpecProblem(row.device, field).empty()) __builtin_trap();
        if (!names.insert(row.device.name).second) __builtin_trap();
        if (row.line < 2 || row.line > lines) __builtin_trap();
    }
    if (plan.rows.size() > 50) __builtin_trap();
    for (const auto& p : plan.problems)
        if (p.line < 1 || p.line > lines || p.message.empty()) __builtin_trap();
    return 0;
}
