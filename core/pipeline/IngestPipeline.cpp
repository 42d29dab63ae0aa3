#include "pipeline/IngestPipeline.h"

#include "metrics/MetricsRegistry.h"
#include "pipeline/RuleEngine.h"
#include "pipeline/TelemetryWriter.h"
#include "services/DeviceRegistry.h"
#include "services/DeviceStatusTracker.h"

#include <pulse/json.hpp>

#include <algorithm>
#include <cstring>

namespace pulse::pipeline {
namespace {

void answer(pulse_ingest_result& r, int status, const std::string& body, uint32_t retryAfter = 0) {
    r.status = status;
    r.retry_after_s = retryAfter;
    if (r.body && r.body_cap) {
        size_t n = std::min(body.size(), r.body_cap - 1);
        std::memcpy(r.body, body.data(), n);
        r.body[n] = '\0';
    }
}

std::string problem(int status, const std::string& title, const std::string& detail,
                    const std::string& field = "") {
    return json::problem(status, title, detail, "", field);
}

}  // namespace

IngestPipeline::IngestPipeline(services::DeviceRegistry& registry, services::DeviceStatusTracker& status,
                               TelemetryWriter& writer, metrics::MetricsRegistry& metrics,
                               DecodeLimits limits, std::function<int64_t()> clock, RuleEngine* rules,
                               BudgetSettings budget, std::unique_ptr<MetricNameLimit> metricNames)
    : registry_(registry),
      status_(status),
      writer_(writer),
      metrics_(metrics),
      limits_(limits),
      clock_(std::move(clock)),
      rules_(rules),
      budget_(budget),
      metricNames_(std::move(metricNames)) {}

void IngestPipeline::submit(const pulse_ingest_message& m, int64_t waitMs, pulse_ingest_result& r) {
    r.accepted = 0;
    auto count = [&](const char* outcome) {
        metrics_.counter("pulse_ingest_messages_total", "Device messages by outcome", {{"outcome", outcome}})
            .add();
    };
    std::string_view identity(m.identity.data ? m.identity.data : "", m.identity.data ? m.identity.len : 0);
    std::optional<services::DeviceIdentity> device;
    try {
        if (m.identity_kind == PULSE_IDENTITY_TOKEN) {
            device = registry_.byToken(identity);
        } else if (m.identity_kind == PULSE_IDENTITY_DEVICE) {
            auto slash = identity.find('/');
            if (slash != std::string_view::npos)
                device = registry_.byName(identity.substr(0, slash), identity.substr(slash + 1));
        }
    } catch (const std::exception& e) {
        count("unavailable");
        return answer(r, 503,
                      problem(503, "Service Unavailable", "the device registry is unavailable; retry later"),
                      5);
    }
    if (!device) {
        count("unauthorized");
        return answer(r, 401, problem(401, "Unauthorized", "unknown or revoked device credentials"));
    }
    if (device->decommissioned) {
        count("forbidden");
        return answer(r, 403,
                      problem(403, "Forbidden", "device " + device->deviceName + " is decommissioned"));
    }
    // Over budget: refused before decoding, so a flood costs a lookup per message, not a parse.
    std::string tenantKey(reinterpret_cast<const char*>(device->tenantUuid.data()),
                          device->tenantUuid.size());
    if (auto verdict = budget_.check(device->deviceId, tenantKey); !verdict.allowed) {
        count("over_budget");
        bool byDevice = std::string_view(verdict.over) == "device";
        auto rate = byDevice ? budget_.settings().deviceReadingsPerS : budget_.settings().tenantReadingsPerS;
        return answer(
            r, 429,
            problem(429, "Too Many Requests",
                    (byDevice ? "device " + device->deviceName : std::string("this tenant")) +
                        " is over its budget of " + std::to_string(static_cast<long long>(rate)) +
                        " readings per second; retry after " + std::to_string(verdict.retryAfterS) + " s"),
            verdict.retryAfterS);
    }
    int64_t now = clock_();
    std::string_view payload(m.payload.data ? m.payload.data : "", m.payload.data ? m.payload.len : 0);
    Decoded decoded = decodeTelemetry(payload, now, limits_);
    // Every message costs at least one reading, the malformed and the empty ones too: a device that
    // sends only what is refused or ignored still meets its budget.
    budget_.charge(device->deviceId, tenantKey, decoded.readings.size());
    if (!decoded.ok) {
        count("invalid");
        return answer(r, decoded.status,
                      problem(decoded.status, decoded.status == 413 ? "Content Too Large" : "Bad Request",
                              decoded.error, decoded.field));
    }
    MetricNameLimit::Admission names;
    if (metricNames_) {
        std::vector<std::string> used;
        used.reserve(decoded.readings.size());
        for (const auto& reading : decoded.readings) used.push_back(reading.metric);
        names = metricNames_->admit(device->tenantId, used);
        if (!names.refused.empty()) {
            count("too_many_metrics");
            std::string list;
            for (const auto& n : names.refused) list += (list.empty() ? "" : ", ") + n;
            return answer(
                r, 422,
                problem(422, "Unprocessable Content",
                        "this tenant has reached its limit of " + std::to_string(metricNames_->max()) +
                            " metric names; the message adds new ones (" + list +
                            "); an administrator can raise telemetry.max_metric_names_per_tenant"));
        }
    }
    // Rules see the readings before they are written (their verdicts queue for the alert writer).
    if (rules_) rules_->evaluate(*device, decoded.readings);
    std::vector<storage::TelemetryRow> rows;
    rows.reserve(decoded.readings.size());
    int64_t latest = 0;
    for (auto& reading : decoded.readings) {
        latest = std::max(latest, reading.tsUs);
        rows.push_back(storage::TelemetryRow{device->tenantUuid, device->deviceId, std::move(reading.metric),
                                             reading.isBool, reading.tsUs, reading.value});
    }
    size_t n = rows.size();
    auto done = std::make_shared<Completion>();
    auto queueWait = std::chrono::milliseconds(std::max<int64_t>(waitMs, 1000));
    if (n > 0 && !writer_.enqueue(std::move(rows), done, queueWait, waitMs > 0)) {
        count("backpressure");
        return answer(r, 503, problem(503, "Service Unavailable", "the telemetry queue is full; retry later"),
                      1);
    }
    if (metricNames_) metricNames_->confirm(device->tenantId, names.fresh);
    status_.seen(device->deviceId, std::min(latest ? latest : now, now) / 1000);
    json::Writer w;
    w.beginObject().member("accepted", static_cast<unsigned long long>(n)).key("ignored").beginArray();
    for (const auto& name : decoded.ignored) w.value(name);
    std::string body = w.endArray().endObject().str();
    r.accepted = static_cast<uint32_t>(n);
    if (waitMs == 0 || n == 0) {
        count("queued");
        return answer(r, n ? 202 : 200, body);
    }
    switch (done->wait(std::chrono::milliseconds(waitMs))) {
        case Completion::State::Committed:
            count("committed");
            return answer(r, 200, body);
        case Completion::State::Failed:
            count("failed");
            return answer(r, 500, problem(500, "Internal Server Error", "the readings could not be stored"));
        default:
            count("timeout");
            return answer(r, 503,
                          problem(503, "Service Unavailable",
                                  "the readings were not committed within " + std::to_string(waitMs) +
                                      " ms; retrying is safe (duplicates are dropped)"),
                          5);
    }
}

}  // namespace pulse::pipeline
