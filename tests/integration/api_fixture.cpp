#include "api_fixture.h"

#include "services/PasswordHasher.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"

#include <Poco/File.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <memory>

#include <unistd.h>

namespace pulse::test {

using pulse::storage::PgConnection;

namespace {

// The pulsed every Api suite talks to: started by the first suite that needs it, stopped after the last
// test, so the binary starts it once however many suites (or which of them) run.
class ApiServer : public ::testing::Environment {
  public:
    void ensureStarted() {
        if (pulsed_) return;
        PgConnection conn(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(conn, "pulse_app");
        passwordHash_ = pulse::services::hashPassword(kPassword);
        operatorAdmin_ = "ops-" + std::to_string(getpid()) + "@operator.test";
        conn.query("INSERT INTO pulse.users (email, role, password_hash) VALUES ($1, 'operator-admin', $2)",
                   {operatorAdmin_, passwordHash_});
        std::string dir = tempDir("api");
        Poco::File(dir + "/plugins.d").createDirectories();
        writeFile(dir + "/plugins.d/http.properties",
                  "plugin.library = ingest_http.so\ninstance.http.component = ingest/http\n"
                  "instance.http.config = {\"commit_wait_ms\": 10000}\n");
        writeFile(dir + "/plugins.d/rules.properties", "plugin.library = rule_threshold.so\n");
        writeFile(dir + "/plugins.d/webhook.properties", "plugin.library = sender_webhook.so\n");
        writeFile(dir + "/secrets.key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
        port_ = freePort();
        // 127.0.0.1 is a trusted proxy here, so X-Forwarded-For stands for distinct client addresses.
        std::string config = writePulseConfig(
            dir, port_, dir + "/plugins.d",
            "http.trusted_proxies = 127.0.0.1/32\nlogin.max_failures_per_account = 3\n"
            "login.max_failures_per_ip = 6\nratelimit.ip_burst = 10000\n"
            "ratelimit.tenant_burst = 10000\negress.allow = 127.0.0.1/32\nsecrets.key_file = " +
                dir + "/secrets.key\n");
        pulsed_ = std::make_unique<Pulsed>(config, dbEnv());
    }

    void TearDown() override { pulsed_.reset(); }

    int port() const { return port_; }
    const std::string& passwordHash() const { return passwordHash_; }
    const std::string& operatorAdmin() const { return operatorAdmin_; }

  private:
    std::unique_ptr<Pulsed> pulsed_;
    int port_ = 0;
    std::string passwordHash_, operatorAdmin_;
};

// Registered before main runs; the test framework owns it and calls TearDown after the last test.
ApiServer* const apiServer = static_cast<ApiServer*>(::testing::AddGlobalTestEnvironment(new ApiServer));

}  // namespace

Poco::JSON::Object::Ptr json(const std::string& text) {
    try {
        return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
        ADD_FAILURE() << "not a JSON object: " << text;
        return new Poco::JSON::Object;
    }
}

std::string scalar(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    PgConnection conn(ownerUri());
    auto rows = conn.query(sql, params);
    return rows.rows.empty() || !rows.rows[0][0] ? "" : *rows.rows[0][0];
}

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

TenantFixture ApiTest::a_, ApiTest::b_;
std::string ApiTest::operatorAdmin_;
int ApiTest::port_ = 0;

void ApiTest::SetUpTestSuite() {
    apiServer->ensureStarted();
    port_ = apiServer->port();
    operatorAdmin_ = apiServer->operatorAdmin();
    // Slugs named after the suite (e.g. apisessions-a-4242), so a tenant's rows show which suite made them.
    std::string suite =
        Poco::toLower(std::string(::testing::UnitTest::GetInstance()->current_test_suite()->name()));
    std::string suffix = std::to_string(getpid());
    a_ = makeTenant(suite + "-a-" + suffix, apiServer->passwordHash());
    b_ = makeTenant(suite + "-b-" + suffix, apiServer->passwordHash());
}

HttpResult ApiTest::call(const std::string& method, const std::string& path, const std::string& body,
                         std::map<std::string, std::string> headers) {
    if (!body.empty() && !headers.count("Content-Type")) headers["Content-Type"] = "application/json";
    if (!headers.count("X-Forwarded-For")) headers["X-Forwarded-For"] = "198.51.100.1";
    return method == "GET" ? httpGet(port_, path, "GET", headers)
                           : httpSend(port_, method, path, body, headers);
}

Session ApiTest::login(const std::string& email, const std::string& from) {
    auto r =
        call("POST", "/api/v1/session", "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}",
             {{"X-Forwarded-For", from}});
    EXPECT_EQ(r.status, 201) << r.body;
    std::string setCookie = r.headers["Set-Cookie"];
    Session s;
    s.cookie = setCookie.substr(0, setCookie.find(';'));
    s.csrf = json(r.body)->optValue<std::string>("csrf_token", "");
    return s;
}

std::map<std::string, std::string> ApiTest::with(const Session& s, bool csrf) {
    std::map<std::string, std::string> h = {{"Cookie", s.cookie}};
    if (csrf) h["X-CSRF-Token"] = s.csrf;
    return h;
}

std::string ApiTest::newKey(const Session& admin, const std::string& role) {
    auto r =
        call("POST", "/api/v1/api-keys", "{\"name\":\"automation\",\"role\":\"" + role + "\"}", with(admin));
    EXPECT_EQ(r.status, 201) << r.body;
    return json(r.body)->optValue<std::string>("token", "");
}

int ApiTest::ingest(const std::string& token, const std::string& body) {
    return httpSend(port_, "POST", "/api/v1/telemetry", body,
                    {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}})
        .status;
}

}  // namespace pulse::test
