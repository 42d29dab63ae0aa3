#pragma once

#include "services/Roles.h"
#include "storage/ApiKeyStore.h"

#include <optional>
#include <semaphore>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::storage {
class Database;
}

namespace pulse::services {

// Who is asking: a signed-in user (browser session) or an API key, with the tenant and role every
// service takes its scope from (never from the request body).
struct Principal {
    enum class Kind { Session, ApiKey, Bearer };  // Bearer: an OIDC access token
    Kind kind = Kind::Session;
    std::string id;         // the user's id, the API key's, or (OIDC) one derived from issuer and subject
    std::string tenantId;   // empty for operators
    std::string role;       // customer, tenant-admin, operator, operator-admin
    std::string label;      // user:<email>, api-key:<prefix> or oidc:<email>, for the audit log
    std::string csrfToken;  // sessions only: unsafe requests must echo it in X-CSRF-Token

    bool isOperator() const { return isOperatorRole(role); }
};

struct IdentitySettings {
    int sessionTtlS;  // api.session_ttl_s
};

struct NewSession {
    std::string token;  // the cookie value; only its digest is stored
    Principal principal;
};

using ApiKeyInfo = storage::ApiKeyRow;

struct NewApiKey {
    ApiKeyInfo info;
    std::string token;  // shown once
};

// Thrown by login() when every password verification slot stayed busy: the caller answers 503.
class IdentityBusy : public std::runtime_error {
  public:
    IdentityBusy() : std::runtime_error("too many sign-ins at once; retry shortly") {}
};

// Users, sessions and API keys (sql/005). Lookups of tokens and logins go through SECURITY DEFINER
// functions (no tenant is known yet); key management runs under the principal's tenant.
class IdentityService {
  public:
    IdentityService(storage::Database& db, IdentitySettings settings);

    // A session for the e-mail and password, or nullopt when either is wrong or the user is disabled.
    // Costs one Argon2id verification whether or not the user exists (no user enumeration by timing).
    std::optional<NewSession> login(const std::string& email, const std::string& password,
                                    const std::string& address, const std::string& userAgent);
    std::optional<Principal> fromSession(const std::string& token);
    std::optional<Principal> fromApiKey(const std::string& token);
    bool logout(const std::string& sessionToken);

    // Keys of the principal's tenant. The role may not exceed the creator's; operators name the tenant.
    NewApiKey createApiKey(const Principal& creator, const std::string& tenantId, const std::string& name,
                           const std::string& role, std::optional<int> ttlDays);
    std::vector<ApiKeyInfo> listApiKeys(const std::string& tenantId);
    bool revokeApiKey(const std::string& tenantId, const std::string& keyId);

  private:
    storage::Database& db_;
    IdentitySettings settings_;
    std::string dummyHash_;                      // verified against when the e-mail is unknown
    std::counting_semaphore<4> verifySlots_{2};  // Argon2id verifications running at once (64 MiB each)
};

}  // namespace pulse::services
