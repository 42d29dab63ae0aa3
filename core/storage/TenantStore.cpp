#include "storage/TenantStore.h"

#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// What a tenant is described by, as TenantRow reads it.
const std::string kColumns =
    "t.id, t.slug, t.name, t.device_limit, " + isoTime("t.created_at") + " AS created_at";

// An operator's list across tenants names every tenant's scope.
const char* kSelectIds = "SELECT id FROM pulse.tenants ORDER BY id";

// An operator's ?tenant= must name a tenant before anything is done in its scope.
const char* kSelectExists = "SELECT 1 FROM pulse.tenants WHERE id = $1::uuid";

// A token's or the command line's tenant is named by its slug.
const char* kSelectIdBySlug = "SELECT id FROM pulse.tenants WHERE slug = $1";

// Devices are named "<slug>/<name>" on MQTT.
const char* kSelectSlug = "SELECT slug FROM pulse.tenants WHERE id = $1::uuid";

// One tenant, as its page and the answers to changes show it.
const std::string kSelectOne = "SELECT " + kColumns + " FROM pulse.tenants t WHERE t.id = $1::uuid";

// Keyset pages in id order: a tenant user's list holds its own tenant only.
const std::string kSelectPage = "SELECT " + kColumns +
                                " FROM pulse.tenants t WHERE ($1::uuid IS NULL OR t.id = $1::uuid) "
                                "AND ($2::uuid IS NULL OR t.id > $2::uuid) ORDER BY t.id LIMIT $3::int";

// Run in the tenant's scope: row-level security shows its devices only.
const char* kCountDevicesInUse = "SELECT count(*) AS used FROM pulse.devices WHERE decommissioned_at IS NULL";

// Through the definer function: the application role does not write pulse.tenants itself.
const char* kCreate = "SELECT pulse.create_tenant($1, $2, $3::integer) AS id";

// Likewise; the function answers whether the tenant exists.
const char* kUpdate = "SELECT pulse.update_tenant($1::uuid, $2, $3::boolean, $4::integer) AS found";

// The defaults a device without its own thresholds goes by.
const char* kSelectThresholds =
    "SELECT default_stale_after_s, default_offline_after_s FROM pulse.tenants WHERE id = $1::uuid";

// In the tenant's own scope: the function changes that tenant only.
const char* kSetThresholds = "SELECT pulse.set_default_thresholds($1::int, $2::int) AS clash";

TenantRow tenantOf(const ResultRow& r) {
    return {r.text("id"), r.text("slug"), r.text("name"), r.optionalInteger("device_limit"),
            r.text("created_at")};
}

std::string idOf(const ResultRow& r) {
    return r.text("id");
}

// One statement outside any tenant's scope: pulse.tenants has no row-level security.
PgRows queryUnscoped(PgPool& pool, const std::string& sql,
                     const std::vector<std::optional<std::string>>& params = {}) {
    PgRows rows;
    pool.with([&](PgConnection& conn) { rows = conn.query(sql, params); });
    return rows;
}

}  // namespace

std::vector<std::string> TenantStore::ids() {
    return rowsOf(queryUnscoped(pool_, kSelectIds), idOf);
}

bool TenantStore::exists(const std::string& id) {
    return !queryUnscoped(pool_, kSelectExists, {id}).rows.empty();
}

std::optional<std::string> TenantStore::idBySlug(const std::string& slug) {
    return firstOf(queryUnscoped(pool_, kSelectIdBySlug, {slug}), idOf);
}

std::optional<std::string> TenantStore::slugOf(const std::string& id) {
    return firstOf(queryUnscoped(pool_, kSelectSlug, {id}),
                   [](const ResultRow& r) { return r.text("slug"); });
}

std::optional<TenantRow> TenantStore::find(const std::string& id) {
    return firstOf(queryUnscoped(pool_, kSelectOne, {id}), tenantOf);
}

Page<TenantRow> TenantStore::page(const std::optional<std::string>& only,
                                  const std::optional<std::string>& after, int limit) {
    return pageOf(
        rowsOf(queryUnscoped(pool_, kSelectPage, {only, after, std::to_string(limit + 1)}), tenantOf), limit);
}

long long TenantStore::devicesInUse(const std::string& id) {
    auto rows = pool_.queryAsTenant(id, kCountDevicesInUse);
    return ResultRow(rows, 0).integer("used");
}

std::string TenantStore::create(const std::string& slug, const std::string& name,
                                std::optional<int> deviceLimit) {
    PgRows rows;
    try {
        rows = queryUnscoped(pool_, kCreate, {slug, name, integerParam(deviceLimit)});
    } catch (const DatabaseError& e) {
        if (e.sqlState() != "23505") throw;
        throw services::Conflict("a tenant with the slug '" + slug + "' exists");
    }
    return idOf(ResultRow(rows, 0));
}

bool TenantStore::update(const std::string& id, const std::optional<std::string>& name, bool setDeviceLimit,
                         std::optional<int> deviceLimit) {
    auto rows = queryUnscoped(pool_, kUpdate,
                              {id, name, setDeviceLimit ? "true" : "false", integerParam(deviceLimit)});
    return ResultRow(rows, 0).flag("found");
}

std::optional<TenantThresholds> TenantStore::thresholds(const std::string& id) {
    return firstOf(queryUnscoped(pool_, kSelectThresholds, {id}), [](const ResultRow& r) {
        return TenantThresholds{r.int32("default_stale_after_s"), r.int32("default_offline_after_s")};
    });
}

std::string TenantStore::setThresholds(const std::string& id, const TenantThresholds& t) {
    auto rows = pool_.queryAsTenant(id, kSetThresholds,
                                    {std::to_string(t.staleAfterS), std::to_string(t.offlineAfterS)});
    return ResultRow(rows, 0).text("clash");
}

}  // namespace pulse::storage
