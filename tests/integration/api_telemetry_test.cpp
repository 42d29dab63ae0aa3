// Telemetry queries: raw readings page by cursor, hourly rollups, the metric catalog.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace pulse::test;

namespace {
class ApiTelemetry : public ApiTest {};
}  // namespace

TEST_F(ApiTelemetry, TelemetryQueriesPageRawReadingsAndReadHourlyRollups) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"flow-1\"}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(json(created.body)->getValue<long long>("id"));
    std::string token = json(created.body)->getValue<std::string>("token");
    // Five readings in one hour, two hours ago.
    long long base = (std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                              .count() /
                          3600000 -
                      2) *
                     3600000;
    std::string batch = "[";
    for (int i = 0; i < 5; ++i)
        batch += std::string(i ? "," : "") + "{\"ts\":" + std::to_string(base + i * 60000) +
                 ",\"values\":{\"flow\":" + std::to_string(10 + i) + "}}";
    ASSERT_EQ(ingest(token, batch + "]"), 200);

    std::vector<double> values;
    std::string cursor;
    for (int page = 0; page < 5; ++page) {
        auto r = call("GET",
                      "/api/v1/devices/" + id + "/telemetry?metric=flow&limit=2&from=" +
                          std::to_string(base - 1000) + (cursor.empty() ? "" : "&cursor=" + cursor),
                      "", with(admin, false));
        ASSERT_EQ(r.status, 200) << r.body;
        auto doc = json(r.body);
        auto items = doc->getArray("items");
        for (size_t i = 0; i < items->size(); ++i)
            values.push_back(items->getObject(static_cast<unsigned>(i))->getValue<double>("value"));
        if (doc->isNull("next_cursor")) break;
        cursor = doc->getValue<std::string>("next_cursor");
    }
    EXPECT_EQ(values, (std::vector<double>{10, 11, 12, 13, 14}));
    auto hourly = call("GET", "/api/v1/devices/" + id + "/telemetry?metric=flow&resolution=hour", "",
                       with(admin, false));
    ASSERT_EQ(hourly.status, 200) << hourly.body;
    auto buckets = json(hourly.body)->getArray("items");
    ASSERT_EQ(buckets->size(), 1u) << hourly.body;
    auto b = buckets->getObject(0);
    EXPECT_EQ(b->getValue<long long>("count"), 5);
    EXPECT_EQ(b->getValue<double>("min"), 10);
    EXPECT_EQ(b->getValue<double>("max"), 14);
    EXPECT_EQ(b->getValue<double>("avg"), 12);

    auto catalog = call("GET", "/api/v1/metrics?q=flo", "", with(admin, false));
    ASSERT_EQ(catalog.status, 200);
    auto metrics = json(catalog.body)->getArray("items");
    ASSERT_EQ(metrics->size(), 1u) << catalog.body;
    std::string metricId = std::to_string(metrics->getObject(0)->getValue<long long>("id"));
    auto unit = call("PATCH", "/api/v1/metrics/" + metricId, "{\"unit\":\"m3/h\"}", with(admin));
    EXPECT_EQ(unit.status, 200) << unit.body;
    EXPECT_EQ(json(unit.body)->getValue<std::string>("unit"), "m3/h");

    EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/telemetry?metric=nope", "", with(admin, false)).status,
              404);
    for (const auto& bad : {"?metric=flow&resolution=minute", "?metric=flow&from=yesterday",
                            "?metric=flow&limit=10001", "?metric=flow&from=2000&to=1000", ""}) {
        auto r = call("GET", "/api/v1/devices/" + id + "/telemetry" + bad, "", with(admin, false));
        EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
    }
}
