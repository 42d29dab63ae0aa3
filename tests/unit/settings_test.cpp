#include "config/Settings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Path.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace pulse::config;

namespace {

std::string writeConfig(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path) << text;
    return path;
}

Settings load(const std::string& path, const std::map<std::string, std::string>& env = {}) {
    Poco::AutoPtr<Poco::Util::LayeredConfiguration> cfg(new Poco::Util::LayeredConfiguration);
    return loadSettings(*cfg, path, env);
}

}  // namespace

TEST(Settings, DefaultsAndRelativePaths) {
    auto s = load(writeConfig("a.properties", "db.uri = host=x dbname=y\n"));
    EXPECT_EQ(s.http.port, 8080);
    EXPECT_EQ(s.http.workers, 64);
    EXPECT_EQ(s.logFormat, "text");
    EXPECT_EQ(s.db.migrationsDir, Poco::Path(::testing::TempDir() + "/../sql").absolute().toString());
    EXPECT_FALSE(s.db.migrateOnStart);  // no migrate uri: only checks
    EXPECT_EQ(s.shown.at("db.uri").value, "***");
}

TEST(Settings, EnvironmentOverridesTheFile) {
    auto path = writeConfig("b.properties", "db.uri = host=x\nhttp.port = 9000\n");
    auto s = load(path, {{"PULSE_HTTP_PORT", "9100"}, {"PULSE_LOG_FORMAT", "json"}, {"PULSE_NOPE", "1"}});
    EXPECT_EQ(s.http.port, 9100);
    EXPECT_EQ(s.logFormat, "json");
    EXPECT_EQ(s.shown.at("http.port").source, "PULSE_HTTP_PORT");
    ASSERT_EQ(s.warnings.size(), 2u);  // PULSE_NOPE, and no migrate uri
    EXPECT_NE(s.warnings[0].find("PULSE_NOPE"), std::string::npos);
}

TEST(Settings, EveryProblemIsNamedAtOnce) {
    auto path = writeConfig(
        "c.properties", "http.prot = 1\nhttp.port = eighty\nlog.format = xml\ndb.migrate_on_start = maybe\n");
    try {
        load(path);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("unknown key 'http.prot'"), std::string::npos) << m;
        EXPECT_NE(
            m.find("http.port (" + Poco::Path(path).absolute().toString() + "): 'eighty' is not an integer"),
            std::string::npos)
            << m;
        EXPECT_NE(m.find("log.format"), std::string::npos) << m;
        EXPECT_NE(m.find("db.migrate_on_start"), std::string::npos) << m;
        EXPECT_NE(m.find("db.uri (default): is required"), std::string::npos) << m;
    }
}

TEST(Settings, OutOfRangeAndMissingFile) {
    EXPECT_THROW(load(writeConfig("d.properties", "db.uri=x\nhttp.port = 70000\n")), ConfigError);
    EXPECT_THROW(load(::testing::TempDir() + "/does-not-exist.properties"), ConfigError);
}

TEST(Settings, DatabaseKeysAreOptionalWhenNotNeeded) {
    auto path = writeConfig("e.properties", "http.port = 9000\n");
    EXPECT_THROW(load(path), ConfigError);
    Poco::AutoPtr<Poco::Util::LayeredConfiguration> cfg(new Poco::Util::LayeredConfiguration);
    EXPECT_EQ(loadSettings(*cfg, path, {}, false).http.port, 9000);
}

TEST(Settings, EnvNames) {
    EXPECT_EQ(envName("db.migrate_uri"), "PULSE_DB_MIGRATE_URI");
    EXPECT_EQ(envName("http.max_body_bytes"), "PULSE_HTTP_MAX_BODY_BYTES");
}

TEST(Settings, ConnectTimeoutIsAddedOnce) {
    EXPECT_EQ(withConnectTimeout("host=a", 3), "host=a connect_timeout=3");
    EXPECT_EQ(withConnectTimeout("host=a connect_timeout=9", 3), "host=a connect_timeout=9");
    EXPECT_EQ(withConnectTimeout("postgresql://a/b", 3), "postgresql://a/b?connect_timeout=3");
}

TEST(Settings, OidcIsAllOrNothingAndNeverAcceptsSymmetricOrNoneAlgorithms) {
    std::string base = "db.uri = host=x\noidc.issuer = https://sso.test/realms/p\n";
    EXPECT_THROW(load(writeConfig("o1.properties", base)), ConfigError);  // no audience, no JWKS
    std::string complete = base + "oidc.audience = pulse\noidc.jwks_uri = https://sso.test/certs\n";
    auto s = load(writeConfig("o2.properties", complete + "oidc.role_map = a=customer, b=operator-admin\n"));
    EXPECT_EQ(s.oidc.algorithms, (std::vector<std::string>{"RS256", "ES256"}));
    EXPECT_EQ(s.oidc.roleMap.at("b"), "operator-admin");
    for (const char* bad : {"oidc.algorithms = RS256,HS256\n", "oidc.algorithms = none\n",
                            "oidc.algorithms = ,\n", "oidc.role_map = a=root\n",
                            "oidc.role_map = =customer\n", "oidc.jwks_uri = http://sso.test/certs\n"})
        EXPECT_THROW(load(writeConfig("o3.properties", complete + bad)), ConfigError) << bad;
}

TEST(Settings, DefaultsComeFromTheTableAlone) {
    auto loaded = load(writeConfig("f.properties", "db.uri = host=x\n"));
    auto d = defaults();
    EXPECT_EQ(d.http.port, 8080);
    EXPECT_EQ(d.http.port, loaded.http.port);
    EXPECT_EQ(d.notify.lease, std::chrono::seconds(60));
    EXPECT_EQ(d.notify.backoffMax, loaded.notify.backoffMax);
    EXPECT_EQ(d.writer.flushInterval, std::chrono::milliseconds(200));
    EXPECT_EQ(d.api.ipPerS, loaded.api.ipPerS);
    EXPECT_EQ(d.oidc.roleClaim, "pulse_role");
    for (const auto& k : configKeys()) {
        EXPECT_FALSE(k.description.empty()) << k.key;
        EXPECT_TRUE(static_cast<bool>(k.fill)) << k.key;
        EXPECT_EQ(loaded.shown.count(k.key), 1u) << k.key;
    }
}

TEST(Settings, EveryRowFillsItsField) {
    // A value other than the default for each integer row: the field it names must take it.
    std::string text =
        "db.uri = host=x\nhttp.port = 9001\nnotify.lease_s = 120\nnotify.backoff_max_s = 7\n"
        "telemetry.flush_ms = 250\nratelimit.ip_per_s = 33\ndb.libpq_pool_max = 5\n"
        "http.trusted_proxies = 10.0.0.0/8, 192.0.2.1/32\negress.allow = 127.0.0.1/32\n";
    auto s = load(writeConfig("g.properties", text));
    EXPECT_EQ(s.http.port, 9001);
    EXPECT_EQ(s.notify.lease, std::chrono::seconds(120));
    EXPECT_EQ(s.notify.backoffMax, std::chrono::seconds(7));
    EXPECT_EQ(s.writer.flushInterval, std::chrono::milliseconds(250));
    EXPECT_EQ(s.api.ipPerS, 33);
    EXPECT_EQ(s.db.libpqPoolMax, 5);
    ASSERT_EQ(s.http.trustedProxies.size(), 2u);
    EXPECT_TRUE(s.http.trustedProxies[1].contains(pulse::net::Cidr::parse("192.0.2.1").network));
    EXPECT_EQ(s.egressAllow.size(), 1u);
}

TEST(Settings, ListItemsAreReportedWithTheOtherProblems) {
    auto path = writeConfig("h.properties", "db.uri = host=x\nhttp.port = x\negress.allow = 10.0.0.0/33\n");
    try {
        load(path);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("http.port"), std::string::npos) << m;
        EXPECT_NE(m.find("egress.allow"), std::string::npos) << m;
    }
}

// The runbook's configuration table is generated from the rows (PULSE_UPDATE_DOCS=1 rewrites it).
TEST(Settings, TheRunbookListsEveryRowAsDeclared) {
    const std::string path = PULSE_SOURCE_DIR "/docs/runbook.md";
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string doc = buffer.str();
    const std::string begin = "<!-- settings table: generated from core/config/Settings.cpp -->\n",
                      end = "<!-- end of settings table -->";
    auto from = doc.find(begin), to = doc.find(end);
    ASSERT_NE(from, std::string::npos) << path << " has no " << begin;
    ASSERT_NE(to, std::string::npos);
    std::string table = doc.substr(from + begin.size(), to - from - begin.size());
    if (std::getenv("PULSE_UPDATE_DOCS")) {
        std::ofstream(path) << doc.substr(0, from + begin.size()) << settingsTable() << doc.substr(to);
        return;
    }
    EXPECT_EQ(table, settingsTable()) << "run PULSE_UPDATE_DOCS=1 build/bin/pulse_unit_tests "
                                         "--gtest_filter=Settings.TheRunbookListsEveryRowAsDeclared";
}
