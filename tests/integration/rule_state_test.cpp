// Rule state that decides alerts survives a restart and is shared by instances (sql/017, ABI 1.4 save and
// restore), against real PostgreSQL with the real rule plugins: a hold-for in progress still fires after a
// restart, a condition firing before a restart still clears after it, two rule engines splitting a
// device's readings reach the verdicts one engine would, a restarted engine neither opens a false "device
// silent" alert nor forgets one it opened, and flapping is counted from the alerts' history.
#include "alert_env.h"
#include "pipeline/RuleEngine.h"
#include "services/DeviceRegistry.h"
#include "storage/Database.h"
#include "storage/RuleStateStore.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

using namespace pulse;
using namespace pulse::test;

namespace {

long long rsNowMs() {
    return std::stoll(scalarAsOwner("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
}

// A pulsed's rule engine over the fixture's database and plugins ("instance" names it in saved states).
struct Engine {
    Engine(AlertFixture& f, storage::Database& db, const std::string& instance)
        : registry(db), engine(f.pool, *f.alerts, registry, nullptr, instance) {
        engine.setPlugins(f.plugins.get());
        engine.reload();
    }
    services::DeviceRegistry registry;
    pipeline::RuleEngine engine;
};

// One reading of metric t from the fixture's device.
void rsReading(AlertFixture& f, Engine& e, double value, long long tsMs) {
    auto device = e.registry.byName(f.slug, f.deviceName);
    ASSERT_TRUE(device);
    e.engine.evaluate(*device, {pipeline::Reading{"t", value, false, tsMs * 1000}});
    f.alerts->drain();
}

void rsTick(AlertFixture& f, Engine& e, long long nowMs) {
    e.engine.tick(nowMs);
    f.alerts->drain();
}

// The rule's alerts for the fixture's device, oldest first: "OPEN,CLOSED".
std::string rsAlerts(const std::string& rule) {
    return scalarAsOwner(
        "SELECT coalesce(string_agg(status, ',' ORDER BY id), '') FROM pulse.alerts WHERE rule_id = $1::uuid",
        {rule});
}

std::string rsState(const std::string& rule) {
    return scalarAsOwner("SELECT state FROM pulse.rule_state WHERE rule_id = $1::uuid", {rule});
}

}  // namespace

TEST(RuleState, AHoldForInProgressStillFiresAfterARestart) {
    AlertFixture f("rs-hold");
    storage::Database db(appUri(), 1, 4);
    std::string rule =
        f.ruleId("hot-30s", "threshold", R"({"metric":"t","operator":"GT","threshold":80,"hold_for_s":30})");
    long long t0 = rsNowMs();
    {
        Engine a(f, db, "a");
        rsReading(f, a, 95, t0);
        rsTick(f, a, t0 + 10000);  // 10 s of 30: nothing yet, but the breach is saved
        EXPECT_EQ(rsAlerts(rule), "");
        EXPECT_NE(rsState(rule).find("\"breach_since_ms\":" + std::to_string(t0)), std::string::npos)
            << rsState(rule);
    }  // pulsed stops (or is killed: the state was saved on the tick before)
    Engine restarted(f, db, "a-restarted");
    rsTick(f, restarted, t0 + 20000);
    EXPECT_EQ(rsAlerts(rule), "");
    rsTick(f, restarted, t0 + 30000);  // the window ends without a new reading: it fires
    EXPECT_EQ(rsAlerts(rule), "OPEN");
    EXPECT_EQ(rsState(rule), R"({"firing":true})");
}

TEST(RuleState, AConditionFiringBeforeARestartClearsAfterIt) {
    AlertFixture f("rs-firing");
    storage::Database db(appUri(), 1, 4);
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    long long t0 = rsNowMs();
    {
        Engine a(f, db, "a");
        rsReading(f, a, 95, t0);
        rsTick(f, a, t0 + 1000);
    }
    EXPECT_EQ(rsAlerts(rule), "OPEN");
    Engine restarted(f, db, "a-restarted");
    // The first reading after the restart is the recovery: closed (a fresh engine would not know it fired).
    rsReading(f, restarted, 70, t0 + 3000);
    EXPECT_EQ(rsAlerts(rule), "CLOSED");
    rsTick(f, restarted, t0 + 4000);
    EXPECT_EQ(rsState(rule), "");  // idle again, and saved so
}

// MQTT shared subscriptions split a device's readings across instances: each goes on from the other's
// state once it has ticked (saved) and the other has ticked (restored).
TEST(RuleState, TwoInstancesSplittingReadingsReachTheSameVerdicts) {
    AlertFixture f("rs-split");
    storage::Database db(appUri(), 1, 4);
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    Engine a(f, db, "a"), b(f, db, "b");
    long long t0 = rsNowMs();
    rsReading(f, a, 95, t0);  // A sees the breach
    rsTick(f, a, t0 + 1000);
    rsTick(f, b, t0 + 1000);
    rsReading(f, b, 70, t0 + 2000);  // B sees the recovery, knowing the condition fired
    EXPECT_EQ(rsAlerts(rule), "CLOSED");
    rsTick(f, b, t0 + 3000);
    rsTick(f, a, t0 + 3000);
    rsReading(f, a, 96, t0 + 4000);  // A knows it recovered: a new breach opens a new alert
    EXPECT_EQ(rsAlerts(rule), "CLOSED,OPEN");
    // The state's history: who saved it last.
    EXPECT_EQ(scalarAsOwner("SELECT saved_by FROM pulse.rule_state WHERE rule_id = $1::uuid", {rule}), "b");
}

// Heartbeats: a device another instance hears is not silent here; a restarted engine does not page a
// device that reported before the restart, and closes the silence it had opened once the device is back.
TEST(RuleState, HeartbeatsSurviveRestartsAndInstances) {
    AlertFixture f("rs-heartbeat");
    storage::Database db(appUri(), 1, 4);
    long long t0 = rsNowMs();
    scalarAsOwner(
        "UPDATE pulse.devices SET last_seen_at = to_timestamp($2::bigint / 1000.0) WHERE id = "
        "$1::bigint RETURNING id",
        {std::to_string(f.deviceId), std::to_string(t0 - 10000)});
    std::string rule = f.ruleId("silent", "heartbeat", R"({"window_s":60})");
    Engine a(f, db, "a"), b(f, db, "b");
    rsTick(f, a, t0);
    rsTick(f, b, t0);
    EXPECT_EQ(rsAlerts(rule), "");
    // A takes a reading (its status tracker stores the last-seen time); B never sees one.
    rsReading(f, a, 20, t0 + 40000);
    scalarAsOwner(
        "UPDATE pulse.devices SET last_seen_at = to_timestamp($2::bigint / 1000.0) WHERE id = "
        "$1::bigint RETURNING id",
        {std::to_string(f.deviceId), std::to_string(t0 + 40000)});
    rsTick(f, b, t0 + 70000);  // 80 s since B heard it, 30 s since anyone did: not silent
    rsTick(f, a, t0 + 70000);
    EXPECT_EQ(rsAlerts(rule), "");
    rsTick(f, b, t0 + 101000);  // 61 s of real silence: both say so, one alert
    rsTick(f, a, t0 + 101000);
    EXPECT_EQ(rsAlerts(rule), "OPEN");
    EXPECT_EQ(rsState(rule), R"({"missing":true})");

    // A restarts; the device speaks again (to the restarted A): the silence it opened closes.
    // (The reading comes before the restarted engine's first tick: it must know the device was missing.)
    Engine restarted(f, db, "a-restarted");
    rsReading(f, restarted, 21, t0 + 103000);
    EXPECT_EQ(rsAlerts(rule), "CLOSED");
    rsTick(f, restarted, t0 + 104000);
    EXPECT_EQ(rsAlerts(rule), "CLOSED");  // and it is not silent
}

// Flapping is judged from the alerts' history: an alert writer started afresh (a restart, or another
// instance) counts the openings the previous one wrote.
TEST(RuleState, FlappingIsCountedAcrossARestartOfTheAlertWriter) {
    AlertFixture f("rs-flap");
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    auto cycle = [&](services::AlertService& alerts) {
        alerts.submit(f.transition(rule, PULSE_TRANSITION_FIRING, 95, "HIGH", true, 3, 600));
        alerts.drain();
        alerts.submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 20, "HIGH", true, 3, 600));
        alerts.drain();
    };
    for (int i = 0; i < 3; ++i) cycle(*f.alerts);  // three openings: not yet more than 3
    EXPECT_EQ(rsAlerts(rule), "CLOSED,CLOSED,CLOSED");
    auto settings = config::defaults().alerts;
    settings.maxAttempts = 3;
    services::AlertService restarted(f.pool, settings, nullptr, [] {});
    cycle(restarted);  // the fourth within the window: flapping, held open
    EXPECT_EQ(rsAlerts(rule), "CLOSED,CLOSED,CLOSED,OPEN");
    EXPECT_EQ(scalarAsOwner("SELECT detail->>'opens' FROM pulse.alert_events e JOIN pulse.alerts a ON a.id = "
                            "e.alert_id WHERE a.rule_id = $1::uuid AND e.kind = 'FLAPPING'",
                            {rule}),
              "4");
}

// End to end, with real waiting: a real pulsed takes a breaching reading of a 4-second hold-for rule and is
// killed (-9) a tick later; the pulsed started again opens the alert when the hold-for ends, without any
// further reading (a pulsed that forgot it would wait for a new reading and 4 more seconds).
TEST(RuleState, AKilledPulsedStillFiresTheHoldForItHadBegun) {
    AlertFixture f("rs-kill");
    auto [config, env] =
        pulsedBeside(f, "rules.reload_ms = 200\nrules.tick_ms = 200\ntelemetry.flush_ms = 20\n");
    std::string token = createDevice(config, f.slug + "/sensor-1");
    std::string rule = f.ruleId("hot-4s", "threshold",
                                R"({"metric":"temperature","operator":"GT","threshold":80,"hold_for_s":4})");
    long long sentAt = 0;
    {
        Pulsed pulsed(config, env);
        ASSERT_TRUE(pulsed.started());
        std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the rule is loaded
        sentAt = rsNowMs();
        ASSERT_EQ(sendReading(pulsed.port(), token, "{\"temperature\":95}"), 200);
        for (int i = 0; i < 50 && rsState(rule).empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_NE(rsState(rule).find("breach_since_ms"), std::string::npos) << "the breach was not saved";
        pulsed.process().signal(SIGKILL);
        ASSERT_TRUE(pulsed.process().wait(10000));
    }
    EXPECT_EQ(rsAlerts(rule), "");
    Pulsed pulsed(config, env);
    ASSERT_TRUE(pulsed.started());
    long long readyAt = rsNowMs();
    std::string opened;
    for (int i = 0; i < 100 && opened.empty(); ++i) {
        opened = scalarAsOwner(
            "SELECT (extract(epoch FROM opened_at) * 1000)::bigint FROM pulse.alerts WHERE rule_id = "
            "$1::uuid",
            {rule});
        if (opened.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(opened.empty()) << "no alert 10 s after the restart";
    // Opened once the 4 seconds since the reading were over (or at once, if the restart took longer), and
    // within a few ticks of that.
    long long due = std::max(sentAt + 4000, readyAt);
    EXPECT_GE(std::stoll(opened), sentAt + 3900);
    EXPECT_LT(std::stoll(opened) - due, 2500)
        << "opened " << std::stoll(opened) - due << " ms after it was due";
    EXPECT_EQ(rsAlerts(rule), "OPEN");
    pulsed.process().signal(SIGTERM);
    pulsed.process().wait(20000);
}

// Two instances save one device's state out of order: the state reached later is the one kept, whichever
// was written last; and a pair whose rule and device are of different tenants is not written at all.
TEST(RuleState, TheStateReachedLastIsKeptWhicheverIsSavedLast) {
    AlertFixture f("rs-order");
    AlertFixture other("rs-order-other");
    std::string rule = f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})");
    storage::RuleStateStore store(f.pool);
    store.save("b", {{rule, f.deviceId, "", 2000}});                    // B reached idle at 2000
    store.save("a", {{rule, f.deviceId, R"({"firing":true})", 1000}});  // A's older state, saved later
    EXPECT_EQ(rsState(rule), "");
    EXPECT_EQ(scalarAsOwner("SELECT saved_by FROM pulse.rule_state WHERE rule_id = $1::uuid", {rule}), "b");
    store.save("a", {{rule, other.deviceId, R"({"firing":true})", 3000}});  // another tenant's device
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.rule_state WHERE rule_id = $1::uuid", {rule}), "1");
}
