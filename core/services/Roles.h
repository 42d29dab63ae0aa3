#pragma once

#include <string>

namespace pulse::services {

// The roles in order of what they may do: customer < tenant-admin < operator < operator-admin; 0 for
// anything else.
inline int roleRank(const std::string& role) {
    if (role == "customer") return 1;
    if (role == "tenant-admin") return 2;
    if (role == "operator") return 3;
    if (role == "operator-admin") return 4;
    return 0;
}

}  // namespace pulse::services
