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
    // The cursor is a device that exists (ids have gaps: an insert another test rolled back used one).
    std::string from =
        scalar("SELECT coalesce(max(id)::text, '') FROM pulse.devices WHERE id < $1::bigint", {a_.deviceId});
    auto devices = call("GET", "/api/v1/devices?limit=200" + (from.empty() ? "" : "&cursor=" + from), "",
                        with(ops, false));
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

// Tenant-admins set their own tenant's default thresholds; a device whose own threshold would then go
// OFFLINE before STALE stops the change, and another tenant is untouched.
TEST_F(ApiTenants, TenantAdminsSetTheirDefaultThresholds) {
    auto admin = login(a_.admin);
    auto before = call("GET", "/api/v1/settings", "", with(admin, false));
    ASSERT_EQ(before.status, 200) << before.body;
    EXPECT_EQ(json(before.body)->getValue<int>("default_stale_after_s"), 300);
    EXPECT_EQ(json(before.body)->getValue<int>("default_offline_after_s"), 900);
    auto changed = call("PATCH", "/api/v1/settings", "{\"default_stale_after_s\":600}", with(admin));
    ASSERT_EQ(changed.status, 200) << changed.body;
    EXPECT_EQ(json(changed.body)->getValue<int>("default_stale_after_s"), 600);
    EXPECT_EQ(scalar("SELECT default_stale_after_s FROM pulse.tenants WHERE id = $1::uuid", {a_.id}), "600");
    auto inverted = call("PATCH", "/api/v1/settings", "{\"default_offline_after_s\":500}", with(admin));
    EXPECT_EQ(inverted.status, 422) << inverted.body;
    EXPECT_EQ(json(inverted.body)->getValue<std::string>("field"), "default_offline_after_s");
    EXPECT_EQ(call("PATCH", "/api/v1/settings", "{}", with(admin)).status, 422);
    EXPECT_EQ(call("PATCH", "/api/v1/settings", "{\"default_stale_after_s\":0}", with(admin)).status, 422);
    // A device that goes OFFLINE after 700 s by its own threshold.
    ASSERT_EQ(
        call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"offline_after_s\":700}", with(admin)).status,
        200);
    auto clash = call("PATCH", "/api/v1/settings",
                      "{\"default_stale_after_s\":800,\"default_offline_after_s\":1800}", with(admin));
    EXPECT_EQ(clash.status, 422) << clash.body;
    EXPECT_NE(clash.body.find("OFFLINE before STALE"), std::string::npos) << clash.body;
    EXPECT_EQ(scalar("SELECT default_stale_after_s FROM pulse.tenants WHERE id = $1::uuid", {a_.id}), "600");
    auto customer = login(a_.customer);
    EXPECT_EQ(call("GET", "/api/v1/settings", "", with(customer, false)).status, 200);
    EXPECT_EQ(call("PATCH", "/api/v1/settings", "{\"default_stale_after_s\":100}", with(customer)).status,
              403);
    EXPECT_EQ(scalar("SELECT default_stale_after_s FROM pulse.tenants WHERE id = $1::uuid", {b_.id}), "300");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'settings.update' AND tenant_id = "
                     "$1::uuid AND result = 'ok'",
                     {a_.id}),
              "1");
}
