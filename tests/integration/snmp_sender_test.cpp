// sender_snmp through the outbox and the dispatcher, against a real snmptrapd (Debian's net-snmp 5.9.3)
// behind tests/standins/trap_receiver.py: a v2c community and two v3 authPriv users, one localized to the
// sender's engine ID for traps and one for informs (CONTRACTS.md section 5). The receiver logs each
// notification it accepted, with its PDU type, security and varbinds, which the tests read.
#include "alert_env.h"

#include <gtest/gtest.h>

#include <thread>

using namespace pulse;
using namespace pulse::test;

namespace {

// trap_receiver.py's defaults.
constexpr const char* kCommunity = "n0t-public-c0mmunity";
constexpr const char* kAuthPass = "auth-passphrase-1";
constexpr const char* kPrivPass = "priv-passphrase-1";
constexpr const char* kEngineId = "0x8000000001020304";

struct TrapReceiver {
    StandIn standIn{"trap_receiver.py"};
    int port = standIn.get("/_info")->getValue<int>("port");

    std::vector<Poco::JSON::Object::Ptr> waitFor(size_t n, int timeoutMs = 10000) {
        for (int waited = 0; waited < timeoutMs && standIn.requests()->size() < n; waited += 50)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto all = standIn.requests();
        std::vector<Poco::JSON::Object::Ptr> out;
        for (size_t i = 0; i < all->size(); ++i) out.push_back(at(all, i));
        return out;
    }
};

// The value of pulseObjects.N.0 in a notification ("2", "dev-1"), with its type.
std::string object(const Poco::JSON::Object::Ptr& n, int index, std::string* type = nullptr) {
    auto varbinds = n->getArray("varbinds");
    std::string oid = ".1.3.6.1.4.1.32473.1.1." + std::to_string(index) + ".0";
    for (size_t i = 0; i < varbinds->size(); ++i) {
        auto v = at(varbinds, i);
        if (v->getValue<std::string>("oid") != oid) continue;
        if (type) *type = v->getValue<std::string>("type");
        return v->getValue<std::string>("value");
    }
    return "(missing)";
}

std::string v2cConfig(const TrapReceiver& r, const std::string& extraJson = "{}") {
    Poco::JSON::Object c;
    c.set("host", "127.0.0.1");
    c.set("port", r.port);
    c.set("community", kCommunity);
    c.set("timeout_ms", 300);
    c.set("retries", 1);
    return withOverrides(c, extraJson);
}

std::string v3Config(const TrapReceiver& r, const std::string& extraJson = "{}") {
    Poco::JSON::Object c;
    c.set("host", "127.0.0.1");
    c.set("port", r.port);
    c.set("version", "3");
    c.set("user", "informuser");
    c.set("auth_protocol", "SHA-256");
    c.set("auth_passphrase", kAuthPass);
    c.set("priv_passphrase", kPrivPass);
    c.set("timeout_ms", 300);
    c.set("retries", 1);
    return withOverrides(c, extraJson);
}

// Each notification of an alert's lifecycle: valid (the two leading varbinds RFC 3416 requires), then
// PULSE-MIB's objects in the notification's order.
void expectLifecycle(const std::vector<Poco::JSON::Object::Ptr>& got, int64_t alertId,
                     const std::string& slug) {
    ASSERT_EQ(got.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        EXPECT_TRUE(got[i]->getValue<bool>("valid")) << got[i]->get("problems").toString();
        auto varbinds = got[i]->getArray("varbinds");
        ASSERT_EQ(varbinds->size(), 10u);
        EXPECT_EQ(at(varbinds, 1)->getValue<std::string>("value"), ".1.3.6.1.4.1.32473.1.0.1");
        for (size_t v = 2; v < 10; ++v)
            EXPECT_EQ(at(varbinds, v)->getValue<std::string>("oid"),
                      ".1.3.6.1.4.1.32473.1.1." + std::to_string(v - 1) + ".0");
        std::string type;
        EXPECT_EQ(object(got[i], 1, &type), std::to_string(alertId));
        EXPECT_EQ(type, "Gauge32");
        EXPECT_EQ(object(got[i], 2), std::to_string(i + 1));  // open, acknowledged, closed
        EXPECT_EQ(object(got[i], 3), "1");                    // critical
        EXPECT_NE(object(got[i], 4).find(slug), std::string::npos);
        EXPECT_EQ(object(got[i], 5, &type), "dev-1");
        EXPECT_EQ(type, "STRING");
        EXPECT_EQ(object(got[i], 7), "too hot");
        EXPECT_EQ(object(got[i], 8), "temperature 91 > 80");
    }
}

// The notifications of one PDU type, version and community or user.
std::vector<Poco::JSON::Object::Ptr> matching(const std::vector<Poco::JSON::Object::Ptr>& all,
                                              const std::string& pdu, const std::string& version,
                                              const std::string& security) {
    std::vector<Poco::JSON::Object::Ptr> out;
    for (const auto& n : all)
        if (n->optValue<std::string>("pdu", "") == pdu &&
            n->optValue<std::string>("version", "") == version &&
            n->optValue<std::string>("security", "") == security)
            out.push_back(n);
    return out;
}

}  // namespace

TEST(SnmpSender, V2cInformsAndTrapsCarryTheAlertsLifecycle) {
    AlertFixture f("snmp-v2c");
    TrapReceiver receiver;
    std::string informs = f.channel("nms-informs", "snmp", v2cConfig(receiver));
    std::string traps = f.channel("nms-traps", "snmp", v2cConfig(receiver, R"({"notification":"trap"})"));
    f.routeAll(traps);
    int64_t alertId = walkRoutedAlert(f, informs, "temperature 91 > 80");
    EXPECT_EQ(deliveriesOf(informs, "status"), "DONE,DONE,DONE") << deliveriesOf(informs, "last_error");
    EXPECT_EQ(deliveriesOf(traps, "status"), "DONE,DONE,DONE") << deliveriesOf(traps, "last_error");
    EXPECT_NE(deliveriesOf(informs, "last_error").find("acknowledged"), std::string::npos);
    EXPECT_NE(deliveriesOf(traps, "last_error").find("not acknowledged"), std::string::npos);

    auto lines = receiver.waitFor(6);
    expectLifecycle(matching(lines, "INFORM", "v2c", kCommunity), alertId, f.slug);
    expectLifecycle(matching(lines, "TRAP2", "v2c", kCommunity), alertId, f.slug);
}

TEST(SnmpSender, V3AuthPrivInformsDiscoverTheReceiverAndTrapsUseTheirEngineId) {
    AlertFixture f("snmp-v3");
    TrapReceiver receiver;
    std::string informs = f.channel("nms-v3-informs", "snmp", v3Config(receiver));
    std::string traps = f.channel(
        "nms-v3-traps", "snmp",
        v3Config(receiver, std::string(R"({"user":"trapuser","notification":"trap","engine_id":")") +
                               kEngineId + "\"}"));
    f.routeAll(traps);
    int64_t alertId = walkRoutedAlert(f, informs, "temperature 91 > 80");
    EXPECT_EQ(deliveriesOf(informs, "status"), "DONE,DONE,DONE") << deliveriesOf(informs, "last_error");
    EXPECT_EQ(deliveriesOf(traps, "status"), "DONE,DONE,DONE") << deliveriesOf(traps, "last_error");

    auto lines = receiver.waitFor(6);
    expectLifecycle(matching(lines, "INFORM", "v3", "informuser"), alertId, f.slug);
    expectLifecycle(matching(lines, "TRAP2", "v3", "trapuser"), alertId, f.slug);
}

TEST(SnmpSender, RefusedCredentialsArePermanentAndASilentReceiverIsRetried) {
    AlertFixture f("snmp-answers");
    TrapReceiver receiver;
    std::string wrongKey =
        f.channel("wrong-key", "snmp", v3Config(receiver, R"({"auth_passphrase":"not-the-one"})"));
    std::string unknownUser = f.channel("unknown-user", "snmp", v3Config(receiver, R"({"user":"nobody"})"));
    std::string wrongCommunity =
        f.channel("wrong-community", "snmp", v2cConfig(receiver, R"({"community":"guess"})"));
    std::string absent =
        f.channel("absent", "snmp", v2cConfig(receiver, R"({"port":)" + std::to_string(freeUdpPort()) + "}"));
    deliverOneNoticeEach(f, {wrongKey, unknownUser, wrongCommunity, absent});
    auto expect = [](const std::string& id, const std::string& status, const std::string& attempts,
                     const std::string& error) { expectDelivery(id, status, attempts, error, kPrivPass); };
    expect(wrongKey, "DEAD", "1", "the receiver reported");
    expect(unknownUser, "DEAD", "1", "the receiver reported");
    expect(wrongCommunity, "DEAD", "3", "no response to the inform after 2 tries");
    expect(absent, "DEAD", "3", "no response to the inform");
    EXPECT_EQ(receiver.standIn.requests()->size(), 0u);  // nothing it would accept arrived

    // Saved: a receiver on a private address is refused, and so are incomplete security settings.
    EXPECT_THROW(f.channel("private", "snmp", v2cConfig(receiver, R"({"host":"10.0.0.7"})")),
                 std::invalid_argument);
    auto refusal = [&](const std::string& config) -> std::string {
        try {
            f.channel("incomplete", "snmp", config);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "saved";
    };
    EXPECT_NE(refusal(v2cConfig(receiver, R"({"community":null})")).find("v2c needs a community"),
              std::string::npos);
    EXPECT_NE(refusal(v3Config(receiver, R"({"priv_passphrase":null})")).find("v3 needs user"),
              std::string::npos);
    EXPECT_NE(refusal(v3Config(receiver, R"({"notification":"trap"})")).find("needs engine_id"),
              std::string::npos);
    EXPECT_NE(refusal(v3Config(receiver, R"({"auth_passphrase":"short"})")).find("auth_passphrase"),
              std::string::npos);
}
