// The plugin manager against real shared libraries: valid ones, deliberately broken ones (refused with
// one clear log line, the rest keeps working), throwing ones (contained), one built against the frozen
// ABI 1.0 header, and one built by clang++ with libc++.
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"
#include "net/OutboundHttp.h"
#include "plugins/PluginManager.h"

#include <Poco/File.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

extern "C" int pulse_abi_layout_checked(void);

using namespace pulse::plugins;

namespace {

std::string testPlugin(const std::string& name) {
    return std::string(PULSE_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

std::string refusalOf(const std::string& name) {
    try {
        loadPluginLibrary(testPlugin(name));
    } catch (const PluginRefused& e) {
        return e.what();
    }
    return "";
}

pulse_sample sample(const std::string& metric, double value) {
    static std::string m;
    m = metric;
    pulse_sample s{};
    s.struct_size = sizeof s;
    s.tenant = {"t1", 2};
    s.device = {"d1", 2};
    s.metric = {m.data(), m.size()};
    s.value = value;
    s.ts_ms = 1;
    return s;
}

// A plugins.d directory written for one test, and the settings that point at it.
class PluginDir {
  public:
    explicit PluginDir(const std::string& name) : dir_(::testing::TempDir() + "/plugins-" + name) {
        if (Poco::File(dir_).exists()) Poco::File(dir_).remove(true);
        Poco::File(dir_).createDirectories();
        settings_.pluginConfigDir = dir_;
        settings_.pluginPaths = {PULSE_TEST_PLUGIN_DIR, PULSE_PLUGIN_DIR};
    }
    ~PluginDir() {
        if (Poco::File(dir_).exists()) Poco::File(dir_).remove(true);
    }
    void add(const std::string& file, const std::string& text) { std::ofstream(dir_ + "/" + file) << text; }
    const pulse::config::Settings& settings() const { return settings_; }

  private:
    std::string dir_;
    pulse::config::Settings settings_ = pulse::config::defaults();
};

const InstanceStatus& statusOf(const PluginReport& r, const std::string& name) {
    for (const auto& s : r.instances)
        if (s.name == name) return s;
    throw std::runtime_error("no instance " + name);
}

}  // namespace

TEST(PluginLoader, AbiLayoutIsFrozen) {
    EXPECT_EQ(pulse_abi_layout_checked(), 1);
}

TEST(PluginLoader, LoadsAValidCPlugin) {
    auto p = loadPluginLibrary(testPlugin("test_sender"));
    EXPECT_EQ(p.name, "test_sender");
    EXPECT_EQ(p.version, "1.0.0");
    ASSERT_EQ(p.components.size(), 1u);
    EXPECT_EQ(p.components[0]->qualifiedType(), "sender/test");
}

TEST(PluginLoader, RefusesBrokenPluginsWithTheReason) {
    EXPECT_NE(refusalOf("broken_no_entry").find("exports no entry symbol pulse_plugin_entry_v1"),
              std::string::npos);
    EXPECT_NE(refusalOf("broken_null_descriptor").find("returned NULL"), std::string::npos);
    EXPECT_NE(refusalOf("broken_newer_minor").find("built for ABI 1.5, newer than this host's 1.4"),
              std::string::npos)
        << refusalOf("broken_newer_minor");
    EXPECT_NE(refusalOf("broken_major").find("built for ABI 2.0, this host speaks ABI 1.0-1.4"),
              std::string::npos)
        << refusalOf("broken_major");
    EXPECT_NE(refusalOf("broken_short_struct").find("struct_size 12 is smaller than ABI 1.0's 64"),
              std::string::npos)
        << refusalOf("broken_short_struct");
    EXPECT_NE(refusalOf("broken_duplicate_type").find("declares sender/test twice"), std::string::npos);
    EXPECT_NE(refusalOf("broken_schema").find("config_schema is not a usable JSON Schema"),
              std::string::npos);
}

TEST(PluginLoader, RefusesAFileThatIsNotASharedLibrary) {
    std::string path = ::testing::TempDir() + "/garbage.so";
    std::ofstream(path) << "this is not an ELF file";
    try {
        loadPluginLibrary(path);
        FAIL();
    } catch (const PluginRefused& e) {
        EXPECT_NE(std::string(e.what()).find("cannot load the library"), std::string::npos) << e.what();
    }
}

TEST(PluginLoader, PluginBuiltAgainstTheFrozenHeaderLoads) {
    auto p = loadPluginLibrary(testPlugin("frozen_v1_0_sender"));
    EXPECT_EQ(p.components.at(0)->qualifiedType(), "sender/frozen");
    EXPECT_EQ(p.abiMinor, 0u);  // a 1.0 plugin in a newer 1.x host
    auto p11 = loadPluginLibrary(testPlugin("frozen_v1_1_sender"));
    EXPECT_EQ(p11.components.at(0)->qualifiedType(), "sender/frozen11");
    EXPECT_EQ(p11.abiMinor, 1u);
    auto p12 = loadPluginLibrary(testPlugin("frozen_v1_2_sender"));
    EXPECT_EQ(p12.components.at(0)->qualifiedType(), "sender/frozen12");
    EXPECT_EQ(p12.abiMinor, 2u);
    auto p13 = loadPluginLibrary(testPlugin("frozen_v1_3_sender"));
    EXPECT_EQ(p13.components.at(0)->qualifiedType(), "sender/frozen13");
    EXPECT_EQ(p13.abiMinor, 3u);
}

// A 1.3 rule (its ops end before 1.4's save and restore) loads, evaluates, and keeps no state to save.
TEST(PluginLoader, ARuleBuiltAgainstTheFrozen13HeaderEvaluatesAndSavesNothing) {
    auto plugin = loadPluginLibrary(testPlugin("frozen_v1_3_rule"));
    ASSERT_EQ(plugin.components.at(0)->qualifiedType(), "rule/frozen13");
    EXPECT_EQ(plugin.components.at(0)->rule.save, nullptr);
    EXPECT_EQ(plugin.components.at(0)->rule.restore, nullptr);
    PluginInstance rule("r13", plugin.components.at(0), nullptr);
    std::string err;
    ASSERT_EQ(rule.create("{}", err), PULSE_OK) << err;
    ASSERT_EQ(rule.start(err), PULSE_OK) << err;
    pulse_sample s{};
    s.struct_size = sizeof s;
    s.tenant = {"acme", 4};
    s.device = {"dev-1", 5};
    s.metric = {"t", 1};
    s.value = 5;
    RuleVerdict v;
    ASSERT_EQ(rule.evaluate(s, v), PULSE_OK);
    EXPECT_EQ(v.transition, PULSE_TRANSITION_FIRING);
    EXPECT_FALSE(rule.saveState("acme", "dev-1").has_value());  // nothing the host could keep
    EXPECT_EQ(rule.restoreState("acme", "dev-1", R"({"firing":false})"), PULSE_OK);  // a no-op
    EXPECT_EQ(rule.track("acme", "dev-1", 1), PULSE_OK);                             // 1.2's, absent too
    rule.stop();
}

// A 1.2 plugin in this host still reaches http_send, at the member's old place, and gets its guard's answers.
TEST(PluginLoader, PluginBuiltAgainstTheFrozen12HeaderSendsThroughTheHost) {
    auto plugin = loadPluginLibrary(testPlugin("frozen_v1_2_sender"));
    auto deliverTo = [&](const std::string& url) {
        PluginInstance sender("s12", plugin.components.at(0), nullptr);
        std::string err;
        EXPECT_EQ(sender.create(R"({"url":")" + url + R"("})", err), PULSE_OK) << err;
        std::string payload = R"({"type":"alert.opened"})";
        pulse_delivery d{};
        d.struct_size = sizeof d;
        d.payload_json = {payload.data(), payload.size()};
        d.attempt = 1;
        return sender.deliver(d);
    };
    auto refused = deliverTo("http://127.0.0.1:9/hook");
    EXPECT_EQ(refused.code, PULSE_ERR_DENIED) << refused.detail;
    EXPECT_NE(refused.detail.find("loopback"), std::string::npos) << refused.detail;
    auto unresolved = deliverTo("http://no-such-host.invalid/hook");
    EXPECT_EQ(unresolved.code, PULSE_RETRY) << unresolved.detail;
}

TEST(PluginManager, RefusesBadPluginsOneLineEachAndKeepsTheRest) {
    std::string logFile = ::testing::TempDir() + "/plugin-manager.log";
    if (Poco::File(logFile).exists()) Poco::File(logFile).remove();
    pulse::logging::setup("info", "text", logFile);

    PluginDir dir("mixed");
    dir.add("10-good.properties",
            "plugin.library = test_sender.so\ninstance.good.component = sender/test\n"
            "instance.badconf.component = sender/test\ninstance.badconf.config = {\"url\": 5}\n"
            "instance.nosuch.component = sender/nosuch\n");
    dir.add("20-twin.properties",
            "plugin.library = test_sender_twin.so\ninstance.twin.component = sender/test\n");
    dir.add("30-minor.properties", "plugin.library = broken_newer_minor.so\n");
    dir.add("40-throwing.properties",
            "plugin.library = throwing.so\n"
            "instance.boom.component = sender/throwing\ninstance.boom.config = {\"throw_in_create\":true}\n"
            "instance.calm.component = sender/throwing\n");
    dir.add("50-missing.properties", "plugin.library = no_such_plugin.so\n");
    dir.add("60-rule.properties",
            "plugin.library = wrapper_rule.so\n"
            "instance.refusing.component = rule/test_threshold\n"
            "instance.refusing.config = {\"metric\":\"t\",\"above\":1,\"fail_create\":true}\n");
    dir.add("70-typo.properties", "plugin.libary = x.so\n");
    dir.add(
        "80-off.properties",
        "plugin.library = broken_major.so\nplugin.enabled = false\ninstance.off.component = sender/test\n");

    pulse::metrics::MetricsRegistry metrics;
    PluginManager pm(&metrics);
    pm.load(dir.settings(), PluginManager::Mode::Serve);
    const auto& r = pm.report();

    EXPECT_EQ(r.loaded.size(), 3u);  // test_sender, throwing, wrapper_rule
    ASSERT_EQ(r.refused.size(), 4u);
    EXPECT_NE(r.refused[0].reason.find("sender/test is already provided by plugin test_sender"),
              std::string::npos);
    EXPECT_NE(r.refused[1].reason.find("newer than this host"), std::string::npos);
    EXPECT_NE(r.refused[2].reason.find("no_such_plugin.so not found on plugins.path"), std::string::npos);
    EXPECT_NE(r.refused[3].reason.find("plugin.libary: unknown key"), std::string::npos);

    EXPECT_EQ(statusOf(r, "good").state, "running");
    EXPECT_EQ(statusOf(r, "calm").state, "running");
    EXPECT_EQ(statusOf(r, "badconf").state, "refused");
    EXPECT_NE(statusOf(r, "badconf").reason.find("/url: expected string, got integer"), std::string::npos);
    EXPECT_NE(statusOf(r, "nosuch").reason.find("has no component sender/nosuch (it has sender/test)"),
              std::string::npos);
    EXPECT_NE(statusOf(r, "boom").reason.find("create() failed"), std::string::npos);
    EXPECT_NE(statusOf(r, "refusing").reason.find("create() failed: fail_create was set"), std::string::npos)
        << statusOf(r, "refusing").reason;
    EXPECT_EQ(statusOf(r, "twin").state, "refused");
    EXPECT_EQ(statusOf(r, "off").state, "disabled");
    EXPECT_FALSE(r.clean());
    EXPECT_EQ(pm.instances(PULSE_KIND_SENDER).size(), 2u);
    EXPECT_NE(metrics.render().find("pulse_plugins_refused 4\n"), std::string::npos);

    // One error line per refusal: 4 libraries or files, and 4 instances (badconf, nosuch, boom, refusing);
    // the twin's instance is covered by its plugin's line.
    pulse::logging::get("plugins")->flush();
    std::ifstream in(logFile);
    int errorLines = 0;
    for (std::string line; std::getline(in, line);)
        if (line.find(" error ") != std::string::npos && line.find("refused: ") != std::string::npos)
            ++errorLines;
    EXPECT_EQ(errorLines, 8);
    pulse::logging::setup("info", "text", "");
}

TEST(PluginManager, ExceptionsEscapingACallbackFailOnlyThatCall) {
    PluginDir dir("throwing");
    dir.add("throwing.properties", "plugin.library = throwing.so\ninstance.t.component = sender/throwing\n");
    PluginManager pm;
    pm.load(dir.settings(), PluginManager::Mode::Serve);
    auto senders = pm.instances(PULSE_KIND_SENDER);
    ASSERT_EQ(senders.size(), 1u);
    auto deliver = [&](const std::string& payload) {
        pulse_delivery d{};
        d.struct_size = sizeof d;
        d.payload_json = {payload.data(), payload.size()};
        d.attempt = 1;
        return senders[0]->deliver(d);
    };
    EXPECT_EQ(deliver("boom").code, PULSE_ERR_INTERNAL);
    EXPECT_EQ(deliver("{}").code, PULSE_OK);
}

TEST(PluginManager, ValidateModeCreatesNothing) {
    PluginDir dir("validate");
    dir.add("log.properties", "plugin.library = sender_log.so\ninstance.log.component = sender/log\n");
    PluginManager pm;
    pm.load(dir.settings(), PluginManager::Mode::Validate);
    EXPECT_EQ(statusOf(pm.report(), "log").state, "valid");
    EXPECT_TRUE(pm.instances(PULSE_KIND_SENDER).empty());
    EXPECT_TRUE(pm.report().clean());
}

// The wrapper-built rule, from g++/libstdc++ and from clang++/libc++: config access, hysteresis, verdict
// strings that stay valid until the next call, and exceptions converted to codes inside the plugin.
class WrapperRule : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(WrapperRule, EvaluatesWithHysteresis) {
    auto [library, type] = GetParam();
    auto plugin = loadPluginLibrary(testPlugin(library));
    pulse::metrics::MetricsRegistry metrics;
    PluginInstance rule("r1", plugin.components.at(0), &metrics);
    std::string err;
    ASSERT_EQ(rule.create(R"({"metric":"temperature","above":30,"clear_below":25})", err), PULSE_OK) << err;
    ASSERT_EQ(rule.start(err), PULSE_OK);
    RuleVerdict v;
    ASSERT_EQ(rule.evaluate(sample("temperature", 31), v), PULSE_OK);
    EXPECT_EQ(v.transition, PULSE_TRANSITION_FIRING);
    EXPECT_EQ(v.device, "d1");
    EXPECT_NE(v.summary.find("temperature 31"), std::string::npos) << v.summary;
    ASSERT_EQ(rule.evaluate(sample("temperature", 27), v), PULSE_OK);
    EXPECT_EQ(v.transition, PULSE_TRANSITION_NONE);  // between the thresholds: still firing
    ASSERT_EQ(rule.evaluate(sample("temperature", 24), v), PULSE_OK);
    EXPECT_EQ(v.transition, PULSE_TRANSITION_CLEARED);
    ASSERT_EQ(rule.evaluate(sample("humidity", 99), v), PULSE_OK);
    EXPECT_EQ(v.transition, PULSE_TRANSITION_NONE);
}

TEST_P(WrapperRule, ExceptionsBecomeCodes) {
    auto [library, type] = GetParam();
    auto plugin = loadPluginLibrary(testPlugin(library));
    PluginInstance rule("r2", plugin.components.at(0), nullptr);
    std::string err;
    ASSERT_EQ(rule.create(R"({"metric":"explode","above":1})", err), PULSE_OK) << err;
    RuleVerdict v;
    EXPECT_EQ(rule.evaluate(sample("explode", 5), v), PULSE_ERR_GENERIC);
    PluginInstance failing("r3", plugin.components.at(0), nullptr);
    EXPECT_EQ(failing.create(R"({"metric":"m","above":1,"fail_create":true})", err), PULSE_ERR_CONFIG);
    EXPECT_EQ(err, "fail_create was set");
}

INSTANTIATE_TEST_SUITE_P(
    Runtimes, WrapperRule,
    ::testing::Values(std::make_pair(std::string("wrapper_rule"), std::string("test_threshold")),
                      std::make_pair(std::string("libcxx_rule"), std::string("libcxx_threshold"))),
    [](const auto& info) { return info.param.first; });

TEST(HostApi, MetricsAndConfigAccess) {
    auto plugin = loadPluginLibrary(std::string(PULSE_PLUGIN_DIR) + "/sender_log.so");
    pulse::metrics::MetricsRegistry metrics;
    PluginInstance log("audit", plugin.components.at(0), &metrics);
    std::string err;
    ASSERT_EQ(log.create(R"({"level":"warn"})", err), PULSE_OK) << err;
    pulse_delivery d{};
    d.struct_size = sizeof d;
    d.idempotency_key = {"k1", 2};
    d.payload_json = {"{}", 2};
    EXPECT_EQ(log.deliver(d).code, PULSE_OK);
    EXPECT_EQ(log.deliver(d).code, PULSE_OK);
    EXPECT_NE(metrics.render().find(
                  "pulse_plugin_log_notifications_total{instance=\"audit\",plugin=\"sender_log\"} 2"),
              std::string::npos)
        << metrics.render();

    const pulse_host_api* api = hostApi();
    pulse_host host;
    host.config = pulse::json::parseJson(R"({"n":2.5,"b":true,"s":"hello","arr":[1]})");
    double n = 0;
    int b = 0;
    char buf[4];
    size_t len = 0;
    EXPECT_EQ(api->config_number(&host, "/n", &n), PULSE_OK);
    EXPECT_EQ(n, 2.5);
    EXPECT_EQ(api->config_number(&host, "/s", &n), PULSE_ERR_INVALID);
    EXPECT_EQ(api->config_bool(&host, "/b", &b), PULSE_OK);
    EXPECT_EQ(b, 1);
    EXPECT_EQ(api->config_string(&host, "/s", buf, sizeof buf, &len), PULSE_ERR_INVALID);
    EXPECT_EQ(len, 5u);  // tells the caller how much room it needs
    char big[8];
    EXPECT_EQ(api->config_string(&host, "/s", big, sizeof big, &len), PULSE_OK);
    EXPECT_STREQ(big, "hello");
    EXPECT_EQ(api->config_number(&host, "/missing", &n), PULSE_ERR_INVALID);
    EXPECT_EQ(api->counter_add(&host, "Bad-Name", "x", 1), PULSE_ERR_INVALID);
    EXPECT_EQ(api->counter_add(&host, "ok", "x", -1), PULSE_ERR_INVALID);
}

// ABI 1.3: the host resolves a tenant-chosen host and applies http_send's guard, with the guard's allow-list.
TEST(HostApi, EgressResolveAppliesTheGuard) {
    const pulse_host_api* api = hostApi();
    ASSERT_TRUE(PULSE_HAS_MEMBER(pulse_host_api, api, egress_resolve));
    char address[PULSE_ADDRESS_CAP];
    char error[256];
    pulse_host host;  // no services: a guard with an empty allow-list
    EXPECT_EQ(api->egress_resolve(&host, "127.0.0.1", address, sizeof address, error, sizeof error),
              PULSE_ERR_DENIED);
    EXPECT_NE(std::string(error).find("loopback"), std::string::npos) << error;
    EXPECT_STREQ(address, "");
    EXPECT_EQ(
        api->egress_resolve(&host, "no-such-host.invalid", address, sizeof address, error, sizeof error),
        PULSE_ERR_UNAVAILABLE);
    EXPECT_EQ(api->egress_resolve(&host, "relay:25", address, sizeof address, error, sizeof error),
              PULSE_ERR_INVALID);
    EXPECT_EQ(api->egress_resolve(&host, "93.184.216.34", address, 8, error, sizeof error),
              PULSE_ERR_INVALID);
    EXPECT_EQ(api->egress_resolve(&host, "93.184.216.34", address, sizeof address, nullptr, 0), PULSE_OK);
    EXPECT_STREQ(address, "93.184.216.34");

    pulse::net::OutboundHttp allowing(pulse::net::EgressGuard(
        {pulse::net::Cidr::parse("127.0.0.0/8"), pulse::net::Cidr::parse("::1/128")}));
    host.services.http = &allowing;
    EXPECT_EQ(api->egress_resolve(&host, "localhost", address, sizeof address, error, sizeof error), PULSE_OK)
        << error;
    EXPECT_TRUE(std::string(address).rfind("127.", 0) == 0 || std::string(address) == "::1") << address;
}
