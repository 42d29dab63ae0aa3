#include "services/IdentityService.h"

#include "services/PasswordHasher.h"
#include "services/Tokens.h"
#include "storage/Database.h"
#include "storage/TenantScope.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <stdexcept>

using namespace Poco::Data::Keywords;

namespace pulse::services {
namespace {

constexpr size_t kMaxTokenLength = 256;

std::optional<Principal> principalFromRows(std::vector<std::string>& id, std::vector<std::string>& tenant,
                                           std::vector<std::string>& role, const std::string& label,
                                           Principal::Kind kind, const std::string& csrf) {
    if (id.empty()) return std::nullopt;
    Principal p;
    p.kind = kind;
    p.id = id[0];
    p.tenantId = tenant[0];
    p.role = role[0];
    p.label = label;
    p.csrfToken = csrf;
    return p;
}

}  // namespace

IdentityService::IdentityService(storage::Database& db, IdentitySettings settings)
    : db_(db), settings_(settings), dummyHash_(hashPassword(randomToken("dummy_"))) {}

std::optional<NewSession> IdentityService::login(const std::string& email, const std::string& password,
                                                 const std::string& address, const std::string& userAgent) {
    if (email.empty() || email.size() > 320 || password.size() > 1024) return std::nullopt;
    std::vector<std::string> ids, tenants, emails, roles, hashes;
    std::vector<int> disabled;
    std::string mail = email;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT id::text, coalesce(tenant_id::text, ''), email, role, password_hash, disabled::int "
             "FROM pulse.user_for_login($1)",
            use(mail), into(ids), into(tenants), into(emails), into(roles), into(hashes), into(disabled), now;
    });
    bool found = !ids.empty();
    // Each verification holds 64 MiB for a while: a few at a time, the rest wait (or are told to retry).
    if (!verifySlots_.try_acquire_for(std::chrono::seconds(5))) throw IdentityBusy();
    bool ok = false;
    try {
        ok = verifyPassword(found ? hashes[0] : dummyHash_, password);
    } catch (...) {
        verifySlots_.release();
        throw;
    }
    verifySlots_.release();
    if (!found || !ok || disabled[0] != 0) return std::nullopt;

    NewSession out;
    out.token = randomToken("ps_");
    std::string digest = tokenDigest(out.token), csrf = tokenDigest(randomToken("csrf_"));
    std::string userId = ids[0], addr = address, agent = userAgent, verified = hashes[0];
    int ttl = settings_.sessionTtlS;
    std::vector<Poco::Int64> sessionIds;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT id FROM pulse.open_session($1::uuid, $2, decode($3, 'hex'), $4, $5, $6, $7::integer) AS "
             "id",
            use(userId), use(verified), use(digest), use(csrf), use(addr), use(agent), use(ttl),
            into(sessionIds), now;
    });
    if (sessionIds.empty()) return std::nullopt;  // disabled in between
    out.principal.kind = Principal::Kind::Session;
    out.principal.id = userId;
    out.principal.tenantId = tenants[0];
    out.principal.role = roles[0];
    out.principal.label = "user:" + emails[0];
    out.principal.csrfToken = csrf;
    return out;
}

std::optional<Principal> IdentityService::fromSession(const std::string& token) {
    if (token.size() < 4 || token.size() > kMaxTokenLength || token.compare(0, 3, "ps_") != 0)
        return std::nullopt;
    std::string digest = tokenDigest(token);
    std::vector<std::string> ids, tenants, emails, roles, csrf;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT user_id::text, coalesce(tenant_id::text, ''), email, role, csrf_token "
             "FROM pulse.session_principal(decode($1, 'hex'))",
            use(digest), into(ids), into(tenants), into(emails), into(roles), into(csrf), now;
    });
    if (ids.empty()) return std::nullopt;
    return principalFromRows(ids, tenants, roles, "user:" + emails[0], Principal::Kind::Session, csrf[0]);
}

std::optional<Principal> IdentityService::fromApiKey(const std::string& token) {
    if (token.size() < 4 || token.size() > kMaxTokenLength || token.compare(0, 3, "pk_") != 0)
        return std::nullopt;
    std::string digest = tokenDigest(token);
    std::vector<std::string> ids, tenants, roles, prefixes;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT key_id::text, tenant_id::text, role, token_prefix FROM "
             "pulse.api_key_principal(decode($1, "
             "'hex'))",
            use(digest), into(ids), into(tenants), into(roles), into(prefixes), now;
    });
    if (ids.empty()) return std::nullopt;
    return principalFromRows(ids, tenants, roles, "api-key:" + prefixes[0], Principal::Kind::ApiKey, "");
}

bool IdentityService::logout(const std::string& sessionToken) {
    if (sessionToken.empty() || sessionToken.size() > kMaxTokenLength) return false;
    std::string digest = tokenDigest(sessionToken);
    int revoked = 0;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT pulse.revoke_session(decode($1, 'hex'))::int", use(digest), into(revoked), now;
    });
    return revoked != 0;
}

NewApiKey IdentityService::createApiKey(const Principal& creator, const std::string& tenantId,
                                        const std::string& name, const std::string& role,
                                        std::optional<int> ttlDays) {
    // The request's shape (name, role, ttl_days) was checked by parseNewApiKey; what depends on who asks is
    // checked here.
    if (creator.kind != Principal::Kind::Session)
        throw std::invalid_argument("API keys are created by signed-in users, not by other keys");
    if (!creator.isOperator() && roleRank(role) > roleRank(creator.role))
        throw std::invalid_argument("a key cannot have a higher role than its creator");
    NewApiKey out;
    out.token = randomToken("pk_");
    std::string digest = tokenDigest(out.token), prefix = out.token.substr(0, 10), n = name, r = role;
    std::string creatorId = creator.id;
    std::string ttl = ttlDays ? std::to_string(*ttlDays) : "", tenant = tenantId;
    db_.withTenant(tenantId, [&](Poco::Data::Session& s) {
        Poco::Data::Statement st(s);
        st << "INSERT INTO pulse.api_keys (tenant_id, name, role, token_sha256, token_prefix, "
              "created_by, "
              "expires_at) VALUES ($1::uuid, $2, $3, decode($4, 'hex'), $5, nullif($6, '')::uuid, "
              "now() + make_interval(days => nullif($7, '')::integer)) "
              "RETURNING id::text, created_at::text, coalesce(expires_at::text, '')",
            use(tenant), use(n), use(r), use(digest), use(prefix), use(creatorId), use(ttl),
            into(out.info.id), into(out.info.createdAt), into(out.info.expiresAt);
        st.execute();
    });
    out.info.name = name;
    out.info.role = role;
    out.info.prefix = prefix;
    return out;
}

std::vector<ApiKeyInfo> IdentityService::listApiKeys(const std::string& tenantId) {
    std::vector<std::string> ids, names, roles, prefixes, created, used, expires, revoked;
    db_.withTenant(tenantId, [&](Poco::Data::Session& s) {
        s << "SELECT id::text, name, role, token_prefix, created_at::text, coalesce(last_used_at::text, "
             "''), "
             "coalesce(expires_at::text, ''), coalesce(revoked_at::text, '') FROM pulse.api_keys "
             "ORDER BY created_at, id",
            into(ids), into(names), into(roles), into(prefixes), into(created), into(used), into(expires),
            into(revoked), now;
    });
    std::vector<ApiKeyInfo> out;
    for (size_t i = 0; i < ids.size(); ++i)
        out.push_back({ids[i], names[i], roles[i], prefixes[i], created[i], used[i], expires[i], revoked[i]});
    return out;
}

bool IdentityService::revokeApiKey(const std::string& tenantId, const std::string& keyId) {
    std::vector<std::string> done;
    std::string id = keyId;
    db_.withTenant(tenantId, [&](Poco::Data::Session& s) {
        s << "UPDATE pulse.api_keys SET revoked_at = now() WHERE id::text = $1 AND revoked_at IS NULL "
             "RETURNING id::text",
            use(id), into(done), now;
    });
    return !done.empty();
}

}  // namespace pulse::services
