// pulsed as an operator runs it: the command-line modes, the HTTP surface, plugins dropped into
// plugins.d, refusal of a privileged database role, and a clean stop on SIGTERM.
#include "test_env.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

using namespace pulse::test;

namespace {

std::string pluginsD(const std::string& name, const std::map<std::string, std::string>& files) {
    std::string dir = tempDir(name);
    for (const auto& [file, text] : files) writeFile(dir + "/" + file, text);
    return dir;
}

const char* kLogSpec = "plugin.library = sender_log.so\ninstance.log.component = sender/log\n";

}  // namespace

TEST(Pulsed, VersionAndHelp) {
    std::string out;
    EXPECT_EQ(run({pulsedBinary(), "--version"}, {}, out), 0);
    EXPECT_NE(out.find("pulsed 0.1.0 (plugin ABI 1.4)"), std::string::npos) << out;
    EXPECT_EQ(run({pulsedBinary(), "--help"}, {}, out), 0);
    EXPECT_NE(out.find("--list-plugins"), std::string::npos) << out;
    EXPECT_EQ(run({pulsedBinary(), "--help-config"}, {}, out), 0);
    EXPECT_NE(out.find("PULSE_DB_MIGRATE_URI"), std::string::npos) << out;
}

TEST(Pulsed, CheckConfigNamesTheProblemAndExits78) {
    std::string dir = tempDir("check-bad");
    std::string config = writePulseConfig(
        dir, 1, pluginsD("check-bad-plugins", {{"log.properties", kLogSpec}}), "http.max_threads = lots\n");
    std::string out;
    EXPECT_EQ(run({pulsedBinary(), "--check-config", "--config", config}, dbEnv(), out), 78);
    EXPECT_NE(out.find("http.max_threads (" + config + "): 'lots' is not an integer"), std::string::npos)
        << out;

    std::string good = writePulseConfig(
        tempDir("check-plugin"), 1,
        pluginsD("check-plugin-d", {{"log.properties",
                                     "plugin.library = sender_log.so\ninstance.log.component = "
                                     "sender/log\ninstance.log.config = {\"level\": \"loud\"}\n"}}));
    EXPECT_EQ(run({pulsedBinary(), "--check-config", "--config", good}, dbEnv(), out), 78);
    EXPECT_NE(out.find("error: instance log"), std::string::npos) << out;
    EXPECT_NE(out.find("/level: \"loud\" is not one of [\"info\",\"warn\"]"), std::string::npos) << out;

    std::string fine =
        writePulseConfig(tempDir("check-good"), 1, pluginsD("check-good-d", {{"log.properties", kLogSpec}}));
    EXPECT_EQ(run({pulsedBinary(), "--check-config", "--config", fine}, dbEnv(), out), 0) << out;
    EXPECT_NE(out.find("configuration OK"), std::string::npos) << out;
    EXPECT_EQ(out.find(appUri()), std::string::npos)
        << "the connection string (with its password) was printed";
}

TEST(Pulsed, ListPluginsShowsComponentsInstancesAndRefusals) {
    std::string config = writePulseConfig(
        tempDir("list"), 1,
        pluginsD("list-d", {{"log.properties", kLogSpec},
                            {"zz-broken.properties", "plugin.library = broken_short_struct.so\n"}}));
    std::string out;
    EXPECT_EQ(run({pulsedBinary(), "--list-plugins", "--config", config}, dbEnv(), out), 0) << out;
    EXPECT_NE(out.find("sender_log           1.0.0      ABI 1.4  sender/log"), std::string::npos) << out;
    EXPECT_NE(out.find("log                  sender/log             valid"), std::string::npos) << out;
    EXPECT_NE(out.find("broken_short_struct.so\n      the plugin descriptor struct_size 12 is smaller than "
                       "ABI 1.0's 64"),
              std::string::npos)
        << out;
    // Libraries on plugins.path that nothing enables are listed too, or refused with their reason.
    EXPECT_NE(out.find("wrapper_rule         2.1.0      ABI 1.4  rule/test_threshold"), std::string::npos)
        << out;
    EXPECT_NE(out.find("broken_no_entry.so\n      exports no entry symbol"), std::string::npos) << out;
}

TEST(Pulsed, ServesHealthMetricsAndProblemsAndStopsCleanly) {
    int port = freePort();
    std::string dir = tempDir("serve");
    std::string config = writePulseConfig(
        dir, port,
        pluginsD("serve-d", {{"log.properties", kLogSpec},
                             {"broken.properties", "plugin.library = broken_null_descriptor.so\n"}}));
    auto pulsed = std::make_unique<Pulsed>(config, dbEnv());
    ASSERT_TRUE(pulsed->started());

    auto ready = httpGet(port, "/health/ready");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(ready.body, R"({"status":"ready","checks":{"database":"ok","telemetry":"ok"}})");
    auto health = httpGet(port, "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body.rfind(
                  R"({"status":"healthy","checks":{"database":"ok","telemetry":"ok"},"version":"0.1.0")", 0),
              0u)
        << health.body;
    EXPECT_EQ(httpGet(port, "/health/live").status, 200);

    auto missing = httpGet(port, "/api/v1/nothing");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.headers["Content-Type"], "application/problem+json");
    EXPECT_EQ(
        missing.body,
        R"({"type":"about:blank","title":"Not Found","status":404,"detail":"no resource at /api/v1/nothing","instance":"/api/v1/nothing"})");
    EXPECT_EQ(missing.headers["X-Content-Type-Options"], "nosniff");
    EXPECT_NE(missing.headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);

    auto wrongMethod = httpGet(port, "/health", "DELETE");
    EXPECT_EQ(wrongMethod.status, 405);
    EXPECT_EQ(wrongMethod.headers["Allow"], "GET");

    auto tooBig = httpGet(port, "/health", "POST", {{"Content-Length", "999999999"}});
    EXPECT_EQ(tooBig.status, 413);

    auto page = httpGet(port, "/", "GET", {{"Accept", "text/html"}});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("Pulse"), std::string::npos);
    EXPECT_EQ(httpGet(port, "/devices/42", "GET", {{"Accept", "text/html"}}).status,
              200);  // client-side route
    EXPECT_EQ(httpGet(port, "/../etc/passwd").status, 404);

    auto metrics = httpGet(port, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(metrics.body.find("pulse_http_requests_total{code=\"404\",method=\"GET\",route=\"static\"}"),
              std::string::npos)
        << metrics.body;
    EXPECT_NE(metrics.body.find("pulse_plugins_loaded 1\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("pulse_plugins_refused 1\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("process_resident_memory_bytes "), std::string::npos);
    writeFile(dir + "/metrics.txt", metrics.body);
    std::string out;
    EXPECT_EQ(run({"/bin/sh", "-c", "promtool check metrics < " + dir + "/metrics.txt"}, {}, out), 0) << out;

    // The broken plugin was refused with one line, and everything else serves.
    std::string log = pulsed->process().output();
    EXPECT_NE(log.find("plugin " PULSE_TEST_PLUGIN_DIR
                       "/broken_null_descriptor.so refused: the entry point returned NULL"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("instance log (sender/log) started"), std::string::npos) << log;

    pulsed->process().signal(SIGTERM);
    EXPECT_EQ(pulsed->process().wait(20000), std::optional<int>(0));
    EXPECT_NE(pulsed->process().output().find("[pulsed] stopped"), std::string::npos);
}

TEST(Pulsed, JsonLogLines) {
    int port = freePort();
    std::string config =
        writePulseConfig(tempDir("jsonlog"), port, pluginsD("jsonlog-d", {}), "log.format = json\n");
    {
        Pulsed pulsed(config, dbEnv());
        ASSERT_TRUE(pulsed.started());
    }
    std::ifstream in(config + ".log");
    int lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
        EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
        EXPECT_EQ(line.back(), '}') << line;
    }
    EXPECT_GT(lines, 3);
}

TEST(Pulsed, RefusesToServeAsAPrivilegedRole) {
    std::string config = writePulseConfig(tempDir("privileged"), freePort(), pluginsD("privileged-d", {}));
    std::string out;
    EXPECT_EQ(run({pulsedBinary(), "--config", config},
                  {{"PULSE_DB_URI", ownerUri()}, {"PULSE_DB_MIGRATE_URI", ownerUri()}}, out),
              69);
    EXPECT_NE(out.find("tenant isolation would not hold: role pulse_owner owns"), std::string::npos) << out;
}

TEST(Pulsed, UnreachableDatabaseFailsStartupWithTheReason) {
    std::string config = writePulseConfig(tempDir("unreachable"), freePort(), pluginsD("unreachable-d", {}),
                                          "db.startup_timeout_s = 1\n");
    std::string out;
    EXPECT_EQ(run({pulsedBinary(), "--config", config},
                  {{"PULSE_DB_URI", "host=127.0.0.1 port=1 dbname=pulse user=x"},
                   {"PULSE_DB_MIGRATE_URI", "<unset>"}},
                  out),
              69);
    EXPECT_NE(out.find("start-up failed: cannot connect to PostgreSQL"), std::string::npos) << out;
}
