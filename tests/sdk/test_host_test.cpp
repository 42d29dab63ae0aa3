// pulse/testing.hpp: the bundled senders' outcome mapping through the SDK's test host, loaded as a plugin
// author would load theirs (dlopen of the built .so). Compiled as C++17, without the host's libraries.
#include <pulse/notice.hpp>
#include <pulse/testing.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

const std::string kPluginDir = PULSE_PLUGIN_DIR;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed host clock

const char* kSlackConfig =
    R"({"url": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"})";
const char* kWebhookConfig =
    R"({"url": "https://hooks.example.com/pulse", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})";

// An alert event as the host sends it (docs/plugin-guide.md).
const char* kOpened = R"({"type": "alert.opened",
 "event": {"id": 812, "kind": "OPENED", "at": "2026-11-24T10:00:00.123+00:00", "actor": "system"},
 "tenant": {"id": "5b0e6c9e-3f7a-4b61-9d59-2c7f0e1a9b42", "slug": "acme", "name": "Acme Cold Chain"},
 "links": {"alert": "https://pulse.example.com/alerts/97"},
 "alert": {"id": 97, "status": "OPEN", "condition": "FIRING", "severity": "CRITICAL",
           "summary": "temperature 91 > 80", "value": 91, "flapping": false,
           "triggered_at": "2026-11-24T10:00:00.123+00:00", "triggered_at_ms": 1795514400123,
           "opened_at": "2026-11-24T10:00:00.123+00:00",
           "acknowledged_at": null, "acknowledged_by": null, "closed_at": null, "close_reason": null,
           "rule": {"id": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "name": "too hot", "type": "threshold"},
           "device": {"id": 42, "name": "sensor-1", "tags": ["cold-room"]},
           "site": {"id": "0f6c3a1e-8d2b-4e7a-9b1c-5d4e3f2a1b0c", "name": "Warehouse 3", "timezone": "Europe/Berlin"}}})";

pulse::HttpReply answer(int status, std::string body = "", int64_t retryAfterMs = -1) {
    pulse::HttpReply r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after_ms = retryAfterMs;
    return r;
}

pulse::HttpReply unavailable() {
    pulse::HttpReply r;
    r.code = PULSE_ERR_UNAVAILABLE;
    r.error = "connection refused";
    return r;
}

const pulse_plugin* plugin(const char* name) {
    return pulse::testing::load_plugin(kPluginDir + "/" + name + ".so");
}

// One delivery answered with reply, on a host clock 2 s after the previous one (past Slack's pacing).
class Senders : public ::testing::Test {
  protected:
    pulse::DeliveryOutcome deliverWith(pulse::testing::TestHost& host, pulse::testing::Instance& inst,
                                       pulse::HttpReply reply) {
        host.advance_ms(2000);
        host.on_http([reply](const pulse::HttpCall&) { return reply; });
        return inst.deliver("key-" + std::to_string(++n_), kOpened);
    }
    int n_ = 0;
};

TEST_F(Senders, SlackMapsEveryAnswer) {
    pulse::testing::TestHost host(kSlackConfig, "slack-test");
    host.set_now_ms(kT0);
    auto inst = host.create(plugin("sender_slack"), "sender", "slack");
    ASSERT_EQ(inst.start(), PULSE_OK);

    auto ok = deliverWith(host, inst, answer(200, "ok"));
    EXPECT_EQ(ok.code, PULSE_OK) << ok.detail;
    EXPECT_EQ(ok.status_code, 200);

    auto removed = deliverWith(host, inst, answer(404, "no_service"));
    EXPECT_LT(removed.code, 0) << removed.detail;
    EXPECT_EQ(removed.status_code, 404);

    auto archived = deliverWith(host, inst, answer(410, "channel_is_archived"));
    EXPECT_LT(archived.code, 0) << archived.detail;
    EXPECT_EQ(archived.status_code, 410);

    auto limited = deliverWith(host, inst, answer(429, "rate_limited", 30000));
    EXPECT_EQ(limited.code, PULSE_RETRY) << limited.detail;
    EXPECT_EQ(limited.retry_after_ms, 30000);

    auto broken = deliverWith(host, inst, answer(500, "rollup_error"));
    EXPECT_EQ(broken.code, PULSE_RETRY) << broken.detail;

    auto down = deliverWith(host, inst, unavailable());
    EXPECT_EQ(down.code, PULSE_RETRY) << down.detail;

    // What it sent: a Block Kit message (text for notifications, the coloured attachment) to the URL.
    auto calls = host.http_calls();
    ASSERT_EQ(calls.size(), 6u);
    EXPECT_EQ(calls[0].method, "POST");
    EXPECT_EQ(calls[0].url, "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
    EXPECT_GT(calls[0].timeout_ms, 0);
    EXPECT_LE(calls[0].timeout_ms, 10000);  // the schema's default timeout_ms, filled in by the test host
    pulse::json::Value body = pulse::json::parse(calls[0].body);
    ASSERT_NE(body.find("/text"), nullptr);
    EXPECT_TRUE(body.find("/text")->is_string());
    EXPECT_NE(body.string("/text").find("temperature 91 &gt; 80"),
              std::string::npos)  // Slack mrkdwn escapes &, < and >
        << calls[0].body;
    ASSERT_NE(body.find("/attachments"), nullptr);
    EXPECT_TRUE(body.find("/attachments")->is_array());
    EXPECT_EQ(body.string("/attachments/0/color"), pulse::notice::severity_colour("CRITICAL"));
}

TEST_F(Senders, SlackPacesOneMessagePerSecond) {
    pulse::testing::TestHost host(kSlackConfig);
    host.set_now_ms(kT0);
    host.on_http([](const pulse::HttpCall&) { return answer(200, "ok"); });
    auto inst = host.create(plugin("sender_slack"), "sender", "slack");
    ASSERT_EQ(inst.start(), PULSE_OK);

    EXPECT_EQ(inst.deliver("first", kOpened).code, PULSE_OK);
    auto second = inst.deliver("second", kOpened);  // the same host millisecond
    EXPECT_EQ(second.code, PULSE_DEFER) << second.detail;
    EXPECT_GE(second.retry_after_ms, 900);
    EXPECT_LE(second.retry_after_ms, 1000);
    EXPECT_EQ(host.http_calls().size(), 1u);  // deferred, not sent to earn a 429

    host.advance_ms(second.retry_after_ms);
    auto again = inst.deliver("second", kOpened, 1);  // the host calls again with the same key
    EXPECT_EQ(again.code, PULSE_OK) << again.detail;
    EXPECT_EQ(host.http_calls().size(), 2u);
}

TEST_F(Senders, WebhookMapsEveryAnswer) {
    pulse::testing::TestHost host(kWebhookConfig);
    host.set_now_ms(kT0);
    auto inst = host.create(plugin("sender_webhook"), "sender", "webhook");
    ASSERT_EQ(inst.start(), PULSE_OK);

    for (int status : {200, 201, 202, 204}) {
        auto o = deliverWith(host, inst, answer(status));
        EXPECT_EQ(o.code, PULSE_OK) << status << ": " << o.detail;
        EXPECT_EQ(o.status_code, status);
    }
    auto gone = deliverWith(host, inst, answer(410, "gone"));
    EXPECT_LT(gone.code, 0) << gone.detail;
    EXPECT_EQ(gone.status_code, 410);

    auto bad = deliverWith(host, inst, answer(400, R"({"error":"bad"})"));
    EXPECT_LT(bad.code, 0) << bad.detail;

    auto limited = deliverWith(host, inst, answer(429, "", 7000));
    EXPECT_EQ(limited.code, PULSE_RETRY) << limited.detail;
    EXPECT_EQ(limited.retry_after_ms, 7000);

    for (int status : {500, 502, 503}) {
        auto o = deliverWith(host, inst, answer(status));
        EXPECT_EQ(o.code, PULSE_RETRY) << status << ": " << o.detail;
    }
    auto down = deliverWith(host, inst, unavailable());
    EXPECT_EQ(down.code, PULSE_RETRY) << down.detail;

    // Signed per Standard Webhooks: webhook-id is the idempotency key, the body the notice as given.
    auto calls = host.http_calls();
    ASSERT_FALSE(calls.empty());
    std::string id, signature;
    for (const auto& [name, value] : calls[0].headers) {
        if (name == "webhook-id") id = value;
        if (name == "webhook-signature") signature = value;
    }
    EXPECT_EQ(id, "key-1");
    EXPECT_EQ(signature.rfind("v1,", 0), 0u) << signature;
    EXPECT_EQ(calls[0].body, kOpened);
    EXPECT_EQ(calls[0].url, "https://hooks.example.com/pulse");
}

TEST(TestHost, RecordsLogsCountersAndConfig) {
    pulse::testing::TestHost host(R"({"level": "warn"})", "audit");
    auto inst = host.create(plugin("sender_log"), "sender", "log");
    ASSERT_EQ(inst.start(), PULSE_OK);
    // The schema's defaults were filled in: include_payload true, max_payload_bytes 4096.
    pulse::json::Value config = pulse::json::parse(host.config());
    EXPECT_TRUE(config.boolean("/include_payload"));
    EXPECT_EQ(config.integer("/max_payload_bytes"), 4096);

    auto o = inst.deliver("key-7", kOpened, 3);
    EXPECT_EQ(o.code, PULSE_OK);
    auto logs = host.logs();
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0].level, PULSE_LOG_WARN);
    EXPECT_TRUE(host.logged("notification key-7 attempt 3"));
    EXPECT_TRUE(host.logged("temperature 91 > 80"));
    EXPECT_EQ(host.counters()["log_notifications"], 1.0);
    EXPECT_TRUE(host.http_calls().empty());
    inst.destroy();
    EXPECT_FALSE(inst);
}

TEST(TestHost, ServesTheHostApi) {
    pulse::testing::TestHost host(R"({"n": 2.5, "flag": true, "s": "abcdef", "list": ["x"]})", "inst-1");
    const pulse_host_api* api = host.api();
    pulse_host* h = host.handle();
    EXPECT_EQ(api->abi_major, 1u);
    EXPECT_EQ(api->abi_minor, static_cast<uint32_t>(PULSE_ABI_MINOR));
    EXPECT_TRUE(PULSE_HAS_MEMBER(pulse_host_api, api, http_send));
    EXPECT_STREQ(api->instance_name(h), "inst-1");

    pulse::Host wrapped(api, h);
    EXPECT_EQ(wrapped.config_number("/n"), 2.5);
    EXPECT_EQ(wrapped.config_number("/flag", -1), -1);  // a boolean is not a number
    EXPECT_TRUE(wrapped.config_bool("/flag"));
    EXPECT_EQ(wrapped.config_string("/s"), "abcdef");
    EXPECT_EQ(wrapped.config_string("/list/0"), "x");
    EXPECT_EQ(wrapped.config_string("/missing", "fallback"), "fallback");
    char small[4];
    size_t len = 0;
    EXPECT_EQ(api->config_string(h, "/s", small, sizeof small, &len), PULSE_ERR_INVALID);
    EXPECT_EQ(len, 6u);

    host.set_now_ms(1234);
    EXPECT_EQ(wrapped.now_ms(), 1234);
    host.advance_ms(10);
    EXPECT_EQ(wrapped.now_ms(), 1244);
    host.use_real_clock();
    EXPECT_GT(wrapped.now_ms(), kT0 - 100'000'000'000);

    EXPECT_EQ(api->counter_add(h, "Bad-Name", "", 1), PULSE_ERR_INVALID);
    EXPECT_EQ(api->gauge_set(h, "depth", "queue depth", 3), PULSE_OK);
    EXPECT_EQ(host.gauges()["depth"], 3.0);
    EXPECT_EQ(api->ingest_submit(h, nullptr, 0, nullptr), PULSE_ERR_UNSUPPORTED);
    EXPECT_EQ(api->http_route(h, "GET", "/x", nullptr, nullptr), PULSE_ERR_UNSUPPORTED);

    // No responder: the call is recorded and answered as unreachable.
    pulse::HttpCall call;
    call.url = "https://example.com/";
    call.headers = {{"X-Test", "1"}};
    call.body = "{}";
    pulse::HttpReply r = wrapped.http_send(call);
    EXPECT_EQ(r.code, PULSE_ERR_UNAVAILABLE);
    host.on_http([](const pulse::HttpCall& c) { return answer(201, "made " + c.body, 5000); });
    r = wrapped.http_send(call);
    EXPECT_EQ(r.code, PULSE_OK);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.retry_after_ms, 5000);
    EXPECT_EQ(r.body, "made {}");
    auto calls = host.http_calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].headers.at(0).second, "1");

    host.set_abi_minor(1);
    EXPECT_FALSE(PULSE_HAS_MEMBER(pulse_host_api, api, http_send));
    EXPECT_TRUE(PULSE_HAS_MEMBER(pulse_host_api, api, http_route));
}

TEST(TestHost, CreateFailuresThrow) {
    pulse::testing::TestHost host(kSlackConfig);
    const pulse_plugin* slack = plugin("sender_slack");
    EXPECT_THROW(host.create(slack, "sender", "teams"), pulse::Error);
    EXPECT_THROW(host.create(slack, "rule", "slack"), pulse::Error);
    EXPECT_THROW(pulse::testing::load_plugin(kPluginDir + "/no_such_plugin.so"), std::runtime_error);
    // The webhook refuses a malformed secret in create(): the code and reason come through.
    pulse::testing::TestHost bad(R"({"url": "https://hooks.example.com/pulse", "secret": "whsec_!!"})");
    try {
        bad.create(plugin("sender_webhook"), "sender", "webhook");
        ADD_FAILURE() << "create() accepted a malformed secret";
    } catch (const pulse::Error& e) {
        EXPECT_LT(e.code(), 0);
        EXPECT_STRNE(e.what(), "");
    }
}

}  // namespace

// ABI 1.4: a threshold rule's hold-for in progress, saved and restored into a new instance (a restart), still
// fires when its window ends; a firing condition restored still clears; an idle device saves nothing, and a
// text the rule cannot read is refused (the device starts idle).
TEST(TestHost, ARuleStateSavedAndRestoredGoesOn) {
    pulse::testing::TestHost host(R"({"metric": "t", "operator": "GT", "threshold": 80, "hold_for_s": 30})");
    auto before = host.create(plugin("rule_threshold"), "rule", "threshold");
    ASSERT_EQ(before.start(), PULSE_OK);
    EXPECT_EQ(before.save("acme", "dev-1"), "");  // never seen: idle
    EXPECT_EQ(before.evaluate({"acme", "dev-1", "t", 95, false, kT0}).transition, PULSE_TRANSITION_NONE);
    std::string saved = before.save("acme", "dev-1");
    EXPECT_EQ(saved, R"({"firing":false,"breach_since_ms":1800000000000,"last_value":95})");
    before.destroy();

    auto after = host.create(plugin("rule_threshold"), "rule", "threshold");
    ASSERT_EQ(after.start(), PULSE_OK);
    ASSERT_EQ(after.restore("acme", "dev-1", saved), PULSE_OK);
    EXPECT_TRUE(after.tick(kT0 + 29000).empty());
    auto fired = after.tick(kT0 + 30000);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0].transition, PULSE_TRANSITION_FIRING);
    EXPECT_EQ(fired[0].device, "dev-1");
    EXPECT_EQ(after.save("acme", "dev-1"), R"({"firing":true})");

    auto third = host.create(plugin("rule_threshold"), "rule", "threshold");
    ASSERT_EQ(third.start(), PULSE_OK);
    ASSERT_EQ(third.restore("acme", "dev-1", R"({"firing":true})"), PULSE_OK);
    EXPECT_EQ(third.evaluate({"acme", "dev-1", "t", 70, false, kT0 + 31000}).transition,
              PULSE_TRANSITION_CLEARED);
    EXPECT_EQ(third.save("acme", "dev-1"), "");
    EXPECT_EQ(third.restore("acme", "dev-2", "{not json"), PULSE_ERR_INVALID);
    EXPECT_EQ(third.save("acme", "dev-2"), "");
}
