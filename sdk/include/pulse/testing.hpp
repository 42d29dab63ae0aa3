// pulse/testing.hpp: a host for unit tests of plugins, header-only C++17, no dependency beyond the SDK.
//
// pulse::testing::TestHost provides a complete pulse_host_api (ABI 1.3) without pulsed:
//  - the instance config from a JSON text (config_number/config_bool/config_string by JSON Pointer, read with
//    pulse::json::parse), with the component schema's "default"s filled in as the host does (recursively
//    through "properties"; the config is not validated against the schema: pulse-plugin-check does that);
//  - log lines captured (logs(), logged("fragment")), counters and gauges recorded by name (counters(),
//    gauges(): "requests" for pulse_plugin_requests_total);
//  - now_ms() from the real clock, or fixed with set_now_ms() and moved with advance_ms();
//  - http_send answered by a function the test sets (on_http), every call recorded (http_calls()); with no
//    function set, http_send answers PULSE_ERR_UNAVAILABLE;
//  - egress_resolve answered by a function the test sets (on_resolve), every name recorded
//  (resolved_names());
//    with none set, it answers PULSE_ERR_UNAVAILABLE;
//  - ingest_submit and http_route answer PULSE_ERR_UNSUPPORTED.
// create() instantiates a component from a plugin's descriptor (the entry point of a plugin linked into the
// test, or one loaded with load_plugin(), which uses dlopen: link the test with ${CMAKE_DL_LIBS}) and returns
// a pulse::testing::Instance: start(), stop(), deliver(), health(), evaluate(), tick(), destroy() (also done
// by its destructor). One TestHost is the host of one instance: the handle identifies the instance.
//
//   #include <pulse/testing.hpp>
//
//   pulse::testing::TestHost host(R"({"url": "https://hooks.example.com/x", "secret": "whsec_..."})");
//   host.set_now_ms(1'800'000'000'000);
//   host.on_http([](const pulse::HttpCall& call) {
//       pulse::HttpReply r;
//       r.status = 429;
//       r.retry_after_ms = 7000;
//       return r;
//   });
//   auto inst = host.create(pulse_plugin_entry_v1(PULSE_ABI_VERSION(1, 0), PULSE_ABI_VERSION(1, 3)),
//                           "sender", "webhook");                 // or host.create(load_plugin(path), ...)
//   pulse::DeliveryOutcome o = inst.deliver("key-1", R"({"type":"alert.opened"})");
//   EXPECT_EQ(o.code, PULSE_RETRY);
//   EXPECT_EQ(o.retry_after_ms, 7000);
//   EXPECT_EQ(host.http_calls().at(0).url, "https://hooks.example.com/x");
//
// THREADING: the host API may be called from any thread (plugin threads included); the recorded state is
// guarded, and the accessors return copies. The on_http function runs on the plugin's calling thread,
// outside the host's lock.
#ifndef PULSE_TESTING_HPP
#define PULSE_TESTING_HPP

#include <pulse/plugin.h>
#include <pulse/json.hpp>
#include <pulse/plugin.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define PULSE_TESTING_HAS_DLOPEN 1
#endif

namespace pulse {
namespace testing {

struct LogLine {
    pulse_log_level level = PULSE_LOG_INFO;
    std::string message;
};

// The entry point's descriptor with the range of ABI versions this header speaks.
inline const pulse_plugin* describe(pulse_plugin_entry_v1_fn entry) {
    return entry ? entry(PULSE_ABI_VERSION(PULSE_ABI_MAJOR, 0),
                         PULSE_ABI_VERSION(PULSE_ABI_MAJOR, PULSE_ABI_MINOR))
                 : nullptr;
}

#ifdef PULSE_TESTING_HAS_DLOPEN
// Loads a plugin library as pulsed does (RTLD_NOW | RTLD_LOCAL, never unloaded) and returns its descriptor;
// throws std::runtime_error when it cannot be loaded or declines (a null descriptor).
inline const pulse_plugin* load_plugin(const std::string& path) {
    void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char* why = ::dlerror();
        throw std::runtime_error("cannot load " + path + ": " + (why ? why : "unknown error"));
    }
    void* sym = ::dlsym(lib, PULSE_ENTRY_V1_NAME);
    if (!sym) throw std::runtime_error(path + " does not export " PULSE_ENTRY_V1_NAME);
    pulse_plugin_entry_v1_fn entry = nullptr;
    static_assert(sizeof entry == sizeof sym, "function and object pointers differ in size");
    std::memcpy(&entry, &sym, sizeof entry);
    const pulse_plugin* plugin = describe(entry);
    if (!plugin) throw std::runtime_error(path + ": the entry point returned no descriptor");
    return plugin;
}
#endif

class TestHost;

namespace detail {

// A copy of a size-prefixed struct the plugin owns, as the host reads it: min(struct_size, sizeof) bytes
// into a zeroed struct.
template <class T>
T read_struct(const void* p) {
    T out;
    std::memset(&out, 0, sizeof out);
    if (!p) return out;
    uint32_t size = 0;
    std::memcpy(&size, p, sizeof size);
    std::memcpy(&out, p, size < sizeof out ? size : sizeof out);
    return out;
}

inline void copy_text(char* buf, size_t cap, std::string_view text) {
    if (!buf || cap == 0) return;
    size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
}

// v with the schema's defaults for absent object properties, recursively through "properties" (the host's
// JsonSchema::withDefaults).
inline void write_with_defaults(json::Writer& w, const json::Value& v, const json::Value* schema) {
    const json::Value* props = schema ? schema->member("properties") : nullptr;
    if (!v.is_object() || !props || !props->is_object()) {
        json::write(w, v);
        return;
    }
    w.beginObject();
    for (const auto& m : v.members()) {
        w.key(m.first);
        write_with_defaults(w, m.second, props->member(m.first));
    }
    for (const auto& p : props->members()) {
        if (v.member(p.first)) continue;
        if (const json::Value* def = p.second.member("default")) {
            w.key(p.first);
            write_with_defaults(w, *def, &p.second);
        }
    }
    w.endObject();
}

inline bool valid_metric_name(const char* name) {
    if (!name || !(*name >= 'a' && *name <= 'z')) return false;
    size_t n = 0;
    for (const char* p = name; *p; ++p, ++n)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') || n >= 64) return false;
    return true;
}

}  // namespace detail

// One component instance created through a TestHost. Move-only; destroyed (stop, then destroy) with it.
class Instance {
  public:
    Instance() = default;
    Instance(const pulse_component* component, void* instance, TestHost* host)
        : component_(component), instance_(instance), host_(host) {}
    Instance(Instance&& o) noexcept { *this = std::move(o); }
    Instance& operator=(Instance&& o) noexcept {
        if (this != &o) {
            destroy();
            component_ = o.component_;
            instance_ = o.instance_;
            host_ = o.host_;
            started_ = o.started_;
            o.instance_ = nullptr;
            o.started_ = false;
        }
        return *this;
    }
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;
    ~Instance() { destroy(); }

    explicit operator bool() const { return instance_ != nullptr; }
    void* raw() const { return instance_; }
    const pulse_component* component() const { return component_; }

    // start() of the component (PULSE_OK when it has none); error receives its reason.
    pulse_result start(std::string* error = nullptr) {
        if (!instance_) return PULSE_ERR_INVALID;
        if (started_) return PULSE_OK;
        pulse_result rc = PULSE_OK;
        if (component_->start) {
            char err[1024] = {0};
            rc = component_->start(instance_, err, sizeof err);
            if (error) *error = err;
        }
        started_ = rc == PULSE_OK;
        return rc;
    }
    void stop() {
        if (instance_ && started_ && component_->stop) component_->stop(instance_);
        started_ = false;
    }
    void destroy() {
        if (!instance_) return;
        stop();
        component_->destroy(instance_);
        instance_ = nullptr;
    }

    // Senders: one delivery. deadline_ms 0 means 10 s after the host's now_ms().
    DeliveryOutcome deliver(std::string_view idempotency_key, std::string_view payload_json,
                            uint32_t attempt = 1, int64_t deadline_ms = 0);

    // Ingest channels: health(), with the status text.
    pulse_result health(std::string* status = nullptr) const {
        auto ops = detail::read_struct<pulse_ingest_ops>(ops_of(PULSE_KIND_INGEST));
        if (!ops.health) return PULSE_ERR_UNSUPPORTED;
        char buf[512] = {0};
        pulse_result rc = ops.health(instance_, buf, sizeof buf);
        if (status) *status = buf;
        return rc;
    }

    // Rules: evaluate() of one sample (the verdict's strings copied out), tick() with the verdicts it emits.
    Verdict evaluate(const Sample& s, pulse_result* rc = nullptr) const {
        auto ops = detail::read_struct<pulse_rule_ops>(ops_of(PULSE_KIND_RULE));
        if (!ops.evaluate) throw Error(PULSE_ERR_UNSUPPORTED, "not a rule");
        pulse_sample in{};
        in.struct_size = sizeof in;
        in.tenant = str(s.tenant);
        in.device = str(s.device);
        in.metric = str(s.metric);
        in.value = s.value;
        in.value_type = s.is_bool ? PULSE_VALUE_BOOL : PULSE_VALUE_NUMBER;
        in.ts_ms = s.ts_ms;
        pulse_rule_verdict v{};
        v.struct_size = sizeof v;
        pulse_result r = ops.evaluate(instance_, &in, &v);
        if (rc) *rc = r;
        return copy(v);
    }
    std::vector<Verdict> tick(int64_t now_ms, pulse_result* rc = nullptr) const {
        auto ops = detail::read_struct<pulse_rule_ops>(ops_of(PULSE_KIND_RULE));
        std::vector<Verdict> out;
        if (!ops.tick) {
            if (rc) *rc = PULSE_OK;
            return out;
        }
        pulse_result r = ops.tick(
            instance_, now_ms,
            [](void* ctx, const pulse_rule_verdict* v) {
                if (v) static_cast<std::vector<Verdict>*>(ctx)->push_back(copy(*v));
            },
            &out);
        if (rc) *rc = r;
        return out;
    }

    // Rules (ABI 1.4): the state save() writes for a device ("" when idle, or when the rule has no save),
    // and restore() of such a text, as the host does across a restart.
    std::string save(std::string_view tenant, std::string_view device, pulse_result* rc = nullptr) const {
        auto ops = detail::read_struct<pulse_rule_ops>(ops_of(PULSE_KIND_RULE));
        std::string out;
        pulse_result r = PULSE_OK;
        if (ops.save) {
            pulse_writer w{sizeof(pulse_writer), &out,
                           [](void* ctx, const void* data, size_t len) -> pulse_result {
                               static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), len);
                               return PULSE_OK;
                           }};
            r = ops.save(instance_, str(tenant), str(device), &w);
        }
        if (rc) *rc = r;
        return out;
    }
    pulse_result restore(std::string_view tenant, std::string_view device, std::string_view state) const {
        auto ops = detail::read_struct<pulse_rule_ops>(ops_of(PULSE_KIND_RULE));
        return ops.restore ? ops.restore(instance_, str(tenant), str(device), str(state)) : PULSE_OK;
    }

  private:
    const void* ops_of(pulse_kind kind) const {
        if (!instance_ || component_->kind != kind) throw Error(PULSE_ERR_UNSUPPORTED, "not that kind");
        return component_->ops;
    }
    static Verdict copy(const pulse_rule_verdict& v) {
        Verdict out;
        out.transition = v.transition;
        out.tenant = std::string(view(v.tenant));
        out.device = std::string(view(v.device));
        out.observed = v.observed;
        out.summary = std::string(view(v.summary));
        return out;
    }

    const pulse_component* component_ = nullptr;
    void* instance_ = nullptr;
    TestHost* host_ = nullptr;
    bool started_ = false;
};

class TestHost {
  public:
    using HttpResponder = std::function<HttpReply(const HttpCall&)>;
    using ResolveResponder = std::function<EgressAddress(const std::string&)>;

    // config_json: the instance config (throws json::ParseError when it is not JSON).
    explicit TestHost(std::string config_json = "{}", std::string instance_name = "test")
        : instance_name_(std::move(instance_name)) {
        set_config(std::move(config_json));
        api_.struct_size = sizeof api_;
        api_.abi_major = PULSE_ABI_MAJOR;
        api_.abi_minor = PULSE_ABI_MINOR;
        api_.log = &TestHost::log_thunk;
        api_.counter_add = &TestHost::counter_thunk;
        api_.gauge_set = &TestHost::gauge_thunk;
        api_.now_ms = &TestHost::now_thunk;
        api_.instance_name = &TestHost::name_thunk;
        api_.config_number = &TestHost::number_thunk;
        api_.config_bool = &TestHost::bool_thunk;
        api_.config_string = &TestHost::string_thunk;
        api_.ingest_submit = &TestHost::ingest_thunk;
        api_.http_route = &TestHost::route_thunk;
        api_.http_send = &TestHost::http_thunk;
        api_.egress_resolve = &TestHost::resolve_thunk;
    }
    TestHost(const TestHost&) = delete;
    TestHost& operator=(const TestHost&) = delete;

    // ---- setting up ----
    // The config create() passes and config_* read (the component schema's defaults are added by create()).
    void set_config(std::string config_json) {
        json::Value parsed = json::parse(config_json);
        std::lock_guard<std::mutex> lock(mutex_);
        config_text_ = std::move(config_json);
        config_ = std::move(parsed);
    }
    std::string config() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return config_text_;
    }
    // Fixes now_ms() (and the default deadline of Instance::deliver); use_real_clock() undoes it.
    void set_now_ms(int64_t ms) {
        std::lock_guard<std::mutex> lock(mutex_);
        fixed_now_ = true;
        now_ = ms;
    }
    void advance_ms(int64_t ms) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!fixed_now_) now_ = real_now();
        fixed_now_ = true;
        now_ += ms;
    }
    void use_real_clock() {
        std::lock_guard<std::mutex> lock(mutex_);
        fixed_now_ = false;
    }
    int64_t now_ms() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return fixed_now_ ? now_ : real_now();
    }
    // What http_send answers; the call is recorded before it runs.
    void on_http(HttpResponder responder) {
        std::lock_guard<std::mutex> lock(mutex_);
        responder_ = std::move(responder);
    }
    // What egress_resolve answers; the name is recorded before it runs.
    void on_resolve(ResolveResponder responder) {
        std::lock_guard<std::mutex> lock(mutex_);
        resolver_ = std::move(responder);
    }
    // Pretends to be an older host: 0 or 1 shortens the table to the members of that minor.
    void set_abi_minor(uint32_t minor) {
        api_.abi_minor = minor;
        api_.struct_size = minor >= 3   ? static_cast<uint32_t>(sizeof api_)
                           : minor == 2 ? static_cast<uint32_t>(offsetof(pulse_host_api, egress_resolve))
                           : minor == 1 ? static_cast<uint32_t>(offsetof(pulse_host_api, http_send))
                                        : static_cast<uint32_t>(offsetof(pulse_host_api, ingest_submit));
    }

    // ---- what the plugin did ----
    std::vector<LogLine> logs() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return logs_;
    }
    // True when a log line contains fragment.
    bool logged(std::string_view fragment) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& l : logs_)
            if (l.message.find(fragment) != std::string::npos) return true;
        return false;
    }
    std::map<std::string, double> counters() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return counters_;
    }
    std::map<std::string, double> gauges() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return gauges_;
    }
    std::vector<std::string> resolved_names() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return resolved_;
    }
    std::vector<HttpCall> http_calls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return calls_;
    }
    void clear_records() {
        std::lock_guard<std::mutex> lock(mutex_);
        logs_.clear();
        counters_.clear();
        gauges_.clear();
        calls_.clear();
    }

    // ---- the table and the handle a component receives ----
    const pulse_host_api* api() const { return &api_; }
    pulse_host* handle() { return reinterpret_cast<pulse_host*>(this); }

    // ---- instances ----
    // The component kind/type ("sender", "slack") of a plugin's descriptor, created with this host's config
    // (plus the schema's defaults). Throws pulse::Error with create()'s code and reason when it fails, or
    // PULSE_ERR_INVALID when the descriptor has no such component.
    Instance create(const pulse_plugin* plugin, std::string_view kind, std::string_view type) {
        if (!plugin) throw Error(PULSE_ERR_INVALID, "no plugin descriptor (the entry point declined)");
        if (plugin->abi_major != PULSE_ABI_MAJOR)
            throw Error(PULSE_ERR_UNSUPPORTED,
                        "the plugin is built for ABI major " + std::to_string(plugin->abi_major));
        auto p = detail::read_struct<pulse_plugin>(plugin);
        for (uint32_t i = 0; i < p.component_count; ++i) {
            const pulse_component* c = p.components ? p.components[i] : nullptr;
            if (c && kind == pulse::kind_name(c->kind) && c->type && type == c->type) return create(c);
        }
        throw Error(PULSE_ERR_INVALID, "the plugin " + std::string(p.name ? p.name : "?") +
                                           " has no component " + std::string(kind) + "/" +
                                           std::string(type));
    }
    Instance create(pulse_plugin_entry_v1_fn entry, std::string_view kind, std::string_view type) {
        return create(describe(entry), kind, type);
    }
    Instance create(const pulse_component* component) {
        if (!component || !component->create || !component->destroy)
            throw Error(PULSE_ERR_INVALID, "not a complete component descriptor");
        std::string config = config_with_defaults(component->config_schema);
        char err[1024] = {0};
        void* instance = nullptr;
        pulse_result rc =
            component->create(&api_, handle(), config.data(), config.size(), &instance, err, sizeof err);
        if (rc != PULSE_OK || !instance) {
            std::string why = err[0] ? err : "create() failed with code " + std::to_string(rc);
            throw Error(rc != PULSE_OK ? rc : PULSE_ERR_INTERNAL, why);
        }
        return Instance(component, instance, this);
    }

  private:
    static int64_t real_now() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    static TestHost* self(pulse_host* h) { return reinterpret_cast<TestHost*>(h); }

    // The config with the schema's defaults; it also becomes what config_* read.
    std::string config_with_defaults(const char* schema_text) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!schema_text) return config_text_;
        json::Value schema;
        try {
            schema = json::parse(schema_text);
        } catch (const json::ParseError&) {
            return config_text_;  // the host would refuse the plugin; leave the config as given
        }
        json::Writer w;
        detail::write_with_defaults(w, config_, &schema);
        config_text_ = w.str();
        config_ = json::parse(config_text_);
        return config_text_;
    }

    static void log_thunk(pulse_host* h, pulse_log_level level, const char* message, size_t len) noexcept {
        if (!h || !message) return;
        try {
            TestHost* t = self(h);
            std::lock_guard<std::mutex> lock(t->mutex_);
            t->logs_.push_back(LogLine{level, std::string(message, len)});
        } catch (...) {
        }
    }
    static pulse_result counter_thunk(pulse_host* h, const char* name, const char*, double delta) noexcept {
        if (!h || !detail::valid_metric_name(name) || !(delta >= 0)) return PULSE_ERR_INVALID;
        try {
            TestHost* t = self(h);
            std::lock_guard<std::mutex> lock(t->mutex_);
            t->counters_[name] += delta;
            return PULSE_OK;
        } catch (...) {
            return PULSE_ERR_INTERNAL;
        }
    }
    static pulse_result gauge_thunk(pulse_host* h, const char* name, const char*, double value) noexcept {
        if (!h || !detail::valid_metric_name(name)) return PULSE_ERR_INVALID;
        try {
            TestHost* t = self(h);
            std::lock_guard<std::mutex> lock(t->mutex_);
            t->gauges_[name] = value;
            return PULSE_OK;
        } catch (...) {
            return PULSE_ERR_INTERNAL;
        }
    }
    static int64_t now_thunk(pulse_host* h) noexcept { return h ? self(h)->now_ms() : real_now(); }
    static const char* name_thunk(pulse_host* h) noexcept { return h ? self(h)->instance_name_.c_str() : ""; }

    // The config value at pointer, copied under the lock.
    static bool lookup(pulse_host* h, const char* pointer, json::Value& out) {
        if (!h || !pointer) return false;
        TestHost* t = self(h);
        std::lock_guard<std::mutex> lock(t->mutex_);
        const json::Value* v = t->config_.find(pointer);
        if (!v) return false;
        out = *v;
        return true;
    }
    static pulse_result number_thunk(pulse_host* h, const char* pointer, double* out) noexcept {
        try {
            json::Value v;
            if (!out || !lookup(h, pointer, v) || !v.is_number()) return PULSE_ERR_INVALID;
            *out = v.as_number();
            return PULSE_OK;
        } catch (...) {
            return PULSE_ERR_INVALID;
        }
    }
    static pulse_result bool_thunk(pulse_host* h, const char* pointer, int* out) noexcept {
        try {
            json::Value v;
            if (!out || !lookup(h, pointer, v) || !v.is_bool()) return PULSE_ERR_INVALID;
            *out = v.as_bool() ? 1 : 0;
            return PULSE_OK;
        } catch (...) {
            return PULSE_ERR_INVALID;
        }
    }
    static pulse_result string_thunk(pulse_host* h, const char* pointer, char* buf, size_t cap,
                                     size_t* len) noexcept {
        try {
            json::Value v;
            if (!lookup(h, pointer, v) || !v.is_string()) return PULSE_ERR_INVALID;
            const std::string& s = v.as_string();
            if (len) *len = s.size();
            if (!buf || cap == 0 || s.size() > cap - 1) return PULSE_ERR_INVALID;
            std::memcpy(buf, s.data(), s.size());
            buf[s.size()] = '\0';
            return PULSE_OK;
        } catch (...) {
            return PULSE_ERR_INVALID;
        }
    }
    static pulse_result ingest_thunk(pulse_host*, const pulse_ingest_message*, int64_t,
                                     pulse_ingest_result*) noexcept {
        return PULSE_ERR_UNSUPPORTED;
    }
    static pulse_result route_thunk(pulse_host*, const char*, const char*, pulse_http_handler_fn,
                                    void*) noexcept {
        return PULSE_ERR_UNSUPPORTED;
    }
    static pulse_result http_thunk(pulse_host* h, const pulse_http_call* call,
                                   pulse_http_reply* reply) noexcept {
        if (!h || !call || !reply || call->struct_size < sizeof(pulse_http_call) ||
            reply->struct_size < sizeof(pulse_http_reply) || (call->header_count && !call->headers))
            return PULSE_ERR_INVALID;
        try {
            TestHost* t = self(h);
            HttpCall c;
            c.method = std::string(view(call->method));
            c.url = std::string(view(call->url));
            for (size_t i = 0; i < call->header_count; ++i)
                c.headers.emplace_back(std::string(view(call->headers[i].name)),
                                       std::string(view(call->headers[i].value)));
            c.body = std::string(view(call->body));
            c.timeout_ms = call->timeout_ms;
            HttpResponder responder;
            {
                std::lock_guard<std::mutex> lock(t->mutex_);
                t->calls_.push_back(c);
                responder = t->responder_;
            }
            HttpReply r;
            if (responder) {
                r = responder(c);
            } else {
                r.code = PULSE_ERR_UNAVAILABLE;
                r.error = "TestHost: no on_http responder set";
            }
            reply->status = r.code == PULSE_OK ? r.status : 0;
            reply->retry_after_ms = r.code == PULSE_OK ? r.retry_after_ms : -1;
            reply->body_len = 0;
            if (reply->body && reply->body_cap) {
                detail::copy_text(reply->body, reply->body_cap, r.body);
                reply->body_len = r.body.size() < reply->body_cap - 1 ? r.body.size() : reply->body_cap - 1;
            }
            detail::copy_text(reply->error, reply->error_cap, r.error);
            return r.code;
        } catch (...) {
            detail::copy_text(reply->error, reply->error_cap, "TestHost: the on_http responder threw");
            return PULSE_ERR_INTERNAL;
        }
    }
    static pulse_result resolve_thunk(pulse_host* h, const char* name, char* address, size_t address_cap,
                                      char* error, size_t error_cap) noexcept {
        if (!h || !name || !address || address_cap < PULSE_ADDRESS_CAP) return PULSE_ERR_INVALID;
        try {
            TestHost* t = self(h);
            ResolveResponder resolver;
            {
                std::lock_guard<std::mutex> lock(t->mutex_);
                t->resolved_.emplace_back(name);
                resolver = t->resolver_;
            }
            EgressAddress r;
            if (resolver) {
                r = resolver(name);
            } else {
                r.code = PULSE_ERR_UNAVAILABLE;
                r.error = "TestHost: no on_resolve responder set";
            }
            detail::copy_text(address, address_cap, r.code == PULSE_OK ? r.address : std::string());
            detail::copy_text(error, error_cap, r.error);
            return r.code;
        } catch (...) {
            detail::copy_text(error, error_cap, "TestHost: the on_resolve responder threw");
            return PULSE_ERR_INTERNAL;
        }
    }

    pulse_host_api api_{};
    std::string instance_name_;
    mutable std::mutex mutex_;
    std::string config_text_;
    json::Value config_;
    bool fixed_now_ = false;
    int64_t now_ = 0;
    HttpResponder responder_;
    ResolveResponder resolver_;
    std::vector<std::string> resolved_;
    std::vector<LogLine> logs_;
    std::map<std::string, double> counters_;
    std::map<std::string, double> gauges_;
    std::vector<HttpCall> calls_;
};

inline DeliveryOutcome Instance::deliver(std::string_view idempotency_key, std::string_view payload_json,
                                         uint32_t attempt, int64_t deadline_ms) {
    auto ops = detail::read_struct<pulse_sender_ops>(ops_of(PULSE_KIND_SENDER));
    if (!ops.deliver) throw Error(PULSE_ERR_UNSUPPORTED, "the sender has no deliver()");
    pulse_delivery d{};
    d.struct_size = sizeof d;
    d.idempotency_key = str(idempotency_key);
    d.payload_json = str(payload_json);
    d.attempt = attempt;
    d.deadline_ms = deadline_ms != 0 ? deadline_ms : host_->now_ms() + 10000;
    char detail[1024] = {0};
    pulse_delivery_result r{};
    r.struct_size = sizeof r;
    r.retry_after_ms = -1;
    r.detail = detail;
    r.detail_cap = sizeof detail;
    DeliveryOutcome out;
    out.code = ops.deliver(instance_, &d, &r);
    out.status_code = r.status_code;
    out.retry_after_ms = r.retry_after_ms;
    detail[sizeof detail - 1] = '\0';  // never trust the plugin to have terminated it
    out.detail = detail;
    return out;
}

}  // namespace testing
}  // namespace pulse

#endif  // PULSE_TESTING_HPP
