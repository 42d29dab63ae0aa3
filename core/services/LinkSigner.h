#pragma once

#include <array>
#include <optional>
#include <string>

namespace pulse::services {

class SecretBox;

// Tokens for URLs that work without signing in (a calendar feed that calendar apps poll): the payload says
// what the URL opens, and an HMAC-SHA-256 under a key derived from the secrets key proves Pulse made it.
// Revoking is the payload's business (a version the database keeps), so the key never has to change.
class LinkSigner {
  public:
    LinkSigner() = default;  // no key: hasKey() is false and sign() throws
    explicit LinkSigner(const SecretBox& secrets);

    bool hasKey() const { return key_.has_value(); }
    // base64url(payload) "." base64url(mac), URL-safe and without padding.
    std::string sign(const std::string& payload) const;
    // The payload of a token this signer made; nullopt for anything else (malformed, another key, altered).
    std::optional<std::string> verify(const std::string& token) const;

  private:
    std::optional<std::array<unsigned char, 32>> key_;
};

}  // namespace pulse::services
