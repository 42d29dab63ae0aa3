#pragma once

#include "storage/TelemetryStore.h"

#include <cstdint>
#include <vector>

namespace pulse::storage {

// One (device, metric, hour) of a batch: what the batch adds to pulse.telemetry_hourly.
struct HourlyRollup {
    Uuid tenant{};
    int64_t deviceId = 0;
    int32_t metricId = 0;
    int64_t hourUs = 0;  // start of the hour, microseconds since the epoch: date_trunc('hour', ts) in UTC
    double min = 0, max = 0, sum = 0;
    int64_t count = 0;
};

// The newest reading of one metric in a batch, for the catalog's last value.
struct LatestReading {
    int32_t metricId = 0;
    int64_t tsUs = 0;
    double value = 0;
};

// A batch put in key order, (device, metric, ts), with what storing all of it would add to the rollups
// and the catalog, computed here rather than by PostgreSQL: on the common path (no reading stored
// before) the database only inserts the rows. Key order makes concurrent writers take rollup and
// catalog row locks in one order (no deadlocks) and inserts into the unique index in order.
struct KeyedBatch {
    std::vector<size_t> order;          // indices into the rows, one per (device, metric, ts)
    size_t repeats = 0;                 // rows whose key came earlier in the batch (the first one is kept)
    std::vector<HourlyRollup> rollups;  // in (device, metric, hour) order
    std::vector<LatestReading> latest;  // in metric order
};

// metricIds[i] is the catalog id of rows[i].metric.
KeyedBatch keyBatch(const std::vector<TelemetryRow>& rows, const std::vector<int32_t>& metricIds);

}  // namespace pulse::storage
