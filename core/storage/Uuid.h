#pragma once

#include <cctype>
#include <string>

namespace pulse::storage {

// A UUID in its canonical text form (8-4-4-4-12 hex digits): what may be inlined into SQL as a tenant id,
// and what an id parameter must look like before it reaches a ::uuid cast.
inline bool isUuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
}

}  // namespace pulse::storage
