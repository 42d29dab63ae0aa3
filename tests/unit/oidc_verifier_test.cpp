// OIDC bearer tokens (docs/reliability.md S4): RS256 and ES256 tokens from the configured issuer verify
// against its JWKS; alg none, HS256 signed with the public key, expired and not-yet-valid tokens, other
// issuers and audiences, tampered claims, unknown and hostile kids are refused, and a stream of unknown kids
// fetches the keys once, not once each.
#include "TestJwt.h"
#include "services/OidcVerifier.h"

#include <gtest/gtest.h>

#include <atomic>

using pulse::services::OidcSettings;
using pulse::services::OidcVerifier;
using pulse::test::TestSigningKey;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));

std::string claims(const std::string& extra = "", long long exp = 1800000300,
                   const std::string& iss = "https://idp.test/realms/pulse",
                   const std::string& aud = "\"pulse\"") {
    return "{\"iss\":\"" + iss + "\",\"aud\":" + aud + ",\"sub\":\"u-123\",\"exp\":" + std::to_string(exp) +
           ",\"iat\":1800000000,\"email\":\"ana@acme.test\",\"pulse_role\":\"tenant-admin\",\"pulse_tenant\":"
           "\"acme\"" +
           extra + "}";
}

class Oidc : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        rsa_ = new TestSigningKey(TestSigningKey::rsa("rsa-1"));
        ec_ = new TestSigningKey(TestSigningKey::p256("ec-1"));
    }
    static void TearDownTestSuite() {
        delete rsa_;
        delete ec_;
    }
    void SetUp() override {
        settings_.issuer = "https://idp.test/realms/pulse";
        settings_.audience = "pulse";
        settings_.jwksUri = "https://idp.test/certs";
        jwks_ = "{\"keys\":[" + rsa_->publicJwk() + "," + ec_->publicJwk() + "]}";
    }
    OidcVerifier verifier() {
        return OidcVerifier(
            settings_,
            [this] {
                ++fetches_;
                return jwks_;
            },
            [] { return kNow; });
    }
    std::string refusal(OidcVerifier& v, const std::string& token) {
        std::string why;
        auto id = v.verify(token, why);
        EXPECT_FALSE(id) << token;
        EXPECT_FALSE(why.empty());
        return why;
    }

    static TestSigningKey* rsa_;
    static TestSigningKey* ec_;
    OidcSettings settings_{pulse::config::defaults().oidc};
    std::string jwks_;
    std::atomic<int> fetches_{0};
};
TestSigningKey* Oidc::rsa_ = nullptr;
TestSigningKey* Oidc::ec_ = nullptr;

}  // namespace

TEST_F(Oidc, Rs256AndEs256TokensFromTheIssuerVerify) {
    auto v = verifier();
    for (auto* key : {rsa_, ec_}) {
        std::string why;
        auto id = v.verify(key->sign(claims()), why);
        ASSERT_TRUE(id) << key->alg() << ": " << why;
        EXPECT_EQ(id->subject, "u-123");
        EXPECT_EQ(id->role, "tenant-admin");
        EXPECT_EQ(id->tenantSlug, "acme");
        EXPECT_EQ(id->label, "ana@acme.test");
    }
    EXPECT_EQ(fetches_, 1);  // the keys are cached
}

TEST_F(Oidc, AlgNoneAndHmacWithThePublicKeyAreRefused) {
    auto v = verifier();
    std::string none = pulse::test::base64url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." +
                       pulse::test::base64url(claims()) + ".";
    refusal(v, none);
    std::string noneSigned =
        pulse::test::base64url("{\"alg\":\"none\"}") + "." + pulse::test::base64url(claims()) + ".eA";
    EXPECT_NE(refusal(v, noneSigned).find("not allowed"), std::string::npos);
    for (const std::string& secret : {rsa_->publicPem(), rsa_->publicJwk()}) {
        auto forged = pulse::test::hs256Token("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", claims(), secret);
        EXPECT_NE(refusal(v, forged).find("not allowed"), std::string::npos);
    }
    // Even when an administrator lists only RS256, an ES256 token is refused, and the other way round.
    settings_.algorithms = {"RS256"};
    auto rsOnly = verifier();
    EXPECT_NE(refusal(rsOnly, ec_->sign(claims())).find("not allowed"), std::string::npos);
}

TEST_F(Oidc, AlgorithmMustFitTheKeyItNames) {
    auto v = verifier();
    // An ES256 header pointing at the RSA key: refused before any signature math.
    std::string confused = ec_->sign(claims(), "{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}");
    EXPECT_NE(refusal(v, confused).find("does not fit"), std::string::npos);
}

TEST_F(Oidc, ExpiryNotBeforeIssuerAudienceAndSubjectAreChecked) {
    auto v = verifier();
    EXPECT_NE(refusal(v, rsa_->sign(claims("", 1800000000 - 61))).find("expired"), std::string::npos);
    std::string why;
    EXPECT_TRUE(v.verify(rsa_->sign(claims("", 1800000000 - 30)), why)) << "within the leeway: " << why;
    std::string noExp =
        "{\"iss\":\"https://idp.test/realms/pulse\",\"aud\":\"pulse\",\"sub\":\"x\",\"pulse_role\":"
        "\"operator\"}";
    EXPECT_NE(refusal(v, rsa_->sign(noExp)).find("no expiry"), std::string::npos);
    EXPECT_NE(refusal(v, rsa_->sign(claims(",\"nbf\":1800000100"))).find("not valid yet"), std::string::npos);
    EXPECT_NE(refusal(v, rsa_->sign(claims("", 1800000300, "https://evil.test/realms/pulse"))).find("issuer"),
              std::string::npos);
    EXPECT_NE(refusal(v, rsa_->sign(claims("", 1800000300, "https://idp.test/realms/pulse", "\"other\"")))
                  .find("audience"),
              std::string::npos);
    EXPECT_TRUE(v.verify(
        rsa_->sign(claims("", 1800000300, "https://idp.test/realms/pulse", "[\"x\",\"pulse\"]")), why))
        << why;
    EXPECT_NE(refusal(v, rsa_->sign(claims(",\"pulse_role\":\"root\""))).find("no Pulse role"),
              std::string::npos);
    // ID tokens are not access tokens, whatever their audience.
    EXPECT_NE(refusal(v, rsa_->sign(claims(",\"typ\":\"ID\""))).find("ID token"), std::string::npos);
    EXPECT_NE(refusal(v, rsa_->sign(claims(), "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"dpop+jwt\"}"))
                  .find("typ"),
              std::string::npos);
    EXPECT_TRUE(
        v.verify(rsa_->sign(claims(), "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"at+jwt\"}"), why))
        << why;
}

TEST_F(Oidc, TamperedTokensAndForeignKeysAreRefused) {
    auto v = verifier();
    std::string token = rsa_->sign(claims());
    // The claims swapped for an operator's, the signature kept.
    size_t a = token.find('.'), b = token.rfind('.');
    std::string elevated = token.substr(0, a + 1) +
                           pulse::test::base64url(claims(",\"pulse_role\":\"operator-admin\"")) +
                           token.substr(b);
    EXPECT_NE(refusal(v, elevated).find("signature"), std::string::npos);
    // A key the issuer never published, claiming a published kid.
    auto stranger = TestSigningKey::rsa("rsa-1");
    EXPECT_NE(refusal(v, stranger.sign(claims())).find("signature"), std::string::npos);
    for (const std::string& junk : {std::string("a.b"), std::string("..."), std::string("a.b.c.d"),
                                    std::string("é.é.é"), std::string(9000, 'a') + ".b.c"})
        refusal(v, junk);
}

TEST_F(Oidc, HostileKidsCostOneFetchNotOneEach) {
    auto v = verifier();
    for (const std::string& kid : {std::string("../../../../etc/passwd"), std::string("x' OR '1'='1"),
                                   std::string(300, 'k'), std::string("nope")}) {
        auto token = rsa_->sign(claims(), "{\"alg\":\"RS256\",\"kid\":\"" + kid + "\"}");
        refusal(v, token);
    }
    for (int i = 0; i < 50; ++i)
        refusal(v, rsa_->sign(claims(), "{\"alg\":\"RS256\",\"kid\":\"unknown-" + std::to_string(i) + "\"}"));
    EXPECT_LE(fetches_, 2);  // the first load, and at most one refetch for an unknown kid
    // The jku header (a URL to fetch keys from) is not followed: the key must still be the issuer's.
    auto stranger = TestSigningKey::rsa("rsa-1");
    refusal(v, stranger.sign(claims(),
                             "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jku\":\"https://evil.test/jwks\"}"));
}

TEST_F(Oidc, RolesAreMappedFromAConfiguredClaimAndOperatorsNeedNoTenant) {
    settings_.roleClaim = "realm_access.roles";
    settings_.roleMap = {{"pulse-ops", "operator"}, {"pulse-viewer", "customer"}};
    auto v = verifier();
    std::string why;
    auto op = v.verify(
        rsa_->sign("{\"iss\":\"https://idp.test/realms/pulse\",\"aud\":\"pulse\",\"sub\":\"o\",\"exp\":"
                   "1800000300,\"realm_access\":{\"roles\":[\"offline_access\",\"pulse-viewer\",\"pulse-"
                   "ops\"]}}"),
        why);
    ASSERT_TRUE(op) << why;
    EXPECT_EQ(op->role, "operator");  // the highest mapped role
    EXPECT_TRUE(op->tenantSlug.empty());
    auto viewer = rsa_->sign(
        "{\"iss\":\"https://idp.test/realms/pulse\",\"aud\":\"pulse\",\"sub\":\"v\",\"exp\":1800000300,"
        "\"realm_access\":{\"roles\":[\"pulse-viewer\"]}}");
    EXPECT_NE(refusal(v, viewer).find("tenant"), std::string::npos);  // a tenant role without a tenant
}

TEST_F(Oidc, AnUnreachableProviderKeepsTheKeysItPublishedBefore) {
    settings_.jwksMaxAgeS = 0;  // every verification finds the keys stale and asks the provider again
    auto v = verifier();
    std::string why;
    ASSERT_TRUE(v.verify(rsa_->sign(claims()), why)) << why;
    int before = fetches_;
    jwks_ = "not json";  // the provider answers garbage from now on
    EXPECT_TRUE(v.verify(ec_->sign(claims()), why)) << why;
    EXPECT_GT(fetches_, before) << "the stale keys were not refetched, so the outage was not exercised";
    auto stranger = TestSigningKey::p256("new-key");
    EXPECT_FALSE(v.verify(stranger.sign(claims()), why));
    EXPECT_THROW(pulse::services::parseJwks("{\"nokeys\":1}"), std::invalid_argument);
    // Small RSA keys and encryption keys are not used.
    auto weak = TestSigningKey::rsa("weak", 1024);
    EXPECT_TRUE(pulse::services::parseJwks("{\"keys\":[" + weak.publicJwk() + "]}").empty());
    std::string enc = rsa_->publicJwk();
    enc.replace(enc.find("\"use\":\"sig\""), 11, "\"use\":\"enc\"");
    EXPECT_TRUE(pulse::services::parseJwks("{\"keys\":[" + enc + "]}").empty());
    EXPECT_EQ(pulse::services::parseJwks("{\"keys\":[" + rsa_->publicJwk() + "]}").size(), 1u);
}
