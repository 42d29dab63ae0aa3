// sender_mqtt through the outbox and the dispatcher, against a real Mosquitto started for the test (a TLS
// listener with accounts and an ACL, and a plaintext one for anonymous clients): an alert's three notices at
// QoS 1 on the tenant's topic, with the delivery's key; a refused login and a topic the ACL forbids are
// permanent, a broker that is not there is retried; private brokers are refused when saved.
#include "alert_env.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

using namespace pulse;
using namespace pulse::test;

namespace {

constexpr const char* kBotPassword = "b0t-passw0rd-mqtt";

// A Mosquitto of the test's own: TLS with accounts on one port, anonymous plaintext on another.
struct Broker {
    std::string dir = tempDir("mqtt-sender-broker");
    int tlsPort = freePort();
    int plainPort = freePort();
    std::string caPem;
    std::unique_ptr<Child> child;

    Broker() {
        EXPECT_EQ(std::system(
                      ("/usr/bin/python3 " PULSE_SOURCE_DIR "/tests/standins/test_certs.py " + dir).c_str()),
                  0);
        caPem = readFile(dir + "/ca.pem");
        EXPECT_EQ(
            std::system(("mosquitto_passwd -c -b " + dir + "/passwd alerts-bot " + kBotPassword).c_str()), 0);
        // Anonymous clients (the plaintext listener) may read and write pulse/#; the bot writes pulse/# only.
        writeFile(dir + "/acl", "topic readwrite pulse/#\nuser alerts-bot\ntopic write pulse/#\n");
        writeFile(dir + "/mosquitto.conf",
                  "per_listener_settings true\n"
                  "user root\n"  // run as root, stays root: the files are the test's
                  "persistence false\n"
                  "log_dest file " +
                      dir + "/mosquitto.log\n" + "listener " + std::to_string(tlsPort) + " 127.0.0.1\n" +
                      "allow_anonymous false\npassword_file " + dir + "/passwd\nacl_file " + dir + "/acl\n" +
                      "cafile " + dir + "/ca.pem\ncertfile " + dir + "/server.pem\nkeyfile " + dir +
                      "/server.key\n" + "listener " + std::to_string(plainPort) + " 127.0.0.1\n" +
                      "allow_anonymous true\nacl_file " + dir + "/acl\n");
        child = std::make_unique<Child>(
            std::vector<std::string>{"/usr/sbin/mosquitto", "-c", dir + "/mosquitto.conf"},
            std::map<std::string, std::string>{}, dir + "/out.log");
        for (int i = 0; i < 100; ++i) {
            if (readFile(dir + "/mosquitto.log")
                    .find("Opening ipv4 listen socket on port " + std::to_string(plainPort)) !=
                std::string::npos)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ADD_FAILURE() << "mosquitto did not start: " << child->output() << readFile(dir + "/mosquitto.log");
    }
};

// An anonymous subscriber on the plaintext listener that keeps what arrives on pulse/#.
struct Subscriber {
    struct Got {
        std::string topic, payload;
        int qos = 0;
    };
    mqtt::async_client client;
    std::mutex mutex;
    std::vector<Got> got;

    explicit Subscriber(int port)
        : client("tcp://127.0.0.1:" + std::to_string(port), "reader", mqtt::create_options(MQTTVERSION_5)) {
        client.set_message_callback([this](mqtt::const_message_ptr m) {
            std::lock_guard lock(mutex);
            got.push_back({m->get_topic(), m->to_string(), m->get_qos()});
        });
        mqtt::connect_options opts;
        opts.set_mqtt_version(MQTTVERSION_5);
        client.connect(opts)->wait();
        client.subscribe("pulse/#", 1)->wait();
    }
    ~Subscriber() {
        try {
            client.disconnect()->wait();
        } catch (const mqtt::exception&) {
        }
    }
    std::vector<Got> waitFor(size_t n, int timeoutMs = 10000) {
        for (int waited = 0; waited < timeoutMs; waited += 50) {
            {
                std::lock_guard lock(mutex);
                if (got.size() >= n) return got;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        std::lock_guard lock(mutex);
        return got;
    }
};

std::string brokerConfig(const Broker& b, const std::string& extraJson = "{}") {
    Poco::JSON::Object c;
    c.set("host", "127.0.0.1");
    c.set("port", b.tlsPort);
    c.set("username", "alerts-bot");
    c.set("password", kBotPassword);
    c.set("ca_certificate", b.caPem);
    return withOverrides(c, extraJson);
}

}  // namespace

TEST(MqttSender, PublishesEachEventAtQos1OnTheTenantsTopicOverTls) {
    AlertFixture f("mqtt");
    Broker broker;
    Subscriber reader(broker.plainPort);
    std::string channel = f.channel(
        "broker", "mqtt", brokerConfig(broker, R"({"topic":"pulse/{tenant}/{device}/{severity}/{event}"})"));
    int64_t alertId = walkRoutedAlert(f, channel, "temperature 91 > 80");
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE,DONE,DONE") << deliveriesOf(channel, "last_error");

    auto got = reader.waitFor(3);
    ASSERT_EQ(got.size(), 3u);
    std::vector<std::string> keys;
    std::string base = "pulse/" + f.slug + "/dev-1/CRITICAL/";
    EXPECT_EQ(got[0].topic, base + "opened");
    EXPECT_EQ(got[1].topic, base + "acknowledged");
    EXPECT_EQ(got[2].topic, base + "closed");
    std::string stored = deliveriesOf(channel, "idempotency_key");
    for (size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(got[i].qos, 1);
        auto doc = Poco::JSON::Parser().parse(got[i].payload).extract<Poco::JSON::Object::Ptr>();
        EXPECT_EQ(doc->getObject("alert")->getValue<int64_t>("id"), alertId);
        keys.push_back(doc->getValue<std::string>("idempotency_key"));
    }
    EXPECT_EQ(keys[0] + "," + keys[1] + "," + keys[2], stored);
    EXPECT_EQ(Poco::JSON::Parser()
                  .parse(got[1].payload)
                  .extract<Poco::JSON::Object::Ptr>()
                  ->getValue<std::string>("type"),
              "alert.acknowledged");
}

TEST(MqttSender, RefusalsArePermanentAndAMissingBrokerIsRetried) {
    AlertFixture f("mqtt-answers");
    Broker broker;
    Subscriber reader(broker.plainPort);
    std::string badLogin =
        f.channel("bad-login", "mqtt", brokerConfig(broker, R"({"password":"wrong-one"})"));
    std::string forbidden =
        f.channel("forbidden", "mqtt", brokerConfig(broker, R"({"topic":"elsewhere/{tenant}"})"));
    std::string untrusted = f.channel("untrusted", "mqtt", brokerConfig(broker, R"({"ca_certificate":""})"));
    std::string plain =
        f.channel("plain", "mqtt",
                  brokerConfig(broker, R"({"tls":false,"username":"","password":null,"port":)" +
                                           std::to_string(broker.plainPort) + "}"));
    std::string absent =
        f.channel("absent", "mqtt", brokerConfig(broker, R"({"port":)" + std::to_string(freePort()) + "}"));
    deliverOneNoticeEach(f, {badLogin, forbidden, untrusted, plain, absent});
    auto expect = [](const std::string& id, const std::string& status, const std::string& attempts,
                     const std::string& error) { expectDelivery(id, status, attempts, error, kBotPassword); };
    expect(badLogin, "DEAD", "1", "refused the connection");
    expect(forbidden, "DEAD", "1", "reason code 135");  // 0x87 not authorised, from the ACL
    expect(untrusted, "DEAD", "3", "cannot connect");  // a TLS failure looks like any connect failure to Paho
    expect(plain, "DONE", "1", "published to pulse/");
    expect(absent, "DEAD", "3", "cannot connect");  // retried until max_attempts (3 here)
    auto got = reader.waitFor(1);
    ASSERT_EQ(got.size(), 1u);  // only the plaintext channel's notice arrived
    EXPECT_EQ(got[0].topic, "pulse/acme/alerts/dev-1");

    // Saved: a broker on a private address is refused, and a password is never sent in the clear.
    EXPECT_THROW(f.channel("private", "mqtt", brokerConfig(broker, R"({"host":"10.0.0.7"})")),
                 std::invalid_argument);
    try {
        f.channel("clear", "mqtt", brokerConfig(broker, R"({"tls":false})"));
        ADD_FAILURE() << "saved";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("not sent over plaintext"), std::string::npos) << e.what();
    }
}

// R8: the broker acknowledged, pulsed died before recording it; the notice published again carries the same
// key.
TEST(MqttSender, ACrashAfterThePubackRepublishesWithTheSameKey) {
    AlertFixture f("mqtt-crash");
    Broker broker;
    Subscriber reader(broker.plainPort);
    std::string channel = f.channel("broker", "mqtt", brokerConfig(broker));
    enqueueNotice(f, channel, "r-crash");
    crashAfterDeliveryThenRedeliver(f, [&] { return reader.waitFor(1, 0).size(); });
    // The dying dispatcher may take the delivery again after its lease before it is stopped (a connection
    // takes Paho about a second): every copy carries the one key.
    auto got = reader.waitFor(2);
    ASSERT_GE(got.size(), 2u);
    auto key = [](const Subscriber::Got& g) {
        return Poco::JSON::Parser()
            .parse(g.payload)
            .extract<Poco::JSON::Object::Ptr>()
            ->getValue<std::string>("idempotency_key");
    };
    for (const auto& g : got) EXPECT_EQ(key(g), deliveriesOf(channel, "idempotency_key"));
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE");
}
