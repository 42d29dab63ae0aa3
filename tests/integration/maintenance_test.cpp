// Maintenance windows against real PostgreSQL and the real outbox: an alert that opens in a window is
// recorded and shown as in maintenance but notifies nobody and escalates nothing; closed before the window
// ends it sends no recovery either; still open when the window ends, its opening is notified then and its
// escalation starts. An alert escalating when a window begins waits for it to end. Recurring windows follow
// the local clock across daylight-saving changes (and a monthly "31" skips shorter months).
#include "alert_env.h"
#include "storage/EscalationPolicyStore.h"
#include "storage/MaintenanceStore.h"
#include "workers/Escalator.h"

#include <gtest/gtest.h>

using namespace pulse;
using namespace pulse::test;

namespace {

long long mwNowMs() {
    return std::stoll(scalarAsOwner("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
}

// A one-off window over the fixture's device (by id) from an hour ago for `hours` more.
std::string windowNow(AlertFixture& f, const std::string& name, int hours = 1) {
    storage::MaintenanceWindowFields w;
    w.name = name;
    w.timeZone = "UTC";
    w.recurrence = "once";
    w.startsAtMs = mwNowMs() - 3600000;
    w.endsAtMs = mwNowMs() + hours * 3600000LL;
    w.scope = "devices";
    w.deviceIds = {f.deviceId};
    auto saved = storage::MaintenanceStore(f.pool).save(f.tenantId, std::nullopt, w, "test");
    EXPECT_FALSE(saved.id.empty()) << saved.badReference;
    return saved.id;
}

std::string countOf(const std::string& sql, const std::string& tenant) {
    return scalarAsOwner(sql, {tenant});
}

int64_t openHot(AlertFixture& f, const std::string& rule) {
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 95, "CRITICAL", true));
    f.alerts->drain();
    return std::stoll(scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
}

}  // namespace

TEST(Maintenance, AnAlertOpenedAndClosedInMaintenanceNotifiesNobody) {
    AlertFixture f("mw-quiet");
    f.routeAll(f.webhookChannel("ops", "/ops"));
    std::string window = windowNow(f, "firmware");
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    int64_t alert = openHot(f, rule);
    EXPECT_EQ(
        scalarAsOwner("SELECT maintenance_window_id::text || ' ' || notice_held FROM pulse.alerts WHERE "
                      "id = $1::bigint",
                      {std::to_string(alert)}),
        window + " true");
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 20, "CRITICAL", true));
    f.alerts->drain();
    EXPECT_EQ(scalarAsOwner("SELECT status FROM pulse.alerts WHERE id = $1::bigint", {std::to_string(alert)}),
              "CLOSED");
    // Recorded (opened, closed), notified to nobody: no opening, no recovery.
    EXPECT_EQ(countOf("SELECT count(*) FROM pulse.alert_events WHERE tenant_id = $1::uuid", f.tenantId), "2");
    EXPECT_EQ(countOf("SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid", f.tenantId), "0");
    // The window over, the sweep releases the hold and tells nobody about an alert that is closed.
    storage::MaintenanceStore(f.pool).remove(f.tenantId, window);
    f.alerts->releaseHeld();
    EXPECT_EQ(countOf("SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid", f.tenantId), "0");
    EXPECT_EQ(
        scalarAsOwner("SELECT notice_held FROM pulse.alerts WHERE id = $1::bigint", {std::to_string(alert)}),
        "f");
}

TEST(Maintenance, AnAlertStillOpenWhenTheWindowEndsNotifiesThenAndEscalates) {
    AlertFixture f("mw-release");
    std::string ops = f.webhookChannel("ops", "/ops");
    f.routeAll(ops);
    storage::EscalationPolicyFields p;
    p.name = "pager";
    p.isDefault = true;
    p.levels = {{300, {{"channel", ops, ""}}}};
    ASSERT_FALSE(storage::EscalationPolicyStore(f.pool).save(f.tenantId, std::nullopt, p).id.empty());
    std::string window = windowNow(f, "firmware");
    int64_t alert =
        openHot(f, f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})"));
    auto esc = escalator(f);
    EXPECT_EQ(esc->fireDue(mwNowMs() + 3600000), 0);  // held: no timer at all
    f.alerts->releaseHeld();                          // the window still runs: nothing changes
    EXPECT_EQ(countOf("SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid", f.tenantId), "0");

    // Ending the window early (editing it to have ended) ends the hold.
    storage::MaintenanceWindowFields ended = *storage::MaintenanceStore(f.pool).find(f.tenantId, window);
    ended.endsAtMs = mwNowMs() - 1000;
    ASSERT_TRUE(storage::MaintenanceStore(f.pool).save(f.tenantId, window, ended, "test").found);
    f.alerts->releaseHeld();
    EXPECT_EQ(scalarAsOwner(
                  "SELECT string_agg(payload::jsonb->>'type', ',') FROM pulse.deliveries WHERE alert_id = "
                  "$1::bigint AND routing_rule_id IS NOT NULL",
                  {std::to_string(alert)}),
              "alert.opened");
    EXPECT_EQ(
        scalarAsOwner("SELECT string_agg(kind, ',' ORDER BY id) FROM pulse.alert_events WHERE alert_id = "
                      "$1::bigint",
                      {std::to_string(alert)}),
        "OPENED,MAINTENANCE_ENDED");
    EXPECT_EQ(esc->fireDue(mwNowMs() + 1000), 1);  // and its escalation starts
    f.alerts->releaseHeld();                       // released once
    EXPECT_EQ(
        countOf("SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid AND routing_rule_id IS NOT "
                "NULL",
                f.tenantId),
        "1");
}

TEST(Maintenance, AnEscalatingAlertWaitsWhileItsDeviceIsInMaintenance) {
    AlertFixture f("mw-pause");
    std::string ops = f.webhookChannel("ops", "/ops");
    storage::EscalationPolicyFields p;
    p.name = "pager";
    p.isDefault = true;
    p.levels = {{60, {{"channel", ops, ""}}}, {60, {{"channel", ops, ""}}}};
    ASSERT_FALSE(storage::EscalationPolicyStore(f.pool).save(f.tenantId, std::nullopt, p).id.empty());
    int64_t alert =
        openHot(f, f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})"));
    auto esc = escalator(f);
    long long t = mwNowMs();
    EXPECT_EQ(esc->fireDue(t), 1);  // level 1, before any maintenance
    std::string window = windowNow(f, "swap");
    EXPECT_EQ(esc->fireDue(t + 61000), 0);  // due, but deferred a minute: no page
    EXPECT_EQ(
        scalarAsOwner("SELECT (extract(epoch FROM next_escalation_at) * 1000)::bigint - $2::bigint FROM "
                      "pulse.alerts WHERE id = $1::bigint",
                      {std::to_string(alert), std::to_string(t + 61000)}),
        "60000");
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alert_events WHERE alert_id = $1::bigint AND kind = "
                            "'ESCALATED'",
                            {std::to_string(alert)}),
              "1");
    storage::MaintenanceStore(f.pool).remove(f.tenantId, window);
    EXPECT_EQ(esc->fireDue(t + 122000), 1);  // the window gone: level 2
    EXPECT_EQ(
        scalarAsOwner("SELECT string_agg(detail->>'level', ',' ORDER BY id) FROM pulse.alert_events WHERE "
                      "alert_id = $1::bigint AND kind = 'ESCALATED'",
                      {std::to_string(alert)}),
        "1,2");
}

// Occurrences start at a local time, read like a schedule's handoff across DST, and last real minutes.
TEST(Maintenance, RecurringWindowsFollowTheLocalClock) {
    AlertFixture f("mw-recur");
    auto covers = [&](const std::string& recurrence, const std::string& zone, const std::string& start,
                      int minutes, const std::string& days, const std::string& at) {
        return scalarAsOwner(
            "SELECT pulse.maintenance_covers(w, $6::timestamptz) FROM (SELECT (NULL::uuid, $1::uuid, 'w', "
            "'', $2, "
            "$3, NULL, NULL, $4::time, $5::int, nullif($7, '')::integer[], '2027-01-01'::date, NULL, "
            "'tenant', "
            "NULL, NULL, NULL, true, '', now(), now())::pulse.maintenance_windows AS w) x",
            {f.tenantId, zone, recurrence, start, std::to_string(minutes), at, days});
    };
    // Sundays 02:30 Berlin for 3 hours: on 2027-03-28 02:30 does not exist, the window opens at 03:30 CEST.
    EXPECT_EQ(covers("weekly", "Europe/Berlin", "02:30", 180, "{7}", "2027-03-28T01:29:00Z"), "f");
    EXPECT_EQ(covers("weekly", "Europe/Berlin", "02:30", 180, "{7}", "2027-03-28T01:30:00Z"), "t");
    EXPECT_EQ(covers("weekly", "Europe/Berlin", "02:30", 180, "{7}", "2027-03-28T04:29:00Z"), "t");
    EXPECT_EQ(covers("weekly", "Europe/Berlin", "02:30", 180, "{7}", "2027-03-28T04:30:00Z"), "f");
    EXPECT_EQ(covers("weekly", "Europe/Berlin", "02:30", 180, "{7}", "2027-03-29T01:30:00Z"), "f");  // Monday
    // Daily 01:30 New York for an hour: on 2027-11-07 from the first 01:30 (EDT, 05:30Z) for 60 real minutes.
    EXPECT_EQ(covers("daily", "America/New_York", "01:30", 60, "", "2027-11-07T05:30:00Z"), "t");
    EXPECT_EQ(covers("daily", "America/New_York", "01:30", 60, "", "2027-11-07T06:30:00Z"), "f");
    // The 31st, monthly: March has one, April does not.
    EXPECT_EQ(covers("monthly", "UTC", "00:00", 60, "{31}", "2027-03-31T00:30:00Z"), "t");
    EXPECT_EQ(covers("monthly", "UTC", "00:00", 60, "{31}", "2027-05-01T00:30:00Z"), "f");
    // An occurrence running past midnight still covers the next day's first hours.
    EXPECT_EQ(covers("weekly", "UTC", "23:00", 180, "{1}", "2027-03-02T01:00:00Z"),
              "t");  // Monday 23:00 + 2 h
}

// Each scope covers what it names and nothing else: a site's devices, the devices with a tag, every device of
// the tenant (and none of another tenant's); an alert of a covered device is held, one of another is not.
TEST(Maintenance, EachScopeCoversWhatItNamesAndNothingElse) {
    AlertFixture f("mw-scopes");
    AlertFixture other("mw-scopes-other");
    std::string north = scalarAsOwner(
        "INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, 'North') "
        "RETURNING id",
        {f.tenantId});
    auto device = [&](const std::string& name, const std::string& site, const std::string& tags) {
        return scalarAsOwner(
            "INSERT INTO pulse.devices (tenant_id, name, site_id, tags) VALUES ($1::uuid, $2, "
            "nullif($3, '')::uuid, $4::text[]) RETURNING id",
            {f.tenantId, name, site, tags});
    };
    std::string atNorth = device("at-north", north, "{}"), tagged = device("tagged", "", "{boiler,floor-1}"),
                plain = device("plain", "", "{}");
    // Which of the devices (at-north, tagged, plain, the other tenant's) a window covers now: "1,0,0,0".
    auto covered = [&] {
        std::string out;
        for (const auto& [tenant, id] : std::vector<std::pair<std::string, std::string>>{
                 {f.tenantId, atNorth},
                 {f.tenantId, tagged},
                 {f.tenantId, plain},
                 {other.tenantId, std::to_string(other.deviceId)}})
            out += (out.empty() ? "" : ",") +
                   scalarAsOwner(
                       "SELECT (pulse.maintenance_window_for($1::uuid, $2::bigint, now()) IS NOT NULL)"
                       "::int",
                       {tenant, id});
        return out;
    };
    auto window = [&](const std::string& scope, std::optional<std::string> site,
                      std::optional<std::string> tag) {
        storage::MaintenanceWindowFields w;
        w.name = scope;
        w.timeZone = "UTC";
        w.startsAtMs = mwNowMs() - 60000;
        w.endsAtMs = mwNowMs() + 3600000;
        w.scope = scope;
        w.siteId = std::move(site);
        w.tag = std::move(tag);
        auto saved = storage::MaintenanceStore(f.pool).save(f.tenantId, std::nullopt, w, "test");
        EXPECT_FALSE(saved.id.empty()) << saved.badReference;
        return saved.id;
    };
    EXPECT_EQ(covered(), "0,0,0,0");

    std::string site = window("site", north, std::nullopt);
    EXPECT_EQ(covered(), "1,0,0,0");
    // Through the alert writer: the site's device's alert is held, the plain one's is not.
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    for (const auto& id : {atNorth, plain}) {
        auto t = f.transition(rule, PULSE_TRANSITION_FIRING, 95, "CRITICAL", true);
        t.deviceId = std::stoll(id);
        f.alerts->submit(t);
    }
    f.alerts->drain();
    EXPECT_EQ(
        scalarAsOwner("SELECT string_agg(d.name || ':' || a.notice_held, ',' ORDER BY d.name) FROM "
                      "pulse.alerts a JOIN pulse.devices d ON d.id = a.device_id WHERE a.rule_id = $1::uuid",
                      {rule}),
        "at-north:true,plain:false");
    storage::MaintenanceStore(f.pool).remove(f.tenantId, site);

    std::string tag = window("tag", std::nullopt, "boiler");
    EXPECT_EQ(covered(), "0,1,0,0");
    storage::MaintenanceStore(f.pool).remove(f.tenantId, tag);

    window("tenant", std::nullopt, std::nullopt);
    EXPECT_EQ(covered(), "1,1,1,0");
}
