// The MQTT channel end to end with the real Mosquitto: pulsed provisions a device (its account reaches
// the broker's password file), the device publishes at QoS 1 to its own topic, ingest_mqtt consumes the
// shared subscription, and PostgreSQL holds the readings. The broker's ACL keeps a device off other
// devices' topics, no device can take over Pulse's ingest session or another device's (client ids are
// bound to the device's identity), and what devices publish while pulsed is stopped arrives after it
// restarts.
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <cstdio>
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
        return pulse::test::createDevice(config_, tenant_ + "/" + name);
    }

    // A device session on the device listener; clientId is what the device asks for (the broker binds
    // it to the username anyway).
    std::unique_ptr<mqtt::async_client> device(const std::string& name, const std::string& password,
                                               const std::string& clientId = "") {
        auto c = std::make_unique<mqtt::async_client>(env_uri(),
                                                      clientId.empty() ? tenant_ + "-" + name : clientId,
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

    // pulsed started and ready (its MQTT session is up).
    bool ready(const Pulsed& pulsed) {
        return pulsed.started() &&
               eventually(10, [&] { return httpGet(port_, "/health/ready").status == 200; });
    }

    static std::string env_uri() {
        return pulse::test::env("PULSE_MQTT_DEVICE_URI");
    }  // devices connect here

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
    Pulsed pulsed(config_, dbEnv());
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

TEST_F(MqttIngest, NoDeviceCanTakeOverTheIngestSessionOrAnotherDevice) {
    configure("", 1);
    std::string attackerToken = createDevice("attacker"), victimToken = createDevice("victim");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(ready(pulsed)) << httpGet(port_, "/health/ready").body;
    auto victim = device("victim", victimToken);
    // The attacker logs in with its own credentials but the client ids of Pulse's ingest session (as
    // the log shows it) and of the victim: the device listener replaces both with the attacker's username.
    std::string ingestId = "pulse-test-" + std::to_string(getpid()) + "-0";
    std::vector<std::unique_ptr<mqtt::async_client>> attackers;
    for (const std::string& id : {ingestId, tenant_ + "/victim", tenant_ + "-victim"})
        attackers.push_back(device("attacker", attackerToken, id));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(httpGet(port_, "/health/ready").status, 200) << httpGet(port_, "/health/ready").body;
    EXPECT_TRUE(victim->is_connected()) << "the victim's session was taken over";
    for (int seq = 1; seq <= 10; ++seq)
        victim
            ->publish("devices/" + tenant_ + "/victim/telemetry", "{\"seq\": " + std::to_string(seq) + "}", 1,
                      false)
            ->wait();
    EXPECT_TRUE(eventually(10, [&] { return rows("victim") == "10"; })) << rows("victim") << " of 10 stored";
    // Device credentials do not open the service listener Pulse's ingest uses.
    mqtt::async_client onService(pulse::test::env("PULSE_MQTT_URI"), "x",
                                 mqtt::create_options(MQTTVERSION_5));
    EXPECT_THROW(onService
                     .connect(mqtt::connect_options_builder()
                                  .mqtt_version(MQTTVERSION_5)
                                  .user_name(tenant_ + "/attacker")
                                  .password(attackerToken)
                                  .connect_timeout(std::chrono::seconds(5))
                                  .finalize())
                     ->wait(),
                 mqtt::exception);
    for (auto& a : attackers)
        if (a->is_connected()) a->disconnect()->wait();
    victim->disconnect()->wait();
}

// mosquitto_pub as a device on the device listener; its debug output shows every PUBACK's reason code.
std::string publishAsDevice(const std::string& user, const std::string& password, const std::string& topic,
                            const std::string& options, const std::string& input) {
    std::string out;
    run({"/bin/sh", "-c",
         input + " | mosquitto_pub -V mqttv5 -h 127.0.0.1 -p " + pulse::test::env("PULSE_TEST_MQTT_PORT") +
             " -q 1 -d -u '" + user + "' -P '" + password + "' -t '" + topic + "' " + options + " 2>&1"},
        {}, out, 120000);
    return out;
}

int occurrences(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

TEST_F(MqttIngest, AFloodingDeviceIsRefusedAtTheBrokerAndTheOthersAreServed) {
    configure("", 1);
    std::string flood = createDevice("flood"), quiet = createDevice("quiet");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(ready(pulsed)) << httpGet(port_, "/health/ready").body;
    // 30,000 messages as fast as the broker answers, over the device's broker budget (burst 10,000, then
    // 1,000/s): whatever the machine's speed, everything past burst + rate x elapsed is refused at the
    // source with reason code 0x87 (135) in the PUBACK.
    const int sent = 30000;
    auto started = std::chrono::steady_clock::now();
    auto out = publishAsDevice(tenant_ + "/flood", flood, "devices/" + tenant_ + "/flood/telemetry", "-l",
                               "seq " + std::to_string(sent) + " | sed 's/.*/{\"n\":&}/'");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    int refused = occurrences(out, "RC:135");
    double allowed = 10000 + 1000 * seconds;
    if (allowed < sent) {
        EXPECT_GE(refused, static_cast<int>(sent - allowed) - 1000) << out.substr(0, 2000);
    }
    // Meanwhile (and after) another device of the tenant is served in full.
    auto q = device("quiet", quiet);
    for (int seq = 1; seq <= 20; ++seq)
        q->publish("devices/" + tenant_ + "/quiet/telemetry", "{\"seq\": " + std::to_string(seq) + "}", 1,
                   false)
            ->wait();
    EXPECT_TRUE(eventually(10, [&] { return rows("quiet") == "20"; })) << rows("quiet") << " of 20";
    q->disconnect()->wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    long stored = std::stol(rows("flood"));
    EXPECT_LE(stored, static_cast<long>(allowed) + 1) << "more than the budget reached Pulse";
    std::printf("[ figure   ] flood of %d messages in %.2f s: %d refused by the broker (0x87), %ld stored\n",
                sent, seconds, refused, stored);
}

TEST_F(MqttIngest, RetainedMessagesAreNotTelemetry) {
    configure("", 1);
    std::string token = createDevice("retainer");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(ready(pulsed)) << httpGet(port_, "/health/ready").body;
    // A retained reading would be delivered again at every (re)subscription and stored again. The broker
    // announces that it keeps none (MQTT v5 CONNACK: Retain Available 0): a client drops the flag, and
    // one that sends it anyway is disconnected.
    auto out = publishAsDevice(tenant_ + "/retainer", token, "devices/" + tenant_ + "/retainer/telemetry",
                               "-r -m '{\"n\":1}'", "true");
    EXPECT_EQ(out.find(", r1,"), std::string::npos) << out;
    EXPECT_TRUE(eventually(10, [&] { return rows("retainer") == "1"; })) << rows("retainer");
    // Nothing was retained: a new subscription (Pulse's after a restart, say) receives nothing.
    std::string sub;
    run({"/bin/sh", "-c",
         "mosquitto_sub -V mqttv5 -h 127.0.0.1 -p " + pulse::test::env("PULSE_TEST_MQTT_INGEST_PORT") +
             " -u pulse-ingest -P \"$PULSE_MQTT_INGEST_PASSWORD\" -t 'devices/" + tenant_ +
             "/retainer/telemetry' -C 1 -W 2 2>&1"},
        {}, sub, 10000);
    EXPECT_EQ(sub.find("{\"n\":1}"), std::string::npos) << "a retained reading is waiting: " << sub;
    // A raw client that sets the flag anyway is disconnected, and its reading not stored.
    mqtt::async_client raw(env_uri(), "raw", mqtt::create_options(MQTTVERSION_5));
    raw.connect(mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .user_name(tenant_ + "/retainer")
                    .password(token)
                    .finalize())
        ->wait();
    try {
        raw.publish("devices/" + tenant_ + "/retainer/telemetry", std::string("{\"n\":2}"), 1, true)
            ->wait_for(std::chrono::seconds(3));
    } catch (const mqtt::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(rows("retainer"), "1") << "a retained message was stored";
}

TEST_F(MqttIngest, ReadingsPublishedWhilePulsedIsStoppedArriveAfterRestart) {
    configure("", 1);
    std::string token = createDevice("meter");
    {
        Pulsed pulsed(config_, dbEnv());  // establishes the persistent sessions, then stops gracefully
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
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());
    EXPECT_TRUE(eventually(20, [&] { return rows("meter") == "200"; })) << rows("meter") << " of 200";
    EXPECT_EQ(
        scalar(
            "SELECT count(DISTINCT value) FROM pulse.telemetry x JOIN pulse.devices d ON d.id = x.device_id "
            "JOIN pulse.tenants t ON t.id = d.tenant_id WHERE t.slug = '" +
            tenant_ + "' AND d.name = 'meter'"),
        "200");
}
