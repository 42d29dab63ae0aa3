#include "storage/DeviceStore.h"

#include <map>

#include "services/DeviceSpec.h"
#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <stdexcept>

namespace pulse::storage {
namespace {

// What a device is described by, as DeviceRow reads it; tags as JSON, which needs no array parsing here.
const std::string kColumns =
    "d.id, d.name, d.status, d.site_id, array_to_json(d.tags)::text AS tags, " + isoTime("d.last_seen_at") +
    " AS last_seen_at, " + isoTime("d.created_at") + " AS created_at, " + isoTime("d.decommissioned_at") +
    " AS decommissioned_at, d.stale_after_s, d.offline_after_s, d.tenant_id, d.parent_id";

// The fleet list: every filter optional (NULL), the name a literal prefix (LIKE's wildcards escaped), in
// one of the orders below, a page and one more row to tell whether more follow. The cursor is the last
// row's id; its sort key is read again, so pages need no key in the cursor (a device seen since moves).
std::string devicePage(const std::string& key, bool descending) {
    const char* op = descending ? "<" : ">";
    const char* dir = descending ? " DESC" : "";
    return "SELECT " + kColumns +
           " FROM pulse.devices d WHERE ($1::text IS NULL OR d.status = $1) "
           "AND ($2::text IS NULL OR $2 = ANY (d.tags)) "
           "AND ($3::uuid IS NULL OR d.site_id = $3::uuid) "
           "AND ($4::bigint IS NULL OR (" +
           key + ", d.id) " + op + " (SELECT " + key +
           ", d.id FROM pulse.devices d WHERE d.id = $4::bigint)) " +
           "AND ($5::text IS NULL OR d.name LIKE replace(replace(replace($5, '\\', "
           "'\\\\'), '%', '\\%'), '_', '\\_') || '%') "
           "AND ($7::bigint IS NULL OR d.parent_id = $7::bigint) "
           "ORDER BY " +
           key + dir + ", d.id" + dir + " LIMIT $6::int";
}

// Never seen sorts as the oldest.
const std::string kLastSeenKey = "coalesce(d.last_seen_at, '-infinity'::timestamptz)";

const std::map<DeviceOrder, std::string> kSelectPage = {
    {DeviceOrder::Id, devicePage("d.id", false)},
    {DeviceOrder::Name, devicePage("d.name", false)},
    {DeviceOrder::NameDescending, devicePage("d.name", true)},
    {DeviceOrder::LastSeen, devicePage(kLastSeenKey, false)},
    {DeviceOrder::LastSeenDescending, devicePage(kLastSeenKey, true)},
};

// One device, as its page and the answers to changes show it.
const std::string kSelectOne = "SELECT " + kColumns + " FROM pulse.devices d WHERE d.id = $1::bigint";

// An import checks all its names in one query, however long the file.
const char* kSelectNamesInUse = "SELECT name FROM pulse.devices WHERE name = ANY ($1::text[])";

// The sites new devices name, all checked in one query (an import names many devices, few sites).
const char* kSelectSites = "SELECT id FROM pulse.sites WHERE id = ANY ($1::uuid[])";

// A site a change names must be the tenant's (row-level security hides the others).
const char* kSelectSite = "SELECT 1 FROM pulse.sites WHERE id = $1::uuid";

// ON CONFLICT: a name in use is a Conflict, not an aborted transaction to untangle. The device limit's
// trigger (sql/006) raises P0001 when the subscription would be passed.
const char* kInsertDevice =
    "INSERT INTO pulse.devices (tenant_id, name, tags, site_id) VALUES ($1::uuid, $2, $3::text[], $4::uuid) "
    "ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id";

// Only the token's digest (ingest looks it up by index) and its Mosquitto hash are stored.
const char* kInsertCredential =
    "INSERT INTO pulse.device_credentials (tenant_id, device_id, token_sha256, token_prefix, mqtt_hash) "
    "VALUES ($1::uuid, $2::bigint, decode($3, 'hex'), $4, $5)";

// FOR UPDATE: two rotations at once leave one live token, not two.
const char* kSelectLiveNameForUpdate =
    "SELECT name FROM pulse.devices WHERE id = $1::bigint AND decommissioned_at IS NULL FOR UPDATE";

// Whether the tenant has the device (revoking nothing is not a missing device).
const char* kSelectExists = "SELECT 1 FROM pulse.devices WHERE id = $1::bigint";

// Returns the rows revoked, to count them.
const char* kRevokeLive =
    "UPDATE pulse.device_credentials SET revoked_at = now() WHERE device_id = $1::bigint AND revoked_at IS "
    "NULL RETURNING id";

// Once only: a decommissioned device stays as it was decommissioned.
const char* kDecommission =
    "UPDATE pulse.devices SET decommissioned_at = now(), status = 'OFFLINE' WHERE id = $1::bigint AND "
    "decommissioned_at IS NULL RETURNING id";

// Tags: NULL leaves them; the others, "CASE WHEN $n::boolean THEN $n+1 ELSE column END" (set, or clear
// with NULL).
const char* kUpdate =
    "UPDATE pulse.devices SET tags = coalesce($2::text[], tags), "
    "site_id = CASE WHEN $3::boolean THEN $4::uuid ELSE site_id END, "
    "stale_after_s = CASE WHEN $5::boolean THEN $6::integer ELSE stale_after_s END, "
    "offline_after_s = CASE WHEN $7::boolean THEN $8::integer ELSE offline_after_s END, "
    "parent_id = CASE WHEN $9::boolean THEN $10::bigint ELSE parent_id END "
    "WHERE id = $1::bigint RETURNING id";

// The thresholds in effect after a change: the device's own, or its tenant's defaults.
const char* kSelectThresholds =
    "SELECT coalesce(d.stale_after_s, t.default_stale_after_s) AS stale_after_s, "
    "coalesce(d.offline_after_s, t.default_offline_after_s) AS offline_after_s FROM pulse.devices d "
    "JOIN pulse.tenants t ON t.id = d.tenant_id WHERE d.id = $1::bigint";

std::vector<std::string> tagsOf(const std::string& json) {
    std::vector<std::string> tags;
    auto array = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Array::Ptr>();
    for (size_t i = 0; i < array->size(); ++i) tags.push_back(array->getElement<std::string>(i));
    return tags;
}

DeviceRow deviceOf(const ResultRow& r) {
    DeviceRow d;
    d.id = r.integer("id");
    d.name = r.text("name");
    d.status = r.text("status");
    d.siteId = r.optionalText("site_id");
    d.tags = tagsOf(r.text("tags"));
    d.lastSeenAt = r.optionalText("last_seen_at");
    d.createdAt = r.text("created_at");
    d.decommissionedAt = r.optionalText("decommissioned_at");
    d.staleAfterS = r.optionalInt32("stale_after_s");
    d.offlineAfterS = r.optionalInt32("offline_after_s");
    d.tenantId = r.text("tenant_id");
    d.parentId = r.optionalInteger("parent_id");
    return d;
}

std::string idOf(const ResultRow& r) {
    return r.text("id");
}

// A change as the two parameters of "CASE WHEN $n::boolean THEN $n+1": whether to set, and the value.
template <typename T>
std::string changes(const std::optional<std::optional<T>>& change) {
    return change ? "true" : "false";
}
std::optional<std::string> changedTo(const std::optional<std::optional<std::string>>& change) {
    return change ? *change : std::nullopt;
}
template <typename Number>
std::optional<std::string> changedTo(const std::optional<std::optional<Number>>& change) {
    return change && *change ? std::optional<std::string>(std::to_string(**change)) : std::nullopt;
}

void insertCredential(PgConnection& conn, const std::string& tenantId, long long deviceId,
                      const DeviceCredential& c) {
    conn.query(kInsertCredential,
               {tenantId, std::to_string(deviceId), c.tokenSha256, c.tokenPrefix, c.mqttHash});
}

int revokeLive(PgConnection& conn, long long deviceId) {
    return static_cast<int>(conn.query(kRevokeLive, {std::to_string(deviceId)}).rows.size());
}

}  // namespace

Page<DeviceRow> DeviceStore::list(const std::vector<std::string>& tenantIds, const DeviceFilter& f) {
    PgRows rows;
    pool_.withTenants(tenantIds, [&](PgConnection& conn) {
        rows = conn.query(kSelectPage.at(f.order),
                          {nonEmpty(f.status), nonEmpty(f.tag), nonEmpty(f.siteId), integerParam(f.afterId),
                           nonEmpty(f.namePrefix), std::to_string(f.limit + 1), integerParam(f.parentId)});
    });
    return pageOf(rowsOf(rows, deviceOf), f.limit);
}

std::optional<DeviceRow> DeviceStore::find(const std::string& tenantId, long long id) {
    return firstOf(pool_.queryAsTenant(tenantId, kSelectOne, {std::to_string(id)}), deviceOf);
}

std::set<std::string> DeviceStore::namesInUse(const std::string& tenantId,
                                              const std::vector<std::string>& names) {
    auto inUse = rowsOf(pool_.queryAsTenant(tenantId, kSelectNamesInUse, {services::textArrayLiteral(names)}),
                        [](const ResultRow& r) { return r.text("name"); });
    return {inUse.begin(), inUse.end()};
}

std::vector<long long> DeviceStore::insert(const std::string& tenantId, const std::string& tenantSlug,
                                           const std::vector<NewDevice>& devices) {
    std::set<std::string> sites;
    for (const auto& d : devices)
        if (d.siteId) sites.insert(Poco::toLower(*d.siteId));
    std::vector<long long> ids;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (!sites.empty()) {
            auto found = conn.query(kSelectSites, {services::textArrayLiteral({sites.begin(), sites.end()})});
            for (const auto& id : rowsOf(found, idOf)) sites.erase(id);
            if (!sites.empty()) throw services::NotFound("no such site " + *sites.begin());
        }
        for (const auto& d : devices) {
            PgRows rows;
            try {
                rows = conn.query(kInsertDevice,
                                  {tenantId, d.name, services::textArrayLiteral(d.tags), d.siteId});
            } catch (const DatabaseError& e) {
                if (e.sqlState() == "P0001" &&
                    std::string(e.what()).find("subscription allows") != std::string::npos)
                    throw services::LimitExceeded(e.what());
                throw;
            }
            if (rows.rows.empty())
                throw services::Conflict("tenant '" + tenantSlug + "' already has a device named '" + d.name +
                                         "'");
            ids.push_back(ResultRow(rows, 0).integer("id"));
            insertCredential(conn, tenantId, ids.back(), d.credential);
        }
    });
    return ids;
}

bool DeviceStore::update(const std::string& tenantId, long long id, const DeviceChange& change) {
    bool found = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (change.siteId && *change.siteId && conn.query(kSelectSite, {**change.siteId}).rows.empty())
            throw services::NotFound("no such site");
        std::optional<std::string> tags;
        if (change.tags) tags = services::textArrayLiteral(*change.tags);
        try {
            found = !conn.query(kUpdate,
                                {std::to_string(id), tags, changes(change.siteId), changedTo(change.siteId),
                                 changes(change.staleAfterS), changedTo(change.staleAfterS),
                                 changes(change.offlineAfterS), changedTo(change.offlineAfterS),
                                 changes(change.parentId), changedTo(change.parentId)})
                         .rows.empty();
        } catch (const DatabaseError& e) {
            // The parent trigger (sql/016) says what is wrong with the parent.
            if (e.sqlState() == "PU001") throw InvalidParent(e.primaryMessage());
            throw;
        }
        if (!found) return;
        // A device goes STALE before OFFLINE: checked in the transaction that changed the thresholds, which
        // the exception rolls back.
        auto thresholds = conn.query(kSelectThresholds, {std::to_string(id)});
        ResultRow r(thresholds, 0);
        long long stale = r.integer("stale_after_s"), offline = r.integer("offline_after_s");
        if (offline <= stale)
            throw std::invalid_argument("offline_after_s (" + std::to_string(offline) +
                                        ", with the tenant's default) must be greater than stale_after_s (" +
                                        std::to_string(stale) + ")");
    });
    return found;
}

std::optional<std::string> DeviceStore::replaceCredentials(const std::string& tenantId, long long id,
                                                           const DeviceCredential& credential) {
    std::optional<std::string> name;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto found = conn.query(kSelectLiveNameForUpdate, {std::to_string(id)});
        if (found.rows.empty()) return;
        name = ResultRow(found, 0).text("name");
        revokeLive(conn, id);
        insertCredential(conn, tenantId, id, credential);
    });
    return name;
}

std::optional<int> DeviceStore::revokeCredentials(const std::string& tenantId, long long id) {
    std::optional<int> revoked;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kSelectExists, {std::to_string(id)}).rows.empty()) return;
        revoked = revokeLive(conn, id);
    });
    return revoked;
}

bool DeviceStore::decommission(const std::string& tenantId, long long id) {
    bool done = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        done = !conn.query(kDecommission, {std::to_string(id)}).rows.empty();
        if (done) revokeLive(conn, id);
    });
    return done;
}

}  // namespace pulse::storage
