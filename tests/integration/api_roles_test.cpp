// Roles across resources: what a customer may not change is refused, and the admin's audit log shows it.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <string>

using namespace pulse::test;

namespace {
class ApiRoles : public ApiTest {};
}  // namespace

TEST_F(ApiRoles, RolesDecideWhoChangesWhat) {
    auto customer = login(a_.customer);
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"nope\"}", with(customer)).status, 403);
    EXPECT_EQ(call("GET", "/api/v1/audit-log", "", with(customer, false)).status, 403);
    EXPECT_EQ(call("GET", "/api/v1/api-keys", "", with(customer, false)).status, 403);
    auto ack = call("POST", "/api/v1/alerts/" + a_.alertId + "/acknowledge", "", with(customer));
    EXPECT_TRUE(ack.status == 200 || ack.status == 409) << ack.body;
    auto detail = json(call("GET", "/api/v1/alerts/" + a_.alertId, "", with(customer, false)).body);
    EXPECT_EQ(detail->getValue<std::string>("status"), "ACKNOWLEDGED");
    EXPECT_EQ(detail->getValue<std::string>("acknowledged_by"), "user:" + a_.customer);
    // The admin's audit log holds the denied attempts and the acknowledgement, with the address.
    auto admin = login(a_.admin);
    auto log = call("GET", "/api/v1/audit-log?limit=200", "", with(admin, false));
    ASSERT_EQ(log.status, 200) << log.body;
    EXPECT_NE(log.body.find("\"auth.forbidden\""), std::string::npos);
    EXPECT_NE(log.body.find("\"alert.acknowledge\""), std::string::npos);
    EXPECT_NE(log.body.find("198.51.100.1"), std::string::npos);
    EXPECT_EQ(log.body.find(b_.id), std::string::npos);  // only A's entries
}
