// /api/v1/schedules: on-call rotations in a time zone (layers of users handing off daily or weekly at a local
// time; a later layer wins, an override wins over every layer), who is on call now, the timeline of shifts,
// and iCalendar feeds (per schedule and per user) at signed URLs that calendar apps poll without signing in.
// Tenant-admins change schedules; members add and remove overrides (swapping a shift is everyday work).
#include "formats/ICalendar.h"
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "services/LinkSigner.h"
#include "services/ServiceErrors.h"
#include "storage/ScheduleStore.h"
#include "storage/Uuid.h"

#include <Poco/JSON/Array.h>
#include <Poco/StringTokenizer.h>

namespace pulse::http {
namespace {

constexpr long long kDayMs = 24LL * 3600 * 1000;
constexpr int kMaxTimelineDays = 62;

Poco::JSON::Object::Ptr describe(const storage::ScheduleRow& s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", s.id);
    o->set("name", s.name);
    o->set("description", s.description);
    o->set("time_zone", s.timeZone);
    Poco::JSON::Array::Ptr layers = new Poco::JSON::Array;
    for (size_t i = 0; i < s.layers.size(); ++i) {
        const auto& l = s.layers[i];
        Poco::JSON::Object::Ptr layer = new Poco::JSON::Object;
        layer->set("layer", static_cast<int>(i + 1));
        layer->set("name", l.name);
        layer->set("rotation", l.rotation);
        layer->set("handoff", l.handoff);
        layer->set("start_date", l.startDate);
        if (l.restrictFrom) {
            Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
            r->set("from", *l.restrictFrom);
            r->set("to", *l.restrictTo);
            Poco::JSON::Array::Ptr days = new Poco::JSON::Array;
            for (int d : l.restrictDays) days->add(d);
            r->set("days", l.restrictDays.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(days));
            layer->set("restriction", r);
        } else {
            layer->set("restriction", Poco::Dynamic::Var());
        }
        Poco::JSON::Array::Ptr users = new Poco::JSON::Array;
        for (const auto& m : l.members) {
            Poco::JSON::Object::Ptr u = new Poco::JSON::Object;
            u->set("id", m.id);
            u->set("name", m.name);
            users->add(u);
        }
        layer->set("users", users);
        layers->add(layer);
    }
    o->set("layers", layers);
    o->set("escalation_policies", s.policies);
    o->set("created_at", s.createdAt);
    o->set("updated_at", s.updatedAt);
    return o;
}

Poco::JSON::Object::Ptr describe(const storage::Shift& s, bool withSchedule) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("starts_at", s.startsAt);
    o->set("ends_at", s.endsAt);
    Poco::JSON::Object::Ptr user = new Poco::JSON::Object;
    user->set("id", s.userId);
    user->set("name", s.userName);
    user->set("email", s.userEmail);
    o->set("user", user);
    Poco::JSON::Object::Ptr source = new Poco::JSON::Object;
    if (s.overrideId) {
        source->set("type", "override");
        source->set("id", *s.overrideId);
    } else {
        source->set("type", "layer");
        source->set("layer", s.layer.value_or(0));
        source->set("name", s.layerName);
    }
    o->set("source", source);
    if (withSchedule) {
        Poco::JSON::Object::Ptr schedule = new Poco::JSON::Object;
        schedule->set("id", s.scheduleId);
        schedule->set("name", s.scheduleName);
        o->set("schedule", schedule);
    }
    return o;
}

Poco::JSON::Object::Ptr describe(const storage::OverrideRow& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", r.id);
    o->set("schedule_id", r.scheduleId);
    Poco::JSON::Object::Ptr user = new Poco::JSON::Object;
    user->set("id", r.userId);
    user->set("name", r.userName);
    o->set("user", user);
    o->set("starts_at", r.startsAt);
    o->set("ends_at", r.endsAt);
    o->set("note", r.note);
    o->set("created_by", r.createdBy);
    o->set("created_at", r.createdAt);
    return o;
}

storage::ScheduleStore schedules(Call& call) {
    return storage::ScheduleStore(*call.api.services().pool);
}

void sendSchedule(Call& call, const std::string& id, int status) {
    auto schedule = schedules(call).find(call.tenant(), id);
    if (!schedule) throw ApiError(404, "Not Found", "no such schedule");
    sendObject(call.ex, status, describe(*schedule));
}

std::string saveSchedule(Call& call, const std::optional<std::string>& id) {
    auto body = parseSchedule(call.bodyText());
    storage::ScheduleSave saved;
    try {
        saved = schedules(call).save(call.tenant(), id, body);
    } catch (const services::Conflict& e) {
        throw ApiError(409, "Conflict", e.what(), "name");
    }
    if (!saved.found) throw ApiError(404, "Not Found", "no such schedule");
    if (saved.unknownZone)
        throw ApiError(422, "Unprocessable Content",
                       "time_zone must be an IANA time zone name such as Europe/Berlin", "time_zone");
    if (!saved.unknownUser.empty())
        throw ApiError(422, "Unprocessable Content", "no such user in the tenant (or a disabled one)",
                       saved.unknownUser);
    return saved.id;
}

// The shift holding `at`, and the one after it, from a timeline read around it (so the current shift shows
// when it really began).
std::pair<const storage::Shift*, const storage::Shift*> nowAndNext(const std::vector<storage::Shift>& shifts,
                                                                   long long at) {
    const storage::Shift *now = nullptr, *next = nullptr;
    for (const auto& s : shifts) {
        if (s.startsAtMs <= at && at < s.endsAtMs)
            now = &s;
        else if (s.startsAtMs > at && !next)
            next = &s;
    }
    return {now, next};
}

Poco::Dynamic::Var shiftOrNull(const storage::Shift* s, bool withSchedule) {
    return s ? Poco::Dynamic::Var(describe(*s, withSchedule)) : Poco::Dynamic::Var();
}

// A user's own calendar and on-call views: theirs, their tenant-admins' and operator-admins'.
const std::string& calendarOwner(Call& call) {
    const std::string& userId = call.uuidId("user");
    const auto& p = *call.principal;
    bool admin = p.role == "tenant-admin" || p.role == "operator-admin";
    bool self = p.kind == services::Principal::Kind::Session && p.id == userId;
    if (!admin && !self)
        throw ApiError(403, "Forbidden", "a user's calendar URL is theirs and their admins'");
    return userId;
}

// The feed's payload: what it lists, in which tenant, at which version (bumping the version revokes it).
std::string feedPayload(storage::CalendarKind kind, const std::string& tenantId, const std::string& id,
                        int version) {
    return std::string("cal1|") + (kind == storage::CalendarKind::Schedule ? "schedule" : "user") + "|" +
           tenantId + "|" + id + "|" + std::to_string(version);
}

const services::LinkSigner& signer(Call& call) {
    const auto* links = call.api.services().links;
    if (!links || !links->hasKey())
        throw ApiError(503, "Service Unavailable", "calendar feeds need a secrets key (secrets.key_file)");
    return *links;
}

void sendFeedUrl(Call& call, storage::CalendarKind kind, const std::string& id, int version, int status) {
    std::string path =
        "/api/v1/calendars/" + signer(call).sign(feedPayload(kind, call.tenant(), id, version)) + ".ics";
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    std::string base = call.api.settings().consoleUrl;
    while (!base.empty() && base.back() == '/') base.pop_back();
    o->set("url", base.empty() ? path : base + path);
    o->set("path", path);
    o->set("version", version);
    sendObject(call.ex, status, o);
}

// GET /api/v1/calendars/{token}.ics: 404 for anything not signed by this server or no longer current, so a
// guessed or revoked URL learns nothing.
void sendFeed(Call& call) {
    auto it = call.ex.params.find("token");
    std::string token = it == call.ex.params.end() ? "" : it->second;
    if (token.size() > 4 && token.compare(token.size() - 4, 4, ".ics") == 0) token.resize(token.size() - 4);
    const auto* links = call.api.services().links;
    auto payload = links ? links->verify(token) : std::nullopt;
    if (!payload) throw ApiError(404, "Not Found", "no such calendar");
    Poco::StringTokenizer parts(*payload, "|");
    if (parts.count() != 5 || parts[0] != "cal1" || !storage::isUuid(parts[2]) || !storage::isUuid(parts[3]))
        throw ApiError(404, "Not Found", "no such calendar");
    if (parts[1] != "schedule" && parts[1] != "user") throw ApiError(404, "Not Found", "no such calendar");
    bool schedule = parts[1] == "schedule";
    const std::string &tenantId = parts[2], &id = parts[3];
    storage::ScheduleStore store(*call.api.services().pool);
    auto subject = store.calendar(
        tenantId, schedule ? storage::CalendarKind::Schedule : storage::CalendarKind::User, id);
    if (!subject || std::to_string(subject->version) != parts[4])
        throw ApiError(404, "Not Found", "no such calendar");
    // A week back (what just happened) and eight weeks ahead: what calendar apps show around today.
    long long now = nowMs(), from = now - 7 * kDayMs, to = now + 56 * kDayMs;
    auto shifts = schedule ? store.shifts(tenantId, id, from, to) : store.userShifts(tenantId, id, from, to);
    std::vector<formats::CalendarEvent> events;
    for (const auto& s : shifts.value_or(std::vector<storage::Shift>{})) {
        std::string source = s.overrideId ? "override"
                                          : "layer " + std::to_string(s.layer.value_or(0)) +
                                                (s.layerName.empty() ? "" : " (" + s.layerName + ")");
        events.push_back({s.scheduleId + "-" + std::to_string(s.startsAtMs) + "-" + s.userId + "@pulse",
                          s.startsAtMs, s.endsAtMs,
                          schedule ? "On call: " + s.userName : "On call: " + s.scheduleName,
                          "Schedule " + s.scheduleName + ", " + s.userName + " (" + source + ")"});
    }
    std::string body = formats::writeCalendar(subject->name + " (on call)", events, now);
    call.ex.response.setContentType("text/calendar; charset=utf-8");
    call.ex.response.set("Cache-Control", "private, max-age=300");
    call.ex.response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    call.ex.response.setContentLength(static_cast<std::streamsize>(body.size()));
    call.ex.response.send() << body;
}

}  // namespace

void addScheduleRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/schedules", "api.schedules.list", Access::Reader, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& s : schedules(call).list(call.tenant())) items->add(describe(s));
        call.sendPage(items, std::nullopt);
    });

    api.route(router, "GET", "/api/v1/schedules/{id}", "api.schedules.get", Access::Reader,
              [](Call& call) { sendSchedule(call, call.uuidId("schedule"), 200); });

    api.route(router, "POST", "/api/v1/schedules", "api.schedules.create", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = saveSchedule(call, std::nullopt);
                  call.audit("schedule.create", id);
                  call.ex.response.set("Location", "/api/v1/schedules/" + id);
                  sendSchedule(call, id, 201);
              });

    api.route(router, "PUT", "/api/v1/schedules/{id}", "api.schedules.replace", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = saveSchedule(call, call.uuidId("schedule"));
                  call.audit("schedule.update", id);
                  sendSchedule(call, id, 200);
              });

    api.route(router, "DELETE", "/api/v1/schedules/{id}", "api.schedules.delete", Access::TenantAdmin,
              [](Call& call) {
                  const std::string& id = call.uuidId("schedule");
                  auto removal = schedules(call).remove(call.tenant(), id);
                  if (!removal.found) throw ApiError(404, "Not Found", "no such schedule");
                  if (removal.references != 0) {
                      call.audit("schedule.delete", id, "failed", "{\"reason\":\"in use\"}");
                      throw ApiError(409, "Conflict",
                                     "the schedule is paged by " + std::to_string(removal.references) +
                                         " escalation policy(ies): take it out of them first");
                  }
                  call.audit("schedule.delete", id);
                  call.sendNoContent();
              });

    api.route(router, "GET", "/api/v1/schedules/{id}/timeline", "api.schedules.timeline", Access::Reader,
              [](Call& call) {
                  const std::string& id = call.uuidId("schedule");
                  long long from = call.timeQuery("from").value_or(nowMs());
                  int days = 14;
                  if (std::string d = call.query("days"); !d.empty()) {
                      if (d.size() > 2 || d.find_first_not_of("0123456789") != std::string::npos ||
                          std::stoi(d) < 1 || std::stoi(d) > kMaxTimelineDays)
                          throw ApiError(422, "Unprocessable Content", "days must be an integer from 1 to 62",
                                         "days");
                      days = std::stoi(d);
                  }
                  auto shifts = schedules(call).shifts(call.tenant(), id, from, from + days * kDayMs);
                  if (!shifts) throw ApiError(404, "Not Found", "no such schedule");
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& s : *shifts) items->add(describe(s, false));
                  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                  o->set("schedule_id", id);
                  o->set("from_ms", from);
                  o->set("to_ms", from + days * kDayMs);
                  o->set("shifts", items);
                  sendObject(call.ex, 200, o);
              });

    api.route(router, "GET", "/api/v1/schedules/{id}/on-call", "api.schedules.on_call", Access::Reader,
              [](Call& call) {
                  const std::string& id = call.uuidId("schedule");
                  long long at = call.timeQuery("at").value_or(nowMs());
                  auto shifts = schedules(call).shifts(call.tenant(), id, at - 7 * kDayMs, at + 28 * kDayMs);
                  if (!shifts) throw ApiError(404, "Not Found", "no such schedule");
                  auto [now, next] = nowAndNext(*shifts, at);
                  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                  o->set("at_ms", at);
                  o->set("on_call", shiftOrNull(now, false));
                  o->set("next", shiftOrNull(next, false));
                  sendObject(call.ex, 200, o);
              });

    api.route(router, "GET", "/api/v1/users/{id}/on-call", "api.users.on_call", Access::Reader,
              [](Call& call) {
                  const std::string& userId = call.uuidId("user");
                  long long at = call.timeQuery("at").value_or(nowMs());
                  auto shifts =
                      schedules(call).userShifts(call.tenant(), userId, at - 7 * kDayMs, at + 14 * kDayMs);
                  if (!shifts) throw ApiError(404, "Not Found", "no such user");
                  Poco::JSON::Array::Ptr now = new Poco::JSON::Array, upcoming = new Poco::JSON::Array;
                  for (const auto& s : *shifts) {
                      if (s.startsAtMs <= at && at < s.endsAtMs)
                          now->add(describe(s, true));
                      else if (s.startsAtMs > at)
                          upcoming->add(describe(s, true));
                  }
                  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                  o->set("at_ms", at);
                  o->set("on_call", now);
                  o->set("upcoming", upcoming);
                  sendObject(call.ex, 200, o);
              });

    api.route(router, "GET", "/api/v1/schedules/{id}/overrides", "api.schedules.overrides.list",
              Access::Reader, [](Call& call) {
                  const std::string& id = call.uuidId("schedule");
                  auto rows =
                      schedules(call).overrides(call.tenant(), id, call.timeQuery("from").value_or(nowMs()));
                  if (!rows) throw ApiError(404, "Not Found", "no such schedule");
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& r : *rows) items->add(describe(r));
                  call.sendPage(items, std::nullopt);
              });

    api.route(router, "POST", "/api/v1/schedules/{id}/overrides", "api.schedules.overrides.create",
              Access::Member, [](Call& call) {
                  const std::string& id = call.uuidId("schedule");
                  auto body = parseOverride(call.bodyText());
                  auto saved = schedules(call).addOverride(call.tenant(), id, body, call.principal->label);
                  using R = storage::OverrideSave::Result;
                  switch (saved.result) {
                      case R::NoSuchSchedule:
                          throw ApiError(404, "Not Found", "no such schedule");
                      case R::NoSuchUser:
                          throw ApiError(422, "Unprocessable Content",
                                         "no such user in the tenant (or a disabled one)", "user_id");
                      case R::Overlaps:
                          throw ApiError(
                              409, "Conflict",
                              "the override overlaps override " + saved.id +
                                  ": overrides of a schedule never overlap (shorten or delete it first)",
                              "starts_at");
                      case R::Saved:
                          break;
                  }
                  call.audit("schedule.override.create", saved.id, "ok", "{\"schedule_id\":\"" + id + "\"}");
                  call.ex.response.set("Location", "/api/v1/schedules/" + id + "/overrides/" + saved.id);
                  auto rows = schedules(call).overrides(call.tenant(), id, body.startsAtMs);
                  for (const auto& r : rows.value_or(std::vector<storage::OverrideRow>{}))
                      if (r.id == saved.id) return sendObject(call.ex, 201, describe(r));
                  throw ApiError(404, "Not Found", "no such override");
              });

    api.route(router, "DELETE", "/api/v1/schedules/{id}/overrides/{override}",
              "api.schedules.overrides.delete", Access::Member, [](Call& call) {
                  const std::string& id = call.uuidId("schedule");
                  const std::string& overrideId = call.uuidParam("override", "override");
                  if (!schedules(call).removeOverride(call.tenant(), id, overrideId))
                      throw ApiError(404, "Not Found", "no such override");
                  call.audit("schedule.override.delete", overrideId, "ok",
                             "{\"schedule_id\":\"" + id + "\"}");
                  call.sendNoContent();
              });

    // The feed URLs: anyone who reads a schedule may have its URL, its tenant-admins rotate it; a user's
    // own URL is theirs and their admins'.
    using storage::CalendarKind;
    struct FeedRoute {
        const char *method, *pattern, *name;
        Access access;
        CalendarKind kind;
        bool rotate;
    };
    for (const FeedRoute& r : std::initializer_list<FeedRoute>{
             {"GET", "/api/v1/schedules/{id}/calendar-url", "api.schedules.calendar_url", Access::Reader,
              CalendarKind::Schedule, false},
             {"POST", "/api/v1/schedules/{id}/calendar-url", "api.schedules.calendar_url.rotate",
              Access::TenantAdmin, CalendarKind::Schedule, true},
             {"GET", "/api/v1/users/{id}/calendar-url", "api.users.calendar_url", Access::Reader,
              CalendarKind::User, false},
             {"POST", "/api/v1/users/{id}/calendar-url", "api.users.calendar_url.rotate", Access::Member,
              CalendarKind::User, true}})
        api.route(router, r.method, r.pattern, r.name, r.access, [r](Call& call) {
            bool schedule = r.kind == CalendarKind::Schedule;
            const std::string& id = schedule ? call.uuidId("schedule") : calendarOwner(call);
            signer(call);
            auto subject = schedules(call).calendar(call.tenant(), r.kind, id, r.rotate);
            if (!subject) throw ApiError(404, "Not Found", schedule ? "no such schedule" : "no such user");
            if (r.rotate)
                call.audit(schedule ? "schedule.calendar_url.rotate" : "user.calendar_url.rotate", id);
            sendFeedUrl(call, r.kind, id, subject->version, r.rotate ? 201 : 200);
        });

    api.route(router, "GET", "/api/v1/calendars/{token}", "api.calendars.feed", Access::Public, sendFeed);
}

}  // namespace pulse::http
