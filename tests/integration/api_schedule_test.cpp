// /api/v1/schedules: saved whole and read back, bad input answered by a problem naming the field (a handoff
// at 25:00, an unknown zone, an 11th layer, an overlapping override), another tenant's ids refused like
// unknown ones, changes audited; the timeline across the daylight-saving changes of 2027 in Europe/Berlin,
// America/New_York and Australia/Lord_Howe (a 30-minute change) and in Asia/Kathmandu (+05:45), shifts
// neither overlapping nor leaving a gap; layers, restrictions and overrides deciding who is on call; and the
// iCalendar feeds at signed URLs, refused when altered or revoked.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>

using namespace pulse::test;

namespace {

std::string userIdOf(const std::string& email) {
    return scalar("SELECT id::text FROM pulse.users WHERE email = $1::text", {email});
}

// A user of tenant a_ named like the test, for rotations of more than the fixture's two.
std::string extraUser(const std::string& tenantId, const std::string& email) {
    return scalar(
        "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash) VALUES ($1::uuid, "
        "$2::text, $2::text, 'customer', '$argon2id$x') RETURNING id::text",
        {tenantId, email});
}

std::string layer(const std::string& rotation, const std::string& handoff, const std::string& start,
                  const std::vector<std::string>& users, const std::string& extra = "") {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "\"" : ",\"") + u + "\"";
    return "{\"rotation\":\"" + rotation + "\",\"handoff\":\"" + handoff + "\",\"start_date\":\"" + start +
           "\",\"users\":[" + list + "]" + extra + "}";
}

std::string scheduleBody(const std::string& name, const std::string& zone, const std::string& layers) {
    return "{\"name\":\"" + name + "\",\"time_zone\":\"" + zone + "\",\"layers\":" + layers + "}";
}

struct Shift {
    std::string starts, ends, user;
};

// The handoffs inside the timeline (each shift's start but the first, which is the range's), checking that
// every shift ends where the next begins: no overlap, no gap.
std::vector<std::string> handoffs(const std::vector<Shift>& shifts) {
    std::vector<std::string> out;
    for (size_t i = 1; i < shifts.size(); ++i) {
        EXPECT_EQ(shifts[i - 1].ends, shifts[i].starts) << "shift " << i << " overlaps or leaves a gap";
        EXPECT_NE(shifts[i - 1].user, shifts[i].user);
        out.push_back(shifts[i].starts);
    }
    return out;
}

}  // namespace

class ApiSchedules : public ApiTest {
  protected:
    static std::vector<Shift> timeline(const Session& s, const std::string& id, const std::string& from,
                                       int days) {
        auto r = call("GET",
                      "/api/v1/schedules/" + id + "/timeline?from=" + from + "&days=" + std::to_string(days),
                      "", with(s));
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<Shift> out;
        auto shifts = json(r.body)->getArray("shifts");
        for (size_t i = 0; shifts && i < shifts->size(); ++i) {
            auto o = shifts->getObject(i);
            out.push_back({o->getValue<std::string>("starts_at"), o->getValue<std::string>("ends_at"),
                           o->getObject("user")->getValue<std::string>("id")});
        }
        return out;
    }

    static std::string create(const Session& admin, const std::string& body) {
        auto r = call("POST", "/api/v1/schedules", body, with(admin));
        EXPECT_EQ(r.status, 201) << r.body;
        return r.status == 201 ? json(r.body)->getValue<std::string>("id") : "";
    }
};

TEST_F(ApiSchedules, SchedulesAreSavedWholeCheckedAndAudited) {
    auto admin = login(a_.admin);
    std::string customer = userIdOf(a_.customer);
    std::string layers = "[" + layer("weekly", "09:00", "2027-01-04", {a_.adminId, customer}) + "," +
                         layer("daily", "18:00", "2027-01-04", {customer},
                               ",\"name\":\"nights\",\"restriction\":{\"from\":\"18:00\",\"to\":\"08:00\","
                               "\"days\":[1,2,3,4,5]}") +
                         "]";
    auto created =
        call("POST", "/api/v1/schedules", scheduleBody("primary", "Europe/Berlin", layers), with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    auto s = json(created.body);
    std::string id = s->getValue<std::string>("id");
    EXPECT_EQ(s->getValue<std::string>("time_zone"), "Europe/Berlin");
    auto nights = s->getArray("layers")->getObject(1);
    EXPECT_EQ(nights->getValue<int>("layer"), 2);
    EXPECT_EQ(nights->getValue<std::string>("handoff"), "18:00");
    EXPECT_EQ(nights->getObject("restriction")->getValue<std::string>("to"), "08:00");
    EXPECT_EQ(nights->getObject("restriction")->getArray("days")->size(), 5u);
    EXPECT_EQ(nights->getArray("users")->getObject(0)->getValue<std::string>("id"), customer);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'schedule.create' AND target = $1", {id}),
        "1");

    struct Bad {
        std::string body;
        int status;
        std::string field;
    };
    std::string eleven = "[";
    for (int i = 0; i < 11; ++i)
        eleven += (i ? "," : "") + layer("daily", "09:00", "2027-01-01", {a_.adminId});
    eleven += "]";
    auto one = [&](const std::string& l) { return "[" + l + "]"; };
    std::vector<Bad> bad = {
        {scheduleBody("late", "UTC", one(layer("daily", "25:00", "2027-01-01", {a_.adminId}))), 422,
         "layers[0].handoff"},
        {scheduleBody("zone", "Mars/Olympus_Mons", one(layer("daily", "09:00", "2027-01-01", {a_.adminId}))),
         422, "time_zone"},
        {scheduleBody("eleven", "UTC", eleven), 422, "layers[10]"},
        {scheduleBody("none", "UTC", "[]"), 422, "layers"},
        {scheduleBody("leap", "UTC", one(layer("daily", "09:00", "2027-02-29", {a_.adminId}))), 422,
         "layers[0].start_date"},
        {scheduleBody("monthly", "UTC", one(layer("monthly", "09:00", "2027-01-01", {a_.adminId}))), 422,
         "layers[0].rotation"},
        {scheduleBody("nobody", "UTC", one(layer("daily", "09:00", "2027-01-01", {}))), 422,
         "layers[0].users"},
        {scheduleBody("empty", "UTC",
                      one(layer("daily", "09:00", "2027-01-01", {a_.adminId},
                                ",\"restriction\":{\"from\":\"08:00\",\"to\":\"08:00\"}"))),
         422, "layers[0].restriction.to"},
        {scheduleBody("day8", "UTC",
                      one(layer("daily", "09:00", "2027-01-01", {a_.adminId},
                                ",\"restriction\":{\"from\":\"08:00\",\"to\":\"17:00\",\"days\":[1,8]}"))),
         422, "layers[0].restriction.days[1]"},
        // Another tenant's user is refused like an unknown one.
        {scheduleBody("theirs", "UTC",
                      one(layer("daily", "09:00", "2027-01-01", {a_.adminId, userIdOf(b_.admin)}))),
         422, "layers[0].users[1]"},
        {scheduleBody("primary", "UTC", one(layer("daily", "09:00", "2027-01-01", {a_.adminId}))), 409,
         "name"},
    };
    for (const auto& b : bad) {
        auto r = call("POST", "/api/v1/schedules", b.body, with(admin));
        EXPECT_EQ(r.status, b.status) << b.body << " -> " << r.body;
        if (r.status == b.status) {
            EXPECT_EQ(json(r.body)->getValue<std::string>("field"), b.field) << r.body;
        }
    }

    // Replaced whole: one layer now.
    auto replaced = call("PUT", "/api/v1/schedules/" + id,
                         scheduleBody("primary", "America/New_York",
                                      one(layer("daily", "07:30", "2027-01-01", {customer, a_.adminId}))),
                         with(admin));
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_EQ(json(replaced.body)->getArray("layers")->size(), 1u);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'schedule.update' AND target = $1", {id}),
        "1");

    // Another tenant reads none of it and cannot change it.
    auto other = login(b_.admin);
    EXPECT_EQ(call("GET", "/api/v1/schedules/" + id, "", with(other)).status, 404);
    EXPECT_EQ(call("GET", "/api/v1/schedules/" + id + "/timeline", "", with(other)).status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/schedules/" + id, "", with(other)).status, 404);
    EXPECT_EQ(json(call("GET", "/api/v1/schedules", "", with(other)).body)->getArray("items")->size(), 0u);
    // Customers read schedules but do not change them.
    auto reader = login(a_.customer);
    EXPECT_EQ(call("GET", "/api/v1/schedules/" + id, "", with(reader)).status, 200);
    EXPECT_EQ(call("DELETE", "/api/v1/schedules/" + id, "", with(reader)).status, 403);

    // A policy paging the schedule keeps it; once the policy lets go, it can be deleted.
    auto policy =
        call("POST", "/api/v1/escalation-policies",
             "{\"name\":\"via schedule\",\"levels\":[{\"targets\":[{\"type\":\"schedule\",\"id\":\"" + id +
                 "\",\"next_on_repeat\":true}]}]}",
             with(admin));
    ASSERT_EQ(policy.status, 201) << policy.body;
    auto target = json(policy.body)->getArray("levels")->getObject(0)->getArray("targets")->getObject(0);
    EXPECT_EQ(target->getValue<std::string>("name"), "primary");
    EXPECT_TRUE(target->getValue<bool>("next_on_repeat"));
    auto misplaced = call("POST", "/api/v1/escalation-policies",
                          "{\"name\":\"next user\",\"levels\":[{\"targets\":[{\"type\":\"user\",\"id\":\"" +
                              a_.adminId + "\",\"next_on_repeat\":true}]}]}",
                          with(admin));
    EXPECT_EQ(misplaced.status, 422);
    EXPECT_EQ(json(misplaced.body)->getValue<std::string>("field"), "levels[0].targets[0].next_on_repeat");
    auto theirs =
        call("POST", "/api/v1/escalation-policies",
             "{\"name\":\"their schedule\",\"levels\":[{\"targets\":[{\"type\":\"schedule\",\"id\":\"" + id +
                 "\"}]}]}",
             with(other));
    EXPECT_EQ(theirs.status, 422) << theirs.body;
    EXPECT_EQ(call("DELETE", "/api/v1/schedules/" + id, "", with(admin)).status, 409);
    std::string policyId = json(policy.body)->getValue<std::string>("id");
    ASSERT_EQ(call("DELETE", "/api/v1/escalation-policies/" + policyId, "", with(admin)).status, 204);
    EXPECT_EQ(call("DELETE", "/api/v1/schedules/" + id, "", with(admin)).status, 204);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'schedule.delete' AND target = $1 AND "
               "result = 'ok'",
               {id}),
        "1");
}

// A handoff inside the hour the clocks skip happens as far past the gap's start as it said (02:30 is 03:30
// summer time); inside the hour they show twice, at its first occurrence. The day of the change is one hour
// shorter or longer; shifts share their boundaries.
TEST_F(ApiSchedules, HandoffsFollowTheLocalClockAcrossDaylightSavingChanges) {
    auto admin = login(a_.admin);
    std::string b = userIdOf(a_.customer);
    struct Case {
        std::string zone, handoff, start, from;
        std::vector<std::string> expected;
    };
    std::vector<Case> cases = {
        // Berlin: 2027-03-28 02:00 CET -> 03:00 CEST; 2027-10-31 03:00 CEST -> 02:00 CET.
        {"Europe/Berlin",
         "02:30",
         "2027-03-20",
         "2027-03-27T00:00:00Z",
         {"2027-03-27T01:30:00.000Z", "2027-03-28T01:30:00.000Z", "2027-03-29T00:30:00.000Z"}},
        {"Europe/Berlin",
         "02:30",
         "2027-10-20",
         "2027-10-30T00:00:00Z",
         {"2027-10-30T00:30:00.000Z", "2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"}},
        // New York: 2027-03-14 02:00 EST -> 03:00 EDT; 2027-11-07 02:00 EDT -> 01:00 EST.
        {"America/New_York",
         "02:30",
         "2027-03-01",
         "2027-03-13T00:00:00Z",
         {"2027-03-13T07:30:00.000Z", "2027-03-14T07:30:00.000Z", "2027-03-15T06:30:00.000Z"}},
        {"America/New_York",
         "01:30",
         "2027-11-01",
         "2027-11-06T00:00:00Z",
         {"2027-11-06T05:30:00.000Z", "2027-11-07T05:30:00.000Z", "2027-11-08T06:30:00.000Z"}},
        // Lord Howe moves by 30 minutes: 2027-04-04 02:00 +11 -> 01:30 +10:30 (01:45 local is 14:45Z the day
        // before, the first time); 2027-10-03 02:00 +10:30 -> 02:30 +11 (02:15 is read as +10:30: 02:45
        // local).
        {"Australia/Lord_Howe",
         "01:45",
         "2027-03-20",
         "2027-04-03T00:00:00Z",
         {"2027-04-03T14:45:00.000Z", "2027-04-04T15:15:00.000Z", "2027-04-05T15:15:00.000Z"}},
        {"Australia/Lord_Howe",
         "02:15",
         "2027-09-20",
         "2027-10-02T00:00:00Z",
         {"2027-10-02T15:45:00.000Z", "2027-10-03T15:15:00.000Z", "2027-10-04T15:15:00.000Z"}},
        // Kathmandu: +05:45 all year.
        {"Asia/Kathmandu",
         "09:00",
         "2027-03-01",
         "2027-03-27T00:00:00Z",
         {"2027-03-27T03:15:00.000Z", "2027-03-28T03:15:00.000Z", "2027-03-29T03:15:00.000Z"}},
    };
    int n = 0;
    for (const auto& c : cases) {
        std::string id =
            create(admin, scheduleBody("dst-" + std::to_string(n++), c.zone,
                                       "[" + layer("daily", c.handoff, c.start, {a_.adminId, b}) + "]"));
        ASSERT_FALSE(id.empty());
        auto shifts = timeline(admin, id, c.from, 3);
        EXPECT_EQ(handoffs(shifts), c.expected) << c.zone << " " << c.from;
    }

    // A weekly rotation handing off on Mondays at 09:00 Berlin time, across the spring change: the week that
    // holds it is 167 hours long, and the next handoff is still at 09:00 local.
    std::string c = extraUser(a_.id, "third-" + a_.slug + "@example.com");
    std::string weekly =
        create(admin, scheduleBody("weekly-dst", "Europe/Berlin",
                                   "[" + layer("weekly", "09:00", "2027-03-15", {a_.adminId, b, c}) + "]"));
    auto shifts = timeline(admin, weekly, "2027-03-20T00:00:00Z", 20);
    EXPECT_EQ(handoffs(shifts),
              (std::vector<std::string>{"2027-03-22T08:00:00.000Z", "2027-03-29T07:00:00.000Z",
                                        "2027-04-05T07:00:00.000Z"}));
    ASSERT_EQ(shifts.size(), 4u);
    // Round robin from the start date: the week of 2027-03-15 is the first member's, then b, c, first again.
    EXPECT_EQ(shifts[0].user, a_.adminId);
    EXPECT_EQ(shifts[1].user, b);
    EXPECT_EQ(shifts[2].user, c);
    EXPECT_EQ(shifts[3].user, a_.adminId);

    auto bad = call("GET", "/api/v1/schedules/" + weekly + "/timeline?days=63", "", with(admin));
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(json(bad.body)->getValue<std::string>("field"), "days");
}

// A later layer wins where it has someone (a night layer over the weekly rotation), an override wins over
// every layer, and overrides of one schedule never overlap.
TEST_F(ApiSchedules, LayersAndOverridesDecideWhoIsOnCall) {
    auto admin = login(a_.admin);
    std::string b = userIdOf(a_.customer);
    std::string night = extraUser(a_.id, "night-" + a_.slug + "@example.com");
    std::string id = create(
        admin, scheduleBody(
                   "layered", "UTC",
                   "[" + layer("weekly", "09:00", "2027-05-03", {a_.adminId, b}) + "," +
                       layer("daily", "00:00", "2027-05-03", {night},
                             ",\"restriction\":{\"from\":\"22:00\",\"to\":\"06:00\",\"days\":[1,2,3,4,5]}") +
                       "]"));
    ASSERT_FALSE(id.empty());
    auto onCall = [&](const std::string& at) {
        auto r = call("GET", "/api/v1/schedules/" + id + "/on-call?at=" + at, "", with(admin));
        EXPECT_EQ(r.status, 200) << r.body;
        auto o = json(r.body);
        if (o->isNull("on_call")) return std::string("nobody");
        return o->getObject("on_call")->getObject("user")->getValue<std::string>("id");
    };
    // Monday 2027-05-03: 08:00 is before the first handoff (nobody), noon is the weekly layer's, 23:00 the
    // night layer's (Monday night), Saturday 23:00 the weekly layer's again (no night cover at weekends).
    EXPECT_EQ(onCall("2027-05-03T08:00:00Z"), "nobody");
    EXPECT_EQ(onCall("2027-05-03T12:00:00Z"), a_.adminId);
    EXPECT_EQ(onCall("2027-05-03T23:00:00Z"), night);
    EXPECT_EQ(onCall("2027-05-04T05:59:00Z"), night);
    EXPECT_EQ(onCall("2027-05-08T23:00:00Z"), a_.adminId);
    EXPECT_EQ(onCall("2027-05-10T12:00:00Z"), b);

    auto addOverride = [&](const std::string& user, const std::string& from, const std::string& to,
                           Session s) {
        return call("POST", "/api/v1/schedules/" + id + "/overrides",
                    "{\"user_id\":\"" + user + "\",\"starts_at\":\"" + from + "\",\"ends_at\":\"" + to +
                        "\",\"note\":\"swap\"}",
                    with(s));
    };
    // Members add overrides (swapping a shift is everyday work); it wins over both layers.
    auto member = login(a_.customer);
    auto swap = addOverride(b, "2027-05-03T20:00:00Z", "2027-05-04T02:00:00Z", member);
    ASSERT_EQ(swap.status, 201) << swap.body;
    std::string swapId = json(swap.body)->getValue<std::string>("id");
    EXPECT_EQ(onCall("2027-05-03T23:00:00Z"), b);
    EXPECT_EQ(onCall("2027-05-04T03:00:00Z"), night);
    auto overlapping = addOverride(a_.adminId, "2027-05-04T01:00:00Z", "2027-05-04T03:00:00Z", admin);
    EXPECT_EQ(overlapping.status, 409) << overlapping.body;
    EXPECT_EQ(json(overlapping.body)->getValue<std::string>("field"), "starts_at");
    // Touching is not overlapping.
    EXPECT_EQ(addOverride(a_.adminId, "2027-05-04T02:00:00Z", "2027-05-04T03:00:00Z", admin).status, 201);
    auto backwards = addOverride(a_.adminId, "2027-05-06T02:00:00Z", "2027-05-06T01:00:00Z", admin);
    EXPECT_EQ(backwards.status, 422);
    EXPECT_EQ(json(backwards.body)->getValue<std::string>("field"), "ends_at");
    auto stranger = addOverride(userIdOf(b_.admin), "2027-05-07T02:00:00Z", "2027-05-07T03:00:00Z", admin);
    EXPECT_EQ(stranger.status, 422);
    EXPECT_EQ(json(stranger.body)->getValue<std::string>("field"), "user_id");

    // The timeline shows the override as its source; the user's own view lists it.
    auto r = call("GET", "/api/v1/schedules/" + id + "/timeline?from=2027-05-03T18:00:00Z&days=1", "",
                  with(admin));
    ASSERT_EQ(r.status, 200);
    auto shifts = json(r.body)->getArray("shifts");
    ASSERT_GE(shifts->size(), 3u);
    auto second = shifts->getObject(1);
    EXPECT_EQ(second->getObject("source")->getValue<std::string>("type"), "override");
    EXPECT_EQ(second->getValue<std::string>("starts_at"), "2027-05-03T20:00:00.000Z");
    auto mine = call("GET", "/api/v1/users/" + b + "/on-call?at=2027-05-03T21:00:00Z", "", with(member));
    ASSERT_EQ(mine.status, 200) << mine.body;
    // (b is in the other tests' rotations of this tenant too: only this schedule's entry is looked at.)
    auto now = json(mine.body)->getArray("on_call");
    int here = 0;
    for (size_t i = 0; i < now->size(); ++i) {
        auto entry = now->getObject(i);
        if (entry->getObject("schedule")->getValue<std::string>("id") != id) continue;
        ++here;
        EXPECT_EQ(entry->getObject("source")->getValue<std::string>("type"), "override");
    }
    EXPECT_EQ(here, 1);
    // Upcoming, in this schedule: b's week from Monday 2027-05-10 09:00, cut by the weeknight layer (Monday
    // to Friday nights 22:00-06:00 are the night user's; the weekend is b's throughout).
    auto upcoming = json(mine.body)->getArray("upcoming");
    std::vector<std::string> starts;
    for (size_t i = 0; i < upcoming->size(); ++i)
        if (upcoming->getObject(i)->getObject("schedule")->getValue<std::string>("id") == id)
            starts.push_back(upcoming->getObject(i)->getValue<std::string>("starts_at"));
    EXPECT_EQ(starts, (std::vector<std::string>{"2027-05-10T09:00:00.000Z", "2027-05-11T06:00:00.000Z",
                                                "2027-05-12T06:00:00.000Z", "2027-05-13T06:00:00.000Z",
                                                "2027-05-14T06:00:00.000Z", "2027-05-15T06:00:00.000Z"}));

    EXPECT_EQ(call("DELETE", "/api/v1/schedules/" + id + "/overrides/" + swapId, "", with(member)).status,
              204);
    EXPECT_EQ(onCall("2027-05-03T23:00:00Z"), night);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action LIKE 'schedule.override.%' AND target = $1",
               {swapId}),
        "2");
    auto other = login(b_.admin);
    EXPECT_EQ(call("GET", "/api/v1/schedules/" + id + "/overrides", "", with(other)).status, 404);
}

// Calendar apps poll the feed without signing in: the URL carries a signature, an altered one is refused,
// and rotating the URL revokes the old one.
TEST_F(ApiSchedules, CalendarFeedsAreSignedAndRevocable) {
    auto admin = login(a_.admin);
    std::string b = userIdOf(a_.customer);
    // Started well before today, daily: the feed (a week back, eight weeks ahead) has shifts of both.
    std::string id =
        create(admin, scheduleBody("feed, \\\"quoted\\\"; name", "Europe/Berlin",
                                   "[" + layer("daily", "09:00", "2026-01-05", {a_.adminId, b}) + "]"));
    ASSERT_FALSE(id.empty());
    auto url = call("GET", "/api/v1/schedules/" + id + "/calendar-url", "", with(admin));
    ASSERT_EQ(url.status, 200) << url.body;
    std::string path = json(url.body)->getValue<std::string>("path");
    ASSERT_EQ(path.rfind("/api/v1/calendars/", 0), 0u) << path;

    auto feed = call("GET", path);  // no credentials
    ASSERT_EQ(feed.status, 200) << feed.body;
    EXPECT_NE(feed.body.find("BEGIN:VCALENDAR\r\n"), std::string::npos);
    EXPECT_NE(feed.body.find("BEGIN:VEVENT\r\n"), std::string::npos);
    EXPECT_NE(feed.body.find("X-WR-CALNAME:feed\\, \"quoted\"\\; name (on call)"), std::string::npos)
        << feed.body;
    EXPECT_NE(feed.body.find("DTSTART:"), std::string::npos);
    EXPECT_EQ(feed.body.find("\n\n"), std::string::npos);

    std::string altered = path;
    altered[path.size() / 2] = altered[path.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(call("GET", altered).status, 404);
    EXPECT_EQ(call("GET", "/api/v1/calendars/garbage.ics").status, 404);

    auto member = login(a_.customer);
    EXPECT_EQ(call("POST", "/api/v1/schedules/" + id + "/calendar-url", "", with(member)).status, 403);
    auto rotated = call("POST", "/api/v1/schedules/" + id + "/calendar-url", "", with(admin));
    ASSERT_EQ(rotated.status, 201) << rotated.body;
    std::string fresh = json(rotated.body)->getValue<std::string>("path");
    EXPECT_NE(fresh, path);
    EXPECT_EQ(call("GET", path).status, 404);  // revoked
    EXPECT_EQ(call("GET", fresh).status, 200);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'schedule.calendar_url.rotate' AND "
                     "target = $1 AND result = 'ok'",
                     {id}),
              "1");

    // A user's own feed lists their shifts in every schedule; it is theirs and their admins' to fetch.
    auto own = call("GET", "/api/v1/users/" + b + "/calendar-url", "", with(member));
    ASSERT_EQ(own.status, 200) << own.body;
    EXPECT_EQ(call("GET", "/api/v1/users/" + a_.adminId + "/calendar-url", "", with(member)).status, 403);
    EXPECT_EQ(call("GET", "/api/v1/users/" + b + "/calendar-url", "", with(admin)).status, 200);
    auto userFeed = call("GET", json(own.body)->getValue<std::string>("path"));
    ASSERT_EQ(userFeed.status, 200);
    EXPECT_NE(userFeed.body.find("SUMMARY:On call: feed\\, \"quoted\"\\; name"), std::string::npos)
        << userFeed.body;
    // Another tenant's admin cannot mint one for this tenant's user.
    EXPECT_EQ(call("GET", "/api/v1/users/" + b + "/calendar-url", "", with(login(b_.admin))).status, 404);
}
