#pragma once

#include "plugins/HostApi.h"
#include "plugins/PluginLibrary.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace pulse::plugins {

// A verdict with its strings copied out of the plugin's scratch space.
struct RuleVerdict {
    pulse_transition transition = PULSE_TRANSITION_NONE;
    std::string tenant;
    std::string device;
    double observed = 0;
    std::string summary;
};

struct DeliveryOutcome {
    pulse_result code = PULSE_OK;
    int32_t statusCode = 0;
    int64_t retryAfterMs = -1;
    std::string detail;
};

// One configured instance of a component. Every call into the plugin goes through here: calls to a
// serial component are serialized, and any exception that escapes a plugin (one not built with the C++
// wrapper) is caught, logged once, and reported as PULSE_ERR_INTERNAL for that call only.
class PluginInstance {
  public:
    PluginInstance(std::string name, std::shared_ptr<const ComponentInfo> component,
                   metrics::MetricsRegistry* metrics, HostServices services = {});
    ~PluginInstance();
    PluginInstance(const PluginInstance&) = delete;
    PluginInstance& operator=(const PluginInstance&) = delete;

    const std::string& name() const { return host_.instance; }
    const ComponentInfo& component() const { return *component_; }

    // Lifecycle. create() expects a config already validated against the component's schema.
    pulse_result create(const std::string& configJson, std::string& error);
    pulse_result start(std::string& error);
    void stop();
    bool created() const { return instance_ != nullptr; }

    // Kind operations.
    pulse_result health(std::string& status);
    pulse_result evaluate(const pulse_sample& sample, RuleVerdict& verdict);
    // Evaluates the samples of one message in order under one serialization (the ingest path: one lock
    // per rule and message, not per reading); onVerdict gets the index and verdict of each change.
    // (A function pointer, not std::function: this runs for every rule of every message.)
    using VerdictSink = void (*)(void* ctx, size_t index, const RuleVerdict& verdict);
    pulse_result evaluateAll(const pulse_sample* samples, size_t count, VerdictSink onVerdict, void* ctx);
    pulse_result tick(int64_t nowMs, const std::function<void(const RuleVerdict&)>& emit);
    pulse_result track(std::string_view tenant, std::string_view device, int64_t lastSeenMs);
    // ABI 1.4 rule state of one device: its text ("" when idle), nullopt when the rule keeps none it can
    // save (a rule built before 1.4, or save failed); and restoring a text save wrote.
    std::optional<std::string> saveState(std::string_view tenant, std::string_view device);
    pulse_result restoreState(std::string_view tenant, std::string_view device, std::string_view state);
    DeliveryOutcome deliver(const pulse_delivery& delivery);
    pulse_result generate(const std::string& paramsJson, const pulse_writer& out, std::string& error);
    pulse_result execute(const pulse_action_request& request, const pulse_action_progress& progress,
                         const pulse_writer& result, std::string& error);

    // Runs a call into the plugin under the instance's serialization and exception containment.
    pulse_result call(const char* operation, const std::function<pulse_result()>& fn);

  private:
    template <class Fn>
    pulse_result guarded(const char* operation, Fn&& fn);

    pulse_host host_;
    std::shared_ptr<const ComponentInfo> component_;
    void* instance_ = nullptr;
    bool started_ = false;
    std::mutex serial_;
};

}  // namespace pulse::plugins
