// /api/v1/maintenance-windows: one-off and recurring windows saved whole and read back (active or not), bad
// input answered by a problem naming the field, another tenant's sites and devices refused like unknown
// ones, changes audited, and alerts showing the window they opened in (none here: null).
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>

#include <ctime>

using namespace pulse::test;

namespace {

class ApiMaintenance : public ApiTest {};

// Now plus some hours, RFC 3339 UTC.
std::string hoursFromNow(int hours) {
    std::time_t t = std::time(nullptr) + hours * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

std::string once(const std::string& name, const std::string& from, const std::string& to,
                 const std::string& scope) {
    return "{\"name\":\"" + name + "\",\"recurrence\":\"once\",\"starts_at\":\"" + from +
           "\",\"ends_at\":\"" + to + "\",\"scope\":" + scope + "}";
}

std::string recurring(const std::string& name, const std::string& rest) {
    return "{\"name\":\"" + name + "\",\"time_zone\":\"Europe/Berlin\",\"scope\":{\"type\":\"tenant\"}," +
           rest + "}";
}

}  // namespace

TEST_F(ApiMaintenance, WindowsAreSavedCheckedAndAudited) {
    auto admin = login(a_.admin);
    std::string devices = "{\"type\":\"devices\",\"device_ids\":[" + a_.deviceId + "]}";
    const std::string from = hoursFromNow(-1);
    auto now = call("POST", "/api/v1/maintenance-windows", once("firmware", from, hoursFromNow(24), devices),
                    with(admin));
    ASSERT_EQ(now.status, 201) << now.body;
    auto w = json(now.body);
    std::string id = w->getValue<std::string>("id");
    EXPECT_TRUE(w->getValue<bool>("active"));
    EXPECT_EQ(w->getObject("scope")->getArray("device_ids")->getElement<long long>(0),
              std::stoll(a_.deviceId));
    EXPECT_EQ(w->getValue<std::string>("starts_at"), from.substr(0, 19) + ".000Z");

    auto weekly = call("POST", "/api/v1/maintenance-windows",
                       recurring("sundays",
                                 "\"recurrence\":\"weekly\",\"start_time\":\"02:30\",\"duration_minutes\":"
                                 "180,\"days\":[7],\"from\":\"2027-01-03\",\"until\":null"),
                       with(admin));
    ASSERT_EQ(weekly.status, 201) << weekly.body;
    auto wk = json(weekly.body);
    EXPECT_EQ(wk->getValue<std::string>("start_time"), "02:30");
    EXPECT_EQ(wk->getArray("days")->getElement<int>(0), 7);
    EXPECT_FALSE(wk->getValue<bool>("active"));  // starts in 2027

    struct Bad {
        std::string body;
        int status;
        std::string field;
    };
    std::string site = "{\"type\":\"site\",\"site_id\":\"" + b_.siteId + "\"}";
    std::vector<Bad> bad = {
        {recurring("hourly", "\"recurrence\":\"hourly\""), 422, "recurrence"},
        {once("back", "2027-01-02T00:00:00Z", "2027-01-01T00:00:00Z", devices), 422, "ends_at"},
        {recurring("late",
                   "\"recurrence\":\"daily\",\"start_time\":\"25:00\",\"duration_minutes\":60,\"from\":"
                   "\"2027-01-01\""),
         422, "start_time"},
        {recurring("long",
                   "\"recurrence\":\"daily\",\"start_time\":\"01:00\",\"duration_minutes\":1441,\"from\":"
                   "\"2027-01-01\""),
         422, "duration_minutes"},
        {recurring("day8",
                   "\"recurrence\":\"weekly\",\"start_time\":\"01:00\",\"duration_minutes\":60,\"days\":[8],"
                   "\"from\":\"2027-01-01\""),
         422, "days[0]"},
        {recurring("daydays",
                   "\"recurrence\":\"daily\",\"start_time\":\"01:00\",\"duration_minutes\":60,\"days\":[1],"
                   "\"from\":\"2027-01-01\""),
         422, "days"},
        {recurring("until",
                   "\"recurrence\":\"daily\",\"start_time\":\"01:00\",\"duration_minutes\":60,\"from\":"
                   "\"2027-01-02\",\"until\":\"2027-01-01\""),
         422, "until"},
        {"{\"name\":\"zone\",\"time_zone\":\"Nowhere/"
         "Special\",\"recurrence\":\"once\",\"starts_at\":\"2027-01-01T00:00:"
         "00Z\",\"ends_at\":\"2027-01-02T00:00:00Z\",\"scope\":{\"type\":\"tenant\"}}",
         422, "time_zone"},
        // Another tenant's site and device are refused like unknown ones.
        {once("theirs", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", site), 422, "scope.site_id"},
        {once("their device", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z",
              "{\"type\":\"devices\",\"device_ids\":[" + a_.deviceId + "," + b_.deviceId + "]}"),
         422, "scope.device_ids[1]"},
        {once("odd", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", "{\"type\":\"region\"}"), 422,
         "scope.type"},
        {once("firmware", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", devices), 409, "name"},
    };
    for (const auto& b : bad) {
        auto r = call("POST", "/api/v1/maintenance-windows", b.body, with(admin));
        EXPECT_EQ(r.status, b.status) << b.body << " -> " << r.body;
        if (r.status == b.status) {
            EXPECT_EQ(json(r.body)->getValue<std::string>("field"), b.field) << r.body;
        }
    }

    // Members plan maintenance; another tenant sees none of it.
    auto member = login(a_.customer);
    auto replaced = call("PUT", "/api/v1/maintenance-windows/" + id,
                         once("firmware", "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z",
                              "{\"type\":\"tag\",\"tag\":"
                              "\"boiler\"}"),
                         with(member));
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_FALSE(json(replaced.body)->getValue<bool>("active"));
    EXPECT_EQ(json(replaced.body)->getObject("scope")->getValue<std::string>("tag"), "boiler");
    auto other = login(b_.admin);
    EXPECT_EQ(call("GET", "/api/v1/maintenance-windows/" + id, "", with(other)).status, 404);
    EXPECT_EQ(
        json(call("GET", "/api/v1/maintenance-windows", "", with(other)).body)->getArray("items")->size(),
        0u);
    // An alert that did not open in maintenance says so.
    auto alert = json(call("GET", "/api/v1/alerts/" + a_.alertId, "", with(admin)).body);
    EXPECT_TRUE(alert->isNull("maintenance"));
    EXPECT_EQ(call("DELETE", "/api/v1/maintenance-windows/" + id, "", with(member)).status, 204);
    EXPECT_EQ(
        scalar("SELECT string_agg(action, ',' ORDER BY id) FROM pulse.audit_log WHERE target = $1", {id}),
        "maintenance_window.create,maintenance_window.update,maintenance_window.delete");
}
