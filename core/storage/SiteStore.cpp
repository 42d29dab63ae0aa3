#include "storage/SiteStore.h"

#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

#include <stdexcept>

namespace pulse::storage {
namespace {

// What a site is described by, as SiteRow reads it; decommissioned devices are not at the site any more.
const std::string kColumns =
    "s.id, s.name, s.time_zone, (SELECT count(*) FROM pulse.devices d WHERE d.site_id = s.id "
    "AND d.decommissioned_at IS NULL) AS devices, " +
    isoTime("s.created_at") + " AS created_at";

// The whole list in one page: a tenant has few sites.
const std::string kSelectAll = "SELECT " + kColumns + " FROM pulse.sites s ORDER BY s.name LIMIT 2000";

// One site, as its page and the answers to changes show it.
const std::string kSelectOne = "SELECT " + kColumns + " FROM pulse.sites s WHERE s.id = $1::uuid";

// An import resolves many lines' sites with one query.
const char* kSelectNames = "SELECT id, name FROM pulse.sites";

// The zone list reports convert with, so a zone stored here is one they can use.
const char* kSelectTimeZone = "SELECT 1 FROM pg_timezone_names WHERE name = $1";

// (tenant, name) is unique: a name in use fails with 23505.
const char* kInsert =
    "INSERT INTO pulse.sites (tenant_id, name, time_zone) VALUES ($1::uuid, $2, $3) RETURNING id";

// NULL parameters leave the column as it is.
const char* kUpdate =
    "UPDATE pulse.sites SET name = coalesce($2, name), time_zone = coalesce($3, time_zone) "
    "WHERE id = $1::uuid RETURNING id";

// Deleted rules keep their scope (their history names the site), so they count too.
const char* kSelectReferences =
    "SELECT (SELECT count(*) FROM pulse.devices WHERE site_id = $1::uuid) + "
    "(SELECT count(*) FROM pulse.rules WHERE scope_site_id = $1::uuid) + "
    "(SELECT count(*) FROM pulse.routing_rules WHERE site_id = $1::uuid) AS referencing, "
    "EXISTS (SELECT 1 FROM pulse.sites WHERE id = $1::uuid) AS found";

// Only once nothing names the site (checked in the same transaction).
const char* kDelete = "DELETE FROM pulse.sites WHERE id = $1::uuid";

SiteRow siteOf(const ResultRow& r) {
    return {r.text("id"), r.text("name"), r.text("time_zone"), r.integer("devices"), r.text("created_at")};
}

SiteName siteNameOf(const ResultRow& r) {
    return {r.text("id"), r.text("name")};
}

void checkTimeZone(PgConnection& conn, const std::optional<std::string>& zone) {
    if (zone && conn.query(kSelectTimeZone, {*zone}).rows.empty())
        throw std::invalid_argument("time_zone must be an IANA time zone name such as Europe/Berlin");
}

// A unique violation on (tenant, name) as a Conflict naming the name.
template <typename Fn>
void nameMustBeFree(const std::optional<std::string>& name, Fn&& fn) {
    try {
        fn();
    } catch (const DatabaseError& e) {
        if (e.sqlState() == "23505")
            throw services::Conflict("a site named '" + name.value_or("") + "' exists");
        throw;
    }
}

}  // namespace

std::vector<SiteRow> SiteStore::list(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kSelectAll), siteOf);
}

std::optional<SiteRow> SiteStore::find(const std::string& tenantId, const std::string& id) {
    return firstOf(pool_.queryAsTenant(tenantId, kSelectOne, {id}), siteOf);
}

std::vector<SiteName> SiteStore::names(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kSelectNames), siteNameOf);
}

std::string SiteStore::create(const std::string& tenantId, const std::string& name,
                              const std::optional<std::string>& timeZone) {
    std::string id;
    nameMustBeFree(name, [&] {
        pool_.withTenant(tenantId, [&](PgConnection& conn) {
            checkTimeZone(conn, timeZone);
            id = ResultRow(conn.query(kInsert, {tenantId, name, timeZone.value_or("UTC")}), 0).text("id");
        });
    });
    return id;
}

bool SiteStore::update(const std::string& tenantId, const std::string& id,
                       const std::optional<std::string>& name, const std::optional<std::string>& timeZone) {
    bool found = false;
    nameMustBeFree(name, [&] {
        pool_.withTenant(tenantId, [&](PgConnection& conn) {
            checkTimeZone(conn, timeZone);
            found = !conn.query(kUpdate, {id, name, timeZone}).rows.empty();
        });
    });
    return found;
}

SiteRemoval SiteStore::remove(const std::string& tenantId, const std::string& id) {
    SiteRemoval out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto rows = conn.query(kSelectReferences, {id});
        ResultRow r(rows, 0);
        out.references = r.integer("referencing");
        out.found = r.flag("found");
        if (out.found && out.references == 0) conn.query(kDelete, {id});
    });
    return out;
}

}  // namespace pulse::storage
