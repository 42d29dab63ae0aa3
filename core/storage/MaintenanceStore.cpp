#include "storage/MaintenanceStore.h"

#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

const std::string kSelectWindows =
    "SELECT w.id, w.name, w.description, w.time_zone, w.recurrence, " + isoTime("w.starts_at") +
    " AS starts_at, " + isoTime("w.ends_at") +
    " AS ends_at, (extract(epoch FROM w.starts_at) * 1000)::bigint AS starts_ms, (extract(epoch FROM "
    "w.ends_at) "
    "* 1000)::bigint AS ends_ms, to_char(w.start_time, 'HH24:MI') AS start_time, w.duration_minutes, "
    "coalesce(array_to_string(w.days, ','), '') AS days, w.valid_from::text AS valid_from, "
    "w.valid_until::text "
    "AS valid_until, w.scope, w.site_id::text AS site_id, coalesce(s.name, '') AS site_name, "
    "coalesce(array_to_string(w.device_ids, ','), '') AS device_ids, w.tag, w.enabled, w.enabled AND "
    "pulse.maintenance_covers(w, now()) AS active, w.created_by, " +
    isoTime("w.created_at") + " AS created_at, " + isoTime("w.updated_at") +
    " AS updated_at FROM pulse.maintenance_windows w LEFT JOIN pulse.sites s ON s.id = w.site_id WHERE "
    "($1::uuid "
    "IS NULL OR w.id = $1::uuid) ORDER BY w.name LIMIT 500";

const char* kZoneKnown = "SELECT 1 FROM pg_timezone_names WHERE name = $1";
// Foreign keys are checked without row-level security: a site or device is looked up under the tenant first.
const char* kSiteExists = "SELECT 1 FROM pulse.sites WHERE id = $1::uuid";
const char* kDeviceExists = "SELECT 1 FROM pulse.devices WHERE id = $1::bigint AND decommissioned_at IS NULL";
const char* kWindowExists = "SELECT 1 FROM pulse.maintenance_windows WHERE id = $1::uuid";

// The columns in the order both statements take them ($2 ..).
const std::string kValues =
    "$2, $3, $4, $5, " + timeFromMs("nullif($6, '')") + ", " + timeFromMs("nullif($7, '')") +
    ", nullif($8, '')::time, nullif($9, '')::integer, nullif($10, '{}')::integer[], nullif($11, '')::date, "
    "nullif($12, '')::date, $13, nullif($14, '')::uuid, nullif($15, '{}')::bigint[], nullif($16, ''), "
    "$17::boolean";
const std::string kInsertWindow =
    "INSERT INTO pulse.maintenance_windows (tenant_id, name, description, time_zone, recurrence, starts_at, "
    "ends_at, start_time, duration_minutes, days, valid_from, valid_until, scope, site_id, device_ids, tag, "
    "enabled, created_by) VALUES ($1::uuid, " +
    kValues + ", $18) RETURNING id::text AS id";
const std::string kReplaceWindow =
    "UPDATE pulse.maintenance_windows SET (name, description, time_zone, recurrence, starts_at, ends_at, "
    "start_time, duration_minutes, days, valid_from, valid_until, scope, site_id, device_ids, tag, enabled, "
    "updated_at) = (" +
    kValues + ", now()) WHERE id = $1::uuid RETURNING id::text AS id";
const char* kDeleteWindow = "DELETE FROM pulse.maintenance_windows WHERE id = $1::uuid RETURNING 1";

MaintenanceWindowRow windowOf(const ResultRow& r) {
    MaintenanceWindowRow w;
    w.id = r.text("id");
    w.name = r.text("name");
    w.description = r.text("description");
    w.timeZone = r.text("time_zone");
    w.recurrence = r.text("recurrence");
    w.startsAt = r.optionalText("starts_at");
    w.endsAt = r.optionalText("ends_at");
    w.startsAtMs = r.optionalInteger("starts_ms").value_or(0);
    w.endsAtMs = r.optionalInteger("ends_ms").value_or(0);
    w.startTime = r.optionalText("start_time").value_or("");
    w.durationMinutes = r.optionalInt32("duration_minutes").value_or(0);
    auto days = integerList(r.text("days"));
    w.days.assign(days.begin(), days.end());
    w.validFrom = r.optionalText("valid_from").value_or("");
    w.validUntil = r.optionalText("valid_until");
    w.scope = r.text("scope");
    w.siteId = r.optionalText("site_id");
    w.siteName = r.text("site_name");
    w.deviceIds = integerList(r.text("device_ids"));
    w.tag = r.optionalText("tag");
    w.enabled = r.flag("enabled");
    w.active = r.flag("active");
    w.createdBy = r.text("created_by");
    w.createdAt = r.text("created_at");
    w.updatedAt = r.text("updated_at");
    return w;
}

}  // namespace

std::vector<MaintenanceWindowRow> MaintenanceStore::list(const std::string& tenantId) {
    std::vector<MaintenanceWindowRow> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        out = rowsOf(conn.query(kSelectWindows, {std::nullopt}), windowOf);
    });
    return out;
}

std::optional<MaintenanceWindowRow> MaintenanceStore::find(const std::string& tenantId,
                                                           const std::string& id) {
    std::optional<MaintenanceWindowRow> out;
    pool_.withTenant(tenantId,
                     [&](PgConnection& conn) { out = firstOf(conn.query(kSelectWindows, {id}), windowOf); });
    return out;
}

MaintenanceSave MaintenanceStore::save(const std::string& tenantId, const std::optional<std::string>& id,
                                       const MaintenanceWindowFields& w, const std::string& actor) {
    MaintenanceSave saved;
    try {
        pool_.withTenant(tenantId, [&](PgConnection& conn) {
            if (id && conn.query(kWindowExists, {id}).rows.empty()) {
                saved.found = false;
                return;
            }
            if (conn.query(kZoneKnown, {w.timeZone}).rows.empty()) {
                saved.unknownZone = true;
                return;
            }
            if (w.siteId && conn.query(kSiteExists, {w.siteId}).rows.empty()) {
                saved.badReference = "scope.site_id";
                return;
            }
            for (size_t i = 0; i < w.deviceIds.size(); ++i)
                if (conn.query(kDeviceExists, {std::to_string(w.deviceIds[i])}).rows.empty()) {
                    saved.badReference = "scope.device_ids[" + std::to_string(i) + "]";
                    return;
                }
            bool once = w.recurrence == "once";
            std::vector<std::optional<std::string>> params = {
                id ? *id : tenantId,
                w.name,
                w.description,
                w.timeZone,
                w.recurrence,
                once ? std::to_string(w.startsAtMs) : "",
                once ? std::to_string(w.endsAtMs) : "",
                once ? "" : w.startTime,
                once ? "" : std::to_string(w.durationMinutes),
                arrayLiteral(std::vector<long long>(w.days.begin(), w.days.end())),
                once ? "" : w.validFrom,
                w.validUntil.value_or(""),
                w.scope,
                w.siteId.value_or(""),
                arrayLiteral(w.deviceIds),
                w.tag.value_or(""),
                w.enabled ? "true" : "false"};
            if (!id) params.push_back(actor);
            auto row = firstOf(conn.query(id ? kReplaceWindow : kInsertWindow, params),
                               [](const ResultRow& r) { return r.text("id"); });
            if (!row) {
                saved.found = false;
                return;
            }
            saved.id = *row;
        });
    } catch (const DatabaseError& e) {
        if (e.sqlState() == "23505")
            throw services::Conflict("a maintenance window named '" + w.name + "' exists");
        throw;
    }
    return saved;
}

bool MaintenanceStore::remove(const std::string& tenantId, const std::string& id) {
    bool removed = false;
    pool_.withTenant(tenantId,
                     [&](PgConnection& conn) { removed = !conn.query(kDeleteWindow, {id}).rows.empty(); });
    return removed;
}

}  // namespace pulse::storage
