#pragma once

#include <pulse/plugin.h>

#include <Poco/Dynamic/Var.h>
#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>

namespace pulse::net {
class OutboundHttp;
}
namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::plugins {

class PluginInstance;

// Where ingest_submit delivers device messages (the telemetry pipeline).
class IngestSink {
  public:
    virtual ~IngestSink() = default;
    virtual void submit(const pulse_ingest_message& message, int64_t waitMs, pulse_ingest_result& result) = 0;
};

using PluginHttpHandler = std::function<void(const pulse_http_request&, const pulse_http_response&)>;

// Where http_route mounts plugin routes (the HTTP server's router).
class RouteRegistry {
  public:
    virtual ~RouteRegistry() = default;
    // PULSE_ERR_INVALID for a malformed pattern, PULSE_ERR_CONFIG when the route is taken.
    virtual pulse_result add(const std::string& method, const std::string& pattern,
                             PluginHttpHandler handler) = 0;
};

// The host services that exist only in a serving pulsed; either may be null (conformance runs, tests).
struct HostServices {
    IngestSink* ingest = nullptr;
    RouteRegistry* routes = nullptr;
    const net::OutboundHttp* http = nullptr;  // null: a guard with an empty allow-list
};

}  // namespace pulse::plugins

// The host's side of the opaque handle one component instance receives (declared in pulse/plugin.h).
struct pulse_host {
    std::string plugin;
    std::string instance;
    std::shared_ptr<spdlog::logger> log;
    pulse::metrics::MetricsRegistry* metrics = nullptr;  // may be null (conformance runs without one)
    Poco::Dynamic::Var config;                           // the validated config, defaults applied
    pulse::plugins::HostServices services;
    pulse::plugins::PluginInstance* owner = nullptr;  // for guarded calls into the plugin's route handlers
};

namespace pulse::plugins {

// The ABI minor this host speaks, and the service table every instance receives.
constexpr uint32_t kHostAbiMinor = PULSE_ABI_MINOR;
const pulse_host_api* hostApi();

// Replaces the clock now_ms() reports (tests); nullptr restores the system clock.
void setHostClock(std::function<int64_t()> clock);

}  // namespace pulse::plugins
