#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::pipeline {

struct Reading {
    std::string metric;
    double value = 0;
    bool isBool = false;
    int64_t tsUs = 0;  // microseconds since the epoch, UTC
};

struct DecodeLimits {
    size_t maxReadings = 10000;
    int64_t maxFutureMs = 10 * 60 * 1000;        // clock skew tolerated ahead of the server
    int64_t maxAgeMs = 89LL * 24 * 3600 * 1000;  // older readings fall outside the raw retention
    size_t maxMetricName = 128;
};

struct Decoded {
    bool ok = true;
    int status = 200;   // 400 malformed, 413 too many readings
    std::string field;  // where the problem is, e.g. "[2].values.temp"
    std::string error;
    std::vector<Reading> readings;
    std::vector<std::string> ignored;  // metrics with non-numeric, non-boolean values
};

// Decodes a device payload (simdjson): {"ts":..,"values":{..}}, {"ts":..,"metrics":{..}}, {"k":v,..}
// (optionally with "ts"), or an array of those. ts is in milliseconds, or seconds when below 1e11, or
// absent (server time). Numbers and booleans are readings; other values are listed as ignored.
// nowUs: the server clock in microseconds; readings without ts get it, so that two quick messages of one
// device do not collide on the (device, metric, ts) key that deduplicates redeliveries.
Decoded decodeTelemetry(std::string_view payload, int64_t nowUs, const DecodeLimits& limits = {});

}  // namespace pulse::pipeline
