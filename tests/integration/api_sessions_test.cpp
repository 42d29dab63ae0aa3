// Signing in and what guards every request: session cookies (flags, CSRF, logout revokes at once), refused
// and foreign credentials (audited), login throttling that does not lock the victim out, the security
// headers, the per-address rate limit with X-Forwarded-For, and OpenID Connect bearer tokens.
#include "TestJwt.h"
#include "api_fixture.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"

#include <Poco/File.h>
#include <Poco/String.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace pulse::test;
using pulse::storage::PgConnection;

namespace {
class ApiSessions : public ApiTest {};
}  // namespace

TEST_F(ApiSessions, SessionCookieIsHttpOnlySameSiteAndLogoutRevokesAtOnce) {
    auto r = call("POST", "/api/v1/session",
                  "{\"email\":\"" + a_.admin + "\",\"password\":\"" + kPassword + "\"}");
    ASSERT_EQ(r.status, 201) << r.body;
    std::string cookie = r.headers["Set-Cookie"];
    EXPECT_NE(cookie.find("pulse_session=ps_"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
    EXPECT_NE(Poco::toLower(cookie).find("path=/"), std::string::npos) << cookie;
    auto me = json(r.body);
    EXPECT_EQ(me->getValue<std::string>("role"), "tenant-admin");
    EXPECT_EQ(me->getValue<std::string>("tenant_id"), a_.id);
    EXPECT_GE(me->getValue<std::string>("csrf_token").size(), 32u);
    EXPECT_EQ(r.body.find("password"), std::string::npos);

    Session s{cookie.substr(0, cookie.find(';')), me->getValue<std::string>("csrf_token")};
    EXPECT_EQ(call("GET", "/api/v1/session", "", with(s, false)).status, 200);
    auto out = call("DELETE", "/api/v1/session", "", with(s));
    EXPECT_EQ(out.status, 204) << out.body;
    // Cleared: an empty value that expires now (Poco writes Max-Age 0 as an Expires of the current time).
    std::string cleared = Poco::toLower(out.headers["Set-Cookie"]);
    EXPECT_EQ(cleared.rfind("pulse_session=;", 0), 0u) << cleared;
    EXPECT_NE(cleared.find("expires="), std::string::npos) << cleared;
    // The same cookie is worthless right after logout (S4: reuse after logout).
    auto reused = call("GET", "/api/v1/devices", "", with(s, false));
    EXPECT_EQ(reused.status, 401) << reused.body;
    EXPECT_EQ(reused.headers["Content-Type"], "application/problem+json");
}

TEST_F(ApiSessions, WrongCredentialsAndForeignTokensAreRefusedAndAudited) {
    auto before = std::stol(scalar("SELECT count(*) FROM pulse.audit_log WHERE result <> 'ok'"));
    auto wrong = call("POST", "/api/v1/session", "{\"email\":\"" + a_.customer + "\",\"password\":\"nope\"}",
                      {{"X-Forwarded-For", "198.51.100.77"}});
    EXPECT_EQ(wrong.status, 401);
    auto unknown =
        call("POST", "/api/v1/session", "{\"email\":\"nobody@nowhere.test\",\"password\":\"nope\"}",
             {{"X-Forwarded-For", "198.51.100.77"}});
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(json(wrong.body)->getValue<std::string>("detail"),
              json(unknown.body)->getValue<std::string>("detail"));
    for (const std::string& token :
         std::vector<std::string>{"pk_forged", "ps_forged", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
                                  "pk_" + std::string(300, 'x')}) {
        auto r = call("GET", "/api/v1/devices", "", {{"Authorization", "Bearer " + token}});
        EXPECT_EQ(r.status, 401) << token;
        EXPECT_NE(r.headers["WWW-Authenticate"].find("Bearer"), std::string::npos);
    }
    EXPECT_EQ(call("GET", "/api/v1/devices", "", {{"Cookie", "pulse_session=ps_forged"}}).status, 401);
    EXPECT_EQ(call("GET", "/api/v1/devices").status, 401);
    auto after = std::stol(scalar("SELECT count(*) FROM pulse.audit_log WHERE result <> 'ok'"));
    EXPECT_GE(after - before, 2 + 4 + 1);  // two failed logins, five rejected credentials
    EXPECT_EQ(scalar("SELECT address FROM pulse.audit_log WHERE action = 'session.login' AND target = $1 "
                     "ORDER BY id DESC LIMIT 1",
                     {a_.customer}),
              "198.51.100.77");
}

TEST_F(ApiSessions, CookieChangesNeedTheCsrfTokenAndBodiesMustBeJson) {
    auto s = login(a_.customer);
    std::string path = "/api/v1/alerts/" + a_.alertId + "/silence";
    auto noToken = call("POST", path, "{\"minutes\":5}", with(s, false));
    EXPECT_EQ(noToken.status, 403) << noToken.body;
    auto wrongToken = call("POST", path, "{\"minutes\":5}", {{"Cookie", s.cookie}, {"X-CSRF-Token", "x"}});
    EXPECT_EQ(wrongToken.status, 403);
    auto form = call("POST", "/api/v1/session", "email=a&password=b",
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(form.status, 415) << form.body;
    auto ok = call("POST", path, "{\"minutes\":5}", with(s));
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_FALSE(json(ok.body)->isNull("silenced_until"));
    auto malformed = call("POST", path, "{\"minutes\":", with(s));
    EXPECT_EQ(malformed.status, 400);
    auto outOfRange = call("POST", path, "{\"minutes\":0}", with(s));
    EXPECT_EQ(outOfRange.status, 422);
    EXPECT_EQ(json(outOfRange.body)->getValue<std::string>("field"), "minutes");
}

// S5: failures from one address for one account make that pair wait; the owner, from elsewhere, signs in.
TEST_F(ApiSessions, LoginThrottlingSlowsTheAttackerWithoutLockingOutTheVictim) {
    std::string attacker = "203.0.113.9", bad = "{\"email\":\"" + b_.customer + "\",\"password\":\"guess\"}";
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(call("POST", "/api/v1/session", bad, {{"X-Forwarded-For", attacker}}).status, 401);
    auto limited = call("POST", "/api/v1/session", bad, {{"X-Forwarded-For", attacker}});
    EXPECT_EQ(limited.status, 429);
    EXPECT_GE(std::stoi(limited.headers["Retry-After"]), 1);
    // Even the right password waits from that address; the victim's own address is unaffected.
    auto right = "{\"email\":\"" + b_.customer + "\",\"password\":\"" + kPassword + "\"}";
    EXPECT_EQ(call("POST", "/api/v1/session", right, {{"X-Forwarded-For", attacker}}).status, 429);
    EXPECT_EQ(call("POST", "/api/v1/session", right, {{"X-Forwarded-For", "192.0.2.44"}}).status, 201);
    // Spraying many accounts from one address hits the per-address limit.
    for (int i = 0; i < 6; ++i)
        call("POST", "/api/v1/session",
             "{\"email\":\"x" + std::to_string(i) + "@spray.test\",\"password\":\"p\"}",
             {{"X-Forwarded-For", "203.0.113.50"}});
    EXPECT_EQ(call("POST", "/api/v1/session", "{\"email\":\"y@spray.test\",\"password\":\"p\"}",
                   {{"X-Forwarded-For", "203.0.113.50"}})
                  .status,
              429);
}

// Without an OIDC issuer for the console, password sign-in only.
TEST_F(ApiSessions, ProvidersNameNoIssuerWhenNoneIsConfigured) {
    auto r = call("GET", "/api/v1/session/providers");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(json(r.body)->getValue<bool>("password"));
    EXPECT_TRUE(json(r.body)->isNull("oidc"));
}

TEST_F(ApiSessions, EveryResponseCarriesTheSecurityHeaders) {
    for (const auto& path : {"/api/v1/devices", "/api/v1/nothing-here", "/health/live"}) {
        auto r = call("GET", path);
        EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff") << path;
        EXPECT_NE(r.headers["Content-Security-Policy"].find("object-src 'none'"), std::string::npos) << path;
        EXPECT_NE(r.headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos)
            << path;
        EXPECT_EQ(r.headers["Referrer-Policy"], "no-referrer") << path;
    }
}

// S7: over the per-address limit a client gets 429 + Retry-After; without trusted proxies a forged
// X-Forwarded-For does not make it a new client.
TEST(ApiRateLimit, PerAddressLimitIgnoresUntrustedForwardedFor) {
    std::string dir = tempDir("api-rate");
    Poco::File(dir + "/plugins.d").createDirectories();
    int port = freePort();
    std::string config =
        writePulseConfig(dir, port, dir + "/plugins.d", "ratelimit.ip_per_s = 1\nratelimit.ip_burst = 5\n");
    Pulsed pulsed(config, dbEnv());
    int ok = 0, limited = 0;
    std::string retryAfter;
    for (int i = 0; i < 12; ++i) {
        auto r =
            httpGet(port, "/api/v1/devices", "GET", {{"X-Forwarded-For", "10.9.8." + std::to_string(i)}});
        if (r.status == 429) {
            ++limited;
            retryAfter = r.headers["Retry-After"];
        } else if (r.status == 401) {
            ++ok;
        }
    }
    EXPECT_LE(ok, 7);  // the burst of 5, and what refilled meanwhile
    EXPECT_GE(limited, 5);
    EXPECT_FALSE(retryAfter.empty());
    // Health checks are not API calls and are not limited.
    EXPECT_EQ(httpGet(port, "/health/live").status, 200);
}

// S4 against a running pulsed: bearer tokens from an OpenID Connect provider (its keys served over HTTP
// the way Keycloak serves its certs endpoint) act with the role their claims map to, in the tenant they
// name; forgeries are refused with 401 and audited with the reason.
TEST(ApiOidc, ProviderTokensActAsTheirRoleInTheirTenantAndForgeriesAreRefused) {
    PgConnection owner(ownerUri());
    pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
    std::string slug = "oidc-" + std::to_string(getpid());
    std::string tenant =
        *owner.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text", {slug})
             .rows[0][0];
    owner.query("INSERT INTO pulse.devices (tenant_id, name) VALUES ($1::uuid, 'oidc-dev')", {tenant});

    auto key = pulse::test::TestSigningKey::rsa("kc-1");
    std::string dir = tempDir("api-oidc");
    std::string certs = "/realms/pulse/protocol/openid-connect/certs";
    Poco::File(dir + "/www/realms/pulse/protocol/openid-connect").createDirectories();
    writeFile(dir + "/www" + certs, "{\"keys\":[" + key.publicJwk() + "]}");
    int idpPort = freePort();
    Child idp({"/usr/bin/python3", "-m", "http.server", std::to_string(idpPort), "--bind", "127.0.0.1",
               "--directory", dir + "/www"},
              {}, dir + "/idp.log");
    for (int i = 0; i < 100 && httpGet(idpPort, certs).status != 200; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(httpGet(idpPort, certs).status, 200) << idp.output();

    std::string issuer = "http://127.0.0.1:" + std::to_string(idpPort) + "/realms/pulse";
    Poco::File(dir + "/plugins.d").createDirectories();
    int port = freePort();
    std::string config = writePulseConfig(
        dir, port, dir + "/plugins.d",
        "oidc.issuer = " + issuer +
            "\noidc.audience = pulse\noidc.jwks_uri = http://127.0.0.1:" + std::to_string(idpPort) + certs +
            "\noidc.role_claim = realm_access.roles\n"
            "oidc.role_map = pulse-admin=tenant-admin,pulse-viewer=customer,pulse-ops=operator\n"
            "oidc.console_client_id = pulse-console\noidc.display_name = Keycloak\n"
            "ratelimit.ip_burst = 10000\n");
    Pulsed pulsed(config, dbEnv());
    // The console learns how to sign in before it can, and its pages may fetch from the issuer only.
    auto providers = httpGet(port, "/api/v1/session/providers");
    ASSERT_EQ(providers.status, 200) << providers.body;
    auto oidc = json(providers.body)->getObject("oidc");
    ASSERT_TRUE(oidc) << providers.body;
    EXPECT_EQ(oidc->getValue<std::string>("issuer"), issuer);
    EXPECT_EQ(oidc->getValue<std::string>("client_id"), "pulse-console");
    EXPECT_EQ(oidc->getValue<std::string>("name"), "Keycloak");
    auto page = httpGet(port, "/alerts", "GET", {{"Accept", "text/html"}});
    EXPECT_NE(page.headers["Content-Security-Policy"].find("connect-src 'self' http://127.0.0.1:" +
                                                           std::to_string(idpPort)),
              std::string::npos)
        << page.headers["Content-Security-Policy"];
    EXPECT_EQ(httpGet(port, "/api/v1/devices").headers["Content-Security-Policy"].find("connect-src"),
              std::string::npos);
    long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    auto claims = [&](const std::string& role, long long exp, const std::string& aud = "pulse",
                      const std::string& iss = "", const std::string& extra = "") {
        return "{\"iss\":\"" + (iss.empty() ? issuer : iss) + "\",\"aud\":\"" + aud + "\",\"sub\":\"sub-" +
               role + "\",\"exp\":" + std::to_string(exp) + ",\"preferred_username\":\"" + role +
               "-user\",\"pulse_tenant\":\"" + slug + "\",\"realm_access\":{\"roles\":[\"" + role + "\"]}" +
               extra + "}";
    };
    auto as = [](const std::string& token) {
        return std::map<std::string, std::string>{{"Authorization", "Bearer " + token},
                                                  {"Content-Type", "application/json"}};
    };
    std::string viewer = key.sign(claims("pulse-viewer", now + 300));
    auto list = httpGet(port, "/api/v1/devices", "GET", as(viewer));
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_NE(list.body.find("oidc-dev"), std::string::npos);
    auto whoami = httpGet(port, "/api/v1/session", "GET", as(viewer));
    EXPECT_EQ(json(whoami.body)->getValue<std::string>("kind"), "oidc") << whoami.body;
    EXPECT_EQ(httpSend(port, "POST", "/api/v1/devices", "{\"name\":\"by-viewer\"}", as(viewer)).status, 403);
    std::string admin = key.sign(claims("pulse-admin", now + 300));
    auto created = httpSend(port, "POST", "/api/v1/devices", "{\"name\":\"by-admin\"}", as(admin));
    EXPECT_EQ(created.status, 201) << created.body;  // a bearer token needs no CSRF token
    std::string ops = key.sign(claims("pulse-ops", now + 300));
    EXPECT_EQ(httpGet(port, "/api/v1/devices?tenant=" + tenant, "GET", as(ops)).status, 200);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'operator.access' AND actor = "
                     "'oidc:pulse-ops-user' AND tenant_id = $1::uuid",
                     {tenant}),
              "1");

    auto stranger = pulse::test::TestSigningKey::rsa("kc-1");
    std::string since = scalar("SELECT now()::text");
    std::map<std::string, std::string> forgeries = {
        {"alg none", pulse::test::base64url("{\"alg\":\"none\"}") + "." +
                         pulse::test::base64url(claims("pulse-admin", now + 300)) + ".eA"},
        {"HS256 with the public key",
         pulse::test::hs256Token("{\"alg\":\"HS256\",\"kid\":\"kc-1\"}", claims("pulse-admin", now + 300),
                                 key.publicPem())},
        {"expired", key.sign(claims("pulse-admin", now - 3600))},
        {"another audience", key.sign(claims("pulse-admin", now + 300, "account"))},
        {"another issuer",
         key.sign(claims("pulse-admin", now + 300, "pulse", "https://evil.test/realms/pulse"))},
        {"not valid yet",
         key.sign(claims("pulse-admin", now + 3600, "pulse", "", ",\"nbf\":" + std::to_string(now + 1800)))},
        {"unknown kid",
         key.sign(claims("pulse-admin", now + 300), "{\"alg\":\"RS256\",\"kid\":\"../../x\"}")},
        {"a key the provider never published", stranger.sign(claims("pulse-admin", now + 300))},
    };
    for (const auto& [what, token] : forgeries) {
        auto r = httpGet(port, "/api/v1/devices", "GET", as(token));
        EXPECT_EQ(r.status, 401) << what << ": " << r.body;
    }
    // Every one is audited with its reason.
    EXPECT_EQ(
        scalar(
            "SELECT count(*) FROM pulse.audit_log WHERE action = 'auth.rejected' AND at >= $1::timestamptz "
            "AND detail->>'reason' IN ('algorithm ''none'' is not allowed', 'algorithm ''HS256'' is not "
            "allowed', 'the token has expired', 'the token is for another audience', 'the token is from "
            "another issuer', 'the token is not valid yet', 'no published key has the token''s kid', "
            "'the signature does not hold')",
            {since}),
        std::to_string(forgeries.size()));
}
