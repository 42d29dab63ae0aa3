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

TenantRow tenantOf(const ResultRow& r) {
    return {r.text("id"), r.text("slug"), r.text("name"), r.optionalInteger("device_limit"),
            r.text("created_at")};
}

std::optional<std::string> number(std::optional<int> value) {
    return value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt;
}

}  // namespace

std::vector<std::string> TenantStore::ids() {
    std::vector<std::string> out;
    pool_.with([&](PgConnection& conn) {
        auto rows = conn.query(kSelectIds);
        for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(ResultRow(rows, i).text("id"));
    });
    return out;
}

bool TenantStore::exists(const std::string& id) {
    bool found = false;
    pool_.with([&](PgConnection& conn) { found = !conn.query(kSelectExists, {id}).rows.empty(); });
    return found;
}

std::optional<std::string> TenantStore::idBySlug(const std::string& slug) {
    std::optional<std::string> id;
    pool_.with([&](PgConnection& conn) {
        auto rows = conn.query(kSelectIdBySlug, {slug});
        if (!rows.rows.empty()) id = ResultRow(rows, 0).text("id");
    });
    return id;
}

std::optional<std::string> TenantStore::slugOf(const std::string& id) {
    std::optional<std::string> slug;
    pool_.with([&](PgConnection& conn) {
        auto rows = conn.query(kSelectSlug, {id});
        if (!rows.rows.empty()) slug = ResultRow(rows, 0).text("slug");
    });
    return slug;
}

std::optional<TenantRow> TenantStore::find(const std::string& id) {
    std::optional<TenantRow> out;
    pool_.with([&](PgConnection& conn) {
        auto rows = conn.query(kSelectOne, {id});
        if (!rows.rows.empty()) out = tenantOf(ResultRow(rows, 0));
    });
    return out;
}

Page<TenantRow> TenantStore::page(const std::optional<std::string>& only,
                                  const std::optional<std::string>& after, int limit) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) {
        rows = conn.query(kSelectPage, {only, after, std::to_string(limit + 1)});
    });
    std::vector<TenantRow> tenants;
    for (size_t i = 0; i < rows.rows.size(); ++i) tenants.push_back(tenantOf(ResultRow(rows, i)));
    return pageOf(std::move(tenants), limit);
}

long long TenantStore::devicesInUse(const std::string& id) {
    long long used = 0;
    pool_.withTenant(
        id, [&](PgConnection& conn) { used = ResultRow(conn.query(kCountDevicesInUse), 0).integer("used"); });
    return used;
}

std::string TenantStore::create(const std::string& slug, const std::string& name,
                                std::optional<int> deviceLimit) {
    std::string id;
    try {
        pool_.with([&](PgConnection& conn) {
            id = ResultRow(conn.query(kCreate, {slug, name, number(deviceLimit)}), 0).text("id");
        });
    } catch (const DatabaseError& e) {
        if (e.sqlState() != "23505") throw;
        throw services::Conflict("a tenant with the slug '" + slug + "' exists");
    }
    return id;
}

bool TenantStore::update(const std::string& id, const std::optional<std::string>& name, bool setDeviceLimit,
                         std::optional<int> deviceLimit) {
    bool found = false;
    pool_.with([&](PgConnection& conn) {
        auto rows = conn.query(kUpdate, {id, name, setDeviceLimit ? "true" : "false", number(deviceLimit)});
        found = ResultRow(rows, 0).flag("found");
    });
    return found;
}

}  // namespace pulse::storage
