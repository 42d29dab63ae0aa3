// Users: tenant admins manage them; role changes and disabling take effect at once and are audited.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <string>

#include <unistd.h>

using namespace pulse::test;

namespace {
class ApiUsers : public ApiTest {};
}  // namespace

TEST_F(ApiUsers, TenantAdminsManageUsersAndRoleChangesAreAudited) {
    auto admin = login(a_.admin);
    std::string email = "new.user." + std::to_string(getpid()) + "@a.test";
    auto created =
        call("POST", "/api/v1/users",
             "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\",\"role\":\"customer\"}",
             with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.body.find("password"), std::string::npos);
    std::string id = json(created.body)->getValue<std::string>("id");
    EXPECT_EQ(call("POST", "/api/v1/users",
                   "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}", with(admin))
                  .status,
              409);
    EXPECT_EQ(
        call("POST", "/api/v1/users", "{\"email\":\"x@a.test\",\"password\":\"short\"}", with(admin)).status,
        422);
    EXPECT_EQ(call("POST", "/api/v1/users",
                   "{\"email\":\"op@a.test\",\"password\":\"" + kPassword + "\",\"role\":\"operator-admin\"}",
                   with(admin))
                  .status,
              422);
    auto user = login(email);
    EXPECT_EQ(call("GET", "/api/v1/users", "", with(user, false)).status, 403);
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"by-user\"}", with(user)).status, 403);

    auto promoted = call("PATCH", "/api/v1/users/" + id, "{\"role\":\"tenant-admin\"}", with(admin));
    ASSERT_EQ(promoted.status, 200) << promoted.body;
    EXPECT_EQ(json(promoted.body)->getValue<std::string>("role"), "tenant-admin");
    EXPECT_EQ(call("GET", "/api/v1/users", "", with(user, false)).status,
              200);  // the same session, new rights
    EXPECT_EQ(
        scalar("SELECT detail->>'from' || '>' || (detail->>'to') || '|' || actor FROM pulse.audit_log WHERE "
               "action = 'user.role_change' AND target = $1",
               {id}),
        "customer>tenant-admin|user:" + a_.admin);
    // Nobody demotes or disables themselves (the tenant would lose its last admin by accident).
    EXPECT_EQ(call("PATCH", "/api/v1/users/" + id, "{\"disabled\":true}", with(user)).status, 409);

    EXPECT_EQ(call("PATCH", "/api/v1/users/" + id, "{\"disabled\":true}", with(admin)).status, 200);
    EXPECT_EQ(call("GET", "/api/v1/devices", "", with(user, false)).status, 401);  // at once
    EXPECT_EQ(
        call("POST", "/api/v1/session", "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}",
             {{"X-Forwarded-For", "198.51.100.9"}})
            .status,
        401);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'user.disable' AND target = $1", {id}),
        "1");
}
