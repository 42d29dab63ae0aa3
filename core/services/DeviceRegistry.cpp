#include "services/DeviceRegistry.h"

#include "storage/Database.h"

#include <Poco/Data/Session.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

using namespace Poco::Data::Keywords;

namespace pulse::services {
namespace {

constexpr size_t kMaxCacheEntries = 200000;

// Both run before any tenant is known, through SECURITY DEFINER functions (sql/004): the application role
// cannot read devices across tenants itself.
const char* kSelect =
    "SELECT tenant_id, tenant_slug, device_id, device_name, decommissioned, site_id, tags FROM ";

std::vector<std::string> splitTags(const std::string& joined) {
    std::vector<std::string> out;
    size_t start = 0;
    while (!joined.empty() && start <= joined.size()) {
        size_t end = joined.find('\x1f', start);
        if (end == std::string::npos) end = joined.size();
        out.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    return out;
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
        DeviceIdentity id;
        std::string tags;
        size_t found = 0;
        db_.withSession([&](Poco::Data::Session& s) {
            Poco::Data::Statement st(s);
            st << std::string(kSelect) + "pulse.device_by_token(decode($1, 'hex'))", use(digest),
                into(id.tenantId), into(id.tenantSlug), into(id.deviceId), into(id.deviceName),
                into(id.decommissioned), into(id.siteId), into(tags), range(0, 1);
            found = st.execute();
        });
        if (!found) return std::nullopt;
        id.tenantUuid = storage::parseUuid(id.tenantId);
        id.tags = splitTags(tags);
        return id;
    });
}

std::optional<DeviceIdentity> DeviceRegistry::byName(std::string_view tenantSlug,
                                                     std::string_view deviceName) {
    std::string slug(tenantSlug), name(deviceName);
    return resolve("n:" + slug + "/" + name, [&]() -> std::optional<DeviceIdentity> {
        DeviceIdentity id;
        std::string tags;
        size_t found = 0;
        db_.withSession([&](Poco::Data::Session& s) {
            Poco::Data::Statement st(s);
            st << std::string(kSelect) + "pulse.device_by_name($1, $2)", use(slug), use(name),
                into(id.tenantId), into(id.tenantSlug), into(id.deviceId), into(id.deviceName),
                into(id.decommissioned), into(id.siteId), into(tags), range(0, 1);
            found = st.execute();
        });
        if (!found) return std::nullopt;
        id.tenantUuid = storage::parseUuid(id.tenantId);
        id.tags = splitTags(tags);
        return id;
    });
}

}  // namespace pulse::services
