#include "services/IdentityService.h"

#include "services/PasswordHasher.h"
#include "services/Tokens.h"
#include "storage/ApiKeyStore.h"
#include "storage/SessionStore.h"

#include <stdexcept>

namespace pulse::services {
namespace {

constexpr size_t kMaxTokenLength = 256;

}  // namespace

IdentityService::IdentityService(storage::Database& db, IdentitySettings settings)
    : db_(db), settings_(settings), dummyHash_(hashPassword(randomToken("dummy_"))) {}

std::optional<NewSession> IdentityService::login(const std::string& email, const std::string& password,
                                                 const std::string& address, const std::string& userAgent) {
    if (email.empty() || email.size() > 320 || password.size() > 1024) return std::nullopt;
    storage::SessionStore sessions(db_);
    auto user = sessions.userForLogin(email);
    // Each verification holds 64 MiB for a while: a few at a time, the rest wait (or are told to retry).
    if (!verifySlots_.try_acquire_for(std::chrono::seconds(5))) throw IdentityBusy();
    bool ok = false;
    try {
        ok = verifyPassword(user ? user->passwordHash : dummyHash_, password);
    } catch (...) {
        verifySlots_.release();
        throw;
    }
    verifySlots_.release();
    if (!user || !ok || user->disabled) return std::nullopt;

    NewSession out;
    out.token = randomToken("ps_");
    std::string csrf = tokenDigest(randomToken("csrf_"));
    if (!sessions.open({user->userId, user->passwordHash, tokenDigest(out.token), csrf, address, userAgent,
                        settings_.sessionTtlS}))
        return std::nullopt;  // disabled in between
    out.principal.kind = Principal::Kind::Session;
    out.principal.id = user->userId;
    out.principal.tenantId = user->tenantId;
    out.principal.role = user->role;
    out.principal.label = "user:" + user->email;
    out.principal.csrfToken = csrf;
    return out;
}

std::optional<Principal> IdentityService::fromSession(const std::string& token) {
    if (token.size() < 4 || token.size() > kMaxTokenLength || token.compare(0, 3, "ps_") != 0)
        return std::nullopt;
    auto session = storage::SessionStore(db_).principal(tokenDigest(token));
    if (!session) return std::nullopt;
    return Principal{Principal::Kind::Session, session->userId,   session->tenantId, session->role,
                     "user:" + session->email, session->csrfToken};
}

std::optional<Principal> IdentityService::fromApiKey(const std::string& token) {
    if (token.size() < 4 || token.size() > kMaxTokenLength || token.compare(0, 3, "pk_") != 0)
        return std::nullopt;
    auto key = storage::ApiKeyStore(db_).principal(tokenDigest(token));
    if (!key) return std::nullopt;
    return Principal{Principal::Kind::ApiKey,       key->keyId, key->tenantId, key->role,
                     "api-key:" + key->tokenPrefix, ""};
}

bool IdentityService::logout(const std::string& sessionToken) {
    if (sessionToken.empty() || sessionToken.size() > kMaxTokenLength) return false;
    return storage::SessionStore(db_).revoke(tokenDigest(sessionToken));
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
    std::string prefix = out.token.substr(0, 10);
    auto issued = storage::ApiKeyStore(db_).create(
        tenantId, {name, role, tokenDigest(out.token), prefix, creator.id, ttlDays});
    out.info = {issued.id, name, role, prefix, issued.createdAt, "", issued.expiresAt, ""};
    return out;
}

std::vector<ApiKeyInfo> IdentityService::listApiKeys(const std::string& tenantId) {
    return storage::ApiKeyStore(db_).list(tenantId);
}

bool IdentityService::revokeApiKey(const std::string& tenantId, const std::string& keyId) {
    return storage::ApiKeyStore(db_).revoke(tenantId, keyId);
}

}  // namespace pulse::services
