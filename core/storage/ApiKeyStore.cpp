#include "storage/ApiKeyStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"

namespace pulse::storage {
namespace {

// Keys are looked up by digest: the token itself is shown once and never stored.
const char* kSelectPrincipal =
    "SELECT key_id::text AS key_id, tenant_id::text AS tenant_id, role, token_prefix FROM "
    "pulse.api_key_principal(decode($1, 'hex'))";

// Empty creator and ttl parameters stand for NULL: no creator, no expiry.
const char* kInsert =
    "INSERT INTO pulse.api_keys (tenant_id, name, role, token_sha256, token_prefix, created_by, expires_at) "
    "VALUES ($1::uuid, $2, $3, decode($4, 'hex'), $5, nullif($6, '')::uuid, "
    "now() + make_interval(days => nullif($7, '')::integer)) "
    "RETURNING id::text AS id, created_at::text AS created_at, coalesce(expires_at::text, '') AS expires_at";

// Revoked and expired keys stay listed (with their times), oldest first.
const char* kSelectAll =
    "SELECT id::text AS id, name, role, token_prefix, created_at::text AS created_at, "
    "coalesce(last_used_at::text, '') AS last_used_at, coalesce(expires_at::text, '') AS expires_at, "
    "coalesce(revoked_at::text, '') AS revoked_at FROM pulse.api_keys ORDER BY created_at, id";

// Once only: a revoked key keeps the time it was revoked.
const char* kRevoke =
    "UPDATE pulse.api_keys SET revoked_at = now() WHERE id::text = $1 AND revoked_at IS NULL RETURNING "
    "id::text AS id";

ApiKeyPrincipalRow principalOf(const ResultRow& r) {
    return {r.text("key_id"), r.text("tenant_id"), r.text("role"), r.text("token_prefix")};
}

ApiKeyRow keyOf(const ResultRow& r) {
    return {r.text("id"),         r.text("name"),         r.text("role"),       r.text("token_prefix"),
            r.text("created_at"), r.text("last_used_at"), r.text("expires_at"), r.text("revoked_at")};
}

}  // namespace

std::optional<ApiKeyPrincipalRow> ApiKeyStore::principal(const std::string& tokenSha256) {
    return firstOf(queryWithoutTenant(db_, kSelectPrincipal, tokenSha256), principalOf);
}

IssuedApiKey ApiKeyStore::create(const std::string& tenantId, const ApiKeyIssue& key) {
    std::string ttl = key.ttlDays ? std::to_string(*key.ttlDays) : "";
    auto rows = queryAsTenant(db_, tenantId, kInsert, tenantId, key.name, key.role, key.tokenSha256,
                              key.tokenPrefix, key.createdBy, ttl);
    ResultRow r(rows, 0);
    return {r.text("id"), r.text("created_at"), r.text("expires_at")};
}

std::vector<ApiKeyRow> ApiKeyStore::list(const std::string& tenantId) {
    return rowsOf(queryAsTenant(db_, tenantId, kSelectAll), keyOf);
}

bool ApiKeyStore::revoke(const std::string& tenantId, const std::string& keyId) {
    return !queryAsTenant(db_, tenantId, kRevoke, keyId).rows.empty();
}

}  // namespace pulse::storage
