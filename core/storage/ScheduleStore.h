#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

struct ScheduleMember {
    std::string id;
    std::string name;  // on reading: the display name, or the e-mail when there is none
};

// One rotation (sql/013): its members take turns, handing off daily or weekly at a local time from a local
// start date; optionally only within a daily window [restrictFrom, restrictTo) opening on the given ISO
// weekdays (1 Monday .. 7 Sunday; empty: every day).
struct ScheduleLayer {
    std::string name;
    std::string rotation = "weekly";                      // "daily", "weekly"
    std::string handoff = "09:00";                        // HH:MM
    std::string startDate;                                // YYYY-MM-DD
    std::optional<std::string> restrictFrom, restrictTo;  // HH:MM, both or neither
    std::vector<int> restrictDays;
    std::vector<ScheduleMember> members;  // in rotation order, 1..50
};

struct ScheduleFields {
    std::string name, description, timeZone;
    std::vector<ScheduleLayer> layers;  // bottom first: a later layer wins over an earlier one
};

struct ScheduleRow : ScheduleFields {
    std::string id;
    int calendarVersion = 1;
    long long policies = 0;  // escalation policies naming it
    std::string createdAt, updatedAt;
};

struct ScheduleSave {
    bool found = true;  // replacing: false when the tenant has no such schedule
    bool unknownZone = false;
    std::string id;
    std::string
        unknownUser;  // where a user who is not the tenant's (or is disabled) is named: "layers[0].users[1]"
};

struct ScheduleRemoval {
    bool found = false;
    long long references = 0;  // escalation policies naming it: not deleted
};

// A piece of the final timeline: who is on call from when to when, and why.
struct Shift {
    std::string scheduleId, scheduleName;
    std::string startsAt, endsAt;  // RFC 3339 UTC
    long long startsAtMs = 0, endsAtMs = 0;
    std::string userId, userName, userEmail;
    std::optional<int> layer;               // the layer it comes from (1-based), or
    std::optional<std::string> overrideId;  // the override
    std::string layerName;
};

struct OverrideFields {
    std::string userId;
    long long startsAtMs = 0, endsAtMs = 0;
    std::string note;
};

struct OverrideRow {
    std::string id, scheduleId, userId, userName, startsAt, endsAt, note, createdBy, createdAt;
};

struct OverrideSave {
    enum class Result { Saved, NoSuchSchedule, NoSuchUser, Overlaps };
    Result result = Result::Saved;
    std::string id;  // the new override, or the one it overlaps
};

// Whose shifts a calendar feed lists: a schedule's, or one user's in every schedule.
enum class CalendarKind { Schedule, User };

// What a calendar feed needs to know to be served and to check its signed version.
struct CalendarSubject {
    std::string name;
    int version = 1;
};

// A tenant's on-call schedules, their overrides and the timelines computed from them (pulse.schedule_shifts
// in sql/013), each call one transaction scoped to the tenant. Throws services::Conflict for a name in use,
// DatabaseError otherwise.
class ScheduleStore {
  public:
    explicit ScheduleStore(PgPool& pool) : pool_(pool) {}

    std::vector<ScheduleRow> list(const std::string& tenantId);  // by name, at most 500
    std::optional<ScheduleRow> find(const std::string& tenantId, const std::string& id);
    // Creates (no id) or replaces the schedule with its layers; the timeline follows at once.
    ScheduleSave save(const std::string& tenantId, const std::optional<std::string>& id,
                      const ScheduleFields& schedule);
    // Deletes it (with its overrides) unless an escalation policy pages it.
    ScheduleRemoval remove(const std::string& tenantId, const std::string& id);

    // The final timeline over [fromMs, toMs); nullopt when the tenant has no such schedule.
    std::optional<std::vector<Shift>> shifts(const std::string& tenantId, const std::string& id,
                                             long long fromMs, long long toMs);
    // One user's shifts in every schedule of the tenant over [fromMs, toMs), by start; nullopt: no such user.
    std::optional<std::vector<Shift>> userShifts(const std::string& tenantId, const std::string& userId,
                                                 long long fromMs, long long toMs);

    // Overrides ending after fromMs, by start (at most 500); nullopt: no such schedule.
    std::optional<std::vector<OverrideRow>> overrides(const std::string& tenantId, const std::string& id,
                                                      long long fromMs);
    OverrideSave addOverride(const std::string& tenantId, const std::string& scheduleId,
                             const OverrideFields& o, const std::string& createdBy);
    bool removeOverride(const std::string& tenantId, const std::string& scheduleId, const std::string& id);

    // A schedule's or a user's calendar: nullopt when the tenant has none such. rotate bumps the version, so
    // earlier signed URLs stop working.
    std::optional<CalendarSubject> calendar(const std::string& tenantId, CalendarKind kind,
                                            const std::string& id, bool rotate = false);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
