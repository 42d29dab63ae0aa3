// Tenants: operators see every tenant (audited), only operator-admins change them.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

using namespace pulse::test;

namespace {
class ApiTenants : public ApiTest {};
}  // namespace

TEST_F(ApiTenants, OperatorsSeeEveryTenantAndOnlyOperatorAdminsChangeThem) {
    auto ops = login(operatorAdmin_);
    std::string all, cursor;
    for (int page = 0; page < 1000; ++page) {
        auto r = call("GET", "/api/v1/tenants?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), "",
                      with(ops, false));
        ASSERT_EQ(r.status, 200) << r.body;
        all += r.body;
        auto doc = json(r.body);
        if (doc->isNull("next_cursor")) break;
        cursor = doc->getValue<std::string>("next_cursor");
    }
    EXPECT_NE(all.find(a_.slug), std::string::npos);
    EXPECT_NE(all.find(b_.slug), std::string::npos);
    std::string slug = "ops-made-" + std::to_string(getpid());
    auto created =
        call("POST", "/api/v1/tenants", "{\"slug\":\"" + slug + "\",\"name\":\"Made by ops\"}", with(ops));
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(json(created.body)->getValue<int>("devices_in_use"), 0);
    EXPECT_EQ(
        call("POST", "/api/v1/tenants", "{\"slug\":\"" + slug + "\",\"name\":\"again\"}", with(ops)).status,
        409);
    EXPECT_EQ(call("POST", "/api/v1/tenants", "{\"slug\":\"Bad Slug\",\"name\":\"x\"}", with(ops)).status,
              422);
    // Operators' reads of tenant data are audited.
    EXPECT_GE(
        std::stoi(scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'tenant.list' AND actor = $1",
                         {"user:" + operatorAdmin_})),
        1);
    // Without ?tenant= an operator's device and alert lists span the tenants, each item naming its tenant.
    std::string from = std::to_string(std::stoll(a_.deviceId) - 1);
    auto devices = call("GET", "/api/v1/devices?limit=200&cursor=" + from, "", with(ops, false));
    ASSERT_EQ(devices.status, 200) << devices.body;
    EXPECT_NE(devices.body.find("\"tenant_id\":\"" + a_.id + "\""), std::string::npos);
    EXPECT_NE(devices.body.find("\"tenant_id\":\"" + b_.id + "\""), std::string::npos);
    auto alerts = call("GET", "/api/v1/alerts?status=ALL&device_id=" + b_.deviceId, "", with(ops, false));
    ASSERT_EQ(alerts.status, 200) << alerts.body;
    EXPECT_EQ(json(alerts.body)->getArray("items")->size(), 1u) << alerts.body;
    EXPECT_GE(std::stoi(scalar(
                  "SELECT count(*) FROM pulse.audit_log WHERE action = 'operator.access' AND actor = $1 AND "
                  "target LIKE '%(all tenants)'",
                  {"user:" + operatorAdmin_})),
              2);
    auto admin = login(a_.admin);
    auto mine = call("GET", "/api/v1/tenants", "", with(admin, false));
    ASSERT_EQ(mine.status, 200);
    EXPECT_EQ(json(mine.body)->getArray("items")->size(), 1u) << mine.body;
    EXPECT_EQ(call("POST", "/api/v1/tenants", "{\"slug\":\"nope\",\"name\":\"x\"}", with(admin)).status, 403);
}
