#include "services/DeviceRegistry.h"

namespace pulse::services {
namespace {

constexpr size_t kMaxCacheEntries = 200000;

DeviceIdentity identityOf(storage::DeviceIdentityRow row) {
    storage::Uuid tenant = storage::parseUuid(row.tenantId);
    return {std::move(row), tenant};
}

}  // namespace

DeviceRegistry::DeviceRegistry(storage::Database& db, std::chrono::milliseconds ttl) : db_(db), ttl_(ttl) {}

std::optional<DeviceIdentity> DeviceRegistry::cached(const std::string& key, bool& hit, bool allowStale) {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    hit = it != cache_.end() && (allowStale || it->second.expires > std::chrono::steady_clock::now());
    return hit ? it->second.identity : std::nullopt;
}

template <class Lookup>
std::optional<DeviceIdentity> DeviceRegistry::resolve(const std::string& key, Lookup&& lookup) {
    bool hit = false;
    auto identity = cached(key, hit, false);
    if (hit) return identity;
    try {
        identity = lookup();
    } catch (const std::exception&) {
        // The database is away: a device known a moment ago keeps sending (its readings queue until the
        // database returns); one never seen gets the error.
        auto stale = cached(key, hit, true);
        if (hit) return stale;
        throw;
    }
    remember(key, identity);
    return identity;
}

void DeviceRegistry::remember(const std::string& key, const std::optional<DeviceIdentity>& identity) {
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[key] = Entry{identity, std::chrono::steady_clock::now() + ttl_};
}

void DeviceRegistry::invalidate() {
    std::lock_guard lock(mutex_);
    cache_.clear();
}

std::optional<DeviceIdentity> DeviceRegistry::byToken(std::string_view token) {
    if (token.empty() || token.size() > 256) return std::nullopt;
    std::string digest = tokenDigest(token);
    return resolve("t:" + digest, [&]() -> std::optional<DeviceIdentity> {
        auto row = storage::DeviceIdentityStore(db_).byToken(digest);
        if (!row) return std::nullopt;
        return identityOf(std::move(*row));
    });
}

std::optional<DeviceIdentity> DeviceRegistry::byName(std::string_view tenantSlug,
                                                     std::string_view deviceName) {
    std::string slug(tenantSlug), name(deviceName);
    return resolve("n:" + slug + "/" + name, [&]() -> std::optional<DeviceIdentity> {
        auto row = storage::DeviceIdentityStore(db_).byName(slug, name);
        if (!row) return std::nullopt;
        return identityOf(std::move(*row));
    });
}

}  // namespace pulse::services
