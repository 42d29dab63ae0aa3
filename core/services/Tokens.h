#pragma once

#include <string>
#include <string_view>

namespace pulse::services {

// A bearer secret: the prefix (which says what it is: pt_ device, ps_ session, pk_ API key) and 32 random
// bytes, base64url. Only its digest is stored.
std::string randomToken(std::string_view prefix);

// SHA-256 of a token, hex.
std::string tokenDigest(std::string_view token);

}  // namespace pulse::services
