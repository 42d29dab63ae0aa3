#include "config/Settings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Path.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <gtest/gtest.h>

#include <fstream>

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
    EXPECT_EQ(s.httpPort, 8080);
    EXPECT_EQ(s.httpMaxThreads, 64);
    EXPECT_EQ(s.logFormat, "text");
    EXPECT_EQ(s.dbMigrationsDir, Poco::Path(::testing::TempDir() + "/../sql").absolute().toString());
    EXPECT_FALSE(s.dbMigrateOnStart);  // no migrate uri: only checks
    EXPECT_EQ(s.shown.at("db.uri").value, "***");
}

TEST(Settings, EnvironmentOverridesTheFile) {
    auto path = writeConfig("b.properties", "db.uri = host=x\nhttp.port = 9000\n");
    auto s = load(path, {{"PULSE_HTTP_PORT", "9100"}, {"PULSE_LOG_FORMAT", "json"}, {"PULSE_NOPE", "1"}});
    EXPECT_EQ(s.httpPort, 9100);
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
    EXPECT_EQ(loadSettings(*cfg, path, {}, false).httpPort, 9000);
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
    EXPECT_EQ(s.oidcAlgorithms, (std::vector<std::string>{"RS256", "ES256"}));
    EXPECT_EQ(s.oidcRoleMap.at("b"), "operator-admin");
    for (const char* bad : {"oidc.algorithms = RS256,HS256\n", "oidc.algorithms = none\n",
                            "oidc.algorithms = ,\n", "oidc.role_map = a=root\n",
                            "oidc.role_map = =customer\n", "oidc.jwks_uri = http://sso.test/certs\n"})
        EXPECT_THROW(load(writeConfig("o3.properties", complete + bad)), ConfigError) << bad;
}
