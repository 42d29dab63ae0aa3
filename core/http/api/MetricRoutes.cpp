// /api/v1/metrics: the tenant's metric catalog (learned from the readings; unit and description editable),
// and /api/v1/devices/{id}/telemetry: one device's readings of one metric over a time range, raw (cursor
// pages, oldest first) or as hourly rollups (min, max, avg, count).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns =
    "m.id::text, m.name, m.unit, m.description, m.is_boolean::text, m.last_value::text, " +
    storage::isoTime("m.last_ts") + ", " + storage::isoTime("m.created_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", std::stoll(*r[0]));
    o->set("name", *r[1]);
    o->set("unit", *r[2]);
    o->set("description", *r[3]);
    o->set("boolean", *r[4] == "true");
    o->set("last_value", r[5] ? Poco::Dynamic::Var(storage::sqlNumber(*r[5])) : Poco::Dynamic::Var());
    o->set("last_at", orNull(r[6]));
    o->set("created_at", *r[7]);
    return o;
}

constexpr long long kHourMs = 3600LL * 1000;

}  // namespace

void addMetricRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/metrics", "api.metrics.list", Access::Reader, [](Call& call) {
        int limit = call.limit(200);
        auto after = call.idQuery("cursor", "cursor is not one this API returned");
        std::string prefix = call.query("q");
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT " + kColumns +
                    " FROM pulse.metrics m WHERE ($1::bigint IS NULL OR m.id > $1::bigint) AND ($2::text IS "
                    "NULL OR starts_with(m.name, $2)) ORDER BY m.id LIMIT $3::int",
                {after, storage::nonEmpty(prefix), std::to_string(limit + 1)});
        });
        call.sendRows(rows, limit, describe);
    });

    api.route(router, "PATCH", "/api/v1/metrics/{id}", "api.metrics.update", Access::Member, [](Call& call) {
        long long id = call.numericId("metric");
        auto body = parseMetricChange(call.bodyText());
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "UPDATE pulse.metrics m SET unit = coalesce($2, unit), description = coalesce($3, "
                "description) WHERE id = $1::bigint RETURNING " +
                    kColumns,
                {std::to_string(id), body.unit, body.description});
        });
        if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such metric");
        call.audit("metric.update", std::to_string(id));
        sendObject(call.ex, 200, describe(rows.rows[0]));
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
            int limit = call.limit(1000, 10000);
            storage::PgRows found, rows;
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                found = conn.query(
                    "SELECT (SELECT 1 FROM pulse.devices WHERE id = $1::bigint), (SELECT "
                    "id::text FROM pulse.metrics WHERE name = $2)",
                    {std::to_string(device), metric});
                if (!found.rows[0][0] || !found.rows[0][1]) return;
                std::string since = cursor ? *cursor : std::to_string(from * 1000 - 1);
                bool raw = resolution == "raw";
                std::string time = raw ? "ts" : "hour";
                // An hourly bucket that began before `from` still covers part of the range.
                std::string start =
                    raw ? storage::timeFromMs("$4") : "date_trunc('hour', " + storage::timeFromMs("$4") + ")";
                rows =
                    conn.query("SELECT (extract(epoch FROM " + time + ") * 1000000)::bigint::text, " +
                                   storage::isoTime(time) + ", " +
                                   (raw ? "value::text FROM pulse.telemetry"
                                        : "min::text, max::text, (sum / count)::text, count::text FROM "
                                          "pulse.telemetry_hourly") +
                                   " WHERE device_id = $1::bigint AND metric_id = $2::int AND " + time +
                                   " > (timestamptz 'epoch' + $3::bigint * interval '1 microsecond') AND " +
                                   time + " >= " + start + " AND " + time + " < " +
                                   storage::timeFromMs("$5") + " ORDER BY " + time + " LIMIT $6::int",
                               {std::to_string(device), *found.rows[0][1], since, std::to_string(from),
                                std::to_string(to), std::to_string(limit + 1)});
            });
            if (!found.rows[0][0]) throw ApiError(404, "Not Found", "no such device");
            if (!found.rows[0][1])
                throw ApiError(404, "Not Found", "the tenant has no metric named '" + metric + "'", "metric");
            call.sendRows(rows, limit, [&](const std::vector<std::optional<std::string>>& r) {
                Poco::JSON::Object::Ptr p = new Poco::JSON::Object;
                p->set("at", *r[1]);
                if (resolution == "raw") {
                    p->set("value", storage::sqlNumber(*r[2]));
                } else {
                    p->set("min", storage::sqlNumber(*r[2]));
                    p->set("max", storage::sqlNumber(*r[3]));
                    p->set("avg", storage::sqlNumber(*r[4]));
                    p->set("count", std::stoll(*r[5]));
                }
                return p;
            });
        });
}

}  // namespace pulse::http
