// pulse/json.hpp: header-only C++17 JSON writer and RFC 9457 problem builder, shared by the host and
// plugins, so every JSON text Pulse and its plugins produce is escaped the same way. No parser: the host
// hands plugins their config through config_number/config_bool/config_string.
#ifndef PULSE_JSON_HPP
#define PULSE_JSON_HPP

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pulse::json {

// text as the inside of a JSON string: quotes, backslashes and control characters escaped (RFC 8259 §7).
inline std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

// Writes one JSON document front to back: objects and arrays are opened and closed, commas are placed,
// strings escaped. Misuse (a value without its key inside an object) is the caller's bug, not checked.
class Writer {
  public:
    Writer& beginObject() { return open('{'); }
    Writer& endObject() { return close('}'); }
    Writer& beginArray() { return open('['); }
    Writer& endArray() { return close(']'); }

    Writer& key(std::string_view name) {
        separate();
        out_ += '"';
        out_ += escape(name);
        out_ += "\":";
        afterKey_ = true;
        return *this;
    }

    Writer& value(std::string_view text) {
        separate();
        out_ += '"';
        out_ += escape(text);
        out_ += '"';
        return *this;
    }
    Writer& value(const char* text) { return value(std::string_view(text)); }
    Writer& value(const std::string& text) { return value(std::string_view(text)); }
    Writer& value(bool b) { return raw(b ? "true" : "false"); }
    template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N> && !std::is_same_v<N, bool>>>
    Writer& value(N n) {
        if constexpr (std::is_floating_point_v<N>) {
            if (!std::isfinite(n)) return null();  // JSON has no NaN or infinity
            // The fewest significant digits (up to 17) that read back as the same double: 0.1 stays "0.1",
            // and no value is rounded.
            char buf[32];
            for (int digits = 15; digits <= 17; ++digits) {
                std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(n));
                if (std::strtod(buf, nullptr) == static_cast<double>(n)) break;
            }
            return raw(buf);
        } else {
            return raw(std::to_string(n));
        }
    }
    Writer& null() { return raw("null"); }
    // A JSON text made elsewhere (a stored document), inserted as it is.
    Writer& raw(std::string_view json) {
        separate();
        out_ += json;
        return *this;
    }

    template <typename V>
    Writer& member(std::string_view name, const V& v) {
        key(name);
        return value(v);
    }

    const std::string& str() const { return out_; }

  private:
    Writer& open(char c) {
        separate();
        out_ += c;
        first_.push_back(true);
        return *this;
    }
    Writer& close(char c) {
        out_ += c;
        if (!first_.empty()) first_.pop_back();
        return *this;
    }
    void separate() {
        if (afterKey_) {
            afterKey_ = false;
            return;
        }
        if (first_.empty()) return;
        if (!first_.back()) out_ += ',';
        first_.back() = false;
    }

    std::string out_;
    std::vector<bool> first_;  // per open object or array: nothing written in it yet
    bool afterKey_ = false;
};

// {"name":"value",...} of string members: the small documents an audit detail or an event carries.
inline std::string objectOf(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
    Writer w;
    w.beginObject();
    for (const auto& [name, value] : members) w.member(name, value);
    w.endObject();
    return w.str();
}

// An RFC 9457 problem document (application/problem+json): type about:blank, title, status, detail, and
// when given the instance (the request path) and field (the request member at fault, an extension).
// Further extension members go in `extend`, called with the writer inside the object.
template <typename Extend>
std::string problem(int status, std::string_view title, std::string_view detail, std::string_view instance,
                    std::string_view field, Extend&& extend) {
    Writer w;
    w.beginObject().member("type", "about:blank").member("title", title).member("status", status);
    w.member("detail", detail);
    if (!instance.empty()) w.member("instance", instance);
    if (!field.empty()) w.member("field", field);
    extend(w);
    w.endObject();
    return w.str();
}

inline std::string problem(int status, std::string_view title, std::string_view detail,
                           std::string_view instance = {}, std::string_view field = {}) {
    return problem(status, title, detail, instance, field, [](Writer&) {});
}

}  // namespace pulse::json

#endif  // PULSE_JSON_HPP
