#pragma once

#include "pipeline/IngestBudget.h"
#include "pipeline/MetricNameLimit.h"
#include "pipeline/TelemetryDecoder.h"
#include "plugins/HostApi.h"

#include <chrono>
#include <functional>
#include <memory>

namespace pulse::metrics {
class MetricsRegistry;
class Counter;
}  // namespace pulse::metrics
namespace pulse::services {
class DeviceRegistry;
class DeviceStatusTracker;
}  // namespace pulse::services

namespace pulse::pipeline {

class TelemetryWriter;
class RuleEngine;

// The path of one device message: identity (token or broker-checked name) -> the device's and tenant's
// budget -> decode -> rules -> queue for the writer -> device last-seen; answers in HTTP terms
// (pulse_ingest_result).
class IngestPipeline : public plugins::IngestSink {
  public:
    IngestPipeline(services::DeviceRegistry& registry, services::DeviceStatusTracker& status,
                   TelemetryWriter& writer, metrics::MetricsRegistry& metrics, DecodeLimits limits,
                   std::function<int64_t()> clockUs, RuleEngine* rules = nullptr, BudgetSettings budget = {},
                   std::unique_ptr<MetricNameLimit> metricNames = nullptr);

    void submit(const pulse_ingest_message& message, int64_t waitMs, pulse_ingest_result& result) override;

  private:
    services::DeviceRegistry& registry_;
    services::DeviceStatusTracker& status_;
    TelemetryWriter& writer_;
    metrics::MetricsRegistry& metrics_;
    DecodeLimits limits_;
    std::function<int64_t()> clock_;
    RuleEngine* rules_;
    IngestBudget budget_;
    std::unique_ptr<MetricNameLimit> metricNames_;
};

}  // namespace pulse::pipeline
