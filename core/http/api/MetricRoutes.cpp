// /api/v1/metrics: the tenant's metric catalog (learned from the readings; unit and description editable),
// and /api/v1/devices/{id}/telemetry: one device's readings of one metric over a time range, raw (cursor
// pages, oldest first) or as hourly rollups (min, max, avg, count).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "storage/MetricStore.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::MetricRow& m) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", m.id);
    o->set("name", m.name);
    o->set("unit", m.unit);
    o->set("description", m.description);
    o->set("boolean", m.isBoolean);
    o->set("last_value", m.lastValue ? Poco::Dynamic::Var(*m.lastValue) : Poco::Dynamic::Var());
    o->set("last_at", orNull(m.lastAt));
    o->set("created_at", m.createdAt);
    return o;
}

Poco::JSON::Object::Ptr describe(const storage::ReadingRow& r) {
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    p->set("at", r.at);
    p->set("value", r.value);
    return p;
}

Poco::JSON::Object::Ptr describe(const storage::HourlyRollupRow& h) {
    Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
    p->set("at", h.at);
    p->set("min", h.min);
    p->set("max", h.max);
    p->set("avg", h.avg);
    p->set("count", h.count);
    return p;
}

// A series as a page whose cursor is the last point's time in microseconds; 404 naming what is missing.
template <typename Point>
void sendSeries(Call& call, const storage::Series<Point>& series, const std::string& metric) {
    if (!series.deviceFound) throw ApiError(404, "Not Found", "no such device");
    if (!series.metricFound)
        throw ApiError(404, "Not Found", "the tenant has no metric named '" + metric + "'", "metric");
    Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
    for (const auto& p : series.points.rows) items->add(describe(p));
    call.sendPage(items, series.points.more
                             ? std::optional<std::string>(std::to_string(series.points.rows.back().atUs))
                             : std::nullopt);
}

constexpr long long kHourMs = 3600LL * 1000;

}  // namespace

void addMetricRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/metrics", "api.metrics.list", Access::Reader, [](Call& call) {
        int limit = call.limit(200);
        auto after = call.idQuery("cursor", "cursor is not one this API returned");
        std::string prefix = call.query("q");
        auto page =
            storage::MetricStore(*call.api.services().pool)
                .list(call.tenant(), after ? std::optional<long long>(std::stoll(*after)) : std::nullopt,
                      prefix, limit);
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& m : page.rows) items->add(describe(m));
        call.sendPage(items, page.more ? std::optional<std::string>(std::to_string(page.rows.back().id))
                                       : std::nullopt);
    });

    api.route(router, "PATCH", "/api/v1/metrics/{id}", "api.metrics.update", Access::Member, [](Call& call) {
        long long id = call.numericId("metric");
        auto body = parseMetricChange(call.bodyText());
        auto metric = storage::MetricStore(*call.api.services().pool)
                          .update(call.tenant(), id, body.unit, body.description);
        if (!metric) throw ApiError(404, "Not Found", "no such metric");
        call.audit("metric.update", std::to_string(id));
        sendObject(call.ex, 200, describe(*metric));
    });

    api.route(router, "GET", "/api/v1/devices/{id}/metrics", "api.devices.metrics", Access::Reader,
              [](Call& call) {
                  long long device = call.numericId("device");
                  auto metrics =
                      storage::MetricStore(*call.api.services().pool).deviceMetrics(call.tenant(), device);
                  if (!metrics) throw ApiError(404, "Not Found", "no such device");
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& m : *metrics) {
                      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                      o->set("name", m.name);
                      o->set("unit", m.unit);
                      o->set("description", m.description);
                      o->set("boolean", m.isBoolean);
                      o->set("last_hour", m.lastHour);
                      items->add(o);
                  }
                  call.sendPage(items, std::nullopt);
              });

    api.route(
        router, "GET", "/api/v1/devices/{id}/telemetry", "api.devices.telemetry", Access::Reader,
        [](Call& call) {
            long long device = call.numericId("device");
            std::string metric = call.query("metric"),
                        resolution = call.oneOf("resolution", {"raw", "hour"}, "raw");
            if (metric.empty())
                throw ApiError(422, "Unprocessable Content", "metric (a metric name) is required", "metric");
            auto [from, to] = call.timeRange(24 * kHourMs);
            // The cursor is the last point's time in microseconds (readings without a device timestamp carry
            // the server's, to the microsecond): the next page starts after it.
            auto cursor = call.idQuery("cursor", "cursor is not one this API returned");
            if (cursor && cursor->size() > 17)
                throw ApiError(422, "Unprocessable Content", "cursor is not one this API returned", "cursor");
            if (to - from > 400LL * 24 * kHourMs)
                throw ApiError(422, "Unprocessable Content", "the range is at most 400 days", "from");
            storage::SeriesRange range;
            range.deviceId = device;
            range.metric = metric;
            range.fromMs = from;
            range.toMs = to;
            if (cursor) range.afterUs = std::stoll(*cursor);
            range.limit = call.limit(1000, 10000);
            storage::MetricStore store(*call.api.services().pool);
            if (resolution == "raw")
                sendSeries(call, store.readings(call.tenant(), range), metric);
            else
                sendSeries(call, store.hourly(call.tenant(), range), metric);
        });
}

}  // namespace pulse::http
