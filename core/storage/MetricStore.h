#pragma once

#include "storage/Page.h"

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// One metric of the tenant's catalog (learned from the readings; unit and description set by people).
struct MetricRow {
    long long id = 0;
    std::string name, unit, description;
    bool isBoolean = false;
    std::optional<double> lastValue;
    std::optional<std::string> lastAt;  // RFC 3339 UTC, like createdAt
    std::string createdAt;
};

// Which points of one device's metric a read returns: those in [fromMs, toMs) after the cursor, oldest
// first, a page of `limit`.
// A reading of some device, as a rule preview replays it.
struct WindowReadingRow {
    long long deviceId = 0;
    std::string metric;
    bool isBoolean = false;
    long long tsMs = 0;
    double value = 0;
};

struct SeriesRange {
    long long deviceId = 0;
    std::string metric;  // by name
    long long fromMs = 0, toMs = 0;
    std::optional<long long> afterUs;  // the cursor: the last point read, microseconds since 1970
    int limit = 1000;
};

struct ReadingRow {
    long long atUs = 0;  // microseconds since 1970 (the cursor)
    std::string at;      // RFC 3339 UTC, to the millisecond
    double value = 0;
};

struct HourlyRollupRow {
    long long atUs = 0;  // the hour's start, microseconds since 1970 (the cursor)
    std::string at;
    double min = 0, max = 0, avg = 0;
    long long count = 0;
};

// A metric a device has reported, and the hour it last did (from the hourly rollups).
struct DeviceMetricRow {
    std::string name, unit, description;
    bool isBoolean = false;
    std::string lastHour;  // RFC 3339 UTC
};

// A series read: empty unless both the device and the metric were found.
template <typename Point>
struct Series {
    bool deviceFound = false, metricFound = false;
    Page<Point> points;
};

// What the API reads and edits of the tenant's metric catalog and of the readings stored under it, each
// call in a transaction scoped to the tenant (row-level security). Readings are written by TelemetryStore.
class MetricStore {
  public:
    explicit MetricStore(PgPool& pool) : pool_(pool) {}

    // By id, after the cursor, names starting with the prefix (empty: all). Throws DatabaseError, like every
    // method here.
    Page<MetricRow> list(const std::string& tenantId, std::optional<long long> afterId,
                         const std::string& namePrefix, int limit);
    // Sets what is given, keeps what is not; nullopt when the tenant has no such metric.
    std::optional<MetricRow> update(const std::string& tenantId, long long id,
                                    const std::optional<std::string>& unit,
                                    const std::optional<std::string>& description);
    // The metrics the device has readings of, by name; nullopt when the tenant has no such device.
    std::optional<std::vector<DeviceMetricRow>> deviceMetrics(const std::string& tenantId,
                                                              long long deviceId);
    Series<ReadingRow> readings(const std::string& tenantId, const SeriesRange& range);
    // Hourly buckets that overlap the range (one that began before fromMs covers part of it).
    Series<HourlyRollupRow> hourly(const std::string& tenantId, const SeriesRange& range);
    // The readings of the devices in [fromMs, toMs), oldest first, at most `limit`.
    std::vector<WindowReadingRow> windowReadings(const std::string& tenantId,
                                                 const std::vector<long long>& deviceIds, long long fromMs,
                                                 long long toMs, int limit);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
