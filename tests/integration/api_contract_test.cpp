// What holds for every resource: list parameters are checked and lists page by cursor, bad input is a
// problem naming the field, and responses match the OpenAPI document.
#include "api_fixture.h"
#include "json/JsonSchema.h"

#include <Poco/String.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <unistd.h>

using namespace pulse::test;

namespace {
class ApiContract : public ApiTest {};
}  // namespace

TEST_F(ApiContract, ListsValidateTheirParametersAndPageWithCursors) {
    auto s = login(a_.admin);
    for (const auto& path : {"/api/v1/alerts?limit=201", "/api/v1/alerts?limit=0", "/api/v1/alerts?limit=ten",
                             "/api/v1/alerts?status=OPENED", "/api/v1/alerts?severity=URGENT",
                             "/api/v1/devices?cursor=abc", "/api/v1/devices?status=DEAD"}) {
        auto r = call("GET", path, "", with(s, false));
        EXPECT_EQ(r.status, 422) << path << ": " << r.body;
        EXPECT_EQ(r.headers["Content-Type"], "application/problem+json");
    }
    for (int i = 2; i <= 5; ++i) {
        auto r = call("POST", "/api/v1/devices",
                      "{\"name\":\"page-" + std::to_string(i) + "\",\"tags\":[\"p\"]}", with(s));
        ASSERT_EQ(r.status, 201) << r.body;
        EXPECT_EQ(json(r.body)->getValue<std::string>("token").rfind("pt_", 0), 0u);
    }
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"page-2\"}", with(s)).status, 409);
    std::vector<std::string> names;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        auto r = call("GET", "/api/v1/devices?tag=p&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor),
                      "", with(s, false));
        ASSERT_EQ(r.status, 200) << r.body;
        auto doc = json(r.body);
        auto items = doc->getArray("items");
        for (size_t i = 0; i < items->size(); ++i)
            names.push_back(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("name"));
        if (doc->isNull("next_cursor")) break;
        cursor = doc->getValue<std::string>("next_cursor");
    }
    EXPECT_EQ(names, (std::vector<std::string>{"page-2", "page-3", "page-4", "page-5"}));
    auto one = call("GET", "/api/v1/devices/" + a_.deviceId, "", with(s, false));
    EXPECT_EQ(one.status, 200);
    EXPECT_EQ(one.body.find("token"), std::string::npos);
}

// Issue 12's input findings: every refusal is a problem naming the field, with no database or resolver
// text in it; nothing a key creates outlives it; NUL, booleans as numbers, lenient times and media types,
// and thresholds out of order are refused.
TEST_F(ApiContract, BadInputIsAProblemNamingTheFieldAndNothingLeaks) {
    auto admin = login(a_.admin);
    auto expectField = [](const HttpResult& r, int status, const std::string& field,
                          const std::string& what) {
        EXPECT_EQ(r.status, status) << what << ": " << r.body;
        EXPECT_EQ(json(r.body)->optValue<std::string>("field", ""), field) << what << ": " << r.body;
        for (const char* leak : {"invalid input syntax", "violates", "uuid", "ERROR", "relation"})
            EXPECT_EQ(r.body.find(leak), std::string::npos) << what << " leaks '" << leak << "': " << r.body;
    };
    expectField(call("POST", "/api/v1/routing-rules", R"({"channel_id": "x"})", with(admin)), 422,
                "channel_id", "a channel id that is no id");
    expectField(call("POST", "/api/v1/routing-rules",
                     "{\"channel_id\": \"" + a_.channelId + "\", \"throttle_s\": true}", with(admin)),
                422, "throttle_s", "true as an integer");
    expectField(
        call("POST", "/api/v1/sites", "{\"name\": \"nul\", \"time_zone\": \"UTC\\u0000x\"}", with(admin)),
        422, "time_zone", "a NUL in a string");
    expectField(call("POST", "/api/v1/rules",
                     R"({"name": "backwards", "type": "threshold", "severity": "HIGH", "config":
                         {"metric": "t", "operator": "GT", "threshold": 1, "clear_threshold": 2}})",
                     with(admin)),
                422, "config", "a rule its plugin refuses");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.rules WHERE name = 'backwards'"), "0");
    auto wrongType = call(
        "POST", "/api/v1/sites", R"({"name": "x"})",
        {{"Content-Type", "application/jsonfoo"}, {"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}});
    EXPECT_EQ(wrongType.status, 415) << wrongType.body;
    expectField(call("GET", "/api/v1/devices/" + a_.deviceId + "/telemetry?metric=fixture&to=garbage", "",
                     with(admin, false)),
                422, "to", "a time that is none");
    expectField(call("GET", "/api/v1/devices/" + a_.deviceId + "/telemetry?metric=fix%00ture", "",
                     with(admin, false)),
                400, "metric", "a NUL in a query parameter");
    expectField(call("PATCH", "/api/v1/devices/" + a_.deviceId,
                     R"({"stale_after_s": 1000, "offline_after_s": 500})", with(admin)),
                422, "offline_after_s", "offline before stale");
    // One answer for every refused webhook target, whether the name resolves or to what.
    std::string detail;
    for (const char* url :
         {"http://169.254.169.254/x", "http://10.1.2.3/x", "http://no-such-host.invalid/x"}) {
        auto r = call("POST", "/api/v1/channels",
                      std::string("{\"name\":\"t\",\"type\":\"webhook\",\"config\":{\"url\":\"") + url +
                          "\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
                      with(admin));
        EXPECT_EQ(r.status, 422) << url << ": " << r.body;
        auto d = json(r.body)->optValue<std::string>("detail", "");
        if (detail.empty()) detail = d;
        EXPECT_EQ(d, detail) << url;
        EXPECT_EQ(d.find("127."), std::string::npos) << d;
    }
    // An API key, even a tenant-admin's, makes no users and changes no roles: they would outlive it.
    std::string key = newKey(admin);
    auto made = call(
        "POST", "/api/v1/users",
        R"({"email": "by-key@example.test", "role": "tenant-admin", "password": "long enough password"})",
        {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(made.status, 403) << made.body;
    auto promoted = call("PATCH", "/api/v1/users/" + a_.adminId, R"({"role": "customer"})",
                         {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(promoted.status, 403) << promoted.body;
}

// The document at /api/v1/openapi.json describes what the server really answers: every documented operation
// is routed, and real responses validate against the documented schemas.
TEST_F(ApiContract, ResponsesMatchTheOpenApiDocument) {
    auto doc = call("GET", "/api/v1/openapi.json");
    ASSERT_EQ(doc.status, 200);
    auto spec = json(doc.body);
    EXPECT_EQ(spec->getValue<std::string>("openapi"), "3.1.0");
    std::string schemasText = pulse::json::toJsonText(spec->getObject("components")->get("schemas"));
    for (size_t at; (at = schemasText.find("#/components/schemas/")) != std::string::npos;)
        schemasText.replace(at, 21, "#/$defs/");
    auto check = [&](const std::string& schema, const HttpResult& r, int status) {
        EXPECT_EQ(r.status, status) << schema << ": " << r.body;
        auto compiled = pulse::json::JsonSchema::compile("{\"$defs\":" + schemasText +
                                                         ",\"$ref\":\"#/$defs/" + schema + "\"}");
        for (const auto& v : compiled.validateText(r.body))
            ADD_FAILURE() << schema << " at '" << v.path << "': " << v.message << "\n" << r.body;
    };

    auto signIn = call("POST", "/api/v1/session",
                       "{\"email\":\"" + a_.admin + "\",\"password\":\"" + kPassword + "\"}");
    check("Principal", signIn, 201);
    auto s = login(a_.admin);
    check("Principal", call("GET", "/api/v1/session", "", with(s, false)), 200);
    check("NewApiKey", call("POST", "/api/v1/api-keys", "{\"name\":\"doc\"}", with(s)), 201);
    check("ApiKeyList", call("GET", "/api/v1/api-keys", "", with(s, false)), 200);
    check("DeviceList", call("GET", "/api/v1/devices?limit=1", "", with(s, false)), 200);
    check("NewDevice", call("POST", "/api/v1/devices", "{\"name\":\"doc-1\",\"tags\":[\"a\"]}", with(s)),
          201);
    check("Device", call("GET", "/api/v1/devices/" + a_.deviceId, "", with(s, false)), 200);
    auto ack = call("POST", "/api/v1/alerts/" + a_.alertId + "/acknowledge", "", with(s));
    check("Alert", ack, ack.status == 409 ? 409 : 200);  // 409 (already acknowledged) also carries the alert
    check("AlertList", call("GET", "/api/v1/alerts?status=ALL", "", with(s, false)), 200);
    check("AlertDetail", call("GET", "/api/v1/alerts/" + a_.alertId, "", with(s, false)), 200);
    check("AuditList", call("GET", "/api/v1/audit-log?limit=5", "", with(s, false)), 200);
    std::string rule =
        "{\"name\":\"doc rule\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":"
        "\"LT\",\"threshold\":1},\"scope\":{\"kind\":\"tag\",\"tag\":\"x\"}}";
    check("Rule", call("POST", "/api/v1/rules", rule, with(s)), 201);
    check("RuleList", call("GET", "/api/v1/rules", "", with(s, false)), 200);
    auto channel =
        call("POST", "/api/v1/channels",
             "{\"name\":\"doc\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:9/\",\"secret\":"
             "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
             with(s));
    check("Channel", channel, 201);
    check("ChannelList", call("GET", "/api/v1/channels", "", with(s, false)), 200);
    std::string channelId = json(channel.body)->getValue<std::string>("id");
    auto route = call("POST", "/api/v1/routing-rules",
                      "{\"channel_id\":\"" + channelId + "\",\"group_by\":[\"rule\"]}", with(s));
    ASSERT_EQ(route.status, 201) << route.body;  // {"id"}
    check("RoutingRuleList", call("GET", "/api/v1/routing-rules", "", with(s, false)), 200);
    // A group of the fixture's alert (its next notice far off, so that pulsed leaves it be).
    std::string group = scalar(
        "INSERT INTO pulse.notification_groups (tenant_id, routing_rule_id, channel_id, group_by, group_key, "
        "next_flush_at) VALUES ($1::uuid, $2::uuid, $3::uuid, '{rule}', 'rule:doc', now() + interval '1 "
        "day') "
        "RETURNING id",
        {a_.id, json(route.body)->getValue<std::string>("id"), channelId});
    scalar(
        "INSERT INTO pulse.notification_group_alerts (group_id, alert_id, tenant_id) VALUES ($1::bigint, "
        "$2::bigint, $3::uuid) RETURNING group_id",
        {group, a_.alertId, a_.id});
    auto groups = call("GET", "/api/v1/notification-groups", "", with(s, false));
    check("NotificationGroupList", groups, 200);
    auto listedGroup = json(groups.body)->getArray("items")->getObject(0);
    EXPECT_EQ(listedGroup->getValue<int>("alert_count"), 1);
    EXPECT_EQ(listedGroup->getValue<std::string>("channel_id"), channelId);
    check("PluginList", call("GET", "/api/v1/plugins", "", with(s, false)), 200);
    auto site = call("POST", "/api/v1/sites", "{\"name\":\"doc site\"}", with(s));
    check("Site", site, 201);
    check("SiteList", call("GET", "/api/v1/sites", "", with(s, false)), 200);
    check("Device", call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"tags\":[\"doc\"]}", with(s)), 200);
    check("NewDevice", call("POST", "/api/v1/devices/" + a_.deviceId + "/rotate-token", "", with(s)), 200);
    check("ImportResult",
          call("POST", "/api/v1/devices/import", "name,site\ndoc-2,doc site\n",
               {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Content-Type", "text/csv"}}),
          201);
    check("ImportProblems",
          call("POST", "/api/v1/devices/import", "name\nbad name\n",
               {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Content-Type", "text/csv"}}),
          422);
    check("TelemetryPage",
          call("GET", "/api/v1/devices/" + a_.deviceId + "/telemetry?metric=fixture", "", with(s, false)),
          200);
    check("MetricList", call("GET", "/api/v1/metrics", "", with(s, false)), 200);
    check("Metric", call("PATCH", "/api/v1/metrics/" + a_.metricId, "{\"unit\":\"C\"}", with(s)), 200);
    check(
        "User",
        call("POST", "/api/v1/users",
             "{\"email\":\"doc." + std::to_string(getpid()) + "@a.test\",\"password\":\"" + kPassword + "\"}",
             with(s)),
        201);
    check("UserList", call("GET", "/api/v1/users", "", with(s, false)), 200);
    check("Tenant", call("GET", "/api/v1/tenants/" + a_.id, "", with(s, false)), 200);
    check("TenantList", call("GET", "/api/v1/tenants", "", with(s, false)), 200);
    check("Alert", call("POST", "/api/v1/alerts/" + a_.alertId + "/comments", "{\"text\":\"doc\"}", with(s)),
          201);
    check("BulkAlertResult",
          call("POST", "/api/v1/alerts/bulk",
               "{\"action\":\"silence\",\"minutes\":1,\"ids\":[" + a_.alertId + "]}", with(s)),
          200);
    check("DeliveryList", call("GET", "/api/v1/alerts/" + a_.alertId + "/deliveries", "", with(s, false)),
          200);
    auto schedule = call(
        "POST", "/api/v1/schedules",
        "{\"name\":\"doc rota\",\"time_zone\":\"Europe/Berlin\",\"layers\":[{\"rotation\":"
        "\"weekly\",\"handoff\":\"09:00\",\"start_date\":\"2026-01-05\",\"users\":[\"" +
            a_.adminId + "\"],\"restriction\":{\"from\":\"08:00\",\"to\":\"20:00\",\"days\":[1,2,3,4,5]}}]}",
        with(s));
    check("Schedule", schedule, 201);
    std::string scheduleId = json(schedule.body)->getValue<std::string>("id");
    check("ScheduleList", call("GET", "/api/v1/schedules", "", with(s, false)), 200);
    check("Timeline", call("GET", "/api/v1/schedules/" + scheduleId + "/timeline", "", with(s, false)), 200);
    check("OnCall", call("GET", "/api/v1/schedules/" + scheduleId + "/on-call", "", with(s, false)), 200);
    check("UserOnCall", call("GET", "/api/v1/users/" + a_.adminId + "/on-call", "", with(s, false)), 200);
    check("Override",
          call("POST", "/api/v1/schedules/" + scheduleId + "/overrides",
               "{\"user_id\":\"" + a_.adminId +
                   "\",\"starts_at\":\"2027-01-01T00:00:00Z\",\"ends_at\":\"2027-01-02T00:00:00Z\"}",
               with(s)),
          201);
    check("OverrideList", call("GET", "/api/v1/schedules/" + scheduleId + "/overrides", "", with(s, false)),
          200);
    check("CalendarUrl", call("GET", "/api/v1/schedules/" + scheduleId + "/calendar-url", "", with(s, false)),
          200);
    check("CalendarUrl", call("GET", "/api/v1/users/" + a_.adminId + "/calendar-url", "", with(s, false)),
          200);
    check("MaintenanceWindow",
          call("POST", "/api/v1/maintenance-windows",
               "{\"name\":\"doc nightly\",\"time_zone\":\"Europe/Berlin\",\"recurrence\":\"weekly\",\"start_"
               "time\":\"02:00\",\"duration_minutes\":60,\"days\":[6,7],\"from\":\"2027-01-01\",\"scope\":{"
               "\"type\":\"site\",\"site_id\":\"" +
                   a_.siteId + "\"}}",
               with(s)),
          201);
    check("MaintenanceWindow",
          call("POST", "/api/v1/maintenance-windows",
               "{\"name\":\"doc once\",\"recurrence\":\"once\",\"starts_at\":\"2027-01-01T00:00:00Z\",\"ends_"
               "at\":\"2027-01-02T00:00:00Z\",\"scope\":{\"type\":\"devices\",\"device_ids\":[" +
                   a_.deviceId + "]}}",
               with(s)),
          201);
    check("MaintenanceWindowList", call("GET", "/api/v1/maintenance-windows", "", with(s, false)), 200);
    check("Problem", call("GET", "/api/v1/alerts?limit=500", "", with(s, false)), 422);
    check("Problem", call("GET", "/api/v1/devices"), 401);
    check("Problem", call("GET", "/api/v1/devices/999999999", "", with(s, false)), 404);

    // Every documented operation is served (not the router's 404 or 405).
    for (const auto& [path, item] : *spec->getObject("paths")) {
        for (const auto& [method, op] : *item.extract<Poco::JSON::Object::Ptr>()) {
            std::string p = path;
            if (auto at = p.find("{id}"); at != std::string::npos)
                p.replace(at, 4,
                          p.find("/devices/") == std::string::npos &&
                                  p.find("/alerts/") == std::string::npos &&
                                  p.find("/metrics/") == std::string::npos
                              ? "00000000-0000-0000-0000-000000000000"
                              : "1");
            std::string m = Poco::toUpper(method);
            auto r = call(m, p, m == "GET" || m == "DELETE" ? "" : "{}", with(s));
            EXPECT_NE(r.status, 405) << m << " " << p;
            EXPECT_EQ(r.body.find("no resource at"), std::string::npos) << m << " " << p << ": " << r.body;
        }
    }
}
