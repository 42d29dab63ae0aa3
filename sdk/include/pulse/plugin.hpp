// pulse/plugin.hpp: header-only C++17 wrapper over the C ABI in pulse/plugin.h.
//
// Write a component as a class deriving from pulse::Ingest, pulse::Rule, pulse::Sender, pulse::Report or
// pulse::Action, constructible from (pulse::Host, std::string_view config_json); describe it with
// pulse::component<T>(...) and list the components in PULSE_PLUGIN(...). The thunks here catch every
// exception at the boundary and turn it into a result code and a message, so nothing unwinds into the
// host. Throw pulse::Error to choose the code.
#ifndef PULSE_PLUGIN_HPP
#define PULSE_PLUGIN_HPP

#include <pulse/plugin.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pulse {

// A kind's name as configs and qualified types write it ("sender" in "sender/slack"); "" for an unknown kind.
inline const char* kind_name(pulse_kind kind) {
    switch (kind) {
        case PULSE_KIND_INGEST:
            return "ingest";
        case PULSE_KIND_RULE:
            return "rule";
        case PULSE_KIND_SENDER:
            return "sender";
        case PULSE_KIND_REPORT:
            return "report";
        case PULSE_KIND_ACTION:
            return "action";
        default:
            return "";
    }
}

// An error with an ABI result code; other exceptions map to PULSE_ERR_GENERIC.
class Error : public std::runtime_error {
  public:
    Error(pulse_result code, const std::string& message) : std::runtime_error(message), code_(code) {}
    pulse_result code() const noexcept { return code_; }

  private:
    pulse_result code_;
};

inline std::string_view view(pulse_str s) {
    return s.data ? std::string_view(s.data, s.len) : std::string_view();
}
inline pulse_str str(std::string_view s) {
    return pulse_str{s.data(), s.size()};
}

// An HTTP request routed to a plugin (ABI 1.1). Views are valid while the handler runs.
struct HttpRequest {
    std::string_view method;
    std::string_view path;
    std::string_view body;
    std::string_view remote_address;
    const pulse_http_request* raw = nullptr;
    // A header (case-insensitive) or path parameter; empty when absent.
    std::string header(const char* name) const {
        const char* v = raw->header(raw, name);
        return v ? v : "";
    }
    std::string param(const char* name) const {
        const char* v = raw->param(raw, name);
        return v ? v : "";
    }
};

struct HttpResponse {
    int32_t status = 200;
    std::string content_type = "application/json";
    std::string body;
    uint32_t retry_after_s = 0;
};

// A route handler; the plugin instance owns it for as long as the instance lives.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// ABI 1.2: an outgoing HTTP request through the host's egress guard, and its answer.
struct HttpCall {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int64_t timeout_ms = 0;  // 0: the host's default
};

struct HttpReply {
    pulse_result code = PULSE_OK;  // PULSE_OK when a response arrived; see pulse_host_api::http_send
    int32_t status = 0;
    int64_t retry_after_ms = -1;
    std::string body;   // the first 64 KiB
    std::string error;  // why no response arrived
};

// ABI 1.3: a tenant-chosen host after the egress guard looked at it (see pulse_host_api::egress_resolve).
struct EgressAddress {
    pulse_result code = PULSE_OK;  // PULSE_OK: dial address; DENIED: refused; UNAVAILABLE: retry later
    std::string address;           // numeric, e.g. "203.0.113.7" or "2001:db8::7"
    std::string error;
};

struct IngestResult {
    int32_t status = 0;
    uint32_t accepted = 0;
    uint32_t retry_after_s = 0;
    std::string body;  // JSON: a result, or an RFC 9457 problem
};

// The host's services for one instance. Cheap to copy; valid until the instance is destroyed.
class Host {
  public:
    Host(const pulse_host_api* api, pulse_host* host) : api_(api), host_(host) {}

    void log(pulse_log_level level, std::string_view message) const {
        api_->log(host_, level, message.data(), message.size());
    }
    void debug(std::string_view message) const { log(PULSE_LOG_DEBUG, message); }
    void info(std::string_view message) const { log(PULSE_LOG_INFO, message); }
    void warn(std::string_view message) const { log(PULSE_LOG_WARN, message); }
    void error(std::string_view message) const { log(PULSE_LOG_ERROR, message); }
    void counter_add(const char* name, const char* help, double delta) const {
        api_->counter_add(host_, name, help, delta);
    }
    void gauge_set(const char* name, const char* help, double value) const {
        api_->gauge_set(host_, name, help, value);
    }
    int64_t now_ms() const { return api_->now_ms(host_); }
    std::string_view instance_name() const { return api_->instance_name(host_); }

    // Config values by JSON Pointer; the fallback when absent (the schema's defaults are already applied).
    double config_number(const char* pointer, double fallback = 0) const {
        double v = 0;
        return api_->config_number(host_, pointer, &v) == PULSE_OK ? v : fallback;
    }
    bool config_bool(const char* pointer, bool fallback = false) const {
        int v = 0;
        return api_->config_bool(host_, pointer, &v) == PULSE_OK ? v != 0 : fallback;
    }
    std::string config_string(const char* pointer, const std::string& fallback = "") const {
        size_t len = 0;
        std::string buf(256, '\0');
        pulse_result rc = api_->config_string(host_, pointer, &buf[0], buf.size(), &len);
        if (rc != PULSE_OK && len >= buf.size()) {
            buf.assign(len + 1, '\0');
            rc = api_->config_string(host_, pointer, &buf[0], buf.size(), &len);
        }
        if (rc != PULSE_OK) return fallback;
        buf.resize(len);
        return buf;
    }
    uint32_t abi_minor() const { return api_->abi_minor; }
    const pulse_host_api* api() const { return api_; }

    // ABI 1.1: hands one device message to the telemetry pipeline (see pulse_host_api::ingest_submit).
    IngestResult ingest(pulse_identity_kind kind, std::string_view identity, std::string_view payload,
                        int64_t wait_ms) const {
        require_1_1();
        pulse_ingest_message m{sizeof(pulse_ingest_message), kind, str(identity), str(payload)};
        std::string buf(4096, '\0');
        pulse_ingest_result r{sizeof(pulse_ingest_result), 0, 0, 0, &buf[0], buf.size()};
        pulse_result rc = api_->ingest_submit(host_, &m, wait_ms, &r);
        if (rc != PULSE_OK) throw Error(rc, "ingest_submit refused its arguments");
        buf.resize(std::char_traits<char>::length(buf.c_str()));
        return IngestResult{r.status, r.accepted, r.retry_after_s, buf};
    }

    // ABI 1.1: serves method + pattern with handler, which must outlive the instance's routes (keep it
    // as a member of the component).
    void route(const char* method, const char* pattern, const HttpHandler* handler) const {
        require_1_1();
        pulse_result rc =
            api_->http_route(host_, method, pattern, &route_thunk, const_cast<HttpHandler*>(handler));
        if (rc != PULSE_OK) throw Error(rc, std::string("cannot route ") + method + " " + pattern);
    }

    // ABI 1.2: sends an HTTP request through the host (see pulse_host_api::http_send). Never throws for
    // network outcomes: they are in HttpReply::code.
    HttpReply http_send(const HttpCall& call) const {
        if (!PULSE_HAS_MEMBER(pulse_host_api, api_, http_send))
            throw Error(PULSE_ERR_UNSUPPORTED, "this host is older than ABI 1.2");
        std::vector<pulse_http_header> headers;
        headers.reserve(call.headers.size());
        for (const auto& h : call.headers) headers.push_back(pulse_http_header{str(h.first), str(h.second)});
        std::string body(64 * 1024 + 1, '\0');
        std::string error(512, '\0');
        pulse_http_call c{sizeof(pulse_http_call), str(call.method), str(call.url),  headers.data(),
                          headers.size(),          str(call.body),   call.timeout_ms};
        pulse_http_reply r{
            sizeof(pulse_http_reply), 0, -1, &body[0], body.size(), 0, &error[0], error.size()};
        HttpReply out;
        out.code = api_->http_send(host_, &c, &r);
        out.status = r.status;
        out.retry_after_ms = r.retry_after_ms;
        body.resize(r.body_len < body.size() ? r.body_len : 0);
        out.body = std::move(body);
        error.resize(std::char_traits<char>::length(error.c_str()));
        out.error = std::move(error);
        return out;
    }

    // ABI 1.3: resolves and checks a host a sender dials itself (see pulse_host_api::egress_resolve). Never
    // throws for the guard's or the resolver's answers: they are in EgressAddress::code.
    EgressAddress egress_resolve(const std::string& name) const {
        if (!PULSE_HAS_MEMBER(pulse_host_api, api_, egress_resolve))
            throw Error(PULSE_ERR_UNSUPPORTED, "this host is older than ABI 1.3");
        char address[PULSE_ADDRESS_CAP] = {0};
        std::string error(512, '\0');
        EgressAddress out;
        out.code =
            api_->egress_resolve(host_, name.c_str(), address, sizeof address, &error[0], error.size());
        out.address = address;
        error.resize(std::char_traits<char>::length(error.c_str()));
        out.error = std::move(error);
        return out;
    }

  private:
    void require_1_1() const {
        if (!PULSE_HAS_MEMBER(pulse_host_api, api_, http_route))
            throw Error(PULSE_ERR_UNSUPPORTED, "this host is older than ABI 1.1");
    }
    static void route_thunk(void* ctx, const pulse_http_request* req,
                            const pulse_http_response* res) noexcept {
        try {
            HttpRequest r{view(req->method), view(req->path), view(req->body), view(req->remote_address),
                          req};
            HttpResponse out = (*static_cast<HttpHandler*>(ctx))(r);
            res->respond(res, out.status, out.content_type.c_str(), out.body.data(), out.body.size(),
                         out.retry_after_s);
        } catch (const std::exception& e) {
            std::string body = std::string(R"({"title":"Internal Server Error","status":500,"detail":")") +
                               "plugin error" + "\"}";
            res->respond(res, 500, "application/problem+json", body.data(), body.size(), 0);
        } catch (...) {
            res->respond(res, 500, "application/problem+json", "{}", 2, 0);
        }
    }

    const pulse_host_api* api_;
    pulse_host* host_;
};

// Writes bytes to a host-provided sink.
class Writer {
  public:
    explicit Writer(const pulse_writer* w) : w_(w) {}
    void write(std::string_view bytes) const {
        pulse_result rc = w_->write(w_->ctx, bytes.data(), bytes.size());
        if (rc != PULSE_OK) throw Error(rc, "output closed by the host");
    }

  private:
    const pulse_writer* w_;
};

struct Sample {
    std::string_view tenant;
    std::string_view device;
    std::string_view metric;
    double value = 0;
    bool is_bool = false;
    int64_t ts_ms = 0;
};

struct Verdict {
    pulse_transition transition = PULSE_TRANSITION_NONE;
    std::string tenant;
    std::string device;
    double observed = 0;
    std::string summary;
};

struct Delivery {
    std::string_view idempotency_key;
    std::string_view payload_json;
    uint32_t attempt = 1;
    int64_t deadline_ms = 0;
};

struct DeliveryOutcome {
    pulse_result code = PULSE_OK;  // PULSE_OK, PULSE_RETRY or a negative (permanent) code
    int32_t status_code = 0;
    int64_t retry_after_ms = -1;
    std::string detail;
};

// What every HTTP sender does before it reads the peer's answer: when no answer arrived the outcome is
// decided here (UNAVAILABLE: a connect failure, reset, timeout or a name that does not resolve now, so
// retry; any other code: the egress guard refused the target or the URL is malformed, which retrying cannot
// mend). Returns false, with out holding the status and Retry-After, when a response arrived: the sender
// then maps the status itself.
inline bool outcome_without_answer(const HttpReply& r, DeliveryOutcome& out) {
    out.status_code = r.status;
    out.retry_after_ms = r.retry_after_ms;
    if (r.code == PULSE_OK) return false;
    out.code = r.code == PULSE_ERR_UNAVAILABLE ? PULSE_RETRY : r.code;
    out.detail = r.error;
    return true;
}

// A JSON POST as chat and paging senders make it.
inline HttpCall json_post(std::string url, std::string body, std::string user_agent, int64_t timeout_ms,
                          std::string content_type = "application/json") {
    HttpCall call;
    call.method = "POST";
    call.url = std::move(url);
    call.body = std::move(body);
    call.timeout_ms = timeout_ms;
    call.headers = {{"Content-Type", std::move(content_type)}, {"User-Agent", std::move(user_agent)}};
    return call;
}

// The time one attempt may take: the channel's timeout, cut to what is left before the delivery's deadline.
inline int64_t attempt_timeout_ms(const Delivery& d, int64_t now_ms, int64_t timeout_ms) {
    return d.deadline_ms > now_ms ? std::min(timeout_ms, d.deadline_ms - now_ms) : timeout_ms;
}

struct ActionRequest {
    std::string_view job_id;
    std::string_view tenant;
    std::string_view device;
    std::string_view params_json;
};

class Progress {
  public:
    explicit Progress(const pulse_action_progress* p) : p_(p) {}
    void report(uint32_t percent, std::string_view message) const {
        if (p_ && p_->report) p_->report(p_->ctx, percent, message.data(), message.size());
    }

  private:
    const pulse_action_progress* p_;
};

// Base classes, one per kind. start() and stop() are optional.
class Component {
  public:
    virtual ~Component() = default;
    virtual void start() {}
    virtual void stop() {}
};

class Ingest : public Component {
  public:
    static constexpr pulse_kind kind = PULSE_KIND_INGEST;
    // Returns true when healthy; status is a short human-readable state.
    virtual bool health(std::string& status) = 0;
};

class Rule : public Component {
  public:
    static constexpr pulse_kind kind = PULSE_KIND_RULE;
    virtual Verdict evaluate(const Sample& sample) = 0;
    virtual void tick(int64_t /*now_ms*/, const std::function<void(const Verdict&)>& /*emit*/) {}
    // ABI 1.2: a device in scope and its last-seen time (0: never), see pulse_rule_ops::track.
    virtual void track(std::string_view /*tenant*/, std::string_view /*device*/, int64_t /*last_seen_ms*/) {}
    // ABI 1.4: what a restart must not lose about one device, as a small JSON text ("" when idle), and
    // the way back (false: a text this rule cannot read; the device starts idle). See pulse_rule_ops::save.
    virtual std::string save(std::string_view /*tenant*/, std::string_view /*device*/) { return {}; }
    virtual bool restore(std::string_view /*tenant*/, std::string_view /*device*/,
                         std::string_view /*state*/) {
        return true;
    }
};

class Sender : public Component {
  public:
    static constexpr pulse_kind kind = PULSE_KIND_SENDER;
    virtual DeliveryOutcome deliver(const Delivery& delivery) = 0;
};

class Report : public Component {
  public:
    static constexpr pulse_kind kind = PULSE_KIND_REPORT;
    // Derived classes also declare: static constexpr const char* content_type, params_schema.
    virtual void generate(std::string_view params_json, const Writer& out) = 0;
};

class Action : public Component {
  public:
    static constexpr pulse_kind kind = PULSE_KIND_ACTION;
    // Derived classes also declare: static constexpr const char* params_schema.
    virtual void execute(const ActionRequest& request, const Progress& progress, const Writer& result) = 0;
};

namespace detail {

inline void copy_text(char* buf, size_t cap, std::string_view text) {
    if (!buf || cap == 0) return;
    size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
}

// Runs fn, turning any exception into a result code and a message in err.
template <class Fn>
pulse_result guarded(char* err, size_t cap, Fn&& fn) noexcept {
    try {
        return fn();
    } catch (const Error& e) {
        copy_text(err, cap, e.what());
        return e.code() == PULSE_OK ? PULSE_ERR_GENERIC : e.code();
    } catch (const std::exception& e) {
        copy_text(err, cap, e.what());
        return PULSE_ERR_GENERIC;
    } catch (...) {
        copy_text(err, cap, "unknown exception");
        return PULSE_ERR_INTERNAL;
    }
}

// The instance the host sees: the component plus the scratch space its returned views point into.
template <class T>
struct Holder {
    T impl;
    Verdict last_verdict;
    std::string last_status;
    template <class... A>
    explicit Holder(A&&... args) : impl(std::forward<A>(args)...) {}
};

template <class T>
T& impl(void* instance) {
    return static_cast<Holder<T>*>(instance)->impl;
}

inline void fill_verdict(const Verdict& v, pulse_rule_verdict* out) {
    out->transition = v.transition;
    out->tenant = str(v.tenant);
    out->device = str(v.device);
    out->observed = v.observed;
    out->summary = str(v.summary);
}

template <class T>
struct Thunks {
    static pulse_result create(const pulse_host_api* api, pulse_host* host, const char* config, size_t len,
                               void** instance, char* err, size_t cap) noexcept {
        return guarded(err, cap, [&] {
            *instance = new Holder<T>(Host(api, host), std::string_view(config, len));
            return PULSE_OK;
        });
    }
    static pulse_result start(void* instance, char* err, size_t cap) noexcept {
        return guarded(err, cap, [&] {
            impl<T>(instance).start();
            return PULSE_OK;
        });
    }
    static void stop(void* instance) noexcept {
        guarded(nullptr, 0, [&] {
            impl<T>(instance).stop();
            return PULSE_OK;
        });
    }
    static void destroy(void* instance) noexcept {
        guarded(nullptr, 0, [&] {
            delete static_cast<Holder<T>*>(instance);
            return PULSE_OK;
        });
    }

    static pulse_result ingest_health(void* instance, char* buf, size_t cap) noexcept {
        return guarded(buf, cap, [&] {
            auto* h = static_cast<Holder<T>*>(instance);
            bool ok = h->impl.health(h->last_status);
            copy_text(buf, cap, h->last_status);
            return ok ? PULSE_OK : PULSE_ERR_UNAVAILABLE;
        });
    }

    static pulse_result rule_evaluate(void* instance, const pulse_sample* s,
                                      pulse_rule_verdict* out) noexcept {
        return guarded(nullptr, 0, [&] {
            auto* h = static_cast<Holder<T>*>(instance);
            Sample sample{view(s->tenant),
                          view(s->device),
                          view(s->metric),
                          s->value,
                          s->value_type == PULSE_VALUE_BOOL,
                          s->ts_ms};
            h->last_verdict = h->impl.evaluate(sample);
            fill_verdict(h->last_verdict, out);
            return PULSE_OK;
        });
    }
    static pulse_result rule_tick(void* instance, int64_t now_ms, pulse_rule_emit_fn emit,
                                  void* ctx) noexcept {
        return guarded(nullptr, 0, [&] {
            impl<T>(instance).tick(now_ms, [&](const Verdict& v) {
                pulse_rule_verdict out{};
                out.struct_size = sizeof out;
                fill_verdict(v, &out);
                emit(ctx, &out);
            });
            return PULSE_OK;
        });
    }

    static pulse_result rule_track(void* instance, pulse_str tenant, pulse_str device,
                                   int64_t last_seen_ms) noexcept {
        return guarded(nullptr, 0, [&] {
            impl<T>(instance).track(view(tenant), view(device), last_seen_ms);
            return PULSE_OK;
        });
    }

    static pulse_result rule_save(void* instance, pulse_str tenant, pulse_str device,
                                  const pulse_writer* out) noexcept {
        return guarded(nullptr, 0, [&] {
            std::string state = impl<T>(instance).save(view(tenant), view(device));
            return state.empty() ? PULSE_OK : out->write(out->ctx, state.data(), state.size());
        });
    }

    static pulse_result rule_restore(void* instance, pulse_str tenant, pulse_str device,
                                     pulse_str state) noexcept {
        return guarded(nullptr, 0, [&] {
            return impl<T>(instance).restore(view(tenant), view(device), view(state)) ? PULSE_OK
                                                                                      : PULSE_ERR_INVALID;
        });
    }

    static pulse_result sender_deliver(void* instance, const pulse_delivery* d,
                                       pulse_delivery_result* r) noexcept {
        return guarded(r->detail, r->detail_cap, [&] {
            DeliveryOutcome o = impl<T>(instance).deliver(
                Delivery{view(d->idempotency_key), view(d->payload_json), d->attempt, d->deadline_ms});
            r->status_code = o.status_code;
            r->retry_after_ms = o.retry_after_ms;
            copy_text(r->detail, r->detail_cap, o.detail);
            return o.code;
        });
    }

    static pulse_result report_generate(void* instance, const char* params, size_t len,
                                        const pulse_writer* out, char* err, size_t cap) noexcept {
        return guarded(err, cap, [&] {
            impl<T>(instance).generate(std::string_view(params, len), Writer(out));
            return PULSE_OK;
        });
    }

    static pulse_result action_execute(void* instance, const pulse_action_request* r,
                                       const pulse_action_progress* p, const pulse_writer* out, char* err,
                                       size_t cap) noexcept {
        return guarded(err, cap, [&] {
            impl<T>(instance).execute(
                ActionRequest{view(r->job_id), view(r->tenant), view(r->device), view(r->params_json)},
                Progress(p), Writer(out));
            return PULSE_OK;
        });
    }
};

template <class T>
const void* ops_for() {
    using Th = Thunks<T>;
    if constexpr (std::is_base_of_v<Ingest, T>) {
        static const pulse_ingest_ops ops{sizeof(pulse_ingest_ops), &Th::ingest_health};
        return &ops;
    } else if constexpr (std::is_base_of_v<Rule, T>) {
        static const pulse_rule_ops ops{sizeof(pulse_rule_ops), &Th::rule_evaluate, &Th::rule_tick,
                                        &Th::rule_track,        &Th::rule_save,     &Th::rule_restore};
        return &ops;
    } else if constexpr (std::is_base_of_v<Sender, T>) {
        static const pulse_sender_ops ops{sizeof(pulse_sender_ops), &Th::sender_deliver};
        return &ops;
    } else if constexpr (std::is_base_of_v<Report, T>) {
        static const pulse_report_ops ops{sizeof(pulse_report_ops), T::content_type, T::params_schema,
                                          &Th::report_generate};
        return &ops;
    } else {
        static_assert(std::is_base_of_v<Action, T>, "a component derives from one of the kind base classes");
        static const pulse_action_ops ops{sizeof(pulse_action_ops), T::params_schema, &Th::action_execute};
        return &ops;
    }
}

}  // namespace detail

// The static descriptor of component class T. type is [a-z][a-z0-9_]*; config_schema a JSON Schema.
template <class T>
const pulse_component* component(const char* type, const char* description, const char* config_schema,
                                 pulse_threading threading = PULSE_THREADING_SERIAL) {
    using Th = detail::Thunks<T>;
    static const pulse_component c{sizeof(pulse_component),
                                   T::kind,
                                   type,
                                   description,
                                   config_schema,
                                   threading,
                                   &Th::create,
                                   &Th::start,
                                   &Th::stop,
                                   &Th::destroy,
                                   detail::ops_for<T>()};
    return &c;
}

}  // namespace pulse

// Emits the plugin descriptor and the entry point. The components are pulse::component<T>(...) calls.
#define PULSE_PLUGIN(NAME, VERSION, DESCRIPTION, LICENSE, ...)                                              \
    extern "C" PULSE_EXPORT const pulse_plugin* pulse_plugin_entry_v1(uint32_t host_abi_min,                \
                                                                      uint32_t host_abi_max) {              \
        (void)host_abi_min;                                                                                 \
        (void)host_abi_max; /* the host checks compatibility and explains a refusal */                      \
        static const pulse_component* const components[] = {__VA_ARGS__};                                   \
        static const pulse_plugin plugin{sizeof(pulse_plugin),                                              \
                                         PULSE_ABI_MAJOR,                                                   \
                                         PULSE_ABI_MINOR,                                                   \
                                         NAME,                                                              \
                                         VERSION,                                                           \
                                         DESCRIPTION,                                                       \
                                         LICENSE,                                                           \
                                         static_cast<uint32_t>(sizeof(components) / sizeof(components[0])), \
                                         components};                                                       \
        return &plugin;                                                                                     \
    }

#endif  // PULSE_PLUGIN_HPP
