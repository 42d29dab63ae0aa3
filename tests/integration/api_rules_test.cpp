// Rules: checked against their plugin's schema and the tenant's own scope.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using namespace pulse::test;

namespace {
class ApiRules : public ApiTest {};
}  // namespace

TEST_F(ApiRules, RulesAreCheckedAgainstThePluginSchemaAndTheTenantsOwnScope) {
    auto admin = login(a_.admin);
    auto bad =
        call("POST", "/api/v1/rules",
             "{\"name\":\"r\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":\"ABOUT\"}}",
             with(admin));
    EXPECT_EQ(bad.status, 422) << bad.body;
    EXPECT_EQ(json(bad.body)->getValue<std::string>("field"), "config");
    EXPECT_EQ(call("POST", "/api/v1/rules", "{\"name\":\"r\",\"type\":\"nosuch\"}", with(admin)).status, 422);
    std::string good =
        "\"type\":\"threshold\",\"severity\":\"HIGH\",\"config\":{\"metric\":\"temperature\","
        "\"operator\":\"GT\",\"threshold\":80}";
    // Another tenant's device as the scope is refused like an unknown one.
    auto foreign = call(
        "POST", "/api/v1/rules",
        "{\"name\":\"r\"," + good + ",\"scope\":{\"kind\":\"device\",\"device_id\":" + b_.deviceId + "}}",
        with(admin));
    EXPECT_EQ(foreign.status, 422) << foreign.body;
    auto created = call("POST", "/api/v1/rules",
                        "{\"name\":\"too hot\"," + good +
                            ",\"scope\":{\"kind\":\"device\",\"device_id\":" + a_.deviceId + "}}",
                        with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = json(created.body)->getValue<std::string>("id");
    EXPECT_EQ(call("POST", "/api/v1/rules", "{\"name\":\"too hot\"," + good + "}", with(admin)).status, 409);
    auto replaced = call("PUT", "/api/v1/rules/" + id,
                         "{\"name\":\"too hot\"," + good + ",\"enabled\":false}", with(admin));
    EXPECT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_FALSE(json(replaced.body)->getValue<bool>("enabled"));
    auto customer = login(a_.customer);
    EXPECT_EQ(call("DELETE", "/api/v1/rules/" + id, "", with(customer)).status, 403);
    auto adminB = login(b_.admin);
    EXPECT_EQ(call("GET", "/api/v1/rules/" + id, "", with(adminB, false)).status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/rules/" + id, "", with(adminB)).status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/rules/" + id, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/rules/" + id, "", with(admin, false)).status, 404);
    // The schemas the UI builds its forms from.
    auto plugins = call("GET", "/api/v1/plugins", "", with(customer, false));
    EXPECT_EQ(plugins.status, 200);
    EXPECT_NE(plugins.body.find("\"threshold\""), std::string::npos);
    EXPECT_NE(plugins.body.find("config_schema"), std::string::npos);
}

// The preview replays stored readings through the rule's own plugin: a threshold crossed twice in the last
// hours fires twice, a rule scoped elsewhere sees none of them, and nothing is saved.
TEST_F(ApiRules, APreviewReplaysTheStoredReadingsThroughTheRulesPlugin) {
    auto admin = login(a_.admin);
    auto created =
        call("POST", "/api/v1/devices", "{\"name\":\"preview-1\",\"tags\":[\"boiler\"]}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string token = json(created.body)->getValue<std::string>("token");
    long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    // Three hours ago, a reading a minute: below, above twice, below, above, below.
    const double values[] = {50, 90, 95, 60, 91, 40};
    std::string batch = "[";
    for (int i = 0; i < 6; ++i)
        batch += std::string(i ? "," : "") + "{\"ts\":" + std::to_string(now - 3 * 3600000LL + i * 60000) +
                 ",\"values\":{\"pressure\":" + std::to_string(values[i]) + "}}";
    ASSERT_EQ(ingest(token, batch + "]"), 200);
    std::string rule =
        "{\"name\":\"preview\",\"type\":\"threshold\",\"severity\":\"HIGH\",\"config\":{\"metric\":"
        "\"pressure\","
        "\"operator\":\"GT\",\"threshold\":80}";
    auto preview = call("POST", "/api/v1/rules/preview",
                        rule + ",\"scope\":{\"kind\":\"tag\",\"tag\":\"boiler\"}}", with(admin));
    ASSERT_EQ(preview.status, 200) << preview.body;
    auto p = json(preview.body);
    EXPECT_EQ(p->getValue<int>("fired"), 2) << preview.body;
    EXPECT_EQ(p->getValue<int>("readings"), 6);
    EXPECT_EQ(p->getValue<int>("devices"), 1);
    auto firings = p->getArray("firings");
    ASSERT_EQ(firings->size(), 2u);
    EXPECT_EQ(firings->getObject(0)->getValue<std::string>("device_name"), "preview-1");
    EXPECT_DOUBLE_EQ(firings->getObject(0)->getValue<double>("value"), 90);
    EXPECT_DOUBLE_EQ(firings->getObject(1)->getValue<double>("value"), 91);
    // Over the last hour there is nothing to replay.
    auto lastHour = call("POST", "/api/v1/rules/preview?hours=1", rule + "}", with(admin));
    EXPECT_EQ(json(lastHour.body)->getValue<int>("fired"), 0) << lastHour.body;
    // Scoped to another tag: no device, no reading.
    auto elsewhere = call("POST", "/api/v1/rules/preview",
                          rule + ",\"scope\":{\"kind\":\"tag\",\"tag\":\"no-such-tag\"}}", with(admin));
    EXPECT_EQ(json(elsewhere.body)->getValue<int>("readings"), 0) << elsewhere.body;
    // Another tenant's device as the scope, a bad config, a bad window: refused like a save.
    EXPECT_EQ(call("POST", "/api/v1/rules/preview",
                   rule + ",\"scope\":{\"kind\":\"device\",\"device_id\":" + b_.deviceId + "}}", with(admin))
                  .status,
              422);
    auto badConfig =
        call("POST", "/api/v1/rules/preview",
             "{\"name\":\"p\",\"type\":\"threshold\",\"config\":{\"metric\":\"pressure\"}}", with(admin));
    EXPECT_EQ(badConfig.status, 422) << badConfig.body;
    EXPECT_EQ(json(badConfig.body)->getValue<std::string>("field"), "config");
    EXPECT_EQ(call("POST", "/api/v1/rules/preview?hours=1000", rule + "}", with(admin)).status, 422);
    // Tenant B's view of the same rule sees none of tenant A's readings.
    auto adminB = login(b_.admin);
    EXPECT_EQ(
        json(call("POST", "/api/v1/rules/preview", rule + "}", with(adminB)).body)->getValue<int>("readings"),
        0);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.rules WHERE name = 'preview'"), "0");
}
