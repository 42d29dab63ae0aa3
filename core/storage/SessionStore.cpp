#include "storage/SessionStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"

namespace pulse::storage {
namespace {

// The one read of a password hash; a disabled user is found too (verified like any other, then refused).
const char* kSelectSignIn =
    "SELECT id::text AS user_id, coalesce(tenant_id::text, '') AS tenant_id, email, role, password_hash, "
    "disabled::int AS disabled FROM pulse.user_for_login($1)";

// No row when the user was disabled or the hash changed in between: the password checked is still theirs.
const char* kOpen =
    "SELECT id FROM pulse.open_session($1::uuid, $2, decode($3, 'hex'), $4, $5, $6, $7::integer) AS id";

// Tokens are looked up by digest: the cookie's value is never stored.
const char* kSelectPrincipal =
    "SELECT user_id::text AS user_id, coalesce(tenant_id::text, '') AS tenant_id, email, role, csrf_token "
    "FROM pulse.session_principal(decode($1, 'hex'))";

// Whether a live session was revoked, as 0 or 1.
const char* kRevoke = "SELECT pulse.revoke_session(decode($1, 'hex'))::int AS revoked";

SignInRow signInOf(const ResultRow& r) {
    return {r.text("user_id"), r.text("tenant_id"),     r.text("email"),
            r.text("role"),    r.text("password_hash"), r.integer("disabled") != 0};
}

SessionPrincipalRow principalOf(const ResultRow& r) {
    return {r.text("user_id"), r.text("tenant_id"), r.text("email"), r.text("role"), r.text("csrf_token")};
}

}  // namespace

std::optional<SignInRow> SessionStore::userForLogin(const std::string& email) {
    return firstOf(queryWithoutTenant(db_, kSelectSignIn, email), signInOf);
}

bool SessionStore::open(const SessionOpening& s) {
    return !queryWithoutTenant(db_, kOpen, s.userId, s.verifiedHash, s.tokenSha256, s.csrfToken, s.address,
                               s.userAgent, s.ttlS)
                .rows.empty();
}

std::optional<SessionPrincipalRow> SessionStore::principal(const std::string& tokenSha256) {
    return firstOf(queryWithoutTenant(db_, kSelectPrincipal, tokenSha256), principalOf);
}

bool SessionStore::revoke(const std::string& tokenSha256) {
    auto rows = queryWithoutTenant(db_, kRevoke, tokenSha256);
    return !rows.rows.empty() && ResultRow(rows, 0).integer("revoked") != 0;
}

}  // namespace pulse::storage
