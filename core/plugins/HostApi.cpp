#include "plugins/HostApi.h"

#include "net/OutboundHttp.h"

#include "json/JsonSchema.h"
#include "metrics/MetricsRegistry.h"
#include "plugins/PluginInstance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>

namespace pulse::plugins {
namespace {

std::mutex g_clockMutex;
std::function<int64_t()> g_clock;

bool validMetricName(const char* name) {
    if (!name || !(*name >= 'a' && *name <= 'z')) return false;
    size_t n = 0;
    for (const char* p = name; *p; ++p, ++n)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') || n >= 64) return false;
    return true;
}

metrics::Labels labelsOf(const pulse_host* h) {
    return {{"plugin", h->plugin}, {"instance", h->instance}};
}

// Every function below is called from plugin code: none may throw.
void hostLog(pulse_host* h, pulse_log_level level, const char* message, size_t len) noexcept {
    if (!h || !message) return;
    try {
        static const spdlog::level::level_enum map[] = {spdlog::level::trace, spdlog::level::debug,
                                                        spdlog::level::info, spdlog::level::warn,
                                                        spdlog::level::err};
        auto lvl = level >= PULSE_LOG_TRACE && level <= PULSE_LOG_ERROR ? map[level] : spdlog::level::info;
        h->log->log(lvl, "{}", std::string_view(message, len));
    } catch (...) {
    }
}

pulse_result hostCounterAdd(pulse_host* h, const char* name, const char* help, double delta) noexcept {
    if (!h || !validMetricName(name) || !std::isfinite(delta) || delta < 0) return PULSE_ERR_INVALID;
    if (!h->metrics) return PULSE_OK;
    try {
        h->metrics->counter("pulse_plugin_" + std::string(name) + "_total", help ? help : name, labelsOf(h))
            .add(delta);
        return PULSE_OK;
    } catch (...) {
        return PULSE_ERR_INVALID;  // the name is taken by a metric of another type
    }
}

pulse_result hostGaugeSet(pulse_host* h, const char* name, const char* help, double value) noexcept {
    if (!h || !validMetricName(name)) return PULSE_ERR_INVALID;
    if (!h->metrics) return PULSE_OK;
    try {
        h->metrics->gauge("pulse_plugin_" + std::string(name), help ? help : name, labelsOf(h)).set(value);
        return PULSE_OK;
    } catch (...) {
        return PULSE_ERR_INVALID;
    }
}

int64_t hostNowMs(pulse_host*) noexcept {
    {
        std::lock_guard lock(g_clockMutex);
        if (g_clock) return g_clock();
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const char* hostInstanceName(pulse_host* h) noexcept {
    return h ? h->instance.c_str() : "";
}

std::optional<Poco::Dynamic::Var> configValue(pulse_host* h, const char* pointer) {
    if (!h || !pointer) return std::nullopt;
    return json::lookupPointer(h->config, pointer);
}

pulse_result hostConfigNumber(pulse_host* h, const char* pointer, double* out) noexcept {
    try {
        auto v = configValue(h, pointer);
        if (!v || v->isEmpty() || !v->isNumeric() || v->isBoolean() || !out) return PULSE_ERR_INVALID;
        *out = v->convert<double>();
        return PULSE_OK;
    } catch (...) {
        return PULSE_ERR_INVALID;
    }
}

pulse_result hostConfigBool(pulse_host* h, const char* pointer, int* out) noexcept {
    try {
        auto v = configValue(h, pointer);
        if (!v || v->isEmpty() || !v->isBoolean() || !out) return PULSE_ERR_INVALID;
        *out = v->convert<bool>() ? 1 : 0;
        return PULSE_OK;
    } catch (...) {
        return PULSE_ERR_INVALID;
    }
}

pulse_result hostConfigString(pulse_host* h, const char* pointer, char* buf, size_t cap,
                              size_t* len) noexcept {
    try {
        auto v = configValue(h, pointer);
        if (!v || v->isEmpty() || !v->isString()) return PULSE_ERR_INVALID;
        std::string s = v->toString();
        if (len) *len = s.size();
        if (!buf || cap == 0 || s.size() > cap - 1) return PULSE_ERR_INVALID;
        std::memcpy(buf, s.data(), s.size());
        buf[s.size()] = '\0';
        return PULSE_OK;
    } catch (...) {
        return PULSE_ERR_INVALID;
    }
}

void writeText(char* buf, size_t cap, const std::string& text) {
    if (!buf || cap == 0) return;
    size_t n = std::min(text.size(), cap - 1);
    std::memcpy(buf, text.data(), n);
    buf[n] = '\0';
}

pulse_result hostIngestSubmit(pulse_host* h, const pulse_ingest_message* message, int64_t waitMs,
                              pulse_ingest_result* result) noexcept {
    if (!h || !message || !result || message->struct_size < sizeof(pulse_ingest_message) ||
        result->struct_size < sizeof(pulse_ingest_result) || waitMs < 0)
        return PULSE_ERR_INVALID;
    try {
        if (!h->services.ingest) {
            result->status = 503;
            result->accepted = 0;
            result->retry_after_s = 0;
            writeText(
                result->body, result->body_cap,
                R"({"type":"about:blank","title":"Service Unavailable","status":503,"detail":"this host has no telemetry pipeline"})");
            return PULSE_OK;
        }
        h->services.ingest->submit(*message, waitMs, *result);
        return PULSE_OK;
    } catch (...) {
        result->status = 500;
        writeText(
            result->body, result->body_cap,
            R"({"type":"about:blank","title":"Internal Server Error","status":500,"detail":"ingest failed"})");
        return PULSE_OK;
    }
}

pulse_result hostHttpRoute(pulse_host* h, const char* method, const char* pattern,
                           pulse_http_handler_fn handler, void* ctx) noexcept;

// The instance's outbound HTTP and egress guard; without one (conformance runs, tests), a guard with an empty
// allow-list.
const net::OutboundHttp& outboundOf(const pulse_host* h) {
    static const net::OutboundHttp fallback;
    return h->services.http ? *h->services.http : fallback;
}

pulse_result hostHttpSend(pulse_host* h, const pulse_http_call* call, pulse_http_reply* reply) noexcept {
    if (!h || !call || !reply || call->struct_size < sizeof(pulse_http_call) ||
        reply->struct_size < sizeof(pulse_http_reply) || (call->header_count && !call->headers))
        return PULSE_ERR_INVALID;
    try {
        const net::OutboundHttp& http = outboundOf(h);
        auto text = [](pulse_str s) { return s.data ? std::string(s.data, s.len) : std::string(); };
        net::OutboundRequest req;
        req.method = text(call->method);
        req.url = text(call->url);
        for (size_t i = 0; i < call->header_count; ++i)
            req.headers.emplace_back(text(call->headers[i].name), text(call->headers[i].value));
        req.body = text(call->body);
        req.timeoutMs = call->timeout_ms > 0 ? call->timeout_ms : 10000;
        req.maxBodyBytes = reply->body_cap > 0 ? reply->body_cap - 1 : 0;
        auto res = http.send(req);
        reply->status = res.status;
        reply->retry_after_ms = res.retryAfterMs;
        reply->body_len = 0;
        if (reply->body && reply->body_cap) {
            writeText(reply->body, reply->body_cap, res.body);
            reply->body_len = std::min(res.body.size(), reply->body_cap - 1);
        }
        writeText(reply->error, reply->error_cap, res.error);
        // The error names the host only: a URL's path and query may be the credential (Slack, Teams).
        if (!res.error.empty() && h->log) h->log->debug("http_send failed: {}", res.error);
        switch (res.outcome) {
            case net::OutboundResponse::Outcome::Response:
                return PULSE_OK;
            case net::OutboundResponse::Outcome::Denied:
                return PULSE_ERR_DENIED;
            case net::OutboundResponse::Outcome::Invalid:
                return PULSE_ERR_INVALID;
            default:
                return PULSE_ERR_UNAVAILABLE;
        }
    } catch (...) {
        writeText(reply->error, reply->error_cap, "internal error in http_send");
        return PULSE_ERR_INTERNAL;
    }
}

pulse_result hostEgressResolve(pulse_host* h, const char* name, char* address, size_t addressCap, char* error,
                               size_t errorCap) noexcept {
    if (!h || !name || !address || addressCap < PULSE_ADDRESS_CAP) {
        writeText(error, errorCap, "egress_resolve: a name and an address buffer of PULSE_ADDRESS_CAP bytes");
        return PULSE_ERR_INVALID;
    }
    address[0] = '\0';
    try {
        const net::OutboundHttp& http = outboundOf(h);
        auto addresses = http.guard().checkHost(name);
        writeText(address, addressCap, addresses.front().text());
        writeText(error, errorCap, "");
        return PULSE_OK;
    } catch (const net::EgressDenied& e) {
        writeText(error, errorCap, e.what());
        if (h->log) h->log->debug("egress_resolve refused: {}", e.what());
        return PULSE_ERR_DENIED;
    } catch (const net::EgressUnresolved& e) {
        writeText(error, errorCap, e.what());
        if (h->log) h->log->debug("egress_resolve failed: {}", e.what());
        return PULSE_ERR_UNAVAILABLE;
    } catch (const std::invalid_argument& e) {
        writeText(error, errorCap, e.what());
        return PULSE_ERR_INVALID;
    } catch (...) {
        writeText(error, errorCap, "internal error in egress_resolve");
        return PULSE_ERR_INTERNAL;
    }
}

}  // namespace

const pulse_host_api* hostApi() {
    static const pulse_host_api api{
        sizeof(pulse_host_api), PULSE_ABI_MAJOR,   kHostAbiMinor,     &hostLog,          &hostCounterAdd,
        &hostGaugeSet,          &hostNowMs,        &hostInstanceName, &hostConfigNumber, &hostConfigBool,
        &hostConfigString,      &hostIngestSubmit, &hostHttpRoute,    &hostHttpSend,     &hostEgressResolve};
    return &api;
}

void setHostClock(std::function<int64_t()> clock) {
    std::lock_guard lock(g_clockMutex);
    g_clock = std::move(clock);
}

}  // namespace pulse::plugins

namespace pulse::plugins {
namespace {

pulse_result hostHttpRoute(pulse_host* h, const char* method, const char* pattern,
                           pulse_http_handler_fn handler, void* ctx) noexcept {
    if (!h || !method || !pattern || !handler || pattern[0] != '/') return PULSE_ERR_INVALID;
    if (!h->services.routes) return PULSE_OK;  // no HTTP server in this host: nothing to mount
    try {
        PluginInstance* owner = h->owner;
        return h->services.routes->add(
            method, pattern,
            [owner, handler, ctx](const pulse_http_request& req, const pulse_http_response& res) {
                auto call = [&] {
                    handler(ctx, &req, &res);
                    return PULSE_OK;
                };
                if (owner)
                    owner->call("http handler", call);
                else
                    call();
            });
    } catch (...) {
        return PULSE_ERR_INVALID;
    }
}

}  // namespace
}  // namespace pulse::plugins
