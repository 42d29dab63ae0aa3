// A rule built with the C++ wrapper: a threshold on one metric with a clear threshold (hysteresis).
// Used to test the wrapper's thunks, exception conversion, config access and verdict lifetime. Compiled
// twice: with g++/libstdc++ like the host, and with clang++/libc++ to prove the ABI crosses C++ runtimes.
#include <pulse/plugin.hpp>

#include <map>
#include <stdexcept>
#include <string>

namespace {

constexpr const char* kSchema = R"({
  "type": "object",
  "properties": {
    "metric": {"type": "string", "minLength": 1},
    "above": {"type": "number"},
    "clear_below": {"type": "number"},
    "fail_create": {"type": "boolean", "default": false}
  },
  "required": ["metric", "above"],
  "additionalProperties": false,
  "examples": [{"metric": "temperature", "above": 30, "clear_below": 25}]
})";

class Threshold : public pulse::Rule {
  public:
    Threshold(pulse::Host host, std::string_view config) : host_(host) {
        if (host.config_bool("/fail_create")) throw pulse::Error(PULSE_ERR_CONFIG, "fail_create was set");
        if (config.find("\"metric\"") == std::string_view::npos)
            throw std::runtime_error("config lacks metric");
        metric_ = host.config_string("/metric");
        above_ = host.config_number("/above");
        clearBelow_ = host.config_number("/clear_below", above_);
    }

    pulse::Verdict evaluate(const pulse::Sample& s) override {
        pulse::Verdict v;
        if (s.metric != metric_) return v;
        if (s.metric == "explode") throw std::runtime_error("sample exploded");
        std::string key = std::string(s.tenant) + "/" + std::string(s.device);
        bool& firing = firing_[key];
        if (!firing && s.value > above_) {
            firing = true;
            v.transition = PULSE_TRANSITION_FIRING;
            v.summary = metric_ + " " + std::to_string(s.value) + " > " + std::to_string(above_);
        } else if (firing && s.value < clearBelow_) {
            firing = false;
            v.transition = PULSE_TRANSITION_CLEARED;
            v.summary = metric_ + " back below " + std::to_string(clearBelow_);
        }
        v.tenant = s.tenant;
        v.device = s.device;
        v.observed = s.value;
        return v;
    }

  private:
    pulse::Host host_;
    std::string metric_;
    double above_ = 0, clearBelow_ = 0;
    std::map<std::string, bool> firing_;
};

}  // namespace

PULSE_PLUGIN(PLUGIN_NAME, "2.1.0", "threshold rule for tests", "Apache-2.0",
             pulse::component<Threshold>(TYPE_NAME, "fires above a threshold, clears below another", kSchema))
