// rule_threshold: THRESHOLD rules. Fires when a metric crosses a threshold (GT, LT, GTE, LTE), optionally
// only after the condition held for hold_for_s, and clears at a separate clear_threshold (hysteresis) so
// that a value hovering at the threshold does not open and close alerts on every reading. What a device's
// state holds beyond idle (firing, or a hold-for in progress) is saved for the host (ABI 1.4), so a
// restart, or another instance given the device's next reading, goes on from there.
#include <pulse/json.hpp>
#include <pulse/plugin.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace {

// Per-device state looked up by the sample's device view without building a std::string each time.
struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

constexpr const char* kConfigSchema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Threshold rule",
  "type": "object",
  "properties": {
    "metric": {"type": "string", "minLength": 1, "maxLength": 128, "description": "the metric watched"},
    "operator": {"type": "string", "enum": ["GT", "LT", "GTE", "LTE"],
                 "description": "fires when value <operator> threshold"},
    "threshold": {"type": "number"},
    "clear_threshold": {"type": "number",
                        "description": "clears when the value no longer satisfies <operator> clear_threshold; default: threshold"},
    "hold_for_s": {"type": "number", "minimum": 0, "maximum": 86400, "default": 0,
                   "description": "the condition must hold this long before the rule fires"}
  },
  "required": ["metric", "operator", "threshold"],
  "additionalProperties": false,
  "examples": [{"metric": "temperature", "operator": "GT", "threshold": 80, "clear_threshold": 75, "hold_for_s": 30}]
})";

enum class Op { GT, LT, GTE, LTE };

class ThresholdRule : public pulse::Rule {
  public:
    ThresholdRule(pulse::Host host, std::string_view /*config*/)
        : metric_(host.config_string("/metric")),
          threshold_(host.config_number("/threshold")),
          clear_(host.config_number("/clear_threshold", threshold_)),
          holdMs_(static_cast<int64_t>(std::llround(host.config_number("/hold_for_s") * 1000))) {
        std::string op = host.config_string("/operator");
        op_ = op == "GT" ? Op::GT : op == "LT" ? Op::LT : op == "GTE" ? Op::GTE : Op::LTE;
        symbol_ = op == "GT" ? ">" : op == "LT" ? "<" : op == "GTE" ? ">=" : "<=";
        bool upward = op_ == Op::GT || op_ == Op::GTE;
        // Hysteresis only makes sense on the safe side of the threshold.
        if (upward ? clear_ > threshold_ : clear_ < threshold_)
            throw pulse::Error(PULSE_ERR_CONFIG, "clear_threshold must be on the safe side of threshold (" +
                                                     std::string(upward ? "<=" : ">=") + " threshold)");
    }

    pulse::Verdict evaluate(const pulse::Sample& s) override {
        if (s.metric != metric_ || std::isnan(s.value)) return {};
        auto it = state_.find(s.device);
        if (it == state_.end()) it = state_.emplace(std::string(s.device), State{}).first;
        State& st = it->second;
        st.lastValue = s.value;
        if (!st.firing) {
            if (!holds(s.value, threshold_)) {
                st.breachSinceMs = -1;
                return {};
            }
            if (st.breachSinceMs < 0) st.breachSinceMs = s.ts_ms;
            if (s.ts_ms - st.breachSinceMs < holdMs_) return {};
            return fire(st, s.tenant, s.device, s.value);
        }
        if (holds(s.value, clear_)) return {};
        st.firing = false;
        st.breachSinceMs = -1;
        char text[256];
        std::snprintf(text, sizeof text, "%s %g back within %s %g", metric_.c_str(), s.value, symbol_,
                      clear_);
        return pulse::Verdict{PULSE_TRANSITION_CLEARED, std::string(s.tenant), std::string(s.device), s.value,
                              text};
    }

    // A hold-for window that ends without a new reading still fires.
    void tick(int64_t now_ms, const std::function<void(const pulse::Verdict&)>& emit) override {
        if (holdMs_ == 0) return;
        for (auto& [device, st] : state_)
            if (!st.firing && st.breachSinceMs >= 0 && now_ms - st.breachSinceMs >= holdMs_)
                emit(fire(st, tenant_, device, st.lastValue));
    }

    std::string save(std::string_view /*tenant*/, std::string_view device) override {
        auto it = state_.find(device);
        if (it == state_.end() || (!it->second.firing && it->second.breachSinceMs < 0)) return {};
        const State& st = it->second;
        pulse::json::Writer w;
        w.beginObject().member("firing", st.firing);
        if (!st.firing) w.member("breach_since_ms", st.breachSinceMs).member("last_value", st.lastValue);
        w.endObject();
        return w.str();
    }

    bool restore(std::string_view tenant, std::string_view device, std::string_view text) override {
        if (tenant_.empty()) tenant_ = std::string(tenant);
        auto it = state_.find(device);
        if (it != state_.end()) state_.erase(it);
        if (text.empty()) return true;
        try {
            auto v = pulse::json::parse(text);
            State st;
            st.firing = v.boolean("/firing");
            st.breachSinceMs = st.firing ? -1 : v.integer("/breach_since_ms", -1);
            st.lastValue = v.number("/last_value");
            state_.emplace(std::string(device), st);
            return true;
        } catch (const pulse::json::ParseError&) {
            return false;
        }
    }

  private:
    struct State {
        bool firing = false;
        int64_t breachSinceMs = -1;
        double lastValue = 0;
    };

    bool holds(double v, double limit) const {
        switch (op_) {
            case Op::GT:
                return v > limit;
            case Op::LT:
                return v < limit;
            case Op::GTE:
                return v >= limit;
            default:
                return v <= limit;
        }
    }

    pulse::Verdict fire(State& st, std::string_view tenant, std::string_view device, double value) {
        st.firing = true;
        if (tenant_.empty()) tenant_ = std::string(tenant);
        char text[256];
        if (holdMs_ > 0)
            std::snprintf(text, sizeof text, "%s %g %s %g for %llds", metric_.c_str(), value, symbol_,
                          threshold_, static_cast<long long>(holdMs_ / 1000));
        else
            std::snprintf(text, sizeof text, "%s %g %s %g", metric_.c_str(), value, symbol_, threshold_);
        return pulse::Verdict{PULSE_TRANSITION_FIRING, std::string(tenant), std::string(device), value, text};
    }

    std::string metric_;
    double threshold_;
    double clear_;
    int64_t holdMs_;
    Op op_ = Op::GT;
    const char* symbol_ = ">";
    std::string tenant_;  // one rule belongs to one tenant
    std::unordered_map<std::string, State, NameHash, std::equal_to<>> state_;
};

}  // namespace

PULSE_PLUGIN("rule_threshold", "1.0.0", "THRESHOLD rules: a metric above or below a limit", "Apache-2.0",
             pulse::component<ThresholdRule>("threshold",
                                             "A metric crosses a threshold (with hold-for and hysteresis)",
                                             kConfigSchema, PULSE_THREADING_SERIAL))
