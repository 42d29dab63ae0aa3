#include "storage/ScheduleStore.h"

#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

#include <map>

namespace pulse::storage {
namespace {

const std::string kScheduleColumns = "s.id, s.name, s.description, s.time_zone, s.calendar_version, " +
                                     isoTime("s.created_at") + " AS created_at, " + isoTime("s.updated_at") +
                                     " AS updated_at, (SELECT count(DISTINCT t.policy_id) FROM "
                                     "pulse.escalation_targets t WHERE t.schedule_id = "
                                     "s.id) AS policies";

// The tenant's schedules (or one, $1), by name.
const std::string kSelectSchedules = "SELECT " + kScheduleColumns +
                                     " FROM pulse.schedules s WHERE ($1::uuid IS NULL OR s.id = $1::uuid) "
                                     "ORDER BY s.name LIMIT 500";

// Their layers and members, read at once rather than per schedule.
const char* kSelectLayers =
    "SELECT l.schedule_id, l.layer, l.name, l.rotation, to_char(l.handoff_time, 'HH24:MI') AS handoff, "
    "l.start_date::text AS start_date, to_char(l.restrict_from, 'HH24:MI') AS restrict_from, "
    "to_char(l.restrict_to, 'HH24:MI') AS restrict_to, coalesce(array_to_string(l.restrict_days, ','), '') "
    "AS "
    "restrict_days FROM pulse.schedule_layers l WHERE $1::uuid IS NULL OR l.schedule_id = $1::uuid ORDER BY "
    "l.schedule_id, l.layer";
const char* kSelectMembers =
    "SELECT m.schedule_id, m.layer, m.user_id::text AS user_id, coalesce(nullif(u.display_name, ''), "
    "u.email::text) AS name FROM pulse.schedule_layer_members m JOIN pulse.users u ON u.id = m.user_id WHERE "
    "$1::uuid IS NULL OR m.schedule_id = $1::uuid ORDER BY m.schedule_id, m.layer, m.position";

// IANA names only, as PostgreSQL's time-zone database (the system tzdata) knows them.
const char* kZoneKnown = "SELECT 1 FROM pg_timezone_names WHERE name = $1";
// Foreign keys are checked without row-level security: a member is looked up under the tenant first.
const char* kUserUsable = "SELECT 1 FROM pulse.users WHERE id = $1::uuid AND NOT disabled";
const char* kScheduleExists = "SELECT 1 FROM pulse.schedules WHERE id = $1::uuid";

// (tenant, name) is unique: a name in use fails with 23505.
const char* kInsertSchedule =
    "INSERT INTO pulse.schedules (tenant_id, name, description, time_zone) VALUES ($1::uuid, $2, $3, $4) "
    "RETURNING id::text AS id";
const char* kReplaceSchedule =
    "UPDATE pulse.schedules SET name = $2, description = $3, time_zone = $4, updated_at = now() WHERE id = "
    "$1::uuid RETURNING id::text AS id";
// A replaced schedule's layers are written anew (their members go with them, ON DELETE CASCADE).
const char* kDeleteLayers = "DELETE FROM pulse.schedule_layers WHERE schedule_id = $1::uuid";
const char* kInsertLayer =
    "INSERT INTO pulse.schedule_layers (tenant_id, schedule_id, layer, name, rotation, handoff_time, "
    "start_date, "
    "restrict_from, restrict_to, restrict_days) VALUES ($1::uuid, $2::uuid, $3::int, $4, $5, $6::time, "
    "$7::date, $8::time, $9::time, nullif($10, '{}')::integer[])";
const char* kInsertMember =
    "INSERT INTO pulse.schedule_layer_members (tenant_id, schedule_id, layer, position, user_id) VALUES "
    "($1::uuid, $2::uuid, $3::int, $4::int, $5::uuid)";

// Policies paging the schedule keep it.
const char* kSelectReferences =
    "SELECT (SELECT count(DISTINCT policy_id) FROM pulse.escalation_targets WHERE schedule_id = $1::uuid) AS "
    "referencing, EXISTS (SELECT 1 FROM pulse.schedules WHERE id = $1::uuid) AS found";
const char* kDeleteSchedule = "DELETE FROM pulse.schedules WHERE id = $1::uuid";

const std::string kShiftColumns =
    isoTime("x.starts_at") + " AS starts_at, " + isoTime("x.ends_at") +
    " AS ends_at, (extract(epoch FROM x.starts_at) * 1000)::bigint AS starts_ms, (extract(epoch FROM "
    "x.ends_at) "
    "* 1000)::bigint AS ends_ms, x.user_id::text AS user_id, coalesce(nullif(u.display_name, ''), "
    "u.email::text) AS user_name, u.email::text AS user_email, x.layer, x.override_id::text AS override_id, "
    "coalesce(l.name, '') AS layer_name, s.id::text AS schedule_id, s.name AS schedule_name";

// One schedule's timeline, with the people's names and the layers' (the function runs under the tenant).
const std::string kSelectShifts = "SELECT " + kShiftColumns +
                                  " FROM pulse.schedules s CROSS JOIN LATERAL pulse.schedule_shifts(s.id, " +
                                  timeFromMs("$2") + ", " + timeFromMs("$3") +
                                  ") x JOIN pulse.users u ON u.id = x.user_id LEFT JOIN "
                                  "pulse.schedule_layers l ON l.schedule_id = s.id AND "
                                  "l.layer = x.layer WHERE s.id = $1::uuid ORDER BY x.starts_at";

// A user's shifts across the tenant's schedules (each timeline computed over the range, then filtered).
const std::string kSelectUserShifts =
    "SELECT " + kShiftColumns + " FROM pulse.schedules s CROSS JOIN LATERAL pulse.schedule_shifts(s.id, " +
    timeFromMs("$2") + ", " + timeFromMs("$3") +
    ") x JOIN pulse.users u ON u.id = x.user_id LEFT JOIN pulse.schedule_layers l ON l.schedule_id = s.id "
    "AND "
    "l.layer = x.layer WHERE x.user_id = $1::uuid ORDER BY x.starts_at, s.name LIMIT 2000";
const char* kUserExists = "SELECT 1 FROM pulse.users WHERE id = $1::uuid";

const std::string kSelectOverrides =
    "SELECT o.id::text AS id, o.schedule_id::text AS schedule_id, o.user_id::text AS user_id, "
    "coalesce(nullif(u.display_name, ''), u.email::text) AS user_name, " +
    isoTime("o.starts_at") + " AS starts_at, " + isoTime("o.ends_at") +
    " AS ends_at, o.note, o.created_by, " + isoTime("o.created_at") +
    " AS created_at FROM pulse.schedule_overrides o JOIN pulse.users u ON u.id = o.user_id WHERE "
    "o.schedule_id "
    "= $1::uuid AND o.ends_at > " +
    timeFromMs("$2") + " ORDER BY o.starts_at LIMIT 500";

// Overrides of one schedule never overlap: the schedule's row is locked so that two writers look in turn.
const char* kLockSchedule = "SELECT 1 FROM pulse.schedules WHERE id = $1::uuid FOR UPDATE";
const std::string kSelectOverlap =
    "SELECT id::text AS id FROM pulse.schedule_overrides WHERE schedule_id = "
    "$1::uuid AND starts_at < " +
    timeFromMs("$3") + " AND ends_at > " + timeFromMs("$2") + " ORDER BY starts_at LIMIT 1";
const std::string kInsertOverride =
    "INSERT INTO pulse.schedule_overrides (tenant_id, schedule_id, user_id, starts_at, ends_at, note, "
    "created_by) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, " +
    timeFromMs("$4") + ", " + timeFromMs("$5") + ", $6, $7) RETURNING id::text AS id";
const char* kDeleteOverride =
    "DELETE FROM pulse.schedule_overrides WHERE id = $1::uuid AND schedule_id = $2::uuid RETURNING 1";

const char* kScheduleCalendar = "SELECT name, calendar_version FROM pulse.schedules WHERE id = $1::uuid";
const char* kUserCalendar =
    "SELECT coalesce(nullif(display_name, ''), email::text) AS name, calendar_version FROM pulse.users WHERE "
    "id = "
    "$1::uuid AND tenant_id IS NOT NULL";
const char* kRotateScheduleCalendar =
    "UPDATE pulse.schedules SET calendar_version = calendar_version + 1 WHERE id = $1::uuid RETURNING name, "
    "calendar_version";
const char* kRotateUserCalendar =
    "UPDATE pulse.users SET calendar_version = calendar_version + 1 WHERE id = $1::uuid AND tenant_id IS NOT "
    "NULL RETURNING coalesce(nullif(display_name, ''), email::text) AS name, calendar_version";

ScheduleRow scheduleOf(const ResultRow& r) {
    ScheduleRow s;
    s.id = r.text("id");
    s.name = r.text("name");
    s.description = r.text("description");
    s.timeZone = r.text("time_zone");
    s.calendarVersion = r.int32("calendar_version");
    s.policies = r.integer("policies");
    s.createdAt = r.text("created_at");
    s.updatedAt = r.text("updated_at");
    return s;
}

std::vector<ScheduleRow> schedulesWithLayers(PgConnection& conn, const std::optional<std::string>& id) {
    auto schedules = rowsOf(conn.query(kSelectSchedules, {id}), scheduleOf);
    auto layers = conn.query(kSelectLayers, {id});
    auto members = conn.query(kSelectMembers, {id});
    std::map<std::string, ScheduleRow*> byId;
    for (auto& s : schedules) byId[s.id] = &s;
    for (size_t i = 0; i < layers.rows.size(); ++i) {
        ResultRow r(layers, i);
        auto it = byId.find(r.text("schedule_id"));
        if (it == byId.end()) continue;
        ScheduleLayer l;
        l.name = r.text("name");
        l.rotation = r.text("rotation");
        l.handoff = r.text("handoff");
        l.startDate = r.text("start_date");
        l.restrictFrom = r.optionalText("restrict_from");
        l.restrictTo = r.optionalText("restrict_to");
        auto days = integerList(r.text("restrict_days"));
        l.restrictDays.assign(days.begin(), days.end());
        it->second->layers.push_back(std::move(l));
    }
    for (size_t i = 0; i < members.rows.size(); ++i) {
        ResultRow r(members, i);
        auto it = byId.find(r.text("schedule_id"));
        size_t layer = static_cast<size_t>(r.int32("layer"));
        if (it == byId.end() || layer < 1 || layer > it->second->layers.size()) continue;
        it->second->layers[layer - 1].members.push_back({r.text("user_id"), r.text("name")});
    }
    return schedules;
}

Shift shiftOf(const ResultRow& r) {
    Shift s;
    s.scheduleId = r.text("schedule_id");
    s.scheduleName = r.text("schedule_name");
    s.startsAt = r.text("starts_at");
    s.endsAt = r.text("ends_at");
    s.startsAtMs = r.integer("starts_ms");
    s.endsAtMs = r.integer("ends_ms");
    s.userId = r.text("user_id");
    s.userName = r.text("user_name");
    s.userEmail = r.text("user_email");
    s.layer = r.optionalInt32("layer");
    s.overrideId = r.optionalText("override_id");
    s.layerName = r.text("layer_name");
    return s;
}

OverrideRow overrideOf(const ResultRow& r) {
    return {r.text("id"),        r.text("schedule_id"), r.text("user_id"),
            r.text("user_name"), r.text("starts_at"),   r.text("ends_at"),
            r.text("note"),      r.text("created_by"),  r.text("created_at")};
}

CalendarSubject calendarOf(const ResultRow& r) {
    return {r.text("name"), r.int32("calendar_version")};
}

}  // namespace

std::vector<ScheduleRow> ScheduleStore::list(const std::string& tenantId) {
    std::vector<ScheduleRow> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { out = schedulesWithLayers(conn, std::nullopt); });
    return out;
}

std::optional<ScheduleRow> ScheduleStore::find(const std::string& tenantId, const std::string& id) {
    std::vector<ScheduleRow> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { out = schedulesWithLayers(conn, id); });
    if (out.empty()) return std::nullopt;
    return std::move(out.front());
}

ScheduleSave ScheduleStore::save(const std::string& tenantId, const std::optional<std::string>& id,
                                 const ScheduleFields& s) {
    ScheduleSave saved;
    try {
        pool_.withTenant(tenantId, [&](PgConnection& conn) {
            if (id && conn.query(kScheduleExists, {id}).rows.empty()) {
                saved.found = false;
                return;
            }
            if (conn.query(kZoneKnown, {s.timeZone}).rows.empty()) {
                saved.unknownZone = true;
                return;
            }
            for (size_t l = 0; l < s.layers.size(); ++l)
                for (size_t m = 0; m < s.layers[l].members.size(); ++m)
                    if (conn.query(kUserUsable, {s.layers[l].members[m].id}).rows.empty()) {
                        saved.unknownUser =
                            "layers[" + std::to_string(l) + "].users[" + std::to_string(m) + "]";
                        return;
                    }
            auto row = firstOf(conn.query(id ? kReplaceSchedule : kInsertSchedule,
                                          {id ? *id : tenantId, s.name, s.description, s.timeZone}),
                               [](const ResultRow& r) { return r.text("id"); });
            if (!row) {
                saved.found = false;
                return;
            }
            saved.id = *row;
            conn.query(kDeleteLayers, {saved.id});
            for (size_t l = 0; l < s.layers.size(); ++l) {
                const auto& layer = s.layers[l];
                std::string number = std::to_string(l + 1);
                conn.query(kInsertLayer,
                           {tenantId, saved.id, number, layer.name, layer.rotation, layer.handoff,
                            layer.startDate, layer.restrictFrom, layer.restrictTo,
                            arrayLiteral(std::vector<long long>(layer.restrictDays.begin(),
                                                                layer.restrictDays.end()))});
                for (size_t m = 0; m < layer.members.size(); ++m)
                    conn.query(kInsertMember,
                               {tenantId, saved.id, number, std::to_string(m), layer.members[m].id});
            }
        });
    } catch (const DatabaseError& e) {
        if (e.sqlState() == "23505") throw services::Conflict("a schedule named '" + s.name + "' exists");
        throw;
    }
    if (!saved.unknownUser.empty() || saved.unknownZone || !saved.found) saved.id.clear();
    return saved;
}

ScheduleRemoval ScheduleStore::remove(const std::string& tenantId, const std::string& id) {
    ScheduleRemoval out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto rows = conn.query(kSelectReferences, {id});
        ResultRow r(rows, 0);
        out.references = r.integer("referencing");
        out.found = r.flag("found");
        if (out.found && out.references == 0) conn.query(kDeleteSchedule, {id});
    });
    return out;
}

std::optional<std::vector<Shift>> ScheduleStore::shifts(const std::string& tenantId, const std::string& id,
                                                        long long fromMs, long long toMs) {
    std::optional<std::vector<Shift>> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kScheduleExists, {id}).rows.empty()) return;
        out = rowsOf(conn.query(kSelectShifts, {id, std::to_string(fromMs), std::to_string(toMs)}), shiftOf);
    });
    return out;
}

std::optional<std::vector<Shift>> ScheduleStore::userShifts(const std::string& tenantId,
                                                            const std::string& userId, long long fromMs,
                                                            long long toMs) {
    std::optional<std::vector<Shift>> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kUserExists, {userId}).rows.empty()) return;
        out = rowsOf(conn.query(kSelectUserShifts, {userId, std::to_string(fromMs), std::to_string(toMs)}),
                     shiftOf);
    });
    return out;
}

std::optional<std::vector<OverrideRow>> ScheduleStore::overrides(const std::string& tenantId,
                                                                 const std::string& id, long long fromMs) {
    std::optional<std::vector<OverrideRow>> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kScheduleExists, {id}).rows.empty()) return;
        out = rowsOf(conn.query(kSelectOverrides, {id, std::to_string(fromMs)}), overrideOf);
    });
    return out;
}

OverrideSave ScheduleStore::addOverride(const std::string& tenantId, const std::string& scheduleId,
                                        const OverrideFields& o, const std::string& createdBy) {
    OverrideSave saved;
    using R = OverrideSave::Result;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kLockSchedule, {scheduleId}).rows.empty()) {
            saved.result = R::NoSuchSchedule;
            return;
        }
        if (conn.query(kUserUsable, {o.userId}).rows.empty()) {
            saved.result = R::NoSuchUser;
            return;
        }
        std::string from = std::to_string(o.startsAtMs), to = std::to_string(o.endsAtMs);
        auto overlap = firstOf(conn.query(kSelectOverlap, {scheduleId, from, to}),
                               [](const ResultRow& r) { return r.text("id"); });
        if (overlap) {
            saved.result = R::Overlaps;
            saved.id = *overlap;
            return;
        }
        saved.id = firstOf(conn.query(kInsertOverride,
                                      {tenantId, scheduleId, o.userId, from, to, o.note, createdBy}),
                           [](const ResultRow& r) { return r.text("id"); })
                       .value_or("");
    });
    return saved;
}

bool ScheduleStore::removeOverride(const std::string& tenantId, const std::string& scheduleId,
                                   const std::string& id) {
    bool removed = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        removed = !conn.query(kDeleteOverride, {id, scheduleId}).rows.empty();
    });
    return removed;
}

std::optional<CalendarSubject> ScheduleStore::calendar(const std::string& tenantId, CalendarKind kind,
                                                       const std::string& id, bool rotate) {
    const char* sql = kind == CalendarKind::Schedule ? (rotate ? kRotateScheduleCalendar : kScheduleCalendar)
                                                     : (rotate ? kRotateUserCalendar : kUserCalendar);
    std::optional<CalendarSubject> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { out = firstOf(conn.query(sql, {id}), calendarOf); });
    return out;
}

}  // namespace pulse::storage
