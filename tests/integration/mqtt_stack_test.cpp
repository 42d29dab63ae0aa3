// The private Mosquitto the stack starts: no anonymous access, the ingest service account on its own
// listener, device client ids bound to their identity (no session take-over), persistence.
#include "test_env.h"

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <memory>
#include <thread>

using namespace pulse::test;

namespace {

std::string brokerUri() {  // the service listener, where Pulse's ingest connects
    return "tcp://127.0.0.1:" + env("PULSE_TEST_MQTT_INGEST_PORT");
}
std::string deviceUri() {
    return "tcp://127.0.0.1:" + env("PULSE_TEST_MQTT_PORT");
}

// The MQTT v5 reason code of a connection attempt (0 = accepted).
int connectWith(const std::string& user, const std::string& password, const std::string& uri = brokerUri()) {
    mqtt::async_client client(uri, "pulse-test-" + std::to_string(getpid()),
                              mqtt::create_options(MQTTVERSION_5));
    auto builder = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .connect_timeout(std::chrono::seconds(5));
    if (!user.empty()) builder.user_name(user).password(password);
    try {
        client.connect(builder.finalize())->wait();
        client.disconnect()->wait();
        return 0;
    } catch (const mqtt::exception& e) {
        return e.get_reason_code() ? e.get_reason_code() : e.get_return_code();
    }
}

// A connected session of the ingest service account, with the given client id.
std::unique_ptr<mqtt::async_client> ingestSession(const std::string& clientId) {
    auto c = std::make_unique<mqtt::async_client>(brokerUri(), clientId, mqtt::create_options(MQTTVERSION_5));
    c->connect(mqtt::connect_options_builder()
                   .mqtt_version(MQTTVERSION_5)
                   .clean_start(true)
                   .user_name("pulse-ingest")
                   .password(env("PULSE_TEST_MQTT_PASSWORD"))
                   .finalize())
        ->wait();
    return c;
}

}  // namespace

TEST(MqttStack, RefusesAnonymousAndWrongPasswords) {
    EXPECT_NE(connectWith("", ""), 0);
    EXPECT_NE(connectWith("pulse-ingest", "wrong-password"), 0);
}

TEST(MqttStack, IngestAccountSubscribesToTheSharedTelemetrySubscription) {
    ASSERT_EQ(connectWith("pulse-ingest", env("PULSE_TEST_MQTT_PASSWORD")), 0);
    auto client = ingestSession("pulse-test-ingest-sub");
    auto token = client->subscribe("$share/pulse/devices/+/+/telemetry", 1);
    token->wait();
    auto codes = token->get_subscribe_response().get_reason_codes();
    ASSERT_EQ(codes.size(), 1u);
    EXPECT_EQ(codes[0], mqtt::ReasonCode::GRANTED_QOS_1);
    client->disconnect()->wait();
}

TEST(MqttStack, TheServiceAccountWorksOnlyOnTheServiceListener) {
    EXPECT_EQ(connectWith("pulse-ingest", env("PULSE_TEST_MQTT_PASSWORD"), brokerUri()), 0);
    EXPECT_NE(connectWith("pulse-ingest", env("PULSE_TEST_MQTT_PASSWORD"), deviceUri()), 0);
}

// Why device client ids are bound to the username: Mosquitto's client ids are global, and a second login
// with an id in use closes the first session. Shown with the one account that may use any id (the
// service account, on its own listener); on the device listener a device cannot choose its id at all
// (MqttIngest.NoDeviceCanTakeOverTheIngestSessionOrAnotherDevice).
TEST(MqttStack, ASecondLoginWithAClientIdInUseTakesTheSessionOver) {
    std::string id = "pulse-takeover-" + std::to_string(getpid());
    auto first = ingestSession(id);
    auto second = ingestSession(id);
    for (int i = 0; i < 50 && first->is_connected(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(first->is_connected()) << "the broker kept two sessions with one client id";
    EXPECT_TRUE(second->is_connected());
    second->disconnect()->wait();
}
