// Dependency suppression against real PostgreSQL and the real outbox (sql/016): while a device's parent (its
// gateway), or a parent's parent, is OFFLINE or has an open heartbeat alert, the device's alerts are recorded
// as suppressed (by which parent, and why) and notify nobody; once the parent is well and has settled for
// alerts.parent_settle_s (60 s here, the default), the children still in trouble notify, and their
// escalations start. A child that recovered meanwhile sends nothing at all.
#include "alert_env.h"
#include "storage/AlertStore.h"
#include "storage/EscalationPolicyStore.h"
#include "workers/Escalator.h"

#include <gtest/gtest.h>

using namespace pulse;
using namespace pulse::test;

namespace {

long long depNowMs() {
    return std::stoll(scalarAsOwner("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
}

// A device of the fixture's tenant, seen a minute ago, in the given status.
std::string depDevice(AlertFixture& f, const std::string& name, const std::string& status) {
    return scalarAsOwner(
        "INSERT INTO pulse.devices (tenant_id, name, status, last_seen_at) VALUES ($1::uuid, $2, $3, now() - "
        "interval '1 minute') RETURNING id::text",
        {f.tenantId, name, status});
}

void depParent(const std::string& device, const std::string& parent) {
    scalarAsOwner("UPDATE pulse.devices SET parent_id = $2::bigint WHERE id = $1::bigint RETURNING id",
                  {device, parent});
}

// The parent comes back: ONLINE, with its status history saying so `agoS` seconds ago.
void depRecovered(AlertFixture& f, const std::string& device, int agoS) {
    scalarAsOwner(
        "UPDATE pulse.devices SET status = 'ONLINE', last_seen_at = now() WHERE id = $1::bigint "
        "RETURNING id",
        {device});
    scalarAsOwner(
        "INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at, reason) "
        "VALUES ($1::uuid, $2::bigint, 'OFFLINE', 'ONLINE', now() - make_interval(secs => $3::int), "
        "'telemetry received') RETURNING id",
        {f.tenantId, device, std::to_string(agoS)});
}

int64_t depOpenHot(AlertFixture& f, const std::string& rule) {
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 95, "CRITICAL", true));
    f.alerts->drain();
    return std::stoll(scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
}

std::string depOfAlert(const std::string& sql, int64_t alert) {
    return scalarAsOwner(sql, {std::to_string(alert)});
}

std::string depDeliveries(AlertFixture& f) {
    return scalarAsOwner(
        "SELECT coalesce(string_agg(payload::jsonb->>'type', ',' ORDER BY id), '') FROM pulse.deliveries "
        "WHERE tenant_id = $1::uuid",
        {f.tenantId});
}

std::string depHotRule(AlertFixture& f) {
    return f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
}

}  // namespace

TEST(Dependencies, AChildOfAnOfflineParentIsSuppressedUntilTheParentIsBackAndSettled) {
    AlertFixture f("dep-offline");
    std::string ops = f.webhookChannel("ops", "/ops");
    f.routeAll(ops);
    storage::EscalationPolicyFields p;
    p.name = "pager";
    p.isDefault = true;
    p.levels = {{300, {{"channel", ops, ""}}}};
    ASSERT_FALSE(storage::EscalationPolicyStore(f.pool).save(f.tenantId, std::nullopt, p).id.empty());
    std::string gateway = depDevice(f, "gw-1", "OFFLINE");
    depParent(std::to_string(f.deviceId), gateway);

    int64_t alert = depOpenHot(f, depHotRule(f));
    EXPECT_EQ(
        depOfAlert("SELECT suppressed_by::text || ' ' || suppression_reason || ' ' || notice_held || ' ' "
                   "|| (next_escalation_at IS NULL) FROM pulse.alerts WHERE id = $1::bigint",
                   alert),
        gateway + " parent offline true true");
    EXPECT_EQ(
        depOfAlert("SELECT detail->>'suppressed_by' || ' ' || (detail->>'reason') FROM pulse.alert_events "
                   "WHERE alert_id = $1::bigint AND kind = 'OPENED'",
                   alert),
        gateway + " parent offline");
    // The API's view of it: the parent by name, why, and that the notice waits.
    auto row = storage::AlertStore(f.pool).find(f.tenantId, alert);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->suppressedByName.value_or(""), "gw-1");
    EXPECT_EQ(row->suppressionReason.value_or(""), "parent offline");
    EXPECT_TRUE(row->noticeHeld);
    EXPECT_EQ(depDeliveries(f), "");

    auto esc = escalator(f);
    EXPECT_EQ(esc->fireDue(depNowMs() + 3600000), 0);  // held: no escalation timer
    f.alerts->releaseHeld();                           // the parent is still offline
    EXPECT_EQ(depDeliveries(f), "");

    // Back 5 seconds ago: still settling (children reconnect behind it), so still quiet.
    depRecovered(f, gateway, 5);
    f.alerts->releaseHeld();
    EXPECT_EQ(depDeliveries(f), "");
    EXPECT_EQ(depOfAlert("SELECT notice_held FROM pulse.alerts WHERE id = $1::bigint", alert), "t");

    // Settled (back 61 seconds ago): the child, still in trouble, notifies now and escalates.
    scalarAsOwner(
        "UPDATE pulse.device_status_history SET at = now() - interval '61 seconds' WHERE device_id = "
        "$1::bigint RETURNING id",
        {gateway});
    f.alerts->releaseHeld();
    EXPECT_EQ(depDeliveries(f), "alert.opened");
    EXPECT_EQ(depOfAlert("SELECT string_agg(kind, ',' ORDER BY id) FROM pulse.alert_events WHERE alert_id = "
                         "$1::bigint",
                         alert),
              "OPENED,PARENT_RECOVERED");
    EXPECT_EQ(esc->fireDue(depNowMs() + 1000), 1);
    f.alerts->releaseHeld();  // released once
    EXPECT_EQ(depDeliveries(f), "alert.opened,alert.escalated");
    // The record stays: it was suppressed, and by whom, though no longer held.
    EXPECT_EQ(depOfAlert("SELECT suppressed_by::text || ' ' || notice_held FROM pulse.alerts WHERE id = "
                         "$1::bigint",
                         alert),
              gateway + " false");
}

TEST(Dependencies, AChildThatRecoversWhileItsParentIsDownSendsNothing) {
    AlertFixture f("dep-quiet");
    f.routeAll(f.webhookChannel("ops", "/ops"));
    std::string gateway = depDevice(f, "gw-1", "OFFLINE");
    depParent(std::to_string(f.deviceId), gateway);
    std::string rule = depHotRule(f);
    int64_t alert = depOpenHot(f, rule);
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 20, "CRITICAL", true));
    f.alerts->drain();
    EXPECT_EQ(depOfAlert("SELECT status FROM pulse.alerts WHERE id = $1::bigint", alert), "CLOSED");
    depRecovered(f, gateway, 120);
    f.alerts->releaseHeld();
    // Recorded (opened, closed, released), notified to nobody: no opening, no recovery.
    EXPECT_EQ(depOfAlert("SELECT string_agg(kind, ',' ORDER BY id) FROM pulse.alert_events WHERE alert_id = "
                         "$1::bigint",
                         alert),
              "OPENED,CLOSED,PARENT_RECOVERED");
    EXPECT_EQ(depDeliveries(f), "");
}

// The nearest ancestor in trouble is named; a grandparent's heartbeat alert suppresses too; a parent never
// seen (provisioned, not yet installed) or decommissioned is no outage.
TEST(Dependencies, TheNearestAncestorInTroubleSuppressesAndNeverSeenParentsDoNot) {
    AlertFixture f("dep-chain");
    f.routeAll(f.webhookChannel("ops", "/ops"));
    std::string site = depDevice(f, "site-router", "ONLINE");
    std::string gateway = depDevice(f, "gw-1", "ONLINE");
    depParent(gateway, site);
    depParent(std::to_string(f.deviceId), gateway);
    auto trouble = [&]() {
        return scalarAsOwner(
            "SELECT coalesce((SELECT parent_id::text || ' ' || reason FROM "
            "pulse.parent_trouble($1::bigint, now(), 60)), 'none')",
            {std::to_string(f.deviceId)});
    };
    EXPECT_EQ(trouble(), "none");

    // The site router's heartbeat alert opens (it is itself not suppressed: it has no parent).
    std::string silent = f.ruleId("silent", "heartbeat", R"({"window_s":60})");
    auto hb = f.transition(silent, PULSE_TRANSITION_FIRING, 0, "HIGH", true);
    hb.deviceId = std::stoll(site);
    f.alerts->submit(hb);
    f.alerts->drain();
    EXPECT_EQ(trouble(), site + " parent heartbeat alert");
    EXPECT_EQ(depDeliveries(f), "alert.opened");  // the router's own alert notifies

    // The gateway goes offline too: the nearer one is named.
    scalarAsOwner("UPDATE pulse.devices SET status = 'OFFLINE' WHERE id = $1::bigint RETURNING id",
                  {gateway});
    EXPECT_EQ(trouble(), gateway + " parent offline");
    int64_t alert = depOpenHot(f, depHotRule(f));
    EXPECT_EQ(depOfAlert("SELECT suppressed_by::text FROM pulse.alerts WHERE id = $1::bigint", alert),
              gateway);
    EXPECT_EQ(depDeliveries(f), "alert.opened");  // only the router's

    // The router's heartbeat alert closes 2 minutes ago and the gateway is decommissioned: nothing holds.
    hb.kind = PULSE_TRANSITION_CLEARED;
    f.alerts->submit(hb);
    f.alerts->drain();
    scalarAsOwner(
        "UPDATE pulse.alerts SET closed_at = now() - interval '2 minutes' WHERE rule_id = $1::uuid "
        "RETURNING id",
        {silent});
    scalarAsOwner("UPDATE pulse.devices SET decommissioned_at = now() WHERE id = $1::bigint RETURNING id",
                  {gateway});
    EXPECT_EQ(trouble(), "none");
    f.alerts->releaseHeld();
    EXPECT_EQ(depDeliveries(f), "alert.opened,alert.closed,alert.opened");

    // A parent OFFLINE because it was never seen is not in trouble.
    std::string unseen = scalarAsOwner(
        "INSERT INTO pulse.devices (tenant_id, name) VALUES ($1::uuid, 'gw-new') RETURNING id::text",
        {f.tenantId});
    depParent(std::to_string(f.deviceId), unseen);
    EXPECT_EQ(trouble(), "none");
}

// An alert that opened (and paged) before its parent failed waits with its next level while the parent is
// in trouble, and goes on once it is well.
TEST(Dependencies, AnEscalatingAlertWaitsWhileItsParentIsInTrouble) {
    AlertFixture f("dep-pause");
    std::string ops = f.webhookChannel("ops", "/ops");
    storage::EscalationPolicyFields p;
    p.name = "pager";
    p.isDefault = true;
    p.levels = {{60, {{"channel", ops, ""}}}, {60, {{"channel", ops, ""}}}};
    ASSERT_FALSE(storage::EscalationPolicyStore(f.pool).save(f.tenantId, std::nullopt, p).id.empty());
    std::string gateway = depDevice(f, "gw-1", "ONLINE");
    depParent(std::to_string(f.deviceId), gateway);
    int64_t alert = depOpenHot(f, depHotRule(f));
    EXPECT_EQ(
        depOfAlert("SELECT coalesce(suppression_reason, 'none') FROM pulse.alerts WHERE id = $1::bigint",
                   alert),
        "none");
    auto esc = escalator(f);
    long long t = depNowMs();
    EXPECT_EQ(esc->fireDue(t), 1);  // level 1
    scalarAsOwner("UPDATE pulse.devices SET status = 'OFFLINE' WHERE id = $1::bigint RETURNING id",
                  {gateway});
    EXPECT_EQ(esc->fireDue(t + 61000), 0);  // level 2 due, deferred
    depRecovered(f, gateway, 0);
    EXPECT_EQ(esc->fireDue(t + 122000), 1);  // the parent is back: level 2 (no settling for escalation)
    EXPECT_EQ(depOfAlert("SELECT string_agg(detail->>'level', ',' ORDER BY id) FROM pulse.alert_events WHERE "
                         "alert_id = $1::bigint AND kind = 'ESCALATED'",
                         alert),
              "1,2");
}

// A parent's heartbeat alert whose condition cleared but that stays open (its rule does not close its
// alerts) is no longer trouble once settled; a held child whose own condition cleared the same way stays
// held, quietly, and notifies when it fires again: only children in trouble notify.
TEST(Dependencies, OnlyFiringConditionsCountAndOnlyChildrenStillInTroubleNotify) {
    AlertFixture f("dep-cleared");
    f.routeAll(f.webhookChannel("ops", "/ops"));
    std::string gateway = depDevice(f, "gw-1", "ONLINE");
    depParent(std::to_string(f.deviceId), gateway);
    std::string silent = f.ruleId("silent", "heartbeat", R"({"window_s":60})");
    auto hb = f.transition(silent, PULSE_TRANSITION_FIRING, 0, "HIGH", false);
    hb.deviceId = std::stoll(gateway);
    f.alerts->submit(hb);
    f.alerts->drain();
    std::string rule = depHotRule(f);
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 95, "CRITICAL", false));
    f.alerts->drain();
    int64_t child =
        std::stoll(scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
    EXPECT_EQ(depOfAlert("SELECT suppression_reason FROM pulse.alerts WHERE id = $1::bigint", child),
              "parent heartbeat alert");
    // Both conditions clear; neither rule closes its alerts, so both stay open.
    hb.kind = PULSE_TRANSITION_CLEARED;
    f.alerts->submit(hb);
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 20, "CRITICAL", false));
    f.alerts->drain();
    auto trouble = [&]() {
        return scalarAsOwner(
            "SELECT coalesce((SELECT reason FROM pulse.parent_trouble($1::bigint, now(), 60)), "
            "'none')",
            {std::to_string(f.deviceId)});
    };
    EXPECT_EQ(trouble(), "parent recovering");
    scalarAsOwner(
        "UPDATE pulse.alerts SET changed_at = now() - interval '2 minutes' WHERE rule_id = $1::uuid "
        "RETURNING id",
        {silent});
    EXPECT_EQ(trouble(), "none");  // open, but cleared and settled
    f.alerts->releaseHeld();       // the child, cleared, stays held: nothing to tell yet
    EXPECT_EQ(
        depOfAlert("SELECT status || ' ' || condition || ' ' || notice_held FROM pulse.alerts WHERE id = "
                   "$1::bigint",
                   child),
        "OPEN CLEARED true");
    EXPECT_EQ(depDeliveries(f), "alert.opened");  // the gateway's own alert only
    // It fires again, its parent well: now it notifies.
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 96, "CRITICAL", false));
    f.alerts->drain();
    f.alerts->releaseHeld();
    EXPECT_EQ(depOfAlert("SELECT string_agg(kind, ',' ORDER BY id) FROM pulse.alert_events WHERE alert_id = "
                         "$1::bigint",
                         child),
              "OPENED,CLEARED,FIRING,PARENT_RECOVERED");
    EXPECT_EQ(depDeliveries(f), "alert.opened,alert.opened");
}
