// pulsed --seed-demo on a database of its own: the demo tenant with what a week of running leaves (sites,
// readings with hourly rollups, a breaching and a silent device, an open and an acknowledged alert), and a
// second run that changes none of it.
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <gtest/gtest.h>

#include <unistd.h>

using namespace pulse::test;

namespace {

std::string one(pulse::storage::PgConnection& c, const std::string& sql) {
    auto r = c.query(sql);
    return r.rows.empty() || !r.rows[0][0] ? "" : *r.rows[0][0];
}

}  // namespace

TEST(DemoSeed, TheDemoTenantComesWithAWeekOfHistoryOnceAndOnlyOnce) {
    ScratchDatabase db("demo_seed");
    std::string dir = tempDir("demo-seed");
    Poco::File(dir + "/plugins.d").createDirectories();
    std::string config = writePulseConfig(dir, freePort(), dir + "/plugins.d");
    std::map<std::string, std::string> env = {{"PULSE_DB_URI", db.appUri()},
                                              {"PULSE_DB_MIGRATE_URI", db.ownerUri()},
                                              {"PULSE_DEMO_EMAIL", "seed@demo.test"},
                                              {"PULSE_DEMO_PASSWORD", "seed-password-1"},
                                              {"PULSE_MQTT_PASSWORD_FILE", "<unset>"},
                                              {"PULSE_MQTT_PASSWORD_BASE_FILE", "<unset>"},
                                              {"PULSE_MQTT_BROKER_PID_FILE", "<unset>"}};
    std::string out;
    ASSERT_EQ(run({pulsedBinary(), "--config", config, "--seed-demo"}, env, out), 0) << out;

    pulse::storage::PgConnection owner(db.ownerUri());
    auto count = [&](const std::string& what) { return one(owner, "SELECT count(*) FROM " + what); };
    EXPECT_EQ(count("pulse.sites"), "2");
    EXPECT_EQ(count("pulse.devices WHERE site_id IS NULL"), "0");
    // A week every 10 minutes and the last hour every minute, two metrics per device.
    EXPECT_GT(std::stoi(count("pulse.telemetry")), 5 * 2 * 1000);
    EXPECT_GE(std::stoi(count("pulse.telemetry_hourly WHERE hour < now() - interval '6 days'")), 5 * 2);
    EXPECT_EQ(
        one(owner,
            "SELECT max(t.value) > 80 FROM pulse.telemetry t JOIN pulse.devices d ON d.id = t.device_id "
            "JOIN pulse.metrics m ON m.id = t.metric_id WHERE d.name = 'boiler-2' AND m.name = "
            "'temperature' AND t.ts > now() - interval '5 minutes'"),
        "t");
    EXPECT_EQ(one(owner,
                  "SELECT now() - last_seen_at > interval '100 minutes' FROM pulse.devices WHERE name = "
                  "'meter-2'"),
              "t");
    EXPECT_EQ(one(owner,
                  "SELECT string_agg(d.name || ':' || a.status, ',' ORDER BY d.name) FROM pulse.alerts a "
                  "JOIN pulse.devices d ON d.id = a.device_id"),
              "boiler-2:OPEN,meter-2:ACKNOWLEDGED");
    EXPECT_EQ(count("pulse.alert_events"), "3");  // two openings and one acknowledgement

    std::string readings = count("pulse.telemetry");
    ASSERT_EQ(run({pulsedBinary(), "--config", config, "--seed-demo"}, env, out), 0) << out;
    EXPECT_EQ(count("pulse.telemetry"), readings);
    EXPECT_EQ(count("pulse.alerts"), "2");
    EXPECT_EQ(count("pulse.sites"), "2");
}
