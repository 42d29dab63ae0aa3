#pragma once

#include <array>
#include <string>
#include <string_view>

namespace pulse::services {

// The roles, in order of what they may do: customer < tenant-admin < operator < operator-admin. Declared
// once here; the API's checks, the OIDC role map and the CLI read this list.
inline constexpr std::array<std::string_view, 4> kRoles = {"customer", "tenant-admin", "operator",
                                                           "operator-admin"};

// The rank of a role (1 for customer .. 4 for operator-admin); 0 for anything else.
inline int roleRank(std::string_view role) {
    for (size_t i = 0; i < kRoles.size(); ++i)
        if (kRoles[i] == role) return static_cast<int>(i) + 1;
    return 0;
}

inline bool isRole(std::string_view role) {
    return roleRank(role) != 0;
}

// The roles a tenant gives its own users and keys (customer, tenant-admin); operators are the platform's.
inline bool isTenantRole(std::string_view role) {
    int rank = roleRank(role);
    return rank == 1 || rank == 2;
}

inline bool isOperatorRole(std::string_view role) {
    return roleRank(role) >= 3;
}

// "customer, tenant-admin, operator or operator-admin", for messages.
inline std::string roleList() {
    std::string out;
    for (size_t i = 0; i < kRoles.size(); ++i)
        out += std::string(i == 0 ? "" : i + 1 == kRoles.size() ? " or " : ", ") + std::string(kRoles[i]);
    return out;
}

}  // namespace pulse::services
