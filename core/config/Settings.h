#pragma once

#include "net/EgressGuard.h"

#include <Poco/Util/LayeredConfiguration.h>

#include <chrono>
#include <functional>
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

// What each component is configured with. The fields carry no defaults: every value, default included,
// comes from the one table of settings in Settings.cpp (configKeys()), row by row; defaults() gives the
// table's defaults for code that builds a component without a configuration file (tests, tools).

struct HttpSettings {
    std::string address;
    int port;
    int workers;            // threads running handlers
    int maxQueued;          // complete requests waiting for a worker (503 above)
    int keepAliveTimeoutS;  // an idle keep-alive connection closes after this
    long long maxBodyBytes;
    int headerTimeoutS;            // the whole header, from its first byte (or from accept)
    int bodyTimeoutS;              // the whole body, from the end of the header
    int writeTimeoutS;             // the whole response
    int maxConnections;            // open connections; idle keep-alive ones are reclaimed first
    int maxConnectionsPerAddress;  // per IPv4 address or IPv6 /64 (429 above)
    double addressRequestsPerS;    // requests per address, sustained (429 above); 0: no limit
    double addressBurst;
    std::vector<net::Cidr> trustedProxies;  // their X-Forwarded-For is believed; uncapped (many clients)
    std::string spaDir;
    long long streamBufferBytes;  // an event stream's frames not yet written, at most (then it is closed)
};

// The REST API's limits and sessions.
struct ApiSettings {
    bool secureCookies;
    int sessionTtlS;
    int ipPerS, ipBurst, tenantPerS, tenantBurst;
    int loginMaxPerIp, loginMaxPerAccount, loginWindowS;
};

struct DatabaseSettings {
    std::string uri;         // the application role
    std::string migrateUri;  // the schema owner, only to migrate
    bool migrateOnStart;
    std::string migrationsDir;
    int poolMin;       // Poco Data sessions (ordinary queries) kept open
    int poolMax;       // Poco Data sessions at most
    int libpqPoolMax;  // libpq connections at most (the REST API's queries, channels)
    std::string appRole;
    int connectTimeoutS;
    int startupTimeoutS;
    bool requireUnprivileged;
};

struct WriterSettings {
    size_t maxQueuedRows;  // backpressure beyond this
    size_t batchRows;      // readings per batch (one transaction; docs/architecture.md "Telemetry path")
    std::chrono::milliseconds flushInterval;
    int threads;
};

struct BudgetSettings {
    double deviceReadingsPerS;  // 0: no device budget
    double deviceBurst;
    double tenantReadingsPerS;  // 0: no tenant budget
    double tenantBurst;
};

// The alert writer (services::AlertService).
struct AlertSettings {
    size_t queueCapacity;                     // rule transitions waiting for the writer at most
    int maxAttempts;                          // of each delivery it creates
    std::chrono::milliseconds flappingSweep;  // how often held flapping alerts are checked for release
    std::string consoleUrl;                   // notices link to the alert there; no link when empty
    int acknowledgeLinkTtlS;                  // how long an opening's acknowledge link works; 0: no links
    int parentSettleS;                        // a recovered parent still suppresses its children this long
};

// The escalator (workers::Escalator); it uses AlertSettings' maxAttempts and consoleUrl too.
struct EscalationSettings {
    std::chrono::milliseconds poll;  // the longest the escalator sleeps
    int batch;                       // levels fired per transaction
};

struct DispatcherSettings {
    int workers;
    std::chrono::milliseconds poll;
    std::chrono::seconds lease;
    std::chrono::milliseconds attemptTimeout;
    std::chrono::milliseconds backoffBase;
    std::chrono::milliseconds backoffMax;
    int breakerFailures;
    std::chrono::milliseconds breakerOpen;
    std::string owner;  // identifies this process in leases; generated when empty
};

struct OidcSettings {
    std::string issuer;                          // "iss" must equal it; empty: OIDC is off
    std::string audience;                        // "aud" (a string or an array) must contain it
    std::string jwksUri;                         // where the provider publishes its keys
    std::vector<std::string> algorithms;         // of RS256, ES256 only
    std::string roleClaim;                       // dotted path into the claims (Keycloak: realm_access.roles)
    std::map<std::string, std::string> roleMap;  // claim value -> Pulse role; empty: values are role names
    std::string tenantClaim;                     // the tenant's slug, for tenant roles
    int leewayS;                                 // clock skew allowed on exp and nbf
    int jwksRefreshS;                            // an unknown kid refetches the keys at most this often
    std::string consoleClientId;  // the console's public client (code + PKCE); empty: no button
    std::string displayName;      // the provider's name on the sign-in button
};

// The console's live streams (GET /api/v1/stream, services::LiveEvents).
struct StreamSettings {
    int maxPerPrincipal;  // open streams per user or key (429 above)
    int maxTotal;         // open streams in all (429 above)
    int replayEvents;     // alert and device events kept for clients that reconnect with Last-Event-ID
    int heartbeatS;       // a comment line this often, so that idle streams are seen alive
};

// Typed, validated server settings. Paths are absolute.
struct Settings {
    std::string configFile;
    std::string configDir;

    HttpSettings http;
    ApiSettings api;
    DatabaseSettings db;
    WriterSettings writer;
    BudgetSettings budget;
    DispatcherSettings notify;
    OidcSettings oidc;

    std::string logLevel;
    std::string logFormat;
    std::string logFile;

    std::vector<std::string> pluginPaths;
    std::string pluginConfigDir;

    int telemetryRawRetentionDays;
    int telemetryRollupRetentionDays;
    int telemetryPartitionsAheadDays;
    int ingestMaxReadings;
    int ingestMaxFutureS;
    int maxMetricNamesPerTenant;
    int statusFlushMs;
    int statusSweepS;
    int registryCacheTtlMs;
    std::string mqttPasswordFile;
    std::string mqttPasswordBaseFile;
    std::string mqttBrokerPidFile;
    int mqttSyncS;
    std::string secretsKeyFile;
    std::vector<net::Cidr> egressAllow;
    int rulesReloadMs;
    int rulesTickMs;
    AlertSettings alerts;
    EscalationSettings escalation;
    StreamSettings stream;
    bool demoHistory;  // --seed-demo also writes a week of readings, sites and alerts

    // Effective values for display, secrets masked, with where each came from.
    struct Shown {
        std::string value;
        std::string source;  // "default", the file, or the environment variable
    };
    std::map<std::string, Shown> shown;
    std::vector<std::string> warnings;
};

enum class KeyType { String, Secret, Path, Int, Bool, Choice, List, PathList };

// One setting: its key, type, default, bounds, description and the field it fills, in one row. Every key
// pulsed reads is in the table, so that unknown keys are typos, PULSE_* environment names are derived
// (envName), and --help-config and the runbook list them all. The loader is one loop over the rows.
struct ConfigKey {
    ConfigKey(std::string k, KeyType t, std::string def, std::string desc,
              std::function<void(Settings&, const std::string&)> into, long long lo = 0, long long hi = 0,
              std::vector<std::string> allowed = {}, bool req = false)
        : key(std::move(k)),
          type(t),
          defaultValue(std::move(def)),
          description(std::move(desc)),
          fill(std::move(into)),
          min(lo),
          max(hi),
          choices(std::move(allowed)),
          required(req) {}
    std::string key;
    KeyType type;
    std::string defaultValue;  // empty with required=true means the key must be set
    std::string description;
    // Stores the checked value (Int: decimal digits; Bool: "true"/"false"; List: comma-separated) in its
    // field; throws std::invalid_argument with the reason when an item is not acceptable.
    std::function<void(Settings&, const std::string&)> fill;
    long long min = 0, max = 0;        // Int bounds
    std::vector<std::string> choices;  // Choice values
    bool required = false;
};

// Every row as a Markdown table (key, default, bounds, environment variable, meaning): the runbook's
// configuration section, which a unit test keeps equal to it.
std::string settingsTable();

// The environment variable that overrides a key: PULSE_ + upper case, dots become underscores.
std::string envName(const std::string& key);

const std::vector<ConfigKey>& configKeys();

// Loads configPath into appConfig (so ${application.dir} and friends expand), applies PULSE_* overrides
// from env, and validates every declared key. Throws ConfigError listing all problems at once.
// needDatabase = false (for --list-plugins) lets db.uri be absent.
Settings loadSettings(Poco::Util::LayeredConfiguration& appConfig, const std::string& configPath,
                      const std::map<std::string, std::string>& env, bool needDatabase = true);

// Every setting at its default (relative paths against the working directory; db.uri empty).
Settings defaults();

// The process environment as a map.
std::map<std::string, std::string> processEnvironment();

// Appends connect_timeout to a libpq conninfo unless it is already there.
std::string withConnectTimeout(const std::string& conninfo, int seconds);

}  // namespace pulse::config
