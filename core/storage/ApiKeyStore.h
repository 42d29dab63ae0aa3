#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class Database;

// An API key as its list shows it; the times are empty when not set.
struct ApiKeyRow {
    std::string id, name, role, prefix, createdAt, lastUsedAt, expiresAt, revokedAt;
};

// What a new key is stored with: the token only as its SHA-256 digest (hex) and its first characters.
struct ApiKeyIssue {
    std::string name, role, tokenSha256, tokenPrefix;
    std::string createdBy;       // the user's id; empty when none
    std::optional<int> ttlDays;  // nullopt: never expires
};

// What the database gave the new key.
struct IssuedApiKey {
    std::string id, createdAt;
    std::string expiresAt;  // empty: never
};

// The tenant and role a live key acts with.
struct ApiKeyPrincipalRow {
    std::string keyId, tenantId, role, tokenPrefix;
};

// API keys (pulse.api_keys, sql/005) on the Database pool: looked up by token before any tenant is known
// (a SECURITY DEFINER function), managed in transactions scoped to the key's tenant.
class ApiKeyStore {
  public:
    explicit ApiKeyStore(Database& db) : db_(db) {}

    // nullopt unless the key is live (neither expired nor revoked).
    std::optional<ApiKeyPrincipalRow> principal(const std::string& tokenSha256);
    IssuedApiKey create(const std::string& tenantId, const ApiKeyIssue& key);
    std::vector<ApiKeyRow> list(const std::string& tenantId);  // oldest first
    // False when the tenant has no such key or it was revoked already.
    bool revoke(const std::string& tenantId, const std::string& keyId);

  private:
    Database& db_;
};

}  // namespace pulse::storage
