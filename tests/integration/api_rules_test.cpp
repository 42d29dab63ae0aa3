// Rules: checked against their plugin's schema and the tenant's own scope.
#include "api_fixture.h"

#include <gtest/gtest.h>

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
