#include "storage/DeviceIdentityStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"

namespace pulse::storage {
namespace {

// What both lookups return, as DeviceIdentityRow reads it; the functions answer one row at most.
const std::string kSelectFrom =
    "SELECT tenant_id, tenant_slug, device_id, device_name, decommissioned, site_id, tags FROM ";

// Live credentials only: a revoked token identifies nothing.
const std::string kSelectByToken = kSelectFrom + "pulse.device_by_token(decode($1, 'hex'))";

// The broker checked the password already; decommissioned devices are found (and flagged).
const std::string kSelectByName = kSelectFrom + "pulse.device_by_name($1, $2)";

// The functions join the tags with the unit separator (0x1f).
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

DeviceIdentityRow identityOf(const ResultRow& r) {
    return {r.text("tenant_id"),
            r.text("tenant_slug"),
            r.integer("device_id"),
            r.text("device_name"),
            r.flag("decommissioned"),
            r.optionalText("site_id").value_or(""),
            splitTags(r.optionalText("tags").value_or(""))};
}

}  // namespace

std::optional<DeviceIdentityRow> DeviceIdentityStore::byToken(const std::string& tokenSha256) {
    return firstOf(queryWithoutTenant(db_, kSelectByToken, tokenSha256), identityOf);
}

std::optional<DeviceIdentityRow> DeviceIdentityStore::byName(const std::string& tenantSlug,
                                                             const std::string& deviceName) {
    return firstOf(queryWithoutTenant(db_, kSelectByName, tenantSlug, deviceName), identityOf);
}

}  // namespace pulse::storage
