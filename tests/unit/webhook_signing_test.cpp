// Standard Webhooks v1 signing: the specification's test vector, verification with rotation, and
// refusals (the alert webhook's contract: docs/openapi.json, "webhooks").
#include "StandardWebhooks.h"

#include <gtest/gtest.h>

using namespace pulse::webhooks;

namespace {
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTs = 1614265330;
constexpr const char* kBody = "{\"test\": 2432232314}";
}  // namespace

TEST(StandardWebhooks, TheSpecificationsTestVector) {
    EXPECT_EQ(sign(kSecret, kId, kTs, kBody), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(StandardWebhooks, VerifiesAnyMatchingEntryAndRejectsTampering) {
    std::string sig = sign(kSecret, kId, kTs, kBody);
    EXPECT_TRUE(verify(kSecret, kId, kTs, kBody, sig));
    EXPECT_TRUE(verify(kSecret, kId, kTs, kBody, "v1,bm90IHRoaXMgb25l " + sig));  // rotation: several entries
    EXPECT_FALSE(verify(kSecret, kId, kTs, "{\"test\": 2432232315}", sig));
    EXPECT_FALSE(verify(kSecret, kId, kTs + 1, kBody, sig));
    EXPECT_FALSE(verify(kSecret, "msg_other", kTs, kBody, sig));
    EXPECT_FALSE(verify(kSecret, kId, kTs, kBody, "v2," + sig.substr(3)));
    EXPECT_FALSE(verify(kSecret, kId, kTs, kBody, ""));
}

TEST(StandardWebhooks, RefusesMalformedSecrets) {
    EXPECT_THROW(sign("whsec_", kId, kTs, kBody), std::invalid_argument);
    EXPECT_THROW(sign("whsec_not*base64", kId, kTs, kBody), std::invalid_argument);
    EXPECT_THROW(sign("whsec_c2hvcnQ=", kId, kTs, kBody), std::invalid_argument);  // 5 bytes: too short
}
