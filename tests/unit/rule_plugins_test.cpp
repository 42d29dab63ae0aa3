// The bundled rule plugins through the ABI, as the host drives them: THRESHOLD with operators,
// hysteresis and hold-for; NO_HEARTBEAT with tracked devices and ticks.
#include "plugins/PluginInstance.h"
#include "plugins/PluginLibrary.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace pulse::plugins;

namespace {

std::shared_ptr<PluginInstance> rule(const char* library, const std::string& config) {
    auto plugin = loadPluginLibrary(std::string(PULSE_PLUGIN_DIR) + "/" + library);
    auto instance = std::make_shared<PluginInstance>("test", plugin.components.at(0), nullptr);
    std::string error;
    if (instance->create(config, error) != PULSE_OK) throw std::runtime_error(error);
    return instance;
}

pulse_transition feed(PluginInstance& r, const char* device, const char* metric, double value, int64_t tsMs,
                      RuleVerdict* out = nullptr) {
    pulse_sample s{};
    s.struct_size = sizeof s;
    s.tenant = {"acme", 4};
    s.device = {device, strlen(device)};
    s.metric = {metric, strlen(metric)};
    s.value = value;
    s.ts_ms = tsMs;
    RuleVerdict v;
    EXPECT_EQ(r.evaluate(s, v), PULSE_OK);
    if (out) *out = v;
    return v.transition;
}

std::vector<RuleVerdict> tick(PluginInstance& r, int64_t nowMs) {
    std::vector<RuleVerdict> out;
    EXPECT_EQ(r.tick(nowMs, [&](const RuleVerdict& v) { out.push_back(v); }), PULSE_OK);
    return out;
}

}  // namespace

TEST(ThresholdRule, FiresOnceAndClearsAtTheClearThreshold) {
    auto r =
        rule("rule_threshold.so", R"({"metric":"temp","operator":"GT","threshold":80,"clear_threshold":75})");
    EXPECT_EQ(feed(*r, "d1", "temp", 79, 1), PULSE_TRANSITION_NONE);
    EXPECT_EQ(feed(*r, "d1", "humidity", 99, 2), PULSE_TRANSITION_NONE);  // another metric
    RuleVerdict v;
    EXPECT_EQ(feed(*r, "d1", "temp", 81.5, 3, &v), PULSE_TRANSITION_FIRING);
    EXPECT_EQ(v.device, "d1");
    EXPECT_DOUBLE_EQ(v.observed, 81.5);
    EXPECT_EQ(v.summary, "temp 81.5 > 80");
    EXPECT_EQ(feed(*r, "d1", "temp", 90, 4), PULSE_TRANSITION_NONE);  // still firing: no second verdict
    EXPECT_EQ(feed(*r, "d2", "temp", 70, 4), PULSE_TRANSITION_NONE);  // per-device state
    EXPECT_EQ(feed(*r, "d1", "temp", 78, 5), PULSE_TRANSITION_NONE);  // hysteresis: above 75 still firing
    EXPECT_EQ(feed(*r, "d1", "temp", 75, 6), PULSE_TRANSITION_CLEARED);
    EXPECT_EQ(feed(*r, "d1", "temp", 80, 7), PULSE_TRANSITION_NONE);  // GT: 80 is not above 80
}

TEST(ThresholdRule, EveryOperator) {
    struct Case {
        const char* op;
        double fire, stay;
    };
    for (auto c : {Case{"GT", 10.1, 10}, Case{"GTE", 10, 9.9}, Case{"LT", 9.9, 10}, Case{"LTE", 10, 10.1}}) {
        SCOPED_TRACE(c.op);
        auto r = rule("rule_threshold.so",
                      std::string(R"({"metric":"m","threshold":10,"operator":")") + c.op + "\"}");
        EXPECT_EQ(feed(*r, "d", "m", c.stay, 1), PULSE_TRANSITION_NONE);
        EXPECT_EQ(feed(*r, "d", "m", c.fire, 2), PULSE_TRANSITION_FIRING);
        EXPECT_EQ(feed(*r, "d", "m", c.stay, 3), PULSE_TRANSITION_CLEARED);
    }
}

TEST(ThresholdRule, HoldForFiresOnlyWhenTheConditionLasted) {
    auto r = rule("rule_threshold.so", R"({"metric":"p","operator":"LT","threshold":2,"hold_for_s":10})");
    EXPECT_EQ(feed(*r, "d", "p", 1, 1000), PULSE_TRANSITION_NONE);
    EXPECT_EQ(feed(*r, "d", "p", 1, 5000), PULSE_TRANSITION_NONE);
    EXPECT_EQ(feed(*r, "d", "p", 3, 6000), PULSE_TRANSITION_NONE);  // interrupted: the window restarts
    EXPECT_EQ(feed(*r, "d", "p", 1, 7000), PULSE_TRANSITION_NONE);
    EXPECT_TRUE(tick(*r, 16000).empty());
    auto fired = tick(*r, 17000);  // no new reading needed once the window is over
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0].transition, PULSE_TRANSITION_FIRING);
    EXPECT_EQ(fired[0].device, "d");
    EXPECT_TRUE(tick(*r, 18000).empty());
}

TEST(ThresholdRule, RefusesHysteresisOnTheWrongSide) {
    EXPECT_THROW(
        rule("rule_threshold.so", R"({"metric":"t","operator":"GT","threshold":80,"clear_threshold":85})"),
        std::runtime_error);
}

TEST(HeartbeatRule, FiresForSilentTrackedDevicesAndClearsOnTheNextReading) {
    auto r = rule("rule_heartbeat.so", R"({"window_s":60})");
    ASSERT_EQ(r->track("acme", "old", 1000), PULSE_OK);  // seen before the host started
    ASSERT_EQ(r->track("acme", "never", 0), PULSE_OK);   // provisioned, never seen: not watched
    EXPECT_EQ(feed(*r, "new", "x", 1, 30000), PULSE_TRANSITION_NONE);
    EXPECT_TRUE(tick(*r, 60000).empty());
    auto fired = tick(*r, 61001);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0].device, "old");
    EXPECT_EQ(fired[0].transition, PULSE_TRANSITION_FIRING);
    EXPECT_TRUE(tick(*r, 62000).empty());  // once
    fired = tick(*r, 90001);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0].device, "new");
    EXPECT_EQ(feed(*r, "old", "x", 1, 95000), PULSE_TRANSITION_CLEARED);
    EXPECT_EQ(feed(*r, "old", "x", 1, 96000), PULSE_TRANSITION_NONE);
}
