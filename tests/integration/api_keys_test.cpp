// API keys: shown once, scoped to their tenant and role, revocable.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <string>

using namespace pulse::test;

namespace {
class ApiKeys : public ApiTest {};
}  // namespace

TEST_F(ApiKeys, ApiKeysAreShownOnceScopedToTheirTenantAndRevocable) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/api-keys", "{\"name\":\"ci\",\"role\":\"customer\"}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    auto key = json(created.body);
    std::string token = key->getValue<std::string>("token"), id = key->getValue<std::string>("id");
    EXPECT_EQ(token.rfind("pk_", 0), 0u);
    auto list = call("GET", "/api/v1/api-keys", "", with(admin, false));
    EXPECT_EQ(list.status, 200);
    EXPECT_NE(list.body.find(id), std::string::npos);
    EXPECT_EQ(list.body.find(token), std::string::npos);  // never shown again
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.api_keys WHERE token_prefix = $1 AND token_sha256 = "
                     "sha256(convert_to($2, 'UTF8'))",
                     {token.substr(0, 10), token}),
              "1");

    auto devices = call("GET", "/api/v1/devices", "", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(devices.status, 200) << devices.body;
    EXPECT_NE(devices.body.find("\"dev-1\""), std::string::npos);
    // A customer key cannot do what a tenant-admin can, nor mint a stronger key.
    EXPECT_EQ(
        call("POST", "/api/v1/devices", "{\"name\":\"x\"}", {{"Authorization", "Bearer " + token}}).status,
        403);
    auto customer = login(a_.customer);
    EXPECT_EQ(call("POST", "/api/v1/api-keys", "{\"name\":\"up\",\"role\":\"tenant-admin\"}", with(customer))
                  .status,
              403);

    EXPECT_EQ(call("DELETE", "/api/v1/api-keys/" + id, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/devices", "", {{"Authorization", "Bearer " + token}}).status, 401);
}
