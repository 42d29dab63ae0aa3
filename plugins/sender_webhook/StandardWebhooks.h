#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pulse::webhooks {

// Standard Webhooks v1 (standard-webhooks.com): the signature of one message.
// secret is "whsec_" + base64 of the key bytes; the signed content is "{id}.{timestamp}.{body}".
// Returns "v1,<base64 HMAC-SHA256>"; throws std::invalid_argument for a malformed secret.
std::string sign(std::string_view secret, std::string_view id, int64_t timestamp, std::string_view body);

// Checks a webhook-signature header (space-separated "v1,<sig>" entries) in constant time.
bool verify(std::string_view secret, std::string_view id, int64_t timestamp, std::string_view body,
            std::string_view signatureHeader);

}  // namespace pulse::webhooks
