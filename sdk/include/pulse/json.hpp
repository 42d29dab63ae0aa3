// pulse/json.hpp: header-only C++17 JSON writer, RFC 9457 problem builder and a small strict reader, shared
// by the host and plugins, so every JSON text Pulse and its plugins produce is escaped the same way. The
// reader is for documents the host hands a plugin (a delivery's alert notice): pulse::json::parse() and JSON
// Pointer reads (RFC 6901), so a sender author writes n.string("/alert/device/name") instead of a JSON
// parser. The config is read through the host (config_string and friends) instead.
#ifndef PULSE_JSON_HPP
#define PULSE_JSON_HPP

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <locale>
#include <sstream>
#include <stdexcept>
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

// ---- reading ---------------------------------------------------------------------------------------

// A JSON text that is not one (RFC 8259), with the byte offset where reading stopped.
class ParseError : public std::runtime_error {
  public:
    ParseError(const std::string& what, size_t offset)
        : std::runtime_error(what + " at byte " + std::to_string(offset)), offset_(offset) {}
    size_t offset() const { return offset_; }

  private:
    size_t offset_;
};

// One parsed JSON value. Objects keep their members in document order (a duplicate name: the last wins
// on lookup, as most readers do). Read with find(pointer) or the typed readers, which answer the fallback
// when the member is missing or of another type, so a notice from a newer host never breaks an old plugin.
class Value {
  public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_bool() const { return type_ == Type::Bool; }
    bool is_number() const { return type_ == Type::Number; }
    bool is_string() const { return type_ == Type::String; }
    bool is_array() const { return type_ == Type::Array; }
    bool is_object() const { return type_ == Type::Object; }

    bool as_bool() const { return bool_; }
    double as_number() const { return number_; }
    const std::string& as_string() const { return string_; }
    // Array items, or object members' values, in document order.
    size_t size() const { return type_ == Type::Object ? members_.size() : items_.size(); }
    const Value& item(size_t i) const { return items_.at(i); }
    const std::vector<std::pair<std::string, Value>>& members() const { return members_; }

    // The member of this object with that name, or null when there is none (or this is no object).
    const Value* member(std::string_view name) const {
        if (type_ != Type::Object) return nullptr;
        for (auto it = members_.rbegin(); it != members_.rend(); ++it)
            if (it->first == name) return &it->second;
        return nullptr;
    }

    // RFC 6901: "" is this value, "/alert/device/name" walks members, "/items/0" array indices; "~1" is
    // '/', "~0" is '~'. Null when any step is missing.
    const Value* find(std::string_view pointer) const {
        const Value* at = this;
        while (!pointer.empty()) {
            if (pointer[0] != '/') return nullptr;
            pointer.remove_prefix(1);
            size_t end = pointer.find('/');
            std::string_view raw = pointer.substr(0, end);
            pointer = end == std::string_view::npos ? std::string_view() : pointer.substr(end);
            std::string token;
            for (size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] != '~') {
                    token += raw[i];
                } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
                    token += raw[++i] == '0' ? '~' : '/';
                } else {
                    return nullptr;  // "~" not followed by 0 or 1 is not a pointer
                }
            }
            if (at->type_ == Type::Object) {
                at = at->member(token);
            } else if (at->type_ == Type::Array) {
                if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0'))
                    return nullptr;
                size_t index = 0;
                for (char c : token) {
                    if (c < '0' || c > '9') return nullptr;
                    index = index * 10 + static_cast<size_t>(c - '0');
                }
                at = index < at->items_.size() ? &at->items_[index] : nullptr;
            } else {
                return nullptr;
            }
            if (!at) return nullptr;
        }
        return at;
    }

    std::string string(std::string_view pointer, std::string_view fallback = {}) const {
        const Value* v = find(pointer);
        return v && v->is_string() ? v->string_ : std::string(fallback);
    }
    double number(std::string_view pointer, double fallback = 0) const {
        const Value* v = find(pointer);
        return v && v->is_number() ? v->number_ : fallback;
    }
    // A number that is a whole value within int64 (an id, a time in ms); otherwise the fallback.
    int64_t integer(std::string_view pointer, int64_t fallback = 0) const {
        const Value* v = find(pointer);
        if (!v || !v->is_number() || v->number_ != std::floor(v->number_) ||
            std::fabs(v->number_) > 9.007199254740992e15)
            return fallback;
        return static_cast<int64_t>(v->number_);
    }
    bool boolean(std::string_view pointer, bool fallback = false) const {
        const Value* v = find(pointer);
        return v && v->is_bool() ? v->bool_ : fallback;
    }

  private:
    friend class Reader;
    Type type_ = Type::Null;
    bool bool_ = false;
    double number_ = 0;
    std::string string_;
    std::vector<Value> items_;
    std::vector<std::pair<std::string, Value>> members_;
};

// A strict RFC 8259 reader: one value, whitespace around it, nothing after; no comments, trailing commas,
// NaN or single quotes; strings must be valid UTF-8 after \u escapes are decoded (a lone surrogate is an
// error). Nesting is bounded, so a hostile document cannot exhaust the stack.
class Reader {
  public:
    static constexpr size_t kMaxDepth = 64;

    static Value parse(std::string_view text) {
        Reader r(text);
        r.space();
        Value v = r.value(0);
        r.space();
        if (r.at_ != r.text_.size()) r.fail("unexpected text after the JSON value");
        return v;
    }

  private:
    explicit Reader(std::string_view text) : text_(text) {}

    [[noreturn]] void fail(const std::string& what) const { throw ParseError(what, at_); }
    bool more() const { return at_ < text_.size(); }
    char peek() const { return more() ? text_[at_] : '\0'; }
    void space() {
        while (more() &&
               (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
            ++at_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++at_;
    }
    void word(std::string_view w) {
        if (text_.substr(at_, w.size()) != w) fail("unexpected character");
        at_ += w.size();
    }

    Value value(size_t depth) {
        if (depth >= kMaxDepth) fail("nested too deeply");
        Value v;
        char c = peek();
        if (c == '{') {
            v.type_ = Value::Type::Object;
            ++at_;
            space();
            if (peek() == '}') {
                ++at_;
                return v;
            }
            for (;;) {
                space();
                if (peek() != '"') fail("expected a member name");
                std::string name = string();
                space();
                expect(':');
                space();
                v.members_.emplace_back(std::move(name), value(depth + 1));
                space();
                if (peek() == ',') {
                    ++at_;
                    continue;
                }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.type_ = Value::Type::Array;
            ++at_;
            space();
            if (peek() == ']') {
                ++at_;
                return v;
            }
            for (;;) {
                space();
                v.items_.push_back(value(depth + 1));
                space();
                if (peek() == ',') {
                    ++at_;
                    continue;
                }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.type_ = Value::Type::String;
            v.string_ = string();
            return v;
        }
        if (c == 't' || c == 'f') {
            v.type_ = Value::Type::Bool;
            v.bool_ = c == 't';
            word(c == 't' ? "true" : "false");
            return v;
        }
        if (c == 'n') {
            word("null");
            return v;
        }
        v.type_ = Value::Type::Number;
        v.number_ = number();
        return v;
    }

    double number() {
        size_t start = at_;
        if (peek() == '-') ++at_;
        if (peek() == '0') {
            ++at_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9') ++at_;
        } else {
            fail("expected a value");
        }
        if (peek() == '.') {
            ++at_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit after '.'");
            while (peek() >= '0' && peek() <= '9') ++at_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++at_;
            if (peek() == '+' || peek() == '-') ++at_;
            if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit in the exponent");
            while (peek() >= '0' && peek() <= '9') ++at_;
        }
        std::string_view digits = text_.substr(start, at_ - start);
        double out = 0;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
        // from_chars: the grammar is checked above, and unlike strtod it ignores the process's locale.
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
        bool tooLarge = ec == std::errc::result_out_of_range, malformed = ec != std::errc() && !tooLarge;
#else
        // Runtimes without floating-point from_chars (libc++ before 20): a stream in the classic locale.
        std::istringstream in{std::string(digits)};
        in.imbue(std::locale::classic());
        in >> out;
        bool tooLarge = in.fail(), malformed = false;
#endif
        if (tooLarge) {
            // Out of range: a tiny magnitude (1e-400) is JSON and reads as zero; a huge one is refused.
            size_t e = digits.find_first_of("eE");
            if (e == std::string_view::npos || digits.substr(e + 1, 1) != "-") fail("number out of range");
            return digits[0] == '-' ? -0.0 : 0.0;
        }
        if (malformed) fail("malformed number");
        return out;
    }

    unsigned hex4() {
        if (at_ + 4 > text_.size()) fail("short \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = text_[at_++];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<unsigned>(c - 'A' + 10);
            else
                fail("bad hex digit in \\u escape");
        }
        return v;
    }

    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // One UTF-8 sequence copied as it is, checked: no overlong form, no surrogate, nothing above U+10FFFF.
    void utf8Sequence(std::string& out) {
        auto byte = [&](size_t i) { return static_cast<unsigned char>(text_[at_ + i]); };
        unsigned char b0 = byte(0);
        size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
        if (n == 0 || b0 > 0xF4 || at_ + n > text_.size()) fail("invalid UTF-8");
        for (size_t i = 1; i < n; ++i)
            if ((byte(i) & 0xC0) != 0x80) fail("invalid UTF-8");
        if ((n == 3 && b0 == 0xE0 && byte(1) < 0xA0) || (n == 3 && b0 == 0xED && byte(1) >= 0xA0) ||
            (n == 4 && b0 == 0xF0 && byte(1) < 0x90) || (n == 4 && b0 == 0xF4 && byte(1) >= 0x90))
            fail("invalid UTF-8");
        out.append(text_.data() + at_, n);
        at_ += n;
    }

    std::string string() {
        expect('"');
        std::string out;
        for (;;) {
            if (!more()) fail("unterminated string");
            unsigned char c = static_cast<unsigned char>(text_[at_]);
            if (c == '"') {
                ++at_;
                return out;
            }
            if (c < 0x20) fail("control character in a string");
            if (c >= 0x80) {
                utf8Sequence(out);
                continue;
            }
            ++at_;
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (!more()) fail("unterminated escape");
            char e = text_[at_++];
            switch (e) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (text_.substr(at_, 2) != "\\u") fail("lone high surrogate");
                        at_ += 2;
                        unsigned low = hex4();
                        if (low < 0xDC00 || low > 0xDFFF) fail("lone high surrogate");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    utf8(out, cp);
                    break;
                }
                default:
                    fail("unknown escape");
            }
        }
    }

    std::string_view text_;
    size_t at_ = 0;
};

// Parses one JSON text; throws ParseError (a std::runtime_error) when it is not one.
inline Value parse(std::string_view text) {
    return Reader::parse(text);
}

// Writes a parsed value back as JSON (objects keep their members' order).
inline void write(Writer& w, const Value& v) {
    switch (v.type()) {
        case Value::Type::Null:
            w.null();
            break;
        case Value::Type::Bool:
            w.value(v.as_bool());
            break;
        case Value::Type::Number:
            w.value(v.as_number());
            break;
        case Value::Type::String:
            w.value(v.as_string());
            break;
        case Value::Type::Array:
            w.beginArray();
            for (size_t i = 0; i < v.size(); ++i) write(w, v.item(i));
            w.endArray();
            break;
        case Value::Type::Object:
            w.beginObject();
            for (const auto& m : v.members()) {
                w.key(m.first);
                write(w, m.second);
            }
            w.endObject();
            break;
    }
}

}  // namespace pulse::json

#endif  // PULSE_JSON_HPP
