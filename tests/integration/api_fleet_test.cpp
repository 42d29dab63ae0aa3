// The fleet summary (the console's KPI strip): counts by status and severity, readings of the last minute,
// each tenant its own.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

using namespace pulse::test;

namespace {
class ApiFleet : public ApiTest {};

long long member(const Poco::JSON::Object::Ptr& doc, const std::string& object, const std::string& key) {
    return doc->getObject(object)->getValue<long long>(key);
}
}  // namespace

TEST_F(ApiFleet, TheSummaryCountsTheTenantsDevicesOpenAlertsAndLastMinutesReadings) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"summary-1\"}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string token = json(created.body)->getValue<std::string>("token");
    ASSERT_EQ(ingest(token, "[{\"values\":{\"t\":1,\"rh\":40}},{\"values\":{\"p\":2}}]"), 200);
    // A decommissioned device is not counted.
    auto gone = call("POST", "/api/v1/devices", "{\"name\":\"summary-2\"}", with(admin));
    ASSERT_EQ(gone.status, 201) << gone.body;
    std::string goneId = std::to_string(json(gone.body)->getValue<long long>("id"));
    ASSERT_EQ(call("POST", "/api/v1/devices/" + goneId + "/decommission", "", with(admin)).status, 200);

    auto r = call("GET", "/api/v1/fleet/summary", "", with(login(a_.customer), false));
    ASSERT_EQ(r.status, 200) << r.body;
    auto doc = json(r.body);
    // The fixture's dev-1 has never reported (OFFLINE); summary-1 is ONLINE once the status tracker has
    // seen its readings.
    EXPECT_EQ(member(doc, "devices", "total"), 2) << r.body;
    EXPECT_GE(member(doc, "devices", "OFFLINE"), 1) << r.body;
    EXPECT_EQ(member(doc, "devices", "ONLINE") + member(doc, "devices", "STALE") +
                  member(doc, "devices", "OFFLINE"),
              2)
        << r.body;
    EXPECT_EQ(member(doc, "open_alerts", "HIGH"), 1) << r.body;
    EXPECT_EQ(member(doc, "open_alerts", "CRITICAL"), 0) << r.body;
    EXPECT_EQ(member(doc, "open_alerts", "total"), 1) << r.body;
    EXPECT_EQ(doc->getValue<long long>("readings_last_minute"), 3) << r.body;
    EXPECT_FALSE(doc->getValue<std::string>("at").empty());

    // The other tenant sees only its own.
    auto other = json(call("GET", "/api/v1/fleet/summary", "", with(login(b_.admin), false)).body);
    EXPECT_EQ(member(other, "devices", "total"), 1);
    EXPECT_EQ(other->getValue<long long>("readings_last_minute"), 0);
    EXPECT_EQ(call("GET", "/api/v1/fleet/summary").status, 401);
}

// The device detail's tabs: the metrics a device reported, and its status changes newest first.
TEST_F(ApiFleet, ADeviceListsTheMetricsItReportedAndItsStatusChanges) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"detail-1\"}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(json(created.body)->getValue<long long>("id"));
    ASSERT_EQ(ingest(json(created.body)->getValue<std::string>("token"), "{\"temp\":20,\"humidity\":40}"),
              200);

    auto metrics = call("GET", "/api/v1/devices/" + id + "/metrics", "", with(admin, false));
    ASSERT_EQ(metrics.status, 200) << metrics.body;
    auto items = json(metrics.body)->getArray("items");
    ASSERT_EQ(items->size(), 2u) << metrics.body;
    EXPECT_EQ(items->getObject(0)->getValue<std::string>("name"), "humidity");
    EXPECT_EQ(items->getObject(1)->getValue<std::string>("name"), "temp");
    // The fixture's device never reported: no metrics, but it exists.
    auto none = call("GET", "/api/v1/devices/" + a_.deviceId + "/metrics", "", with(admin, false));
    EXPECT_EQ(json(none.body)->getArray("items")->size(), 0u) << none.body;

    // OFFLINE -> ONLINE once the status tracker flushes (status.flush_ms, a second by default).
    std::string history;
    for (int i = 0; i < 50; ++i) {
        auto r = call("GET", "/api/v1/devices/" + id + "/status-history", "", with(admin, false));
        ASSERT_EQ(r.status, 200) << r.body;
        history = r.body;
        if (json(r.body)->getArray("items")->size() > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    auto changes = json(history)->getArray("items");
    ASSERT_EQ(changes->size(), 1u) << history;
    EXPECT_EQ(changes->getObject(0)->getValue<std::string>("from"), "OFFLINE");
    EXPECT_EQ(changes->getObject(0)->getValue<std::string>("to"), "ONLINE");

    // Another tenant's device is not found, in either.
    auto other = login(b_.admin);
    EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/metrics", "", with(other, false)).status, 404);
    EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/status-history", "", with(other, false)).status, 404);
}
