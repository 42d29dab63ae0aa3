#pragma once

#include <Poco/Util/LayeredConfiguration.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::config {

// A configuration that cannot be used; the message names every offending key and its source.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class KeyType { String, Secret, Path, Int, Bool, Choice };

// One declared configuration key. Every key pulsed reads is in this table, so that unknown keys are
// typos, PULSE_* environment names are derived, and --help-config and the runbook list them all.
struct ConfigKey {
    ConfigKey(std::string k, KeyType t, std::string def, std::string desc, bool req = false, long long lo = 0,
              long long hi = 0, std::vector<std::string> allowed = {})
        : key(std::move(k)),
          type(t),
          defaultValue(std::move(def)),
          description(std::move(desc)),
          required(req),
          min(lo),
          max(hi),
          choices(std::move(allowed)) {}
    std::string key;
    KeyType type;
    std::string defaultValue;  // empty with required=true means the key must be set
    std::string description;
    bool required = false;
    long long min = 0, max = 0;        // Int bounds
    std::vector<std::string> choices;  // Choice values
};

// The environment variable that overrides a key: PULSE_ + upper case, dots become underscores.
std::string envName(const std::string& key);

const std::vector<ConfigKey>& configKeys();

// Typed, validated server settings. Paths are absolute.
struct Settings {
    std::string configFile;
    std::string configDir;

    std::string httpAddress;
    int httpPort = 0;
    int httpMaxThreads = 0;
    int httpMaxQueued = 0;
    int httpKeepAliveTimeoutS = 0;
    int httpHeaderTimeoutS = 0;
    int httpBodyTimeoutS = 0;
    int httpWriteTimeoutS = 0;
    int httpMaxConnections = 0;
    int httpMaxConnectionsPerAddress = 0;
    int httpAddressRequestsPerS = 0;
    int httpAddressBurst = 0;
    long long httpMaxBodyBytes = 0;
    std::string spaDir;

    std::string logLevel;
    std::string logFormat;
    std::string logFile;

    std::string dbUri;
    std::string dbMigrateUri;
    bool dbMigrateOnStart = true;
    std::string dbMigrationsDir;
    int dbPoolMin = 0;
    int dbPoolMax = 0;
    std::string dbAppRole;
    int dbConnectTimeoutS = 0;
    int dbStartupTimeoutS = 0;
    bool dbRequireUnprivileged = true;

    std::vector<std::string> pluginPaths;
    std::string pluginConfigDir;

    int telemetryWriterThreads = 2;
    int telemetryBatchRows = 5000;
    int telemetryFlushMs = 200;
    int telemetryQueueRows = 200000;
    int telemetryRawRetentionDays = 90;
    int telemetryRollupRetentionDays = 730;
    int telemetryPartitionsAheadDays = 7;
    int ingestMaxReadings = 10000;
    int ingestMaxFutureS = 600;
    int ingestDeviceReadingsPerS = 1000;
    int maxMetricNamesPerTenant = 2000;
    int ingestDeviceBurst = 10000;
    int ingestTenantReadingsPerS = 50000;
    int ingestTenantBurst = 200000;
    int statusFlushMs = 1000;
    int statusSweepS = 5;
    int registryCacheTtlMs = 5000;
    std::string mqttPasswordFile;
    std::string mqttPasswordBaseFile;
    std::string mqttBrokerPidFile;
    int mqttSyncS = 30;
    std::string secretsKeyFile;
    std::vector<std::string> egressAllow;  // CIDRs
    int rulesReloadMs = 2000;
    int rulesTickMs = 1000;
    int alertsQueue = 100000;
    int notifyWorkers = 8;
    int notifyPollMs = 500;
    int notifyLeaseS = 60;
    int notifyAttemptTimeoutMs = 15000;
    int notifyMaxAttempts = 10;
    int notifyBackoffBaseMs = 5000;
    int notifyBackoffMaxS = 21600;
    int notifyBreakerFailures = 5;
    int notifyBreakerOpenS = 30;
    int sessionTtlS = 28800;
    bool secureCookies = false;
    std::string oidcIssuer, oidcAudience, oidcJwksUri, oidcRoleClaim, oidcTenantClaim;
    std::vector<std::string> oidcAlgorithms;
    std::map<std::string, std::string> oidcRoleMap;
    int oidcLeewayS = 60;
    int oidcJwksRefreshS = 60;
    std::vector<std::string> trustedProxies;  // CIDRs
    int rateIpPerS = 20;
    int rateIpBurst = 60;
    int rateTenantPerS = 50;
    int rateTenantBurst = 150;
    int loginMaxFailuresPerIp = 20;
    int loginMaxFailuresPerAccount = 5;
    int loginFailureWindowS = 300;

    // Effective values for display, secrets masked, with where each came from.
    struct Shown {
        std::string value;
        std::string source;  // "default", the file, or the environment variable
    };
    std::map<std::string, Shown> shown;
    std::vector<std::string> warnings;
};

// Loads configPath into appConfig (so ${application.dir} and friends expand), applies PULSE_* overrides
// from env, and validates every declared key. Throws ConfigError listing all problems at once.
// needDatabase = false (for --list-plugins) lets db.uri be absent.
Settings loadSettings(Poco::Util::LayeredConfiguration& appConfig, const std::string& configPath,
                      const std::map<std::string, std::string>& env, bool needDatabase = true);

// The process environment as a map.
std::map<std::string, std::string> processEnvironment();

// Appends connect_timeout to a libpq conninfo unless it is already there.
std::string withConnectTimeout(const std::string& conninfo, int seconds);

}  // namespace pulse::config
