// Grouping against real PostgreSQL, the real outbox and the real senders: a routing rule that groups by rule
// (or site) sends one notice listing an outage's alerts after its group wait, one more per group interval
// while the group changes, repeats an unchanged group with open alerts after its repeat interval, says when
// the whole group is acknowledged and when it is resolved, and a new alert then starts a new group. A group
// whose alerts closed before its first notice sends nothing. PagerDuty sees one incident per group. A group
// outlives an edit of its routing rule, ends with its deletion, is not paged for by silenced alerts, and its
// notices keep their order whichever alert leads them. Time is
// driven by the flusher's test clock (Escalator::flushGroups(nowMs)).
#include "alert_env.h"

#include <Poco/JSON/Parser.h>

#include <thread>

#include <gtest/gtest.h>

using namespace pulse;
using namespace pulse::test;

namespace {

long long groupingNowMs() {
    return std::stoll(scalarAsOwner("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
}

// A device of the fixture's tenant (at a site, when given); its id.
int64_t groupedDevice(AlertFixture& f, const std::string& name, const std::optional<std::string>& site = {}) {
    return std::stoll(scalarAsOwner(
        "INSERT INTO pulse.devices (tenant_id, name, site_id) VALUES ($1::uuid, $2, $3::uuid) RETURNING id",
        {f.tenantId, name, site}));
}

std::string groupingSite(AlertFixture& f, const std::string& name) {
    return scalarAsOwner("INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, $2) RETURNING id",
                         {f.tenantId, name});
}

void routeGrouped(AlertFixture& f, const std::string& channel, std::vector<std::string> by,
                  int repeatS = 3600) {
    services::RouteSpec r;
    r.channelId = channel;
    r.name = "grouped";
    r.grouping.by = std::move(by);
    r.grouping.waitS = 30;
    r.grouping.intervalS = 300;
    r.grouping.repeatS = repeatS;
    f.channels->createRoute(f.tenantId, r);
}

// The rule fires (or recovers) on the device.
void onDevice(AlertFixture& f, const std::string& rule, int64_t device, const std::string& name,
              pulse_transition kind, const std::string& severity = "HIGH") {
    auto t = f.transition(rule, kind, kind == PULSE_TRANSITION_FIRING ? 95 : 20, severity, true);
    t.deviceId = device;
    t.deviceName = name;
    f.alerts->submit(t);
    f.alerts->drain();
}

std::string tenantCount(AlertFixture& f, const std::string& sql) {
    return scalarAsOwner(sql, {f.tenantId});
}

// The group notices queued for the tenant so far, oldest first.
std::vector<Poco::JSON::Object::Ptr> groupNotices(AlertFixture& f) {
    std::vector<Poco::JSON::Object::Ptr> out;
    std::string all = scalarAsOwner(
        "SELECT coalesce(json_agg(payload::json ORDER BY id), '[]')::text FROM pulse.deliveries "
        "WHERE tenant_id = $1::uuid AND notification_group_id IS NOT NULL",
        {f.tenantId});
    auto array = Poco::JSON::Parser().parse(all).extract<Poco::JSON::Array::Ptr>();
    for (size_t i = 0; i < array->size(); ++i) out.push_back(array->getObject(static_cast<unsigned>(i)));
    return out;
}

}  // namespace

TEST(Grouping, AnOutageIsOneNoticeListingItsAlertsThenItsChangesThenItsResolution) {
    AlertFixture f("group-outage");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    routeGrouped(f, ops, {"rule"});
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();

    std::vector<int64_t> devices;
    for (int i = 1; i <= 3; ++i) devices.push_back(groupedDevice(f, "meter-" + std::to_string(i)));
    onDevice(f, rule, devices[0], "meter-1", PULSE_TRANSITION_FIRING, "HIGH");
    onDevice(f, rule, devices[1], "meter-2", PULSE_TRANSITION_FIRING, "CRITICAL");
    onDevice(f, rule, devices[2], "meter-3", PULSE_TRANSITION_FIRING, "HIGH");
    // Three alerts, one group, nothing sent during the group wait.
    EXPECT_EQ(tenantCount(f, "SELECT count(*) FROM pulse.alerts WHERE tenant_id = $1::uuid"), "3");
    EXPECT_EQ(tenantCount(f, "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid"),
              "1");
    EXPECT_EQ(
        tenantCount(f, "SELECT count(*) FROM pulse.notification_group_alerts WHERE tenant_id = $1::uuid"),
        "3");
    EXPECT_EQ(tenantCount(f, "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid"), "0");
    flusher->flushGroups(t0 + 20000);
    EXPECT_EQ(tenantCount(f, "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid"), "0");

    // The wait over: one notice, led by the critical one, listing all three.
    flusher->flushGroups(t0 + 31000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 1u);
    auto first = notices[0];
    EXPECT_EQ(first->getValue<std::string>("type"), "alert.opened");
    EXPECT_EQ(first->getObject("alert")->getValue<std::string>("severity"), "CRITICAL");
    EXPECT_EQ(first->getObject("alert")->getObject("device")->getValue<std::string>("name"), "meter-2");
    auto group = first->getObject("group");
    EXPECT_EQ(group->getValue<std::string>("status"), "firing");
    EXPECT_EQ(group->getObject("counts")->getValue<int>("open"), 3);
    EXPECT_EQ(group->getArray("alerts")->size(), 3u);
    EXPECT_EQ(group->getObject("rule")->getValue<std::string>("id"), rule);
    EXPECT_EQ(group->getValue<std::string>("summary"), "3 alerts (3 open) of hot");
    EXPECT_EQ(group->getValue<int>("notification"), 1);

    // Delivered once, through the real outbox and the signed webhook.
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_TRUE(f.settled());
    EXPECT_EQ(f.receiver.waitFor(1, "/ok/ops"), 1u);

    // A fourth alert joins: not sent before group_interval after the last notice, then one notice of four.
    int64_t fourth = groupedDevice(f, "meter-4");
    onDevice(f, rule, fourth, "meter-4", PULSE_TRANSITION_FIRING);
    flusher->flushGroups(t0 + 31000 + 200000);
    EXPECT_EQ(groupNotices(f).size(), 1u);
    flusher->flushGroups(t0 + 31000 + 300000);
    notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 2u);
    EXPECT_EQ(notices[1]->getObject("group")->getObject("counts")->getValue<int>("total"), 4);
    EXPECT_EQ(notices[1]->getObject("group")->getValue<int>("id"), group->getValue<int>("id"));

    // All recover: one resolution at the next interval; the group ends.
    long long last = t0 + 31000 + 300000;
    for (size_t i = 0; i < devices.size(); ++i)
        onDevice(f, rule, devices[i], "meter-" + std::to_string(i + 1), PULSE_TRANSITION_CLEARED);
    onDevice(f, rule, fourth, "meter-4", PULSE_TRANSITION_CLEARED);
    // Recoveries are not sent one by one through the grouping rule.
    EXPECT_EQ(tenantCount(f, "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid"), "2");
    flusher->flushGroups(last + 300000);
    notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 3u);
    EXPECT_EQ(notices[2]->getValue<std::string>("type"), "alert.closed");
    EXPECT_EQ(notices[2]->getObject("group")->getValue<std::string>("status"), "resolved");
    EXPECT_EQ(notices[2]->getObject("group")->getObject("counts")->getValue<int>("closed"), 4);
    EXPECT_EQ(tenantCount(f,
                          "SELECT string_agg(status, ',') FROM pulse.notification_groups WHERE tenant_id = "
                          "$1::uuid"),
              "RESOLVED");
    // Nothing more, however long.
    flusher->flushGroups(last + 86400000);
    EXPECT_EQ(groupNotices(f).size(), 3u);

    // The next alert starts a new group with a new wait.
    onDevice(f, rule, devices[0], "meter-1", PULSE_TRANSITION_FIRING);
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid AND "
                          "status = 'OPEN'"),
              "1");
    ASSERT_TRUE(f.settled());
    EXPECT_EQ(f.receiver.waitFor(3, "/ok/ops"), 3u);
    d->stop();
    EXPECT_EQ(
        tenantCount(f,
                    "SELECT string_agg(status, ',' ORDER BY id) FROM pulse.deliveries WHERE tenant_id = "
                    "$1::uuid"),
        "DONE,DONE,DONE");
    // Each notice went into the history of every alert it listed, naming the group: three for the first
    // three alerts, two for the fourth (it joined after the first notice), none for the new group's alert.
    EXPECT_EQ(scalarAsOwner("SELECT string_agg(n::text, ',' ORDER BY id) FROM (SELECT a.id, (SELECT count(*) "
                            "FROM pulse.alert_events e WHERE e.alert_id = a.id AND e.kind = 'NOTIFIED' "
                            "AND e.detail->>'group' = $2) AS n FROM pulse.alerts a WHERE a.tenant_id = "
                            "$1::uuid) s",
                            {f.tenantId, std::to_string(group->getValue<int>("id"))}),
              "3,3,3,2,0");
    // Each notice's webhook-id is its group's, numbered: a retry would be recognisable.
    EXPECT_EQ(tenantCount(f,
                          "SELECT string_agg(idempotency_key, ',' ORDER BY id) FROM pulse.deliveries WHERE "
                          "tenant_id = $1::uuid"),
              "grp_" + std::to_string(group->getValue<int>("id")) + "_1,grp_" +
                  std::to_string(group->getValue<int>("id")) + "_2,grp_" +
                  std::to_string(group->getValue<int>("id")) + "_3");
}

TEST(Grouping, AnUnchangedGroupRepeatsUntilAcknowledgedAndAGroupClosedInItsWaitSaysNothing) {
    AlertFixture f("group-repeat");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    routeGrouped(f, ops, {"rule"}, 3600);
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t a = groupedDevice(f, "pump-1"), b = groupedDevice(f, "pump-2");
    onDevice(f, rule, a, "pump-1", PULSE_TRANSITION_FIRING);
    onDevice(f, rule, b, "pump-2", PULSE_TRANSITION_FIRING);
    flusher->flushGroups(t0 + 31000);
    ASSERT_EQ(groupNotices(f).size(), 1u);
    // Unchanged: nothing before the repeat interval, then the same list again, marked as a repeat.
    flusher->flushGroups(t0 + 31000 + 3000000);
    EXPECT_EQ(groupNotices(f).size(), 1u);
    flusher->flushGroups(t0 + 31000 + 3600000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 2u);
    EXPECT_TRUE(notices[1]->getObject("group")->getValue<bool>("repeat"));
    EXPECT_EQ(notices[1]->getValue<std::string>("type"), "alert.opened");

    // Both acknowledged: one "acknowledged" notice at the next interval, and no more repeats.
    for (const auto& id :
         {scalarAsOwner("SELECT min(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId}),
          scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId})})
        ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, std::stoll(id), "alice@example.com"));
    long long last = t0 + 31000 + 3600000;
    flusher->flushGroups(last + 300000);
    notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 3u);
    EXPECT_EQ(notices[2]->getValue<std::string>("type"), "alert.acknowledged");
    EXPECT_EQ(notices[2]->getObject("group")->getObject("counts")->getValue<int>("acknowledged"), 2);
    flusher->flushGroups(last + 300000 + 7200000);
    EXPECT_EQ(groupNotices(f).size(), 3u);

    // Another rule's alert opens and recovers within its group wait: its group ends without a word.
    std::string cold = f.ruleId("cold", "threshold", R"({"metric":"t","operator":"LT","threshold":0})");
    onDevice(f, cold, a, "pump-1", PULSE_TRANSITION_FIRING);
    onDevice(f, cold, a, "pump-1", PULSE_TRANSITION_CLEARED);
    flusher->flushGroups(groupingNowMs() + 31000);
    EXPECT_EQ(groupNotices(f).size(), 3u);
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid AND "
                          "status = 'RESOLVED' AND notifications = 0"),
              "1");
}

TEST(Grouping, AGroupAcknowledgedBeforeItsFirstNoticeWaitsForAChange) {
    AlertFixture f("group-acked-early");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    routeGrouped(f, ops, {"rule"});
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t a = groupedDevice(f, "fan-1"), b = groupedDevice(f, "fan-2");
    onDevice(f, rule, a, "fan-1", PULSE_TRANSITION_FIRING);
    std::string first =
        scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId});
    ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, std::stoll(first), "alice@example.com"));
    // Someone is on it before the wait ended: nothing is sent, and the group waits without a timer.
    flusher->flushGroups(t0 + 31000);
    EXPECT_EQ(groupNotices(f).size(), 0u);
    EXPECT_EQ(tenantCount(f,
                          "SELECT coalesce(next_flush_at::text, 'none') || ' ' || status FROM "
                          "pulse.notification_groups WHERE tenant_id = $1::uuid"),
              "none OPEN");
    // A second alert joins: it waits its group wait again, then one notice lists both.
    onDevice(f, rule, b, "fan-2", PULSE_TRANSITION_FIRING);
    flusher->flushGroups(groupingNowMs() + 20000);
    EXPECT_EQ(groupNotices(f).size(), 0u);
    flusher->flushGroups(groupingNowMs() + 31000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0]->getObject("group")->getValue<std::string>("summary"),
              "2 alerts (1 open, 1 acknowledged) of hot");

    // Another rule's alert, acknowledged and then closed before any notice: its group ends without a word.
    std::string cold = f.ruleId("cold", "threshold", R"({"metric":"t","operator":"LT","threshold":0})");
    onDevice(f, cold, a, "fan-1", PULSE_TRANSITION_FIRING);
    std::string coldAlert =
        scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId});
    ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, std::stoll(coldAlert), "alice@example.com"));
    flusher->flushGroups(groupingNowMs() + 31000);
    onDevice(f, cold, a, "fan-1", PULSE_TRANSITION_CLEARED);
    flusher->flushGroups(groupingNowMs() + 31000);
    EXPECT_EQ(groupNotices(f).size(), 1u);
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid AND "
                          "status = 'RESOLVED' AND notifications = 0"),
              "1");
}

TEST(Grouping, BySiteOneGroupPerSiteAndARuleWithoutGroupingStillSendsEachAlert) {
    AlertFixture f("group-site");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    std::string each = f.webhookChannel("each", "/ok/each");
    routeGrouped(f, ops, {"site"});
    f.routeAll(each);
    std::string north = groupingSite(f, "North"), south = groupingSite(f, "South");
    std::string hot = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    std::string wet = f.ruleId("wet", "threshold", R"({"metric":"h","operator":"GT","threshold":90})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t n1 = groupedDevice(f, "n-1", north), n2 = groupedDevice(f, "n-2", north);
    int64_t s1 = groupedDevice(f, "s-1", south);
    onDevice(f, hot, n1, "n-1", PULSE_TRANSITION_FIRING);
    onDevice(f, wet, n2, "n-2", PULSE_TRANSITION_FIRING);
    onDevice(f, hot, s1, "s-1", PULSE_TRANSITION_FIRING);
    // The ungrouped rule sent each opening at once.
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid AND "
                          "notification_group_id IS NULL"),
              "3");
    flusher->flushGroups(t0 + 31000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 2u);
    std::map<std::string, int> totals;
    for (const auto& n : notices)
        totals[n->getObject("group")->getObject("site")->getValue<std::string>("name")] =
            n->getObject("group")->getObject("counts")->getValue<int>("total");
    EXPECT_EQ(totals, (std::map<std::string, int>{{"North", 2}, {"South", 1}}));
    std::map<std::string, std::string> summaries;
    for (const auto& n : notices)
        summaries[n->getObject("group")->getObject("site")->getValue<std::string>("name")] =
            n->getObject("group")->getValue<std::string>("summary");
    EXPECT_EQ(summaries["North"], "2 alerts (2 open) at North");
    EXPECT_EQ(summaries["South"], "1 alert (1 open) at South");
}

TEST(Grouping, PagerDutySeesOneIncidentPerGroup) {
    AlertFixture f("group-pagerduty");
    StandIn pd("pagerduty_standin.py");
    const std::string key = "R0123456789ABCDEF0123456789ABCDE";
    std::string channel = f.channel(
        "pd", "pagerduty", R"({"routing_key":")" + key + R"(","url":")" + pd.url("/v2/enqueue") + R"("})");
    routeGrouped(f, channel, {"rule"});
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t a = groupedDevice(f, "gw-a"), b = groupedDevice(f, "gw-b");
    onDevice(f, rule, a, "gw-a", PULSE_TRANSITION_FIRING, "CRITICAL");
    onDevice(f, rule, b, "gw-b", PULSE_TRANSITION_FIRING);
    flusher->flushGroups(t0 + 31000);
    auto d = f.dispatcher(fastDispatch(1));
    d->start();
    ASSERT_TRUE(f.settled());
    // Acknowledged in Pulse: the group's notice says so, but PagerDuty's incident is left to whoever answers
    // it there (an alert joining an acknowledged incident would page nobody).
    for (const auto& id :
         {scalarAsOwner("SELECT min(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId}),
          scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId})})
        ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, std::stoll(id), "alice@example.com"));
    flusher->flushGroups(t0 + 31000 + 300000);
    ASSERT_TRUE(f.settled());
    onDevice(f, rule, a, "gw-a", PULSE_TRANSITION_CLEARED);
    onDevice(f, rule, b, "gw-b", PULSE_TRANSITION_CLEARED);
    flusher->flushGroups(t0 + 31000 + 600000);
    ASSERT_TRUE(f.settled());
    d->stop();
    EXPECT_EQ(tenantCount(f,
                          "SELECT string_agg(status || ' ' || (payload::jsonb ->> 'type'), ',' ORDER BY id) "
                          "FROM pulse.deliveries WHERE tenant_id = $1::uuid"),
              "DONE alert.opened,DONE alert.acknowledged,DONE alert.closed");

    auto got = on(pd, "/v2/enqueue");
    ASSERT_EQ(got.size(), 2u);
    std::string group = scalarAsOwner(
        "SELECT max(id) FROM pulse.notification_groups WHERE tenant_id = $1::uuid", {f.tenantId});
    std::vector<std::string> actions;
    for (const auto& r : got) {
        EXPECT_TRUE(r->getValue<bool>("valid")) << r->get("problems").toString();
        EXPECT_EQ(r->getObject("body")->getValue<std::string>("dedup_key"),
                  "pulse/" + f.tenantId + "/group/" + group);
        actions.push_back(r->getObject("body")->getValue<std::string>("event_action"));
    }
    EXPECT_EQ(actions, (std::vector<std::string>{"trigger", "resolve"}));
    auto payload = got[0]->getObject("body")->getObject("payload");
    EXPECT_EQ(payload->getValue<std::string>("severity"), "critical");
    EXPECT_EQ(payload->getValue<std::string>("summary"), "2 alerts (2 open) of hot");
    auto incidents = pd.get("/_alerts")->getArray("alerts");
    ASSERT_EQ(incidents->size(), 1u);
    EXPECT_EQ(incidents->getObject(0)->getValue<std::string>("status"), "resolved");
}

TEST(Grouping, AGroupOutlivesAnEditOfItsRoutingRuleAndEndsWhenTheRuleIsDeleted) {
    AlertFixture f("group-route-edit");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    std::string other = f.webhookChannel("other", "/ok/other");
    services::RouteSpec spec;
    spec.channelId = ops;
    spec.name = "grouped";
    spec.grouping.by = {"rule"};
    std::string route = f.channels->createRoute(f.tenantId, spec);
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t a = groupedDevice(f, "tank-1"), b = groupedDevice(f, "tank-2"), c = groupedDevice(f, "tank-3");
    onDevice(f, rule, a, "tank-1", PULSE_TRANSITION_FIRING);
    onDevice(f, rule, b, "tank-2", PULSE_TRANSITION_FIRING);
    flusher->flushGroups(t0 + 31000);
    ASSERT_EQ(groupNotices(f).size(), 1u);

    // The routing rule moves to another channel and stops grouping: a new alert goes there on its own...
    spec.channelId = other;
    spec.grouping.by.clear();
    f.channels->updateRoute(f.tenantId, route, spec);
    onDevice(f, rule, c, "tank-3", PULSE_TRANSITION_FIRING);
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid AND "
                          "notification_group_id IS NULL AND channel_id = '" +
                              other + "'"),
              "1");
    // ...while the group it formed finishes where its incident is: resolved on the first channel.
    onDevice(f, rule, a, "tank-1", PULSE_TRANSITION_CLEARED);
    onDevice(f, rule, b, "tank-2", PULSE_TRANSITION_CLEARED);
    flusher->flushGroups(t0 + 31000 + 300000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 2u);
    EXPECT_EQ(notices[1]->getValue<std::string>("type"), "alert.closed");
    EXPECT_EQ(tenantCount(f,
                          "SELECT string_agg(channel_id::text, ',' ORDER BY id) FROM pulse.deliveries WHERE "
                          "tenant_id = $1::uuid AND notification_group_id IS NOT NULL"),
              ops + "," + ops);

    // Grouping again; an alert acknowledged before its group's first notice leaves the group waiting
    // without a timer. Deleting the routing rule ends that group too, without a word.
    spec.grouping.by = {"rule"};
    f.channels->updateRoute(f.tenantId, route, spec);
    onDevice(f, rule, a, "tank-1", PULSE_TRANSITION_FIRING);
    std::string newest =
        scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId});
    ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, std::stoll(newest), "alice@example.com"));
    flusher->flushGroups(groupingNowMs() + 31000);
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid AND "
                          "status = 'OPEN' AND next_flush_at IS NULL"),
              "1");
    f.channels->deleteRoute(f.tenantId, route);
    flusher->flushGroups(groupingNowMs() + 1000);
    EXPECT_EQ(tenantCount(f,
                          "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid AND "
                          "status = 'OPEN'"),
              "0");
    EXPECT_EQ(groupNotices(f).size(), 2u);
}

TEST(Grouping, ASilencedAlertNeitherStartsNorRepeatsItsGroupsNotices) {
    AlertFixture f("group-silenced");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    routeGrouped(f, ops, {"rule"}, 3600);
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t a = groupedDevice(f, "valve-1"), b = groupedDevice(f, "valve-2");
    onDevice(f, rule, a, "valve-1", PULSE_TRANSITION_FIRING);
    int64_t first = std::stoll(
        scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId}));
    // Silenced during the group wait: nothing is sent, and the group looks again when the silence ends.
    ASSERT_TRUE(f.alerts->silence(f.tenantId, first, t0 + 7200000, "alice@example.com"));
    flusher->flushGroups(t0 + 31000);
    EXPECT_EQ(groupNotices(f).size(), 0u);
    EXPECT_EQ(tenantCount(f, "SELECT (abs(extract(epoch FROM next_flush_at) * 1000 - " +
                                 std::to_string(t0 + 7200000) +
                                 ") < 1000)::text FROM pulse.notification_groups WHERE tenant_id = $1::uuid"),
              "true");

    // A second alert pages: one notice, led by it, listing both.
    onDevice(f, rule, b, "valve-2", PULSE_TRANSITION_FIRING);
    int64_t second = std::stoll(
        scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId}));
    flusher->flushGroups(groupingNowMs() + 31000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0]->getObject("alert")->getValue<int64_t>("id"), second);
    EXPECT_EQ(notices[0]->getObject("group")->getObject("counts")->getValue<int>("open"), 2);

    // The paging one silenced too: no repeat while both are quiet.
    ASSERT_TRUE(f.alerts->silence(f.tenantId, second, t0 + 7200000, "alice@example.com"));
    flusher->flushGroups(groupingNowMs() + 31000 + 3600000);
    EXPECT_EQ(groupNotices(f).size(), 1u);
    EXPECT_EQ(
        tenantCount(f, "SELECT (next_flush_at >= to_timestamp(" + std::to_string(t0 + 7200000) +
                           " / 1000.0) - interval '1 second')::text FROM pulse.notification_groups WHERE "
                           "tenant_id = $1::uuid"),
        "true");
    // Once the silences are over, the group repeats.
    flusher->flushGroups(t0 + 7200000 + 1000);
    notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 2u);
    EXPECT_TRUE(notices[1]->getObject("group")->getValue<bool>("repeat"));
}

TEST(Grouping, AGroupsNoticesReachTheChannelInOrderWhicheverAlertLeadsThem) {
    AlertFixture f("group-order");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    routeGrouped(f, ops, {"rule"});
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto flusher = escalator(f);
    long long t0 = groupingNowMs();
    int64_t a = groupedDevice(f, "line-1"), b = groupedDevice(f, "line-2");
    onDevice(f, rule, a, "line-1", PULSE_TRANSITION_FIRING, "HIGH");
    flusher->flushGroups(t0 + 31000);
    // The first notice failed and waits for its retry.
    tenantCount(f,
                "UPDATE pulse.deliveries SET next_attempt_at = now() + interval '1 hour', attempts = 1 "
                "WHERE tenant_id = $1::uuid RETURNING 1");
    // A critical alert joins and leads the second notice.
    onDevice(f, rule, b, "line-2", PULSE_TRANSITION_FIRING, "CRITICAL");
    flusher->flushGroups(t0 + 31000 + 300000);
    auto notices = groupNotices(f);
    ASSERT_EQ(notices.size(), 2u);
    EXPECT_NE(notices[0]->getObject("alert")->getValue<int64_t>("id"),
              notices[1]->getObject("alert")->getValue<int64_t>("id"));
    // The second waits behind the first, though it is due and of another alert. (Claiming for this channel
    // only: earlier tests may have left deliveries of their own.)
    const std::string others =
        "(SELECT coalesce(array_agg(id), '{}') FROM pulse.channels WHERE id <> '" + ops + "'::uuid)";
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.claim_delivery('test', 30, " + others + ")"), "0");
    tenantCount(f,
                "UPDATE pulse.deliveries SET next_attempt_at = now() WHERE tenant_id = $1::uuid AND "
                "idempotency_key LIKE '%\\_1' RETURNING 1");
    EXPECT_EQ(scalarAsOwner("SELECT idempotency_key FROM pulse.claim_delivery('test', 30, " + others + ")"),
              "grp_" + std::to_string(notices[0]->getObject("group")->getValue<int64_t>("id")) + "_1");
}

// Two flushers (two instances) at once over many due groups: each group's notice is made once, by one of
// them (the groups are claimed FOR UPDATE SKIP LOCKED, in small batches so that the two interleave), and
// together they leave nothing due.
TEST(Grouping, TwoFlushersAtOnceSendEachGroupsNoticeOnce) {
    AlertFixture f("group-race");
    std::string ops = f.webhookChannel("ops", "/ok/ops");
    routeGrouped(f, ops, {"site"});
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    constexpr int kGroups = 40;
    for (int i = 0; i < kGroups; ++i) {
        std::string name = "r-" + std::to_string(i);
        onDevice(f, rule, groupedDevice(f, name, groupingSite(f, "site-" + std::to_string(i))), name,
                 PULSE_TRANSITION_FIRING);
    }
    ASSERT_EQ(tenantCount(f, "SELECT count(*) FROM pulse.notification_groups WHERE tenant_id = $1::uuid"),
              std::to_string(kGroups));
    long long t0 = groupingNowMs();  // every group's wait is over 31 s after the last one formed
    auto flusher = [&] {
        return std::make_unique<workers::Escalator>(
            f.pool,
            workers::EscalatorSettings{std::chrono::milliseconds(100), 3, 3, AlertFixture::kConsoleUrl},
            std::make_shared<workers::WakeSignal>(), f.wake, nullptr);
    };
    auto a = flusher(), b = flusher();
    // Each goes on until it finds nothing to claim (a batch cut short by the other's locks ends a pass, as
    // the escalator's loop then looks again shortly).
    auto drain = [&](workers::Escalator& e) {
        int total = 0;
        for (int n; (n = e.flushGroups(t0 + 31000)) > 0;) total += n;
        return total;
    };
    int byA = 0, byB = 0;
    std::thread other([&] { byB = drain(*b); });
    byA = drain(*a);
    other.join();
    EXPECT_EQ(byA + byB, kGroups);
    EXPECT_EQ(
        tenantCount(f,
                    "SELECT count(*) || '/' || count(DISTINCT notification_group_id) FROM pulse.deliveries "
                    "WHERE tenant_id = $1::uuid"),
        std::to_string(kGroups) + "/" + std::to_string(kGroups));
    EXPECT_EQ(
        tenantCount(f,
                    "SELECT string_agg(DISTINCT notifications::text, ',') FROM pulse.notification_groups "
                    "WHERE tenant_id = $1::uuid"),
        "1");
}
