// The REST API against a real pulsed and PostgreSQL: sessions (cookie flags, CSRF, logout revokes at
// once), API keys (shown once, revocable), the cross-tenant matrix (RELIABILITY.md S1), roles, login
// throttling without locking the victim out (S5), rate limits and X-Forwarded-For (S7), security
// headers (S6) and the audit trail (S10).
#include "TestJwt.h"
#include "json/JsonSchema.h"
#include "services/PasswordHasher.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

using namespace pulse::test;
using pulse::storage::PgConnection;

namespace {

std::map<std::string, std::string> dbEnv() {
    return {{"PULSE_DB_URI", appUri()}, {"PULSE_DB_MIGRATE_URI", ownerUri()}};
}

Poco::JSON::Object::Ptr json(const std::string& text) {
    try {
        return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
        ADD_FAILURE() << "not a JSON object: " << text;
        return new Poco::JSON::Object;
    }
}

std::string scalar(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    PgConnection conn(ownerUri());
    auto rows = conn.query(sql, params);
    return rows.rows.empty() || !rows.rows[0][0] ? "" : *rows.rows[0][0];
}

struct TenantFixture {
    std::string id, slug, admin, customer, deviceId, alertId, ruleId, channelId, siteId, metricId, adminId;
};

const std::string kPassword = "correct horse battery staple";

// A tenant with a tenant-admin, a customer, a device and an open alert (written as the owner).
TenantFixture makeTenant(const std::string& slug, const std::string& passwordHash) {
    PgConnection owner(ownerUri());
    TenantFixture t;
    t.slug = slug;
    t.id = *owner.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text", {slug})
                .rows[0][0];
    t.admin = "admin@" + slug + ".test";
    t.customer = "viewer@" + slug + ".test";
    owner.query(
        "INSERT INTO pulse.users (tenant_id, email, role, password_hash) VALUES ($1::uuid, $2, "
        "'tenant-admin', $4), ($1::uuid, $3, 'customer', $4)",
        {t.id, t.admin, t.customer, passwordHash});
    t.deviceId = *owner
                      .query(
                          "INSERT INTO pulse.devices (tenant_id, name) VALUES ($1::uuid, 'dev-1') "
                          "RETURNING id::text",
                          {t.id})
                      .rows[0][0];
    t.alertId =
        *owner
             .query(
                 "WITH r AS (INSERT INTO pulse.rules (tenant_id, name, type, severity) VALUES "
                 "($1::uuid, 'hot', 'threshold', 'HIGH') RETURNING id) "
                 "INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, summary, triggered_at) "
                 "SELECT $1::uuid, r.id, $2::bigint, 'HIGH', 'too hot', now() FROM r RETURNING id::text",
                 {t.id, t.deviceId})
             .rows[0][0];
    t.ruleId = *owner.query("SELECT id::text FROM pulse.rules WHERE tenant_id = $1::uuid", {t.id}).rows[0][0];
    t.channelId =
        *owner
             .query(
                 "INSERT INTO pulse.channels (tenant_id, name, type, config) VALUES ($1::uuid, 'hook', "
                 "'log', '{}') RETURNING id::text",
                 {t.id})
             .rows[0][0];
    t.siteId =
        *owner
             .query("INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, 'HQ') RETURNING id::text",
                    {t.id})
             .rows[0][0];
    t.metricId = *owner
                      .query(
                          "INSERT INTO pulse.metrics (tenant_id, name) VALUES ($1::uuid, 'fixture') "
                          "RETURNING id::text",
                          {t.id})
                      .rows[0][0];
    t.adminId = *owner.query("SELECT id::text FROM pulse.users WHERE email = $1", {t.admin}).rows[0][0];
    return t;
}

struct Session {
    std::string cookie, csrf;
};

class Api : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        PgConnection conn(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(conn, "pulse_app");
        std::string hash = pulse::services::hashPassword(kPassword);
        std::string suffix = std::to_string(getpid());
        a_ = makeTenant("api-a-" + suffix, hash);
        b_ = makeTenant("api-b-" + suffix, hash);
        operatorAdmin_ = "ops-" + suffix + "@operator.test";
        conn.query("INSERT INTO pulse.users (email, role, password_hash) VALUES ($1, 'operator-admin', $2)",
                   {operatorAdmin_, hash});
        dir_ = tempDir("api");
        Poco::File(dir_ + "/plugins.d").createDirectories();
        writeFile(dir_ + "/plugins.d/http.properties",
                  "plugin.library = ingest_http.so\ninstance.http.component = ingest/http\n"
                  "instance.http.config = {\"commit_wait_ms\": 10000}\n");
        writeFile(dir_ + "/plugins.d/rules.properties", "plugin.library = rule_threshold.so\n");
        writeFile(dir_ + "/plugins.d/webhook.properties", "plugin.library = sender_webhook.so\n");
        writeFile(dir_ + "/secrets.key",
                  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        port_ = freePort();
        // 127.0.0.1 is a trusted proxy here, so X-Forwarded-For stands for distinct client addresses.
        config_ = writePulseConfig(
            dir_, port_, dir_ + "/plugins.d",
            "http.trusted_proxies = 127.0.0.1/32\nlogin.max_failures_per_account = 3\n"
            "login.max_failures_per_ip = 6\nratelimit.ip_burst = 10000\n"
            "ratelimit.tenant_burst = 10000\negress.allow = 127.0.0.1/32\nsecrets.key_file = " +
                dir_ + "/secrets.key\n");
        pulsed_ = new Pulsed(config_, dbEnv());
    }
    static void TearDownTestSuite() {
        delete pulsed_;
        pulsed_ = nullptr;
    }

    static HttpResult call(const std::string& method, const std::string& path, const std::string& body = "",
                           std::map<std::string, std::string> headers = {}) {
        if (!body.empty() && !headers.count("Content-Type")) headers["Content-Type"] = "application/json";
        if (!headers.count("X-Forwarded-For")) headers["X-Forwarded-For"] = "198.51.100.1";
        return method == "GET" ? httpGet(port_, path, "GET", headers)
                               : httpSend(port_, method, path, body, headers);
    }
    static Session login(const std::string& email, const std::string& from = "198.51.100.1") {
        auto r = call("POST", "/api/v1/session",
                      "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}",
                      {{"X-Forwarded-For", from}});
        EXPECT_EQ(r.status, 201) << r.body;
        std::string setCookie = r.headers["Set-Cookie"];
        Session s;
        s.cookie = setCookie.substr(0, setCookie.find(';'));
        s.csrf = json(r.body)->optValue<std::string>("csrf_token", "");
        return s;
    }
    static std::map<std::string, std::string> with(const Session& s, bool csrf = true) {
        std::map<std::string, std::string> h = {{"Cookie", s.cookie}};
        if (csrf) h["X-CSRF-Token"] = s.csrf;
        return h;
    }
    static std::string newKey(const Session& admin, const std::string& role = "tenant-admin") {
        auto r = call("POST", "/api/v1/api-keys", "{\"name\":\"automation\",\"role\":\"" + role + "\"}",
                      with(admin));
        EXPECT_EQ(r.status, 201) << r.body;
        return json(r.body)->optValue<std::string>("token", "");
    }

    // Device telemetry through the ingest_http plugin, as a device would send it.
    static int ingest(const std::string& token, const std::string& body) {
        return httpSend(port_, "POST", "/api/v1/telemetry", body,
                        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}})
            .status;
    }

    static TenantFixture a_, b_;
    static std::string operatorAdmin_;
    static std::string dir_, config_;
    static int port_;
    static Pulsed* pulsed_;
};
TenantFixture Api::a_, Api::b_;
std::string Api::operatorAdmin_;
std::string Api::dir_, Api::config_;
int Api::port_ = 0;
Pulsed* Api::pulsed_ = nullptr;

}  // namespace

TEST_F(Api, SessionCookieIsHttpOnlySameSiteAndLogoutRevokesAtOnce) {
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

TEST_F(Api, WrongCredentialsAndForeignTokensAreRefusedAndAudited) {
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

TEST_F(Api, CookieChangesNeedTheCsrfTokenAndBodiesMustBeJson) {
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

TEST_F(Api, ApiKeysAreShownOnceScopedToTheirTenantAndRevocable) {
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

// S1: tenant A's user and API key use tenant B's ids on every resource and verb: 404, no B data, no B change.
TEST_F(Api, CrossTenantMatrixFindsNothingAndChangesNothing) {
    auto adminB = login(b_.admin);
    std::string keyOfB = json(call("POST", "/api/v1/api-keys", "{\"name\":\"b\"}", with(adminB)).body)
                             ->optValue<std::string>("id", "");
    ASSERT_FALSE(keyOfB.empty());
    auto adminA = login(a_.admin);
    std::string keyA = newKey(adminA);
    std::string bAlertBefore = scalar(
        "SELECT status || coalesce(silenced_until::text, '') FROM pulse.alerts WHERE "
        "id = $1::bigint",
        {b_.alertId});
    struct Case {
        std::string method, path, body;
    };
    std::vector<Case> cases = {
        {"GET", "/api/v1/devices/" + b_.deviceId, ""},
        {"GET", "/api/v1/alerts/" + b_.alertId, ""},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/acknowledge", ""},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/close", "{\"reason\":\"x\"}"},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/silence", "{\"minutes\":5}"},
        {"DELETE", "/api/v1/api-keys/" + keyOfB, ""},
        {"GET", "/api/v1/rules/" + b_.ruleId, ""},
        {"PUT", "/api/v1/rules/" + b_.ruleId,
         "{\"name\":\"x\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":\"GT\","
         "\"threshold\":1}}"},
        {"DELETE", "/api/v1/rules/" + b_.ruleId, ""},
        {"GET", "/api/v1/channels/" + b_.channelId, ""},
        {"PUT", "/api/v1/channels/" + b_.channelId + "/config", "{\"level\":\"error\"}"},
        {"PATCH", "/api/v1/devices/" + b_.deviceId, "{\"tags\":[\"stolen\"]}"},
        {"POST", "/api/v1/devices/" + b_.deviceId + "/rotate-token", ""},
        {"POST", "/api/v1/devices/" + b_.deviceId + "/revoke", ""},
        {"POST", "/api/v1/devices/" + b_.deviceId + "/decommission", ""},
        {"GET", "/api/v1/devices/" + b_.deviceId + "/telemetry?metric=fixture", ""},
        {"GET", "/api/v1/sites/" + b_.siteId, ""},
        {"PATCH", "/api/v1/sites/" + b_.siteId, "{\"name\":\"taken\"}"},
        {"DELETE", "/api/v1/sites/" + b_.siteId, ""},
        {"GET", "/api/v1/users/" + b_.adminId, ""},
        {"PATCH", "/api/v1/users/" + b_.adminId, "{\"disabled\":true}"},
        {"PATCH", "/api/v1/metrics/" + b_.metricId, "{\"unit\":\"x\"}"},
        {"GET", "/api/v1/alerts/" + b_.alertId + "/deliveries", ""},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/assign", "{\"assignee_id\":null}"},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/comments", "{\"text\":\"hi\"}"},
        {"GET", "/api/v1/tenants/" + b_.id, ""},
    };
    std::vector<std::map<std::string, std::string>> principals = {with(adminA),
                                                                  {{"Authorization", "Bearer " + keyA}}};
    for (const auto& who : principals) {
        for (const auto& c : cases) {
            auto r = call(c.method, c.path, c.body, who);
            // A key changing a user is refused before any lookup (403 whatever the id: no oracle either).
            bool keyChangesUser =
                c.method == "PATCH" && c.path.rfind("/api/v1/users/", 0) == 0 && who.count("Authorization");
            EXPECT_EQ(r.status, keyChangesUser ? 403 : 404) << c.method << " " << c.path << ": " << r.body;
            EXPECT_EQ(r.body.find(b_.slug), std::string::npos);
            EXPECT_EQ(r.body.find("too hot"), std::string::npos);
        }
        // Lists show only A's rows, whatever filter names B's.
        auto devices = call("GET", "/api/v1/devices?limit=200", "", who);
        EXPECT_EQ(json(devices.body)->getArray("items")->size(), 1u) << devices.body;
        auto alerts = call("GET", "/api/v1/alerts?status=ALL&device_id=" + b_.deviceId, "", who);
        EXPECT_EQ(json(alerts.body)->getArray("items")->size(), 0u) << alerts.body;
        // Routing A's alerts to B's channel: refused as an unknown channel.
        EXPECT_EQ(
            call("POST", "/api/v1/routing-rules", "{\"channel_id\":\"" + b_.channelId + "\"}", who).status,
            422);
        // A device in A cannot be put on B's site, nor an alert of A given to B's user.
        EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"site_id\":\"" + b_.siteId + "\"}", who)
                      .status,
                  422);
        EXPECT_EQ(call("POST", "/api/v1/alerts/" + a_.alertId + "/assign",
                       "{\"assignee_id\":\"" + b_.adminId + "\"}", who)
                      .status,
                  422);
        auto bulk = call("POST", "/api/v1/alerts/bulk",
                         "{\"action\":\"silence\",\"minutes\":5,\"ids\":[" + b_.alertId + "]}", who);
        EXPECT_EQ(bulk.status, 200) << bulk.body;
        EXPECT_EQ(json(bulk.body)->getValue<int>("changed"), 0) << bulk.body;
        for (const auto& list :
             {"/api/v1/rules", "/api/v1/channels", "/api/v1/routing-rules", "/api/v1/api-keys",
              "/api/v1/sites", "/api/v1/users", "/api/v1/metrics", "/api/v1/tenants",
              "/api/v1/devices/export?format=json", "/api/v1/alerts/export?format=json"}) {
            auto r = call("GET", list, "", who);
            EXPECT_EQ(r.body.find(b_.ruleId), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.channelId), std::string::npos) << list;
            EXPECT_EQ(r.body.find(keyOfB), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.siteId), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.admin), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.slug), std::string::npos) << list;
            EXPECT_EQ(r.body.find("\"id\":" + b_.alertId + ","), std::string::npos) << list;
        }
        // An operator-only way to name a tenant does nothing for a tenant user.
        auto named = call("GET", "/api/v1/devices?tenant=" + b_.id, "", who);
        auto namedItems = json(named.body)->getArray("items");
        ASSERT_EQ(namedItems->size(), 1u) << named.body;
        EXPECT_EQ(std::to_string(namedItems->getObject(0)->getValue<long long>("id")), a_.deviceId);
    }
    EXPECT_EQ(
        scalar("SELECT status || coalesce(silenced_until::text, '') FROM pulse.alerts WHERE id = $1::bigint",
               {b_.alertId}),
        bAlertBefore);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.api_keys WHERE id = $1::uuid AND revoked_at IS NULL", {keyOfB}),
        "1");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.alert_events WHERE alert_id = $1::bigint", {b_.alertId}),
              "0");
    EXPECT_EQ(
        scalar(
            "SELECT name || enabled::text || (deleted_at IS NULL)::text FROM pulse.rules WHERE id = $1::uuid",
            {b_.ruleId}),
        "hottruetrue");
    EXPECT_EQ(scalar("SELECT config::text FROM pulse.channels WHERE id = $1::uuid", {b_.channelId}), "{}");
    EXPECT_EQ(
        scalar("SELECT cardinality(tags)::text FROM pulse.devices WHERE id = $1::bigint", {b_.deviceId}),
        "0");
    EXPECT_EQ(scalar("SELECT (decommissioned_at IS NULL)::text FROM pulse.devices WHERE id = $1::bigint",
                     {b_.deviceId}),
              "true");
    EXPECT_EQ(scalar("SELECT name FROM pulse.sites WHERE id = $1::uuid", {b_.siteId}), "HQ");
    EXPECT_EQ(scalar("SELECT disabled::text FROM pulse.users WHERE id = $1::uuid", {b_.adminId}), "false");
    EXPECT_EQ(scalar("SELECT unit FROM pulse.metrics WHERE id = $1::int", {b_.metricId}), "");
    EXPECT_EQ(
        scalar("SELECT (assignee_id IS NULL)::text FROM pulse.alerts WHERE id = $1::bigint", {b_.alertId}),
        "true");
}

TEST_F(Api, ListsValidateTheirParametersAndPageWithCursors) {
    auto s = login(a_.admin);
    for (const auto& path : {"/api/v1/alerts?limit=201", "/api/v1/alerts?limit=0", "/api/v1/alerts?limit=ten",
                             "/api/v1/alerts?status=OPENED", "/api/v1/alerts?severity=URGENT",
                             "/api/v1/devices?cursor=abc", "/api/v1/devices?status=DEAD"}) {
        auto r = call("GET", path, "", with(s, false));
        EXPECT_EQ(r.status, 422) << path << ": " << r.body;
        EXPECT_EQ(r.headers["Content-Type"], "application/problem+json");
    }
    for (int i = 2; i <= 5; ++i) {
        auto r = call("POST", "/api/v1/devices",
                      "{\"name\":\"page-" + std::to_string(i) + "\",\"tags\":[\"p\"]}", with(s));
        ASSERT_EQ(r.status, 201) << r.body;
        EXPECT_EQ(json(r.body)->getValue<std::string>("token").rfind("pt_", 0), 0u);
    }
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"page-2\"}", with(s)).status, 409);
    std::vector<std::string> names;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        auto r = call("GET", "/api/v1/devices?tag=p&limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor),
                      "", with(s, false));
        ASSERT_EQ(r.status, 200) << r.body;
        auto doc = json(r.body);
        auto items = doc->getArray("items");
        for (size_t i = 0; i < items->size(); ++i)
            names.push_back(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("name"));
        if (doc->isNull("next_cursor")) break;
        cursor = doc->getValue<std::string>("next_cursor");
    }
    EXPECT_EQ(names, (std::vector<std::string>{"page-2", "page-3", "page-4", "page-5"}));
    auto one = call("GET", "/api/v1/devices/" + a_.deviceId, "", with(s, false));
    EXPECT_EQ(one.status, 200);
    EXPECT_EQ(one.body.find("token"), std::string::npos);
}

TEST_F(Api, RolesDecideWhoChangesWhat) {
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

TEST_F(Api, RulesAreCheckedAgainstThePluginSchemaAndTheTenantsOwnScope) {
    auto admin = login(a_.admin);
    auto bad =
        call("POST", "/api/v1/rules",
             "{\"name\":\"r\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":\"ABOUT\"}}",
             with(admin));
    EXPECT_EQ(bad.status, 422) << bad.body;
    EXPECT_EQ(json(bad.body)->getValue<std::string>("field"), "config");
    EXPECT_EQ(call("POST", "/api/v1/rules", "{\"name\":\"r\",\"type\":\"nosuch\"}", with(admin)).status, 422);
    std::string good =
        "\"type\":\"threshold\",\"severity\":\"HIGH\",\"config\":{\"metric\":\"temperature\","
        "\"operator\":\"GT\",\"threshold\":80}";
    // Another tenant's device as the scope is refused like an unknown one.
    auto foreign = call(
        "POST", "/api/v1/rules",
        "{\"name\":\"r\"," + good + ",\"scope\":{\"kind\":\"device\",\"device_id\":" + b_.deviceId + "}}",
        with(admin));
    EXPECT_EQ(foreign.status, 422) << foreign.body;
    auto created = call("POST", "/api/v1/rules",
                        "{\"name\":\"too hot\"," + good +
                            ",\"scope\":{\"kind\":\"device\",\"device_id\":" + a_.deviceId + "}}",
                        with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = json(created.body)->getValue<std::string>("id");
    EXPECT_EQ(call("POST", "/api/v1/rules", "{\"name\":\"too hot\"," + good + "}", with(admin)).status, 409);
    auto replaced = call("PUT", "/api/v1/rules/" + id,
                         "{\"name\":\"too hot\"," + good + ",\"enabled\":false}", with(admin));
    EXPECT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_FALSE(json(replaced.body)->getValue<bool>("enabled"));
    auto customer = login(a_.customer);
    EXPECT_EQ(call("DELETE", "/api/v1/rules/" + id, "", with(customer)).status, 403);
    auto adminB = login(b_.admin);
    EXPECT_EQ(call("GET", "/api/v1/rules/" + id, "", with(adminB, false)).status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/rules/" + id, "", with(adminB)).status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/rules/" + id, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/rules/" + id, "", with(admin, false)).status, 404);
    // The schemas the UI builds its forms from.
    auto plugins = call("GET", "/api/v1/plugins", "", with(customer, false));
    EXPECT_EQ(plugins.status, 200);
    EXPECT_NE(plugins.body.find("\"threshold\""), std::string::npos);
    EXPECT_NE(plugins.body.find("config_schema"), std::string::npos);
}

// S9 and S8 through the API: secrets never come back, a masked value sent back keeps the secret, and a
// tenant-chosen target on an internal address is refused when saved.
TEST_F(Api, ChannelSecretsNeverLeaveAndInternalTargetsAreRefused) {
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

// S5: failures from one address for one account make that pair wait; the owner, from elsewhere, signs in.
TEST_F(Api, LoginThrottlingSlowsTheAttackerWithoutLockingOutTheVictim) {
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

TEST_F(Api, EveryResponseCarriesTheSecurityHeaders) {
    for (const auto& path : {"/api/v1/devices", "/api/v1/nothing-here", "/health/live"}) {
        auto r = call("GET", path);
        EXPECT_EQ(r.headers["X-Content-Type-Options"], "nosniff") << path;
        EXPECT_NE(r.headers["Content-Security-Policy"].find("object-src 'none'"), std::string::npos) << path;
        EXPECT_NE(r.headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos)
            << path;
        EXPECT_EQ(r.headers["Referrer-Policy"], "no-referrer") << path;
    }
}

// The document at /api/v1/openapi.json describes what the server really answers: every documented operation
// is routed, and real responses validate against the documented schemas.
TEST_F(Api, ResponsesMatchTheOpenApiDocument) {
    auto doc = call("GET", "/api/v1/openapi.json");
    ASSERT_EQ(doc.status, 200);
    auto spec = json(doc.body);
    EXPECT_EQ(spec->getValue<std::string>("openapi"), "3.1.0");
    std::string schemasText = pulse::json::toJsonText(spec->getObject("components")->get("schemas"));
    for (size_t at; (at = schemasText.find("#/components/schemas/")) != std::string::npos;)
        schemasText.replace(at, 21, "#/$defs/");
    auto check = [&](const std::string& schema, const HttpResult& r, int status) {
        EXPECT_EQ(r.status, status) << schema << ": " << r.body;
        auto compiled = pulse::json::JsonSchema::compile("{\"$defs\":" + schemasText +
                                                         ",\"$ref\":\"#/$defs/" + schema + "\"}");
        for (const auto& v : compiled.validateText(r.body))
            ADD_FAILURE() << schema << " at '" << v.path << "': " << v.message << "\n" << r.body;
    };

    auto signIn = call("POST", "/api/v1/session",
                       "{\"email\":\"" + a_.admin + "\",\"password\":\"" + kPassword + "\"}");
    check("Principal", signIn, 201);
    auto s = login(a_.admin);
    check("Principal", call("GET", "/api/v1/session", "", with(s, false)), 200);
    check("NewApiKey", call("POST", "/api/v1/api-keys", "{\"name\":\"doc\"}", with(s)), 201);
    check("ApiKeyList", call("GET", "/api/v1/api-keys", "", with(s, false)), 200);
    check("DeviceList", call("GET", "/api/v1/devices?limit=1", "", with(s, false)), 200);
    check("NewDevice", call("POST", "/api/v1/devices", "{\"name\":\"doc-1\",\"tags\":[\"a\"]}", with(s)),
          201);
    check("Device", call("GET", "/api/v1/devices/" + a_.deviceId, "", with(s, false)), 200);
    auto ack = call("POST", "/api/v1/alerts/" + a_.alertId + "/acknowledge", "", with(s));
    check("Alert", ack, ack.status == 409 ? 409 : 200);  // 409 (already acknowledged) also carries the alert
    check("AlertList", call("GET", "/api/v1/alerts?status=ALL", "", with(s, false)), 200);
    check("AlertDetail", call("GET", "/api/v1/alerts/" + a_.alertId, "", with(s, false)), 200);
    check("AuditList", call("GET", "/api/v1/audit-log?limit=5", "", with(s, false)), 200);
    std::string rule =
        "{\"name\":\"doc rule\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":"
        "\"LT\",\"threshold\":1},\"scope\":{\"kind\":\"tag\",\"tag\":\"x\"}}";
    check("Rule", call("POST", "/api/v1/rules", rule, with(s)), 201);
    check("RuleList", call("GET", "/api/v1/rules", "", with(s, false)), 200);
    check(
        "Channel",
        call("POST", "/api/v1/channels",
             "{\"name\":\"doc\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:9/\",\"secret\":"
             "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
             with(s)),
        201);
    check("ChannelList", call("GET", "/api/v1/channels", "", with(s, false)), 200);
    check("RoutingRuleList", call("GET", "/api/v1/routing-rules", "", with(s, false)), 200);
    check("PluginList", call("GET", "/api/v1/plugins", "", with(s, false)), 200);
    auto site = call("POST", "/api/v1/sites", "{\"name\":\"doc site\"}", with(s));
    check("Site", site, 201);
    check("SiteList", call("GET", "/api/v1/sites", "", with(s, false)), 200);
    check("Device", call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"tags\":[\"doc\"]}", with(s)), 200);
    check("NewDevice", call("POST", "/api/v1/devices/" + a_.deviceId + "/rotate-token", "", with(s)), 200);
    check("ImportResult",
          call("POST", "/api/v1/devices/import", "name,site\ndoc-2,doc site\n",
               {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Content-Type", "text/csv"}}),
          201);
    check("ImportProblems",
          call("POST", "/api/v1/devices/import", "name\nbad name\n",
               {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Content-Type", "text/csv"}}),
          422);
    check("TelemetryPage",
          call("GET", "/api/v1/devices/" + a_.deviceId + "/telemetry?metric=fixture", "", with(s, false)),
          200);
    check("MetricList", call("GET", "/api/v1/metrics", "", with(s, false)), 200);
    check("Metric", call("PATCH", "/api/v1/metrics/" + a_.metricId, "{\"unit\":\"C\"}", with(s)), 200);
    check(
        "User",
        call("POST", "/api/v1/users",
             "{\"email\":\"doc." + std::to_string(getpid()) + "@a.test\",\"password\":\"" + kPassword + "\"}",
             with(s)),
        201);
    check("UserList", call("GET", "/api/v1/users", "", with(s, false)), 200);
    check("Tenant", call("GET", "/api/v1/tenants/" + a_.id, "", with(s, false)), 200);
    check("TenantList", call("GET", "/api/v1/tenants", "", with(s, false)), 200);
    check("Alert", call("POST", "/api/v1/alerts/" + a_.alertId + "/comments", "{\"text\":\"doc\"}", with(s)),
          201);
    check("BulkAlertResult",
          call("POST", "/api/v1/alerts/bulk",
               "{\"action\":\"silence\",\"minutes\":1,\"ids\":[" + a_.alertId + "]}", with(s)),
          200);
    check("DeliveryList", call("GET", "/api/v1/alerts/" + a_.alertId + "/deliveries", "", with(s, false)),
          200);
    check("Problem", call("GET", "/api/v1/alerts?limit=500", "", with(s, false)), 422);
    check("Problem", call("GET", "/api/v1/devices"), 401);
    check("Problem", call("GET", "/api/v1/devices/999999999", "", with(s, false)), 404);

    // Every documented operation is served (not the router's 404 or 405).
    for (const auto& [path, item] : *spec->getObject("paths")) {
        for (const auto& [method, op] : *item.extract<Poco::JSON::Object::Ptr>()) {
            std::string p = path;
            if (auto at = p.find("{id}"); at != std::string::npos)
                p.replace(at, 4,
                          p.find("/devices/") == std::string::npos &&
                                  p.find("/alerts/") == std::string::npos &&
                                  p.find("/metrics/") == std::string::npos
                              ? "00000000-0000-0000-0000-000000000000"
                              : "1");
            std::string m = Poco::toUpper(method);
            auto r = call(m, p, m == "GET" || m == "DELETE" ? "" : "{}", with(s));
            EXPECT_NE(r.status, 405) << m << " " << p;
            EXPECT_EQ(r.body.find("no resource at"), std::string::npos) << m << " " << p << ": " << r.body;
        }
    }
}

// Device lifecycle: every change takes effect at ingest at once (the registry's cache is dropped), and each
// one is in the audit log.
TEST_F(Api, DeviceTokensRotateRevokeAndDecommissionWithEffectAtIngest) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"life-1\",\"tags\":[\"t1\"]}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(json(created.body)->getValue<long long>("id"));
    std::string first = json(created.body)->getValue<std::string>("token");
    EXPECT_EQ(ingest(first, "{\"temp\":20}"), 200);

    auto rotated = call("POST", "/api/v1/devices/" + id + "/rotate-token", "", with(admin));
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    std::string second = json(rotated.body)->getValue<std::string>("token");
    EXPECT_NE(second, first);
    EXPECT_EQ(ingest(first, "{\"temp\":21}"), 401);
    EXPECT_EQ(ingest(second, "{\"temp\":21}"), 200);

    EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/revoke", "", with(admin)).status, 200);
    EXPECT_EQ(ingest(second, "{\"temp\":22}"), 401);

    std::string third = json(call("POST", "/api/v1/devices/" + id + "/rotate-token", "", with(admin)).body)
                            ->optValue<std::string>("token", "");
    EXPECT_EQ(ingest(third, "{\"temp\":23}"), 200);
    auto gone = call("POST", "/api/v1/devices/" + id + "/decommission", "", with(admin));
    ASSERT_EQ(gone.status, 200) << gone.body;
    EXPECT_FALSE(json(gone.body)->isNull("decommissioned_at"));
    EXPECT_EQ(ingest(third, "{\"temp\":24}"), 401);
    EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/decommission", "", with(admin)).status, 409);
    EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/rotate-token", "", with(admin)).status, 404);
    // No live credential is left, and the broker's password file no longer has the account.
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.device_credentials WHERE device_id = $1::bigint AND revoked_at "
               "IS NULL",
               {id}),
        "0");
    EXPECT_EQ(scalar("SELECT string_agg(action, ',' ORDER BY id) FROM pulse.audit_log WHERE target = $1 AND "
                     "action LIKE 'device.%' AND tenant_id = $2::uuid",
                     {id, a_.id}),
              "device.create,device.rotate_token,device.revoke,device.rotate_token,device.decommission,"
              "device.decommission,device.rotate_token");
    // Customers change none of it.
    auto customer = login(a_.customer);
    EXPECT_EQ(call("POST", "/api/v1/devices/" + a_.deviceId + "/rotate-token", "", with(customer)).status,
              403);
}

TEST_F(Api, DevicesMoveBetweenSitesAndTakeTagsAndThresholds) {
    auto admin = login(a_.admin);
    auto site = call("POST", "/api/v1/sites", "{\"name\":\"Plant North\",\"time_zone\":\"Europe/Berlin\"}",
                     with(admin));
    ASSERT_EQ(site.status, 201) << site.body;
    std::string siteId = json(site.body)->getValue<std::string>("id");
    EXPECT_EQ(call("POST", "/api/v1/sites", "{\"name\":\"Plant North\"}", with(admin)).status, 409);
    auto badZone =
        call("POST", "/api/v1/sites", "{\"name\":\"Nowhere\",\"time_zone\":\"Mars/Olympus\"}", with(admin));
    EXPECT_EQ(badZone.status, 422);
    EXPECT_EQ(json(badZone.body)->getValue<std::string>("field"), "time_zone");

    auto moved =
        call("PATCH", "/api/v1/devices/" + a_.deviceId,
             "{\"site_id\":\"" + siteId + "\",\"tags\":[\"boiler\",\"north\"],\"stale_after_s\":120}",
             with(admin));
    ASSERT_EQ(moved.status, 200) << moved.body;
    auto d = json(moved.body);
    EXPECT_EQ(d->getValue<std::string>("site_id"), siteId);
    EXPECT_EQ(d->getArray("tags")->size(), 2u);
    EXPECT_EQ(d->getValue<int>("stale_after_s"), 120);
    EXPECT_EQ(
        json(call("GET", "/api/v1/sites/" + siteId, "", with(admin, false)).body)->getValue<int>("devices"),
        1);
    // A site with devices stays; moved away, it can go.
    EXPECT_EQ(call("DELETE", "/api/v1/sites/" + siteId, "", with(admin)).status, 409);
    EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"site_id\":null,\"stale_after_s\":null}",
                   with(admin))
                  .status,
              200);
    EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{}", with(admin)).status, 422);
    EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"tags\":[\"a,b\"]}", with(admin)).status,
              422);
    EXPECT_EQ(call("DELETE", "/api/v1/sites/" + siteId, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/sites/" + siteId, "", with(admin, false)).status, 404);
}

TEST_F(Api, TelemetryQueriesPageRawReadingsAndReadHourlyRollups) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"flow-1\"}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(json(created.body)->getValue<long long>("id"));
    std::string token = json(created.body)->getValue<std::string>("token");
    // Five readings in one hour, two hours ago.
    long long base = (std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                              .count() /
                          3600000 -
                      2) *
                     3600000;
    std::string batch = "[";
    for (int i = 0; i < 5; ++i)
        batch += std::string(i ? "," : "") + "{\"ts\":" + std::to_string(base + i * 60000) +
                 ",\"values\":{\"flow\":" + std::to_string(10 + i) + "}}";
    ASSERT_EQ(ingest(token, batch + "]"), 200);

    std::vector<double> values;
    std::string cursor;
    for (int page = 0; page < 5; ++page) {
        auto r = call("GET",
                      "/api/v1/devices/" + id + "/telemetry?metric=flow&limit=2&from=" +
                          std::to_string(base - 1000) + (cursor.empty() ? "" : "&cursor=" + cursor),
                      "", with(admin, false));
        ASSERT_EQ(r.status, 200) << r.body;
        auto doc = json(r.body);
        auto items = doc->getArray("items");
        for (size_t i = 0; i < items->size(); ++i)
            values.push_back(items->getObject(static_cast<unsigned>(i))->getValue<double>("value"));
        if (doc->isNull("next_cursor")) break;
        cursor = doc->getValue<std::string>("next_cursor");
    }
    EXPECT_EQ(values, (std::vector<double>{10, 11, 12, 13, 14}));
    auto hourly = call("GET", "/api/v1/devices/" + id + "/telemetry?metric=flow&resolution=hour", "",
                       with(admin, false));
    ASSERT_EQ(hourly.status, 200) << hourly.body;
    auto buckets = json(hourly.body)->getArray("items");
    ASSERT_EQ(buckets->size(), 1u) << hourly.body;
    auto b = buckets->getObject(0);
    EXPECT_EQ(b->getValue<long long>("count"), 5);
    EXPECT_EQ(b->getValue<double>("min"), 10);
    EXPECT_EQ(b->getValue<double>("max"), 14);
    EXPECT_EQ(b->getValue<double>("avg"), 12);

    auto catalog = call("GET", "/api/v1/metrics?q=flo", "", with(admin, false));
    ASSERT_EQ(catalog.status, 200);
    auto metrics = json(catalog.body)->getArray("items");
    ASSERT_EQ(metrics->size(), 1u) << catalog.body;
    std::string metricId = std::to_string(metrics->getObject(0)->getValue<long long>("id"));
    auto unit = call("PATCH", "/api/v1/metrics/" + metricId, "{\"unit\":\"m3/h\"}", with(admin));
    EXPECT_EQ(unit.status, 200) << unit.body;
    EXPECT_EQ(json(unit.body)->getValue<std::string>("unit"), "m3/h");

    EXPECT_EQ(call("GET", "/api/v1/devices/" + id + "/telemetry?metric=nope", "", with(admin, false)).status,
              404);
    for (const auto& bad : {"?metric=flow&resolution=minute", "?metric=flow&from=yesterday",
                            "?metric=flow&limit=10001", "?metric=flow&from=2000&to=1000", ""}) {
        auto r = call("GET", "/api/v1/devices/" + id + "/telemetry" + bad, "", with(admin, false));
        EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
    }
}

TEST_F(Api, CsvImportIsAllOrNothingWithEveryProblemByLine) {
    auto admin = login(a_.admin);
    ASSERT_EQ(call("POST", "/api/v1/sites", "{\"name\":\"Import Site\"}", with(admin)).status, 201);
    std::string bad =
        "name,tags,site\n"
        "imp-1,heating;north,Import Site\n"
        "bad name,,\n"
        "imp-1,,\n"
        "imp-3,,No Such Site\n"
        "dev-1,,\n";
    auto refused =
        call("POST", "/api/v1/devices/import", bad,
             {{"Cookie", with(admin)["Cookie"]}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    ASSERT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(refused.headers["Content-Type"], "application/problem+json");
    auto errors = json(refused.body)->getArray("errors");
    std::set<int> lines;
    for (size_t i = 0; i < errors->size(); ++i)
        lines.insert(errors->getObject(static_cast<unsigned>(i))->getValue<int>("line"));
    // The file's own problems (lines 3 and 4) are reported before the tenant is asked about the rest.
    EXPECT_EQ(lines, (std::set<int>{3, 4})) << refused.body;
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.devices WHERE name LIKE 'imp-%' AND tenant_id = $1::uuid",
                     {a_.id}),
              "0");

    auto refused2 =
        call("POST", "/api/v1/devices/import", "name,site\nimp-1,Import Site\nimp-3,No Such Site\ndev-1,\n",
             {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    ASSERT_EQ(refused2.status, 422) << refused2.body;
    EXPECT_NE(refused2.body.find("No Such Site"), std::string::npos);
    EXPECT_NE(refused2.body.find("'dev-1' exists"), std::string::npos);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.devices WHERE name LIKE 'imp-%' AND tenant_id = $1::uuid",
                     {a_.id}),
              "0");

    EXPECT_EQ(call("POST", "/api/v1/devices/import", "name\nimp-9\n", with(admin)).status, 415);  // JSON type

    auto ok = call("POST", "/api/v1/devices/import",
                   "\xEF\xBB\xBFname,tags,site\r\nimp-1,heating;north,Import Site\r\n\"imp-2\",,\r\n",
                   {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    ASSERT_EQ(ok.status, 201) << ok.body;
    auto items = json(ok.body)->getArray("items");
    ASSERT_EQ(items->size(), 2u);
    std::string token = items->getObject(0)->getValue<std::string>("token");
    EXPECT_EQ(ingest(token, "{\"temp\":1}"), 200);
    EXPECT_EQ(
        scalar("SELECT array_to_string(d.tags, ';') || '@' || s.name FROM pulse.devices d JOIN pulse.sites s "
               "ON s.id = d.site_id WHERE d.name = 'imp-1' AND d.tenant_id = $1::uuid",
               {a_.id}),
        "heating;north@Import Site");

    // The subscription's device limit (set by an operator-admin) holds for imports and single devices.
    auto ops = login(operatorAdmin_);
    int inUse = json(call("GET", "/api/v1/tenants/" + a_.id, "", with(ops, false)).body)
                    ->getValue<int>("devices_in_use");
    auto limited = call("PATCH", "/api/v1/tenants/" + a_.id,
                        "{\"device_limit\":" + std::to_string(inUse + 1) + "}", with(ops));
    ASSERT_EQ(limited.status, 200) << limited.body;
    auto over = call("POST", "/api/v1/devices/import", "name\nimp-10\nimp-11\n",
                     {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    EXPECT_EQ(over.status, 409) << over.body;
    EXPECT_EQ(
        scalar(
            "SELECT count(*) FROM pulse.devices WHERE name IN ('imp-10', 'imp-11') AND tenant_id = $1::uuid",
            {a_.id}),
        "0");
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"imp-10\"}", with(admin)).status, 201);
    auto full = call("POST", "/api/v1/devices", "{\"name\":\"imp-11\"}", with(admin));
    EXPECT_EQ(full.status, 409) << full.body;
    EXPECT_NE(full.body.find("subscription allows"), std::string::npos);
    auto own = json(call("GET", "/api/v1/tenants/" + a_.id, "", with(admin, false)).body);
    EXPECT_EQ(own->getValue<int>("device_limit"), inUse + 1);
    EXPECT_EQ(call("PATCH", "/api/v1/tenants/" + a_.id, "{\"device_limit\":null}", with(admin)).status, 403);
    ASSERT_EQ(call("PATCH", "/api/v1/tenants/" + a_.id, "{\"device_limit\":null}", with(ops)).status, 200);
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"imp-11\"}", with(admin)).status, 201);
}

TEST_F(Api, TenantAdminsManageUsersAndRoleChangesAreAudited) {
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

TEST_F(Api, OperatorsSeeEveryTenantAndOnlyOperatorAdminsChangeThem) {
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

TEST_F(Api, AlertsAreAssignedCommentedActedOnInBulkAndShowTheirDeliveries) {
    PgConnection owner(ownerUri());
    // Two more open alerts in A, on rules of their own (one open alert per rule and device).
    std::vector<std::string> ids;
    for (const char* rule : {"bulk-1", "bulk-2"})
        ids.push_back(
            *owner
                 .query(
                     "WITH r AS (INSERT INTO pulse.rules (tenant_id, name, type, severity) VALUES "
                     "($1::uuid, $3, 'threshold', 'LOW') RETURNING id) INSERT INTO pulse.alerts "
                     "(tenant_id, rule_id, device_id, severity, summary, triggered_at) SELECT $1::uuid, "
                     "r.id, $2::bigint, 'LOW', '=HYPERLINK(\"http://x\")', now() FROM r RETURNING id::text",
                     {a_.id, a_.deviceId, rule})
                 .rows[0][0]);
    auto event =
        *owner
             .query(
                 "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) VALUES ($1::uuid, $2::bigint, "
                 "'OPENED') RETURNING id::text",
                 {a_.id, ids[0]})
             .rows[0][0];
    // Delivered already (a pending one would be claimed by the dispatchers of the pulsed instances running).
    auto delivery = *owner
                         .query(
                             "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, "
                             "payload, max_attempts, "
                             "status, attempts, last_status_code, completed_at) VALUES ($1::uuid, "
                             "$2::bigint, $3::bigint, "
                             "$4::uuid, '{}', 5, 'DONE', 2, 204, now()) RETURNING id::text",
                             {a_.id, ids[0], event, a_.channelId})
                         .rows[0][0];
    owner.query(
        "INSERT INTO pulse.delivery_attempts (tenant_id, delivery_id, attempt, started_at, duration_ms, "
        "outcome, status_code, detail, worker) VALUES ($1::uuid, $2::bigint, 1, now(), 12, 'RETRY', 503, "
        "'busy', 'w1'), ($1::uuid, $2::bigint, 2, now(), 9, 'DELIVERED', 204, '', 'w1')",
        {a_.id, delivery});

    auto s = login(a_.customer);
    auto assigned = call("POST", "/api/v1/alerts/" + ids[0] + "/assign",
                         "{\"assignee_id\":\"" + a_.adminId + "\"}", with(s));
    ASSERT_EQ(assigned.status, 200) << assigned.body;
    EXPECT_EQ(json(assigned.body)->getValue<std::string>("assignee_id"), a_.adminId);
    auto commented =
        call("POST", "/api/v1/alerts/" + ids[0] + "/comments", "{\"text\":\"on my way\"}", with(s));
    ASSERT_EQ(commented.status, 201) << commented.body;
    EXPECT_EQ(call("POST", "/api/v1/alerts/" + ids[0] + "/comments", "{\"text\":\"  \"}", with(s)).status,
              422);
    auto detail = call("GET", "/api/v1/alerts/" + ids[0], "", with(s, false));
    EXPECT_NE(detail.body.find("\"ASSIGNED\""), std::string::npos);
    EXPECT_NE(detail.body.find("on my way"), std::string::npos);

    auto deliveries = call("GET", "/api/v1/alerts/" + ids[0] + "/deliveries", "", with(s, false));
    ASSERT_EQ(deliveries.status, 200) << deliveries.body;
    auto items = json(deliveries.body)->getArray("items");
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ(items->getObject(0)->getValue<std::string>("status"), "DONE");
    EXPECT_EQ(items->getObject(0)->getValue<int>("last_status_code"), 204);
    auto log = items->getObject(0)->getArray("attempt_log");
    ASSERT_EQ(log->size(), 2u);
    EXPECT_EQ(log->getObject(0)->getValue<int>("status_code"), 503);

    auto bulk =
        call("POST", "/api/v1/alerts/bulk",
             "{\"action\":\"acknowledge\",\"ids\":[" + ids[0] + "," + ids[1] + ",999999999]}", with(s));
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    EXPECT_EQ(json(bulk.body)->getValue<int>("changed"), 2) << bulk.body;
    EXPECT_EQ(scalar("SELECT string_agg(status, ',') FROM pulse.alerts WHERE id IN ($1::bigint, $2::bigint)",
                     {ids[0], ids[1]}),
              "ACKNOWLEDGED,ACKNOWLEDGED");
    EXPECT_EQ(call("POST", "/api/v1/alerts/bulk", "{\"action\":\"close\",\"ids\":[]}", with(s)).status, 422);
    EXPECT_EQ(call("POST", "/api/v1/alerts/bulk", "{\"action\":\"delete\",\"ids\":[1]}", with(s)).status,
              422);

    // Exports: CSV with a formula-looking summary defused, JSON as an array.
    auto csv = call("GET", "/api/v1/alerts/export?format=csv&status=ALL", "", with(s, false));
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.headers["Content-Type"].rfind("text/csv", 0), 0u);
    EXPECT_EQ(csv.body.rfind("id,status,severity,", 0), 0u);
    EXPECT_NE(csv.body.find("\"'=HYPERLINK(\"\"http://x\"\")\""), std::string::npos) << csv.body;
    auto jsonExport = call("GET", "/api/v1/devices/export?format=json", "", with(s, false));
    ASSERT_EQ(jsonExport.status, 200);
    auto devices = Poco::JSON::Parser().parse(jsonExport.body).extract<Poco::JSON::Array::Ptr>();
    EXPECT_GE(devices->size(), 1u);
    EXPECT_EQ(call("GET", "/api/v1/devices/export?format=xml", "", with(s, false)).status, 422);
    EXPECT_GE(std::stoi(scalar("SELECT count(*) FROM pulse.audit_log WHERE action IN ('alert.export', "
                               "'device.export') AND tenant_id = $1::uuid",
                               {a_.id})),
              2);
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
            "ratelimit.ip_burst = 10000\n");
    Pulsed pulsed(config, dbEnv());
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

// Issue 12's input findings: every refusal is a problem naming the field, with no database or resolver
// text in it; nothing a key creates outlives it; NUL, booleans as numbers, lenient times and media types,
// and thresholds out of order are refused.
TEST_F(Api, BadInputIsAProblemNamingTheFieldAndNothingLeaks) {
    auto admin = login(a_.admin);
    auto expectField = [](const HttpResult& r, int status, const std::string& field,
                          const std::string& what) {
        EXPECT_EQ(r.status, status) << what << ": " << r.body;
        EXPECT_EQ(json(r.body)->optValue<std::string>("field", ""), field) << what << ": " << r.body;
        for (const char* leak : {"invalid input syntax", "violates", "uuid", "ERROR", "relation"})
            EXPECT_EQ(r.body.find(leak), std::string::npos) << what << " leaks '" << leak << "': " << r.body;
    };
    expectField(call("POST", "/api/v1/routing-rules", R"({"channel_id": "x"})", with(admin)), 422,
                "channel_id", "a channel id that is no id");
    expectField(call("POST", "/api/v1/routing-rules",
                     "{\"channel_id\": \"" + a_.channelId + "\", \"throttle_s\": true}", with(admin)),
                422, "throttle_s", "true as an integer");
    expectField(
        call("POST", "/api/v1/sites", "{\"name\": \"nul\", \"time_zone\": \"UTC\\u0000x\"}", with(admin)),
        422, "time_zone", "a NUL in a string");
    expectField(call("POST", "/api/v1/rules",
                     R"({"name": "backwards", "type": "threshold", "severity": "HIGH", "config":
                         {"metric": "t", "operator": "GT", "threshold": 1, "clear_threshold": 2}})",
                     with(admin)),
                422, "config", "a rule its plugin refuses");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.rules WHERE name = 'backwards'"), "0");
    auto wrongType = call(
        "POST", "/api/v1/sites", R"({"name": "x"})",
        {{"Content-Type", "application/jsonfoo"}, {"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}});
    EXPECT_EQ(wrongType.status, 415) << wrongType.body;
    expectField(call("GET", "/api/v1/devices/" + a_.deviceId + "/telemetry?metric=fixture&to=garbage", "",
                     with(admin, false)),
                422, "to", "a time that is none");
    expectField(call("GET", "/api/v1/devices/" + a_.deviceId + "/telemetry?metric=fix%00ture", "",
                     with(admin, false)),
                400, "metric", "a NUL in a query parameter");
    expectField(call("PATCH", "/api/v1/devices/" + a_.deviceId,
                     R"({"stale_after_s": 1000, "offline_after_s": 500})", with(admin)),
                422, "offline_after_s", "offline before stale");
    // One answer for every refused webhook target, whether the name resolves or to what.
    std::string detail;
    for (const char* url :
         {"http://169.254.169.254/x", "http://10.1.2.3/x", "http://no-such-host.invalid/x"}) {
        auto r = call("POST", "/api/v1/channels",
                      std::string("{\"name\":\"t\",\"type\":\"webhook\",\"config\":{\"url\":\"") + url +
                          "\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
                      with(admin));
        EXPECT_EQ(r.status, 422) << url << ": " << r.body;
        auto d = json(r.body)->optValue<std::string>("detail", "");
        if (detail.empty()) detail = d;
        EXPECT_EQ(d, detail) << url;
        EXPECT_EQ(d.find("127."), std::string::npos) << d;
    }
    // An API key, even a tenant-admin's, makes no users and changes no roles: they would outlive it.
    std::string key = newKey(admin);
    auto made = call(
        "POST", "/api/v1/users",
        R"({"email": "by-key@example.test", "role": "tenant-admin", "password": "long enough password"})",
        {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(made.status, 403) << made.body;
    auto promoted = call("PATCH", "/api/v1/users/" + a_.adminId, R"({"role": "customer"})",
                         {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(promoted.status, 403) << promoted.body;
}
