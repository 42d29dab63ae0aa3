#include "AlertTopic.h"

#include <pulse/json.hpp>

namespace pulse::mqtt_topic {

std::string level(const std::string& value) {
    std::string out;
    for (char c : value) out += c == '/' || c == '+' || c == '#' || c == '\0' ? '_' : c;
    return out.empty() ? "_" : out;
}

std::string expand(const std::string& pattern, const AlertNotice& n) {
    std::string event = n.test ? "test" : n.verb();
    auto value = [&](const std::string& name, bool& known) -> std::string {
        known = true;
        if (name == "tenant") return n.tenant_slug;
        if (name == "device") return n.device_name;
        if (name == "site") return n.site_name;
        if (name == "severity") return n.severity;
        if (name == "event") return event;
        if (name == "alert") return std::to_string(n.alert_id);
        known = false;
        return "";
    };
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        size_t close = pattern[i] == '{' ? pattern.find('}', i) : std::string::npos;
        bool known = false;
        std::string v = close == std::string::npos ? "" : value(pattern.substr(i + 1, close - i - 1), known);
        if (!known) {
            out += pattern[i];
            continue;
        }
        out += level(v);
        i = close;
    }
    return out;
}

std::string with_key(const std::string& payload_json, const std::string& key) {
    size_t brace = payload_json.find('{');
    if (brace == std::string::npos) return payload_json;
    json::Writer w;
    std::string member = "\"idempotency_key\":" + w.value(key).str();
    size_t next = payload_json.find_first_not_of(" \t\r\n", brace + 1);
    bool empty = next != std::string::npos && payload_json[next] == '}';
    return payload_json.substr(0, brace + 1) + member + (empty ? "" : ",") + payload_json.substr(brace + 1);
}

}  // namespace pulse::mqtt_topic
