// rule_heartbeat: NO_HEARTBEAT rules. Fires when a device in scope sends nothing for window_s, clears
// with its next reading. Devices the host tracks (ABI 1.2) are watched from their stored last-seen time,
// so a device that falls silent while pulsed restarts is still noticed; a device never seen is not. The host
// tracks devices again as their stored last-seen time moves on (ABI 1.4: readings another instance took),
// so a device is silent only when no instance heard it, and a silence another instance saw end clears
// here too. Whether a device is missing is saved for the host, so a restart does not page it again.
#include <pulse/json.hpp>
#include <pulse/plugin.hpp>

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
  "title": "Heartbeat rule",
  "type": "object",
  "properties": {
    "window_s": {"type": "integer", "minimum": 1, "maximum": 604800, "default": 300,
                 "description": "silence longer than this fires the rule"}
  },
  "additionalProperties": false,
  "examples": [{"window_s": 300}]
})";

class HeartbeatRule : public pulse::Rule {
  public:
    HeartbeatRule(pulse::Host host, std::string_view /*config*/)
        : windowMs_(static_cast<int64_t>(host.config_number("/window_s")) * 1000) {}

    pulse::Verdict evaluate(const pulse::Sample& s) override {
        if (tenant_.empty()) tenant_ = std::string(s.tenant);
        auto it = devices_.find(s.device);
        if (it == devices_.end()) it = devices_.emplace(std::string(s.device), Device{}).first;
        Device& d = it->second;
        if (s.ts_ms > d.lastSeenMs) d.lastSeenMs = s.ts_ms;
        if (!d.missing) return {};
        d.missing = false;
        return pulse::Verdict{PULSE_TRANSITION_CLEARED, std::string(s.tenant), std::string(s.device), 0,
                              "heartbeat resumed"};
    }

    void track(std::string_view tenant, std::string_view device, int64_t last_seen_ms) override {
        if (tenant_.empty()) tenant_ = std::string(tenant);
        Device& d = devices_[std::string(device)];
        if (last_seen_ms > d.lastSeenMs) d.lastSeenMs = last_seen_ms;
    }

    void tick(int64_t now_ms, const std::function<void(const pulse::Verdict&)>& emit) override {
        for (auto& [name, d] : devices_) {
            if (d.missing && d.lastSeenMs > 0 && now_ms - d.lastSeenMs <= windowMs_) {
                d.missing = false;  // heard of again (by another instance, or before a restart)
                emit(pulse::Verdict{PULSE_TRANSITION_CLEARED, tenant_, name, 0, "heartbeat resumed"});
                continue;
            }
            if (d.missing || d.lastSeenMs <= 0 || now_ms - d.lastSeenMs <= windowMs_) continue;
            d.missing = true;
            double silentS = static_cast<double>(now_ms - d.lastSeenMs) / 1000.0;
            char text[160];
            std::snprintf(text, sizeof text, "no heartbeat for %.0f s (window %lld s)", silentS,
                          static_cast<long long>(windowMs_ / 1000));
            emit(pulse::Verdict{PULSE_TRANSITION_FIRING, tenant_, name, silentS, text});
        }
    }

    std::string save(std::string_view /*tenant*/, std::string_view device) override {
        auto it = devices_.find(device);
        return it != devices_.end() && it->second.missing ? R"({"missing":true})" : "";
    }

    bool restore(std::string_view tenant, std::string_view device, std::string_view text) override {
        if (tenant_.empty()) tenant_ = std::string(tenant);
        Device& d = devices_[std::string(device)];
        d.missing = false;
        if (text.empty()) return true;
        try {
            d.missing = pulse::json::parse(text).boolean("/missing");
            return true;
        } catch (const pulse::json::ParseError&) {
            return false;
        }
    }

  private:
    struct Device {
        int64_t lastSeenMs = 0;
        bool missing = false;
    };
    int64_t windowMs_;
    std::string tenant_;
    std::unordered_map<std::string, Device, NameHash, std::equal_to<>> devices_;
};

}  // namespace

PULSE_PLUGIN("rule_heartbeat", "1.0.0", "NO_HEARTBEAT rules: a device falls silent", "Apache-2.0",
             pulse::component<HeartbeatRule>("heartbeat", "A device sends nothing for longer than its window",
                                             kConfigSchema, PULSE_THREADING_SERIAL))
