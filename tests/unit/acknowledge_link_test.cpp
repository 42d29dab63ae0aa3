// The acknowledge link the dispatcher adds to a notice: only to an opening or a page of an alert still open,
// only with a key, a console address and a lifetime; its token carries the delivery, the recipient and the
// expiry, and reads back only under the key that signed it.
#include "services/AcknowledgeLinks.h"
#include "services/LinkSigner.h"
#include "services/SecretBox.h"

#include <pulse/json.hpp>

#include <gtest/gtest.h>

using namespace pulse;

namespace {

const services::LinkSigner& signer() {
    static const services::LinkSigner s(
        services::SecretBox::fromHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
    return s;
}

std::string notice(const std::string& type, const std::string& status, const std::string& recipient = "") {
    return R"({"type":")" + type + R"(","tenant":{"id":"t-1"},"alert":{"id":42,"status":")" + status +
           R"("},"links":{"alert":"https://p.example/alerts?open=42"})" +
           (recipient.empty() ? "" : R"(,"recipient":{"user_id":")" + recipient + R"("})") + "}";
}

}  // namespace

TEST(AcknowledgeLinks, OnlyOpeningsOfOpenAlertsGetASignedLink) {
    const std::string console = "https://p.example";
    auto linked = json::parse(services::withAcknowledgeLink(notice("alert.escalated", "OPEN", "u-1"),
                                                            signer(), console, 7, 1'000'000, 3600));
    std::string link = linked.string("/links/acknowledge");
    ASSERT_EQ(link.rfind("https://p.example/api/v1/acknowledge/", 0), 0u) << link;
    EXPECT_EQ(linked.string("/links/alert"), "https://p.example/alerts?open=42");
    auto claim = services::readAcknowledgeToken(signer(), link.substr(link.rfind('/') + 1));
    ASSERT_TRUE(claim);
    EXPECT_EQ(claim->tenantId, "t-1");
    EXPECT_EQ(claim->alertId, 42);
    EXPECT_EQ(claim->deliveryId, 7);
    EXPECT_EQ(claim->userId, "u-1");
    EXPECT_EQ(claim->expiresMs, 1'000'000 + 3'600'000);

    // A channel's page: no user in the claim.
    auto channel = json::parse(
        services::withAcknowledgeLink(notice("alert.opened", "OPEN"), signer(), console, 8, 0, 60));
    std::string channelLink = channel.string("/links/acknowledge");
    auto channelClaim =
        services::readAcknowledgeToken(signer(), channelLink.substr(channelLink.rfind('/') + 1));
    ASSERT_TRUE(channelClaim);
    EXPECT_EQ(channelClaim->userId, "");

    // Unchanged: follow-ups, an alert no longer open, no console address, no lifetime, no key, not JSON.
    for (const auto& text : {notice("alert.acknowledged", "ACKNOWLEDGED"), notice("alert.closed", "CLOSED"),
                             notice("alert.opened", "ACKNOWLEDGED")})
        EXPECT_EQ(services::withAcknowledgeLink(text, signer(), console, 1, 0, 60), text);
    std::string open = notice("alert.opened", "OPEN");
    EXPECT_EQ(services::withAcknowledgeLink(open, signer(), "", 1, 0, 60), open);
    EXPECT_EQ(services::withAcknowledgeLink(open, signer(), console, 1, 0, 0), open);
    EXPECT_EQ(services::withAcknowledgeLink(open, services::LinkSigner(), console, 1, 0, 60), open);
    EXPECT_EQ(services::withAcknowledgeLink("{not json", signer(), console, 1, 0, 60), "{not json");

    // Tokens of another shape or purpose are not claims.
    EXPECT_FALSE(services::readAcknowledgeToken(signer(), signer().sign("cal1|schedule|t|s|1")));
    EXPECT_FALSE(services::readAcknowledgeToken(signer(), signer().sign("ack1|t|x|7||5")));
    EXPECT_FALSE(services::readAcknowledgeToken(signer(), "garbage"));
}
