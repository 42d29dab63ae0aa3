// The MQTT channel end to end with the real Mosquitto: pulsed provisions a device (its account reaches
// the broker's password file), the device publishes at QoS 1 to its own topic, ingest_mqtt consumes the
// shared subscription, and PostgreSQL holds the readings. The broker's ACL keeps a device off other
// devices' topics, and what devices publish while pulsed is stopped arrives after it restarts.
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <functional>
#include <thread>

using namespace pulse::test;

namespace {

std::string scalar(const std::string& sql) {
    pulse::storage::PgConnection conn(ownerUri());
    auto rows = conn.query(sql);
    return rows.rows.empty() || !rows.rows[0][0] ? "" : *rows.rows[0][0];
}

bool eventually(int seconds, const std::function<bool()>& pred) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
}

class MqttIngest : public ::testing::Test {
  protected:
    // share_group "" is a plain subscription on one connection, which Mosquitto keeps queueing for while
    // the session is offline; a shared subscription spreads the load but is not queued offline.
    void configure(const std::string& shareGroup, int connections) {
        dir_ = tempDir("mqtt-ingest");
        std::string pluginsD = dir_ + "/plugins.d";
        Poco::File(pluginsD).createDirectories();
        writeFile(pluginsD + "/mqtt.properties",
                  "plugin.library = ingest_mqtt.so\ninstance.mqtt.component = ingest/mqtt\n"
                  "instance.mqtt.config = {\"uri_env\": \"PULSE_MQTT_URI\", \"password_env\": "
                  "\"PULSE_MQTT_INGEST_PASSWORD\", \"client_id\": \"pulse-test-" +
                      std::to_string(getpid()) + "\", \"share_group\": \"" + shareGroup +
                      "\", \"connections\": " + std::to_string(connections) + "}\n");
        port_ = freePort();
        config_ = writePulseConfig(dir_, port_, pluginsD, "telemetry.flush_ms = 20\n");
        tenant_ = "mq" + std::to_string(getpid() % 100000);
        pulse::storage::PgConnection conn(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(conn, "pulse_app");
        conn.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) ON CONFLICT DO NOTHING",
                   {tenant_});
    }

    std::string createDevice(const std::string& name) {
        std::string out;
        EXPECT_EQ(
            run({pulsedBinary(), "--config", config_, "--create-device", tenant_ + "/" + name}, env(), out),
            0)
            << out;
        auto pos = out.find("pt_", out.find("token:"));
        return pos == std::string::npos ? "" : out.substr(pos, out.find(' ', pos) - pos);
    }

    std::map<std::string, std::string> env() {
        return {{"PULSE_DB_URI", appUri()}, {"PULSE_DB_MIGRATE_URI", ownerUri()}};
    }

    std::unique_ptr<mqtt::async_client> device(const std::string& name, const std::string& password) {
        auto c = std::make_unique<mqtt::async_client>(env_uri(), tenant_ + "-" + name,
                                                      mqtt::create_options(MQTTVERSION_5));
        c->connect(mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .user_name(tenant_ + "/" + name)
                       .password(password)
                       .connect_timeout(std::chrono::seconds(5))
                       .finalize())
            ->wait();
        return c;
    }

    static std::string env_uri() { return pulse::test::env("PULSE_MQTT_URI"); }

    std::string rows(const std::string& device) {
        return scalar(
            "SELECT count(*) FROM pulse.telemetry x JOIN pulse.devices d ON d.id = x.device_id "
            "JOIN pulse.tenants t ON t.id = d.tenant_id WHERE t.slug = '" +
            tenant_ + "' AND d.name = '" + device + "'");
    }

    std::string dir_, config_, tenant_;
    int port_ = 0;
};

}  // namespace

TEST_F(MqttIngest, PublishedReadingsAreStoredAndTheAclHolds) {
    configure("pulse", 2);
    std::string tokenA = createDevice("valve-a"), tokenB = createDevice("valve-b");
    ASSERT_FALSE(tokenA.empty());
    Pulsed pulsed(config_, env());
    ASSERT_TRUE(pulsed.started());
    ASSERT_TRUE(eventually(10, [&] { return httpGet(port_, "/health/ready").status == 200; }))
        << httpGet(port_, "/health/ready").body;

    auto a = device("valve-a", tokenA);
    for (int seq = 1; seq <= 20; ++seq)
        a->publish("devices/" + tenant_ + "/valve-a/telemetry",
                   "{\"seq\": " + std::to_string(seq) + ", \"flow\": 1.5}", 1, false)
            ->wait();
    EXPECT_TRUE(eventually(10, [&] { return rows("valve-a") == "40"; })) << rows("valve-a");

    // valve-a publishing on valve-b's topic is refused by the broker's ACL: nothing reaches valve-b.
    try {
        a->publish("devices/" + tenant_ + "/valve-b/telemetry", "{\"spoofed\": 1}", 1, false)->wait();
    } catch (const mqtt::exception&) {
        // MQTT v5 may report "not authorized" in the PUBACK; either way the message is dropped
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(rows("valve-b"), "0");
    a->disconnect()->wait();

    // A wrong password is refused at connect.
    EXPECT_THROW(device("valve-b", tokenB + "x"), mqtt::exception);
}

TEST_F(MqttIngest, ReadingsPublishedWhilePulsedIsStoppedArriveAfterRestart) {
    configure("", 1);
    std::string token = createDevice("meter");
    {
        Pulsed pulsed(config_, env());  // establishes the persistent sessions, then stops gracefully
        ASSERT_TRUE(pulsed.started());
        ASSERT_TRUE(eventually(10, [&] { return httpGet(port_, "/health/ready").status == 200; }));
    }
    auto d = device("meter", token);
    for (int seq = 1; seq <= 200; ++seq)
        d->publish("devices/" + tenant_ + "/meter/telemetry", "{\"seq\": " + std::to_string(seq) + "}", 1,
                   false)
            ->wait();
    d->disconnect()->wait();
    EXPECT_EQ(rows("meter"), "0");
    Pulsed pulsed(config_, env());
    ASSERT_TRUE(pulsed.started());
    EXPECT_TRUE(eventually(20, [&] { return rows("meter") == "200"; })) << rows("meter") << " of 200";
    EXPECT_EQ(
        scalar(
            "SELECT count(DISTINCT value) FROM pulse.telemetry x JOIN pulse.devices d ON d.id = x.device_id "
            "JOIN pulse.tenants t ON t.id = d.tenant_id WHERE t.slug = '" +
            tenant_ + "' AND d.name = 'meter'"),
        "200");
}
