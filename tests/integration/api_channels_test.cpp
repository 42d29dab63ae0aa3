// Notification channels and routing rules: secrets stay sealed, internal targets are refused.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <string>

using namespace pulse::test;

namespace {
class ApiChannels : public ApiTest {};
}  // namespace

// S9 and S8 through the API: secrets never come back, a masked value sent back keeps the secret, and a
// tenant-chosen target on an internal address is refused when saved.
TEST_F(ApiChannels, ChannelSecretsNeverLeaveAndInternalTargetsAreRefused) {
    auto admin = login(a_.admin);
    std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    auto internal =
        call("POST", "/api/v1/channels",
             "{\"name\":\"inside\",\"type\":\"webhook\",\"config\":{\"url\":\"http://169.254.169.254/x\","
             "\"secret\":\"" +
                 secret + "\"}}",
             with(admin));
    EXPECT_EQ(internal.status, 422) << internal.body;
    auto created = call("POST", "/api/v1/channels",
                        "{\"name\":\"ops\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:9/p\","
                        "\"secret\":\"" +
                            secret + "\"}}",
                        with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.body.find(secret), std::string::npos);
    auto channel = json(created.body);
    EXPECT_EQ(channel->getObject("config")->getValue<std::string>("secret"), "***");
    std::string id = channel->getValue<std::string>("id");
    std::string sealed =
        scalar("SELECT encode(secrets, 'hex') FROM pulse.channels WHERE id = $1::uuid", {id});
    ASSERT_FALSE(sealed.empty());
    // The masked value sent back with another change keeps the stored secret.
    auto updated = call("PUT", "/api/v1/channels/" + id + "/config",
                        "{\"url\":\"http://127.0.0.1:9/q\",\"secret\":\"***\"}", with(admin));
    EXPECT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(json(updated.body)->getObject("config")->getValue<std::string>("url"), "http://127.0.0.1:9/q");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.channels WHERE id = $1::uuid AND secrets IS NOT NULL", {id}),
              "1");
    for (const auto& path : {std::string("/api/v1/channels"), "/api/v1/channels/" + id,
                             std::string("/api/v1/audit-log?limit=200")}) {
        auto r = call("GET", path, "", with(admin, false));
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.body.find(secret), std::string::npos) << path;
    }
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE detail::text LIKE '%' || $1 || '%'", {secret}),
        "0");
    // Routing to a channel of another tenant is refused.
    auto adminB = login(b_.admin);
    auto route = call("POST", "/api/v1/routing-rules", "{\"channel_id\":\"" + id + "\"}", with(adminB));
    EXPECT_EQ(route.status, 422) << route.body;
    EXPECT_EQ(call("POST", "/api/v1/routing-rules",
                   "{\"channel_id\":\"" + id + "\",\"severities\":[\"HIGH\"]}", with(admin))
                  .status,
              201);
    EXPECT_EQ(call("GET", "/api/v1/channels/" + id, "", with(adminB, false)).status, 404);
    EXPECT_NE(call("GET", "/api/v1/routing-rules", "", with(admin, false)).body.find(id), std::string::npos);
}
