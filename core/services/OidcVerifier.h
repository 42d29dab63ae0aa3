#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "config/Settings.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace pulse::services {

// What an identity provider's access tokens must carry for Pulse (config keys oidc.*).
// The configured issuer (config::OidcSettings) and two limits that are not settings.
struct OidcSettings : config::OidcSettings {
    explicit OidcSettings(const config::OidcSettings& configured) : config::OidcSettings(configured) {}
    int jwksMaxAgeS = 3600;  // keys older than this are refetched when next needed
    size_t maxTokenBytes = 8192;
};

// Who a verified token names.
struct OidcIdentity {
    std::string issuer, subject;
    std::string label;       // e-mail, preferred_username or sub: for the audit log
    std::string role;        // customer, tenant-admin, operator or operator-admin
    std::string tenantSlug;  // empty for operators
};

// Verifies JWT access tokens (RFC 7519, JWS compact form) against the provider's JWKS: the header's alg
// must be on the allow-list and match the key's type (no "none", no HMAC, so a public key can never be
// used as an HMAC secret); the key is found by kid among the published keys only (jku, x5u and jwk headers
// are ignored); exp is required, nbf honoured, iss and aud must match; the role comes from a configured
// claim. Keys are cached; an unknown kid refetches them at most once per jwksRefreshS, so a stream of
// hostile kids costs one fetch, not one each.
// THREADING: verify() may be called from any thread.
class OidcVerifier {
  public:
    using Fetch = std::function<std::string()>;  // the JWKS document; throws when it cannot be had
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    OidcVerifier(OidcSettings settings, Fetch fetch, Clock clock = std::chrono::system_clock::now);
    ~OidcVerifier();

    // The identity the token proves, or nullopt with the reason in `why` (for the log and the audit row;
    // clients are told only that the credentials are not valid).
    std::optional<OidcIdentity> verify(std::string_view token, std::string& why);

    // A compact JWS (three dot-separated base64url parts): what verify() is for, as opposed to Pulse's own
    // prefixed tokens.
    static bool looksLikeJwt(std::string_view token);

    struct Key {
        std::string kid, kty, alg;  // alg: the key's own restriction, empty when the JWK names none
        std::shared_ptr<evp_pkey_st> publicKey;
    };

  private:
    std::shared_ptr<const std::map<std::string, Key>> keys(bool unknownKid, std::string& why);

    OidcSettings settings_;
    Fetch fetch_;
    Clock clock_;
    std::mutex mutex_;
    std::condition_variable fetchDone_;
    bool fetching_ = false;
    std::shared_ptr<const std::map<std::string, Key>> keys_;
    std::chrono::steady_clock::time_point fetchedAt_{};
    bool fetched_ = false;
};

// The usable keys of a JWKS document, by kid ("" for a key without one): RSA keys of 2048 bits or more
// and EC P-256 keys, for signatures. Others are skipped. Throws std::invalid_argument when the document is
// not a JWKS at all.
std::map<std::string, OidcVerifier::Key> parseJwks(const std::string& document);

}  // namespace pulse::services
