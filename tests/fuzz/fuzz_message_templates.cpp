// libFuzzer target: a channel's message templates, which tenant-admins write: checked as when saved and,
// when accepted, rendered on the sample notice and added to it. Input: the title, a line break, the text.
#include "services/MessageTemplates.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    size_t split = input.find('\n');
    pulse::services::MessageTemplates t{input.substr(0, split),
                                        split == std::string::npos ? "" : input.substr(split + 1)};
    if (pulse::services::templateProblem(t)) return 0;
    pulse::services::render(pulse::services::kSampleNotice, t);
    pulse::services::withMessage(pulse::services::kSampleNotice, t);
    return 0;
}
