// The telemetry path end to end over HTTP: provision a device with pulsed --create-device, post readings
// to the ingest_http plugin, and check what PostgreSQL holds: a 200 means committed, a redelivered
// reading is stored once, rollups and the catalog follow, errors carry problem bodies, and device status
// moves ONLINE -> STALE -> OFFLINE with its history.
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace pulse::test;

namespace {

HttpResult post(int port, const std::string& path, const std::string& body,
                const std::map<std::string, std::string>& headers) {
    HttpResult r;
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(20, 0));
    Poco::Net::HTTPRequest req("POST", path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse res;
    Poco::StreamCopier::copyToString(session.receiveResponse(res), r.body);
    r.status = res.getStatus();
    for (const auto& [k, v] : res) r.headers[k] = v;
    return r;
}

std::string scalar(const std::string& sql) {
    pulse::storage::PgConnection conn(ownerUri());
    auto rows = conn.query(sql);
    return rows.rows.empty() || !rows.rows[0][0] ? "" : *rows.rows[0][0];
}

class TelemetryHttp : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = tempDir("telemetry-http");
        pluginsD_ = dir_ + "/plugins.d";
        Poco::File(pluginsD_).createDirectories();
        writeFile(pluginsD_ + "/http.properties",
                  "plugin.library = ingest_http.so\ninstance.http.component = ingest/http\n"
                  "instance.http.config = {}\n");
        port_ = freePort();
        config_ = writePulseConfig(dir_, port_, pluginsD_,
                                   "registry.cache_ttl_ms = 300\nstatus.flush_ms = 100\nstatus.sweep_s = 1\n"
                                   "ingest.max_readings = 50\ntelemetry.flush_ms = 20\n"
                                   "ingest.device_readings_per_s = 5\ningest.device_burst = 40\n"
                                   "ingest.tenant_readings_per_s = 20\ningest.tenant_burst = 1000\n");
        tenant_ = "t" + std::to_string(getpid() % 100000) +
                  std::string(1, static_cast<char>('a' + counter_++ % 26));
        pulse::storage::PgConnection conn(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(conn, "pulse_app");
        conn.query(
            "INSERT INTO pulse.tenants (slug, name, default_stale_after_s, default_offline_after_s) "
            "VALUES ($1, $1, 2, 4)",
            {tenant_});
    }
    std::string auth(const std::string& token) { return "Bearer " + token; }
    std::map<std::string, std::string> json(const std::string& token) {
        return {{"Authorization", auth(token)}, {"Content-Type", "application/json"}};
    }

    static inline int counter_ = 0;
    std::string dir_, pluginsD_, config_, tenant_;
    int port_ = 0;
};

}  // namespace

TEST_F(TelemetryHttp, AcknowledgedReadingsAreCommittedOnceWithRollupsAndCatalog) {
    std::string token = createDevice(config_, tenant_ + "/pump-1");
    ASSERT_FALSE(token.empty());
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());

    auto r = post(port_, "/api/v1/telemetry",
                  R"({"ts": 1795499000000, "values": {"pressure": 2.5, "running": true, "fw": "1.0"}})",
                  json(token));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"accepted":2,"ignored":["fw"]})");
    // 200 means committed: visible now, without waiting.
    std::string device = scalar(
        "SELECT id FROM pulse.devices WHERE name = 'pump-1' AND tenant_id = "
        "(SELECT id FROM pulse.tenants WHERE slug = '" +
        tenant_ + "')");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE device_id = " + device), "2");

    // The ThingsBoard alias, a batch, and a redelivery of the first reading.
    r = post(
        port_, "/api/v1/" + token + "/telemetry",
        R"([{"ts": 1795499000000, "values": {"pressure": 2.5}}, {"ts": 1795499060, "values": {"pressure": 3.5}}])",
        {{"Content-Type", "application/json; charset=utf-8"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE device_id = " + device), "3");
    EXPECT_EQ(
        scalar("SELECT min || '/' || max || '/' || sum || '/' || count FROM pulse.telemetry_hourly h "
               "JOIN pulse.metrics m ON m.id = h.metric_id WHERE m.name = 'pressure' AND h.device_id = " +
               device),
        "2.5/3.5/6/2");
    EXPECT_EQ(scalar("SELECT last_value FROM pulse.metrics m JOIN pulse.tenants t ON t.id = m.tenant_id "
                     "WHERE t.slug = '" +
                     tenant_ + "' AND m.name = 'pressure'"),
              "3.5");
    EXPECT_EQ(scalar("SELECT is_boolean FROM pulse.metrics m JOIN pulse.tenants t ON t.id = m.tenant_id "
                     "WHERE t.slug = '" +
                     tenant_ + "' AND m.name = 'running'"),
              "t");
    auto metrics = httpGet(port_, "/metrics").body;
    EXPECT_NE(metrics.find("pulse_telemetry_duplicate_rows_total 1\n"), std::string::npos) << metrics;
}

TEST_F(TelemetryHttp, BadRequestsGetProblemsAndLoseNothing) {
    std::string token = createDevice(config_, tenant_ + "/pump-2");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());
    auto expect = [&](const HttpResult& r, int status, const std::string& fragment) {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(r.headers.count("Content-Type") ? r.headers.at("Content-Type") : "",
                  "application/problem+json");
        EXPECT_NE(r.body.find(fragment), std::string::npos) << r.body;
    };
    expect(post(port_, "/api/v1/telemetry", "{\"a\":1}", {{"Content-Type", "application/json"}}), 401,
           "Bearer");
    expect(post(port_, "/api/v1/telemetry", "{\"a\":1}", json("pt_not_a_real_token")), 401,
           "unknown or revoked");
    expect(post(port_, "/api/v1/telemetry", "a=1",
                {{"Authorization", auth(token)}, {"Content-Type", "text/plain"}}),
           415, "application/json");
    expect(post(port_, "/api/v1/telemetry", R"({"ts": "soon", "a": 1})", json(token)), 400,
           R"("field":"ts")");
    std::string big = "{";
    for (int i = 0; i < 60; ++i) big += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":1";
    expect(post(port_, "/api/v1/telemetry", big + "}", json(token)), 413, "more than 50 readings");
    EXPECT_EQ(post(port_, "/api/v1/telemetry", R"({"ok": 1})", json(token)).status, 200);

    // Decommissioning takes effect within the registry's cache TTL.
    scalar("UPDATE pulse.devices SET decommissioned_at = now() WHERE name = 'pump-2' RETURNING 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    expect(post(port_, "/api/v1/telemetry", R"({"ok": 1})", json(token)), 403, "decommissioned");
}

TEST_F(TelemetryHttp, RateLimitAnswers429WithRetryAfter) {
    std::string token = createDevice(config_, tenant_ + "/chatty");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());
    int limited = 0;
    HttpResult last;
    for (int i = 0; i < 60 && !limited; ++i) {
        last = post(port_, "/api/v1/telemetry", "{\"n\":" + std::to_string(i) + "}", json(token));
        if (last.status == 429) ++limited;
    }
    ASSERT_EQ(limited, 1);
    EXPECT_GE(std::stoi(last.headers["Retry-After"]), 1);
    EXPECT_NE(last.body.find("over its budget"), std::string::npos) << last.body;
    // The budget is the device's: another device of the tenant still sends.
    std::string quiet = createDevice(config_, tenant_ + "/quiet");
    EXPECT_EQ(post(port_, "/api/v1/telemetry", "{\"n\":1}", json(quiet)).status, 200);
    // A batch larger than what is left is let in and paid for (the bucket goes into debt), so a device
    // sends big batches at its sustained rate; the next message waits.
    std::string batcher = createDevice(config_, tenant_ + "/batcher");
    std::string batch = "[";
    for (int i = 0; i < 45; ++i) batch += std::string(i ? "," : "") + "{\"n\":" + std::to_string(i) + "}";
    EXPECT_EQ(post(port_, "/api/v1/telemetry", batch + "]", json(batcher)).status, 200);
    EXPECT_EQ(post(port_, "/api/v1/telemetry", "{\"n\":1}", json(batcher)).status, 429);
    // Malformed messages cost their device too: a device sending only what is refused meets its budget.
    std::string garbler = createDevice(config_, tenant_ + "/garbler");
    HttpResult afterBurst;
    for (int i = 0; i < 45; ++i) afterBurst = post(port_, "/api/v1/telemetry", "{", json(garbler));
    EXPECT_EQ(afterBurst.status, 429) << afterBurst.body;
    EXPECT_NE(afterBurst.body.find("device garbler is over its budget"), std::string::npos)
        << afterBurst.body;
    // Random tokens are refused as unknown, never counted against a device.
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(post(port_, "/api/v1/telemetry", "{\"n\":1}", json("pt_random" + std::to_string(i))).status,
                  401);
}

TEST_F(TelemetryHttp, ATenantsMetricNamesAreCappedWithAClearError) {
    config_ = writePulseConfig(dir_, port_, pluginsD_, "telemetry.max_metric_names_per_tenant = 3\n");
    std::string token = createDevice(config_, tenant_ + "/namer");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());
    EXPECT_EQ(post(port_, "/api/v1/telemetry", R"({"a": 1, "b": 2})", json(token)).status, 200);
    auto over = post(port_, "/api/v1/telemetry", R"({"a": 1, "c": 3, "d": 4})", json(token));
    EXPECT_EQ(over.status, 422) << over.body;
    EXPECT_NE(over.body.find("limit of 3 metric names"), std::string::npos) << over.body;
    EXPECT_NE(over.body.find("d"), std::string::npos) << over.body;
    // Nothing of the refused message was stored; known names still pass, and one more new name fits.
    EXPECT_EQ(post(port_, "/api/v1/telemetry", R"({"a": 5, "c": 6})", json(token)).status, 200);
    std::string many = "{";
    for (int i = 0; i < 40; ++i) many += std::string(i ? "," : "") + "\"m" + std::to_string(i) + "\": 1";
    EXPECT_EQ(post(port_, "/api/v1/telemetry", many + "}", json(token)).status, 422);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.metrics m JOIN pulse.tenants t ON t.id = m.tenant_id WHERE "
                     "t.slug = '" +
                     tenant_ + "'"),
              "3");
}

TEST_F(TelemetryHttp, ATenantOverItsBudgetIsRefusedAsAWhole) {
    config_ = writePulseConfig(dir_, port_, pluginsD_,
                               "ingest.device_readings_per_s = 5\ningest.device_burst = 40\n"
                               "ingest.tenant_readings_per_s = 20\ningest.tenant_burst = 100\n");
    std::vector<std::string> tokens;
    for (int d = 0; d < 4; ++d)
        tokens.push_back(createDevice(config_, tenant_ + "/fleet-" + std::to_string(d)));
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());
    int accepted = 0, refused = 0;
    HttpResult last;
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 40; ++i)
        for (const auto& t : tokens) {
            auto r = post(port_, "/api/v1/telemetry", "{\"n\":" + std::to_string(i) + "}", json(t));
            (r.status == 200 ? accepted : refused) += 1;
            if (r.status == 429) last = r;
        }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_LE(accepted, 100 + static_cast<int>(20 * elapsed) + 1)
        << "the tenant's burst is 100, refilled at 20/s";
    EXPECT_GT(refused, 0);
    EXPECT_NE(last.body.find("this tenant is over its budget"), std::string::npos) << last.body;
}

TEST_F(TelemetryHttp, DeviceStatusMovesOnlineStaleOfflineWithHistory) {
    std::string token = createDevice(config_, tenant_ + "/sensor");
    Pulsed pulsed(config_, dbEnv());
    ASSERT_TRUE(pulsed.started());
    ASSERT_EQ(post(port_, "/api/v1/telemetry", R"({"t": 1})", json(token)).status, 200);
    std::string where =
        " FROM pulse.devices WHERE name = 'sensor' AND tenant_id = (SELECT id FROM pulse.tenants WHERE slug "
        "= '" +
        tenant_ + "')";
    auto waitFor = [&](const std::string& status, int seconds) {
        for (int i = 0; i < seconds * 10; ++i) {
            if (scalar("SELECT status" + where) == status) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    };
    EXPECT_TRUE(waitFor("ONLINE", 5));
    EXPECT_TRUE(waitFor("STALE", 8));    // stale after 2 s of silence
    EXPECT_TRUE(waitFor("OFFLINE", 8));  // offline after 4 s
    EXPECT_EQ(scalar("SELECT string_agg(from_status || '>' || to_status, ',' ORDER BY id) FROM "
                     "pulse.device_status_history "
                     "WHERE device_id = (SELECT id" +
                     where + ")"),
              "OFFLINE>ONLINE,ONLINE>STALE,STALE>OFFLINE");
}
