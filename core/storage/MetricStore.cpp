#include "storage/MetricStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A catalog entry as MetricRow reads it.
const std::string kMetricColumns = "m.id, m.name, m.unit, m.description, m.is_boolean, m.last_value, " +
                                   isoTime("m.last_ts") + " AS last_at, " + isoTime("m.created_at") +
                                   " AS created_at";

// The catalog by id after the cursor, optionally by name prefix, a page and one more row.
const std::string kMetricPage =
    "SELECT " + kMetricColumns +
    " FROM pulse.metrics m WHERE ($1::bigint IS NULL OR m.id > $1::bigint) AND ($2::text IS NULL OR "
    "starts_with(m.name, $2)) ORDER BY m.id LIMIT $3::int";

// What people describe of a metric; NULL keeps the value.
const std::string kUpdateMetric =
    "UPDATE pulse.metrics m SET unit = coalesce($2, unit), description = coalesce($3, description) WHERE id "
    "= $1::bigint RETURNING " +
    kMetricColumns;

// Whether the device is the tenant's and which catalog id the metric's name has: a series read answers
// "no such device" apart from "no such metric".
const char* kSeriesSubjects =
    "SELECT (SELECT 1 FROM pulse.devices WHERE id = $1::bigint) AS device, (SELECT id FROM pulse.metrics "
    "WHERE name = $2) AS metric_id";

// A series' points: $1 device, $2 metric id, after $3 (microseconds, the cursor), in [$4, $5) (milliseconds),
// a page and one more row. `time` is the column the points are ordered and paged by; `start` bounds it from
// below.
std::string seriesStatement(const std::string& time, const std::string& start, const std::string& values) {
    return "SELECT (extract(epoch FROM " + time + ") * 1000000)::bigint AS at_us, " + isoTime(time) +
           " AS at, " + values + " WHERE device_id = $1::bigint AND metric_id = $2::int AND " + time +
           " > (timestamptz 'epoch' + $3::bigint * interval '1 microsecond') AND " + time + " >= " + start +
           " AND " + time + " < " + timeFromMs("$5") + " ORDER BY " + time + " LIMIT $6::int";
}

// Every reading of the devices in [$2, $3) (milliseconds), in the order they were taken, up to $4 rows:
// what a rule preview replays. By device and time through telemetry_reading_idx, then sorted.
const std::string kWindowReadings =
    "SELECT t.device_id, m.name AS metric, m.is_boolean, (extract(epoch FROM t.ts) * 1000)::bigint AS ts_ms, "
    "t.value FROM pulse.telemetry t JOIN pulse.metrics m ON m.id = t.metric_id "
    "WHERE t.device_id = ANY ($1::bigint[]) AND t.ts >= " +
    timeFromMs("$2") + " AND t.ts < " + timeFromMs("$3") +
    " ORDER BY t.ts, t.device_id, t.metric_id LIMIT $4::int";

// Raw readings, each at its own time.
const std::string kReadings = seriesStatement("ts", timeFromMs("$4"), "value FROM pulse.telemetry");

// Hourly rollups; a bucket that began before `from` still covers part of the range.
const std::string kHourly =
    seriesStatement("hour", "date_trunc('hour', " + timeFromMs("$4") + ")",
                    "min, max, sum / count AS avg, count FROM pulse.telemetry_hourly");

// The metrics a device has readings of: its hourly rollups (the primary key's device_id prefix) name
// them, one row per metric and hour, so a device's whole history costs one index range.
const std::string kDeviceMetrics = "SELECT m.name, m.unit, m.description, m.is_boolean, " +
                                   isoTime("max(h.hour)") +
                                   " AS last_hour FROM pulse.telemetry_hourly h JOIN pulse.metrics m ON m.id "
                                   "= h.metric_id WHERE h.device_id "
                                   "= $1::bigint GROUP BY m.id ORDER BY m.name";

MetricRow metricOf(const ResultRow& r) {
    MetricRow m;
    m.id = r.integer("id");
    m.name = r.text("name");
    m.unit = r.text("unit");
    m.description = r.text("description");
    m.isBoolean = r.flag("is_boolean");
    m.lastValue = r.optionalNumber("last_value");
    m.lastAt = r.optionalText("last_at");
    m.createdAt = r.text("created_at");
    return m;
}

// The series' subjects and then its points, in one transaction; each point read by `point`.
template <typename Point, typename Read>
Series<Point> readSeries(PgPool& pool, const std::string& tenantId, const SeriesRange& range,
                         const std::string& statement, Read point) {
    Series<Point> series;
    PgRows rows;
    pool.withTenant(tenantId, [&](PgConnection& conn) {
        auto subjects = conn.query(kSeriesSubjects, {std::to_string(range.deviceId), range.metric});
        ResultRow found(subjects, 0);
        series.deviceFound = found.optionalText("device").has_value();
        series.metricFound = found.optionalText("metric_id").has_value();
        if (!series.deviceFound || !series.metricFound) return;
        long long after = range.afterUs.value_or(range.fromMs * 1000 - 1);
        rows = conn.query(statement, {std::to_string(range.deviceId), found.text("metric_id"),
                                      std::to_string(after), std::to_string(range.fromMs),
                                      std::to_string(range.toMs), std::to_string(range.limit + 1)});
    });
    series.points = pageOf(rowsOf(rows, point), range.limit);
    return series;
}

}  // namespace

Page<MetricRow> MetricStore::list(const std::string& tenantId, std::optional<long long> afterId,
                                  const std::string& namePrefix, int limit) {
    auto rows = pool_.queryAsTenant(tenantId, kMetricPage,
                                    {integerParam(afterId), nonEmpty(namePrefix), std::to_string(limit + 1)});
    return pageOf(rowsOf(rows, metricOf), limit);
}

std::optional<MetricRow> MetricStore::update(const std::string& tenantId, long long id,
                                             const std::optional<std::string>& unit,
                                             const std::optional<std::string>& description) {
    return firstOf(pool_.queryAsTenant(tenantId, kUpdateMetric, {std::to_string(id), unit, description}),
                   metricOf);
}

std::optional<std::vector<DeviceMetricRow>> MetricStore::deviceMetrics(const std::string& tenantId,
                                                                       long long deviceId) {
    std::optional<std::vector<DeviceMetricRow>> metrics;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto subjects = conn.query(kSeriesSubjects, {std::to_string(deviceId), ""});
        if (!ResultRow(subjects, 0).optionalText("device")) return;
        metrics = rowsOf(conn.query(kDeviceMetrics, {std::to_string(deviceId)}), [](const ResultRow& r) {
            return DeviceMetricRow{r.text("name"), r.text("unit"), r.text("description"),
                                   r.flag("is_boolean"), r.text("last_hour")};
        });
    });
    return metrics;
}

Series<ReadingRow> MetricStore::readings(const std::string& tenantId, const SeriesRange& range) {
    return readSeries<ReadingRow>(pool_, tenantId, range, kReadings, [](const ResultRow& r) {
        return ReadingRow{r.integer("at_us"), r.text("at"), r.number("value")};
    });
}

Series<HourlyRollupRow> MetricStore::hourly(const std::string& tenantId, const SeriesRange& range) {
    return readSeries<HourlyRollupRow>(pool_, tenantId, range, kHourly, [](const ResultRow& r) {
        return HourlyRollupRow{r.integer("at_us"), r.text("at"),    r.number("min"),
                               r.number("max"),    r.number("avg"), r.integer("count")};
    });
}

std::vector<WindowReadingRow> MetricStore::windowReadings(const std::string& tenantId,
                                                          const std::vector<long long>& deviceIds,
                                                          long long fromMs, long long toMs, int limit) {
    std::string ids = "{";
    for (size_t i = 0; i < deviceIds.size(); ++i) ids += (i ? "," : "") + std::to_string(deviceIds[i]);
    ids += "}";
    return rowsOf(
        pool_.queryAsTenant(tenantId, kWindowReadings,
                            {ids, std::to_string(fromMs), std::to_string(toMs), std::to_string(limit)}),
        [](const ResultRow& r) {
            return WindowReadingRow{r.integer("device_id"), r.text("metric"), r.flag("is_boolean"),
                                    r.integer("ts_ms"), r.number("value")};
        });
}

}  // namespace pulse::storage
