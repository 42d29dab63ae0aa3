#pragma once

#include <pulse/plugin.h>

#include <Poco/Dynamic/Var.h>
#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>

namespace pulse::metrics {
class MetricsRegistry;
}

// The host's side of the opaque handle one component instance receives (declared in pulse/plugin.h).
struct pulse_host {
    std::string plugin;
    std::string instance;
    std::shared_ptr<spdlog::logger> log;
    pulse::metrics::MetricsRegistry* metrics = nullptr;  // may be null (conformance runs without one)
    Poco::Dynamic::Var config;                           // the validated config, defaults applied
};

namespace pulse::plugins {

// The ABI minor this host speaks, and the service table every instance receives.
constexpr uint32_t kHostAbiMinor = PULSE_ABI_MINOR;
const pulse_host_api* hostApi();

// Replaces the clock now_ms() reports (tests); nullptr restores the system clock.
void setHostClock(std::function<int64_t()> clock);

}  // namespace pulse::plugins
