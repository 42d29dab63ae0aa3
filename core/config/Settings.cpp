#include "config/Settings.h"

#include "net/EgressGuard.h"

#include <Poco/AutoPtr.h>
#include <Poco/File.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <algorithm>
#include <set>

extern char** environ;

namespace pulse::config {
namespace {

// Environment variables read by the scripts around pulsed, not configuration keys.
const std::set<std::string> kNonKeyEnv = {"PULSE_CONFIG",
                                          "PULSE_DEMO_PASSWORD",
                                          "PULSE_DEMO_EMAIL",
                                          "PULSE_MQTT_URI",
                                          "PULSE_MQTT_DEVICE_URI",
                                          "PULSE_MQTT_INGEST_PASSWORD",
                                          "PULSE_BROKER_DEVICE_MESSAGES_PER_S",
                                          "PULSE_BROKER_DEVICE_BURST",
                                          "PULSE_BROKER_TENANT_MESSAGES_PER_S",
                                          "PULSE_BROKER_TENANT_BURST"};

void collectKeys(const Poco::Util::AbstractConfiguration& cfg, const std::string& prefix,
                 std::vector<std::string>& out) {
    Poco::Util::AbstractConfiguration::Keys keys;
    cfg.keys(prefix, keys);
    if (keys.empty() && !prefix.empty()) {
        out.push_back(prefix);
        return;
    }
    for (const auto& k : keys) {
        std::string full = prefix.empty() ? k : prefix + "." + k;
        if (cfg.hasProperty(full)) out.push_back(full);
        Poco::Util::AbstractConfiguration::Keys sub;
        cfg.keys(full, sub);
        if (!sub.empty()) collectKeys(cfg, full, out);
    }
}

std::string resolvePath(const std::string& value, const std::string& baseDir) {
    if (value.empty()) return value;
    Poco::Path p(value);
    if (p.isRelative()) p = Poco::Path(baseDir).resolve(p);
    p.makeAbsolute();
    return p.toString();
}

}  // namespace

std::string envName(const std::string& key) {
    std::string out = "PULSE_";
    for (char c : key) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

const std::vector<ConfigKey>& configKeys() {
    using K = KeyType;
    static const std::vector<ConfigKey> keys = {
        {"http.address", K::String, "127.0.0.1", "address the HTTP server binds to"},
        {"http.port", K::Int, "8080", "HTTP port (0 picks a free port, logged at start-up)", false, 0, 65535},
        {"http.max_threads", K::Int, "64",
         "HTTP worker threads running handlers (connections are held by the I/O thread, not by these)", false,
         2, 4096},
        {"http.max_queued", K::Int, "256", "complete requests waiting for a worker (503 above)", false, 1,
         65536},
        {"http.keep_alive_timeout_s", K::Int, "15", "idle keep-alive connections close after this", false, 1,
         3600},
        {"http.header_timeout_s", K::Int, "5",
         "a request header must arrive whole within this (from accept, or from its first byte); 408 after",
         false, 1, 300},
        {"http.body_timeout_s", K::Int, "30", "a request body must arrive whole within this; 408 after",
         false, 1, 3600},
        {"http.write_timeout_s", K::Int, "30", "a response must be taken by the client within this", false, 1,
         3600},
        {"http.max_connections", K::Int, "16384",
         "open HTTP connections (idle keep-alive ones are closed first to make room; 503 when none is idle); "
         "lowered to fit the process's descriptor limit",
         false, 16, 1000000},
        {"http.address_requests_per_s", K::Int, "1000",
         "requests per second one client address (IPv4, or IPv6 /64) may send to any route, sustained (429 "
         "above); trusted proxies are exempt; 0: no limit",
         false, 0, 10000000},
        {"http.address_burst", K::Int, "2000", "requests one client address may send at once", false, 1,
         10000000},
        {"http.max_connections_per_address", K::Int, "256",
         "open connections per client IPv4 address or IPv6 /64 (429 above); trusted proxies are exempt",
         false, 1, 1000000},
        {"http.max_body_bytes", K::Int, "1048576", "largest request body accepted (413 above)", false, 1024,
         1LL << 30},
        {"http.spa_dir", K::Path, "../spa/dist", "directory of the built web UI served at /"},
        {"log.level",
         K::Choice,
         "info",
         "least severe level written",
         false,
         0,
         0,
         {"trace", "debug", "info", "warn", "error", "critical", "off"}},
        {"log.format",
         K::Choice,
         "text",
         "text lines, or JSON lines for log shippers",
         false,
         0,
         0,
         {"text", "json"}},
        {"log.file", K::Path, "", "log to this file instead of standard error"},
        {"db.uri", K::Secret, "", "libpq conninfo of the application role (owns no tables)", true},
        {"db.migrate_uri", K::Secret, "", "libpq conninfo of the schema owner, used only to migrate"},
        {"db.migrate_on_start", K::Bool, "true",
         "apply pending sql/ migrations at start-up (needs db.migrate_uri)"},
        {"db.migrations_dir", K::Path, "../sql", "directory of the NNN_name.sql migrations"},
        {"db.pool_min", K::Int, "2", "connections kept open", false, 0, 1000},
        {"db.pool_max", K::Int, "16", "connections at most", false, 1, 1000},
        {"db.app_role", K::String, "pulse_app", "role migrations grant table privileges to"},
        {"db.connect_timeout_s", K::Int, "3", "libpq connect timeout", false, 1, 300},
        {"db.startup_timeout_s", K::Int, "30", "how long start-up waits for the database", false, 0, 3600},
        {"db.require_unprivileged", K::Bool, "true",
         "refuse to serve when the application role is superuser, BYPASSRLS or owns tables"},
        {"telemetry.writer_threads", K::Int, "2", "threads writing telemetry batches", false, 1, 32},
        {"telemetry.batch_rows", K::Int, "5000", "readings per COPY batch", false, 100, 1000000},
        {"telemetry.flush_ms", K::Int, "200",
         "a batch is written at the latest this long after its first reading", false, 1, 60000},
        {"telemetry.queue_rows", K::Int, "200000",
         "readings queued at most; beyond, ingest waits and then answers 503 (backpressure)", false, 1000,
         100000000},
        {"telemetry.raw_retention_days", K::Int, "90",
         "days raw readings are kept (partitions dropped after)", false, 2, 3650},
        {"telemetry.rollup_retention_days", K::Int, "730", "days hourly rollups are kept", false, 2, 36500},
        {"telemetry.partitions_ahead_days", K::Int, "7", "daily partitions created ahead of time", false, 1,
         366},
        {"ingest.max_readings", K::Int, "10000", "readings in one message at most (413 above)", false, 1,
         1000000},
        {"telemetry.max_metric_names_per_tenant", K::Int, "2000",
         "distinct metric names one tenant may have (a message adding more is refused with 422); 0: no limit",
         false, 0, 10000000},
        {"ingest.device_readings_per_s", K::Int, "1000",
         "readings per second one device may send, sustained (429 above; MQTT: dropped and counted); 0: no "
         "limit",
         false, 0, 100000000},
        {"ingest.device_burst", K::Int, "10000", "readings one device may send at once", false, 1, 100000000},
        {"ingest.tenant_readings_per_s", K::Int, "50000",
         "readings per second all of one tenant's devices may send, sustained; 0: no limit", false, 0,
         100000000},
        {"ingest.tenant_burst", K::Int, "200000", "readings one tenant may send at once", false, 1,
         1000000000},
        {"ingest.max_future_s", K::Int, "600", "how far ahead of the server clock a reading may be", false, 0,
         86400},
        {"status.flush_ms", K::Int, "1000", "how often last-seen times are written", false, 10, 60000},
        {"status.sweep_s", K::Int, "5", "how often devices are checked for STALE and OFFLINE", false, 1,
         3600},
        {"registry.cache_ttl_ms", K::Int, "5000",
         "device identities are cached this long (revocation takes effect within it)", false, 0, 600000},
        {"mqtt.password_file", K::Path, "",
         "Mosquitto password file Pulse writes device accounts into (empty: not managed)"},
        {"mqtt.password_base_file", K::Path, "",
         "accounts Pulse does not manage, copied first (the ingest account)"},
        {"mqtt.broker_pid_file", K::Path, "", "the broker's PID file; Pulse sends SIGHUP after writing"},
        {"mqtt.sync_s", K::Int, "30", "how often the password file is rewritten from the database", false, 1,
         86400},
        {"secrets.key_file", K::Path, "",
         "file holding the 32-byte key (64 hex digits) that encrypts channel secrets at rest; empty: "
         "channels with secrets cannot be saved or used"},
        {"egress.allow", K::String, "",
         "comma-separated CIDRs senders may reach although private or loopback (tests, private proxies)"},
        {"rules.reload_ms", K::Int, "2000", "how often rule changes are picked up from the database", false,
         100, 600000},
        {"rules.tick_ms", K::Int, "1000", "how often time-based rules (hold-for, heartbeat) are advanced",
         false, 50, 60000},
        {"alerts.queue", K::Int, "100000", "rule transitions waiting for the alert writer at most", false,
         100, 10000000},
        {"notify.workers", K::Int, "8", "dispatcher threads delivering notifications", false, 0, 256},
        {"notify.poll_ms", K::Int, "500", "how often idle dispatchers look for due deliveries", false, 10,
         60000},
        {"notify.lease_s", K::Int, "60",
         "a claimed delivery is another instance's to take after this (longer than any attempt)", false, 5,
         3600},
        {"notify.attempt_timeout_ms", K::Int, "15000", "time allowed for one delivery attempt", false, 100,
         600000},
        {"notify.max_attempts", K::Int, "10", "attempts before a delivery is dead", false, 1, 100},
        {"notify.backoff_base_ms", K::Int, "5000", "delay after the first failed attempt (doubles each time)",
         false, 1, 3600000},
        {"notify.backoff_max_s", K::Int, "21600", "longest delay between attempts", false, 1, 604800},
        {"notify.breaker_failures", K::Int, "5",
         "consecutive transient failures that open a channel's circuit breaker", false, 1, 1000},
        {"notify.breaker_open_s", K::Int, "30", "how long an open breaker holds a channel's deliveries",
         false, 1, 86400},
        {"identity.session_ttl_s", K::Int, "28800", "a browser session ends this long after login", false, 60,
         2592000},
        {"identity.secure_cookies", K::Bool, "false",
         "mark the session cookie Secure (set when pulsed is reached over HTTPS, directly or via a proxy)"},
        {"oidc.issuer", K::String, "",
         "accept bearer tokens (JWT) from this OpenID Connect issuer (its iss); empty: OIDC off"},
        {"oidc.audience", K::String, "",
         "the aud an access token must carry: Pulse's API audience (Keycloak: an audience mapper), not a "
         "client id "
         "that ID tokens also carry"},
        {"oidc.jwks_uri", K::String, "", "where the issuer publishes its signing keys (JWKS)"},
        {"oidc.algorithms", K::String, "RS256,ES256", "signature algorithms accepted (of RS256, ES256)"},
        {"oidc.role_claim", K::String, "pulse_role",
         "dotted path of the claim holding the role(s), e.g. realm_access.roles for Keycloak"},
        {"oidc.role_map", K::String, "",
         "comma-separated claim=role pairs (roles: customer, tenant-admin, operator, operator-admin); empty: "
         "claim values are role names"},
        {"oidc.tenant_claim", K::String, "pulse_tenant", "claim holding the tenant's slug for tenant roles"},
        {"oidc.leeway_s", K::Int, "60", "clock skew allowed on exp and nbf", false, 0, 600},
        {"oidc.jwks_refresh_s", K::Int, "60", "an unknown key id refetches the keys at most this often",
         false, 1, 86400},
        {"http.trusted_proxies", K::String, "",
         "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: none"},
        {"ratelimit.ip_per_s", K::Int, "20", "API requests per second per client address (sustained)", false,
         1, 100000},
        {"ratelimit.ip_burst", K::Int, "60", "API requests a client address may send at once", false, 1,
         1000000},
        {"ratelimit.tenant_per_s", K::Int, "50", "API requests per second per tenant (sustained)", false, 1,
         100000},
        {"ratelimit.tenant_burst", K::Int, "150", "API requests a tenant may send at once", false, 1,
         1000000},
        {"login.max_failures_per_ip", K::Int, "20",
         "failed logins from one address (any account) before it must wait", false, 1, 100000},
        {"login.max_failures_per_account", K::Int, "5",
         "failed logins for one account from one address before that pair must wait", false, 1, 100000},
        {"login.failure_window_s", K::Int, "300", "how long a failed login counts", false, 1, 86400},
        {"plugins.path", K::String, "${application.dir}../lib/pulse/plugins",
         "colon-separated directories searched for plugin libraries"},
        {"plugins.config_dir", K::Path, "plugins.d", "directory of the plugin *.properties files"},
    };
    return keys;
}

std::map<std::string, std::string> processEnvironment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return env;
}

std::string withConnectTimeout(const std::string& conninfo, int seconds) {
    if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
    if (conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0)
        return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") +
               "connect_timeout=" + std::to_string(seconds);
    return conninfo + " connect_timeout=" + std::to_string(seconds);
}

Settings loadSettings(Poco::Util::LayeredConfiguration& appConfig, const std::string& configPath,
                      const std::map<std::string, std::string>& env, bool needDatabase) {
    Settings s;
    Poco::Path path(configPath);
    path.makeAbsolute();
    s.configFile = path.toString();
    s.configDir = path.parent().toString();
    if (!Poco::File(s.configFile).exists())
        throw ConfigError("config file " + s.configFile + " does not exist");

    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file;
    try {
        file = new Poco::Util::PropertyFileConfiguration(s.configFile);
    } catch (const Poco::Exception& e) {
        throw ConfigError(s.configFile + ": " + e.displayText());
    }

    std::vector<std::string> errors;
    std::set<std::string> declared;
    for (const auto& k : configKeys()) declared.insert(k.key);

    std::vector<std::string> fileKeys;
    collectKeys(*file, "", fileKeys);
    for (const auto& k : fileKeys)
        if (!declared.count(k)) errors.push_back(s.configFile + ": unknown key '" + k + "'");

    Poco::AutoPtr<Poco::Util::MapConfiguration> overrides(new Poco::Util::MapConfiguration);
    std::map<std::string, std::string> envSource;
    for (const auto& [name, value] : env) {
        if (name.rfind("PULSE_", 0) != 0 || kNonKeyEnv.count(name) || name.rfind("PULSE_TEST_", 0) == 0)
            continue;
        auto it = std::find_if(configKeys().begin(), configKeys().end(),
                               [&](const ConfigKey& k) { return envName(k.key) == name; });
        if (it == configKeys().end()) {
            s.warnings.push_back("environment variable " + name + " matches no configuration key; ignored");
            continue;
        }
        overrides->setString(it->key, value);
        envSource[it->key] = name;
    }
    appConfig.add(file, "pulse.file", 0, false);
    appConfig.add(overrides, "pulse.env", -100, false);

    std::map<std::string, std::string> values;
    for (const auto& k : configKeys()) {
        std::string source = envSource.count(k.key)     ? envSource[k.key]
                             : file->hasProperty(k.key) ? s.configFile
                                                        : "default";
        std::string raw;
        try {
            raw = Poco::trim(appConfig.getString(k.key, k.defaultValue));
            if (source == "default") raw = appConfig.expand(k.defaultValue);
        } catch (const Poco::Exception& e) {
            errors.push_back(k.key + " (" + source + "): " + e.displayText());
            continue;
        }
        auto fail = [&](const std::string& why) { errors.push_back(k.key + " (" + source + "): " + why); };
        bool required = k.required && (needDatabase || k.key.rfind("db.", 0) != 0);
        if (required && raw.empty()) {
            fail("is required: " + k.description + " (set it in the file or " + envName(k.key) + ")");
            continue;
        }
        switch (k.type) {
            case KeyType::Int: {
                try {
                    size_t used = 0;
                    long long v = std::stoll(raw, &used);
                    if (used != raw.size()) throw std::invalid_argument(raw);
                    if (v < k.min || v > k.max)
                        fail(raw + " is outside " + std::to_string(k.min) + ".." + std::to_string(k.max));
                } catch (const std::exception&) {
                    fail("'" + raw + "' is not an integer");
                }
                break;
            }
            case KeyType::Bool: {
                std::string l = Poco::toLower(raw);
                if (l != "true" && l != "false" && l != "yes" && l != "no" && l != "1" && l != "0" &&
                    l != "on" && l != "off")
                    fail("'" + raw + "' is not a boolean (true or false)");
                else
                    raw = (l == "true" || l == "yes" || l == "1" || l == "on") ? "true" : "false";
                break;
            }
            case KeyType::Choice:
                if (std::find(k.choices.begin(), k.choices.end(), raw) == k.choices.end()) {
                    std::string allowed;
                    for (const auto& c : k.choices) allowed += (allowed.empty() ? "" : ", ") + c;
                    fail("'" + raw + "' is not one of " + allowed);
                }
                break;
            case KeyType::Path:
                raw = resolvePath(raw, s.configDir);
                break;
            default:
                break;
        }
        values[k.key] = raw;
        s.shown[k.key] = {k.type == KeyType::Secret && !raw.empty() ? "***" : raw, source};
    }
    if (!errors.empty()) {
        std::string msg = "invalid configuration:";
        for (const auto& e : errors) msg += "\n  " + e;
        throw ConfigError(msg);
    }

    auto i = [&](const char* k) { return static_cast<int>(std::stoll(values[k])); };
    auto b = [&](const char* k) { return values[k] == "true"; };
    // A list value: items separated by `separator`, trimmed, empty ones dropped.
    auto items = [&](const char* k, const char* separator = ",") {
        Poco::StringTokenizer t(values[k], separator,
                                Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
        return std::vector<std::string>(t.begin(), t.end());
    };
    s.httpAddress = values["http.address"];
    s.httpPort = i("http.port");
    s.httpMaxThreads = i("http.max_threads");
    s.httpMaxQueued = i("http.max_queued");
    s.httpKeepAliveTimeoutS = i("http.keep_alive_timeout_s");
    s.httpHeaderTimeoutS = i("http.header_timeout_s");
    s.httpBodyTimeoutS = i("http.body_timeout_s");
    s.httpWriteTimeoutS = i("http.write_timeout_s");
    s.httpMaxConnections = i("http.max_connections");
    s.httpMaxConnectionsPerAddress = i("http.max_connections_per_address");
    s.httpAddressRequestsPerS = i("http.address_requests_per_s");
    s.httpAddressBurst = i("http.address_burst");
    s.httpMaxBodyBytes = std::stoll(values["http.max_body_bytes"]);
    s.spaDir = values["http.spa_dir"];
    s.logLevel = values["log.level"];
    s.logFormat = values["log.format"];
    s.logFile = values["log.file"];
    s.dbUri = values["db.uri"];
    s.dbMigrateUri = values["db.migrate_uri"];
    s.dbMigrateOnStart = b("db.migrate_on_start");
    s.dbMigrationsDir = values["db.migrations_dir"];
    s.dbPoolMin = i("db.pool_min");
    s.dbPoolMax = i("db.pool_max");
    s.dbAppRole = values["db.app_role"];
    s.dbConnectTimeoutS = i("db.connect_timeout_s");
    s.dbStartupTimeoutS = i("db.startup_timeout_s");
    s.dbRequireUnprivileged = b("db.require_unprivileged");
    auto dirs = items("plugins.path", ":");
    for (const auto& d : dirs) s.pluginPaths.push_back(resolvePath(d, s.configDir));
    s.pluginConfigDir = values["plugins.config_dir"];
    s.telemetryWriterThreads = i("telemetry.writer_threads");
    s.telemetryBatchRows = i("telemetry.batch_rows");
    s.telemetryFlushMs = i("telemetry.flush_ms");
    s.telemetryQueueRows = i("telemetry.queue_rows");
    s.telemetryRawRetentionDays = i("telemetry.raw_retention_days");
    s.telemetryRollupRetentionDays = i("telemetry.rollup_retention_days");
    s.telemetryPartitionsAheadDays = i("telemetry.partitions_ahead_days");
    s.ingestMaxReadings = i("ingest.max_readings");
    s.ingestMaxFutureS = i("ingest.max_future_s");
    s.ingestDeviceReadingsPerS = i("ingest.device_readings_per_s");
    s.maxMetricNamesPerTenant = i("telemetry.max_metric_names_per_tenant");
    s.ingestDeviceBurst = i("ingest.device_burst");
    s.ingestTenantReadingsPerS = i("ingest.tenant_readings_per_s");
    s.ingestTenantBurst = i("ingest.tenant_burst");
    s.statusFlushMs = i("status.flush_ms");
    s.statusSweepS = i("status.sweep_s");
    s.registryCacheTtlMs = i("registry.cache_ttl_ms");
    s.mqttPasswordFile = values["mqtt.password_file"];
    s.mqttPasswordBaseFile = values["mqtt.password_base_file"];
    s.mqttBrokerPidFile = values["mqtt.broker_pid_file"];
    s.mqttSyncS = i("mqtt.sync_s");
    s.secretsKeyFile = values["secrets.key_file"];
    auto allow = items("egress.allow");
    for (const auto& a : allow) {
        try {
            net::Cidr::parse(a);
        } catch (const std::exception& e) {
            throw ConfigError(std::string("invalid configuration:\n  egress.allow: ") + e.what());
        }
        s.egressAllow.push_back(a);
    }
    s.sessionTtlS = i("identity.session_ttl_s");
    s.oidcIssuer = values["oidc.issuer"];
    s.oidcAudience = values["oidc.audience"];
    s.oidcJwksUri = values["oidc.jwks_uri"];
    s.oidcRoleClaim = values["oidc.role_claim"];
    s.oidcTenantClaim = values["oidc.tenant_claim"];
    s.oidcLeewayS = i("oidc.leeway_s");
    s.oidcJwksRefreshS = i("oidc.jwks_refresh_s");
    auto algorithms = items("oidc.algorithms");
    for (const auto& a : algorithms) {
        if (a != "RS256" && a != "ES256")
            throw ConfigError("invalid configuration:\n  oidc.algorithms: '" + a +
                              "' is not accepted (RS256 and ES256 are; never none or an HMAC)");
        s.oidcAlgorithms.push_back(a);
    }
    auto pairs = items("oidc.role_map");
    for (const auto& pair : pairs) {
        auto eq = pair.find('=');
        std::string role = eq == std::string::npos ? "" : pair.substr(eq + 1);
        if (eq == 0 ||
            (role != "customer" && role != "tenant-admin" && role != "operator" && role != "operator-admin"))
            throw ConfigError(
                "invalid configuration:\n  oidc.role_map: '" + pair +
                "' is not claim=role with role customer, tenant-admin, operator or operator-admin");
        s.oidcRoleMap[pair.substr(0, eq)] = role;
    }
    // Keys fetched over plain HTTP could be swapped on the way, and every token forged: https, or loopback.
    auto loopback = [](const std::string& uri) {
        try {
            std::string host = Poco::URI(uri).getHost();
            return host == "localhost" || Poco::Net::IPAddress(host).isLoopback();
        } catch (const Poco::Exception&) {
            return false;
        }
    };
    if (!s.oidcJwksUri.empty() && s.oidcJwksUri.rfind("https://", 0) != 0 &&
        !(s.oidcJwksUri.rfind("http://", 0) == 0 && loopback(s.oidcJwksUri)))
        throw ConfigError(
            "invalid configuration:\n  oidc.jwks_uri: must be https:// (plain http only on loopback)");
    if (!s.oidcIssuer.empty() &&
        (s.oidcAudience.empty() || s.oidcJwksUri.empty() || s.oidcAlgorithms.empty()))
        throw ConfigError(
            "invalid configuration:\n  oidc.issuer is set: oidc.audience, oidc.jwks_uri and "
            "oidc.algorithms must be too");
    s.secureCookies = b("identity.secure_cookies");
    auto proxies = items("http.trusted_proxies");
    for (const auto& p : proxies) {
        try {
            net::Cidr::parse(p);
        } catch (const std::exception& e) {
            throw ConfigError(std::string("invalid configuration:\n  http.trusted_proxies: ") + e.what());
        }
        s.trustedProxies.push_back(p);
    }
    s.rateIpPerS = i("ratelimit.ip_per_s");
    s.rateIpBurst = i("ratelimit.ip_burst");
    s.rateTenantPerS = i("ratelimit.tenant_per_s");
    s.rateTenantBurst = i("ratelimit.tenant_burst");
    s.loginMaxFailuresPerIp = i("login.max_failures_per_ip");
    s.loginMaxFailuresPerAccount = i("login.max_failures_per_account");
    s.loginFailureWindowS = i("login.failure_window_s");
    s.rulesReloadMs = i("rules.reload_ms");
    s.rulesTickMs = i("rules.tick_ms");
    s.alertsQueue = i("alerts.queue");
    s.notifyWorkers = i("notify.workers");
    s.notifyPollMs = i("notify.poll_ms");
    s.notifyLeaseS = i("notify.lease_s");
    s.notifyAttemptTimeoutMs = i("notify.attempt_timeout_ms");
    s.notifyMaxAttempts = i("notify.max_attempts");
    s.notifyBackoffBaseMs = i("notify.backoff_base_ms");
    s.notifyBackoffMaxS = i("notify.backoff_max_s");
    s.notifyBreakerFailures = i("notify.breaker_failures");
    s.notifyBreakerOpenS = i("notify.breaker_open_s");
    if (static_cast<long long>(s.notifyAttemptTimeoutMs) >= static_cast<long long>(s.notifyLeaseS) * 1000)
        throw ConfigError(
            "invalid configuration:\n  notify.attempt_timeout_ms must be shorter than notify.lease_s");

    if (s.dbPoolMin > s.dbPoolMax)
        throw ConfigError("invalid configuration:\n  db.pool_min is greater than db.pool_max");
    if (s.dbMigrateOnStart && s.dbMigrateUri.empty()) {
        s.dbMigrateOnStart = false;
        if (needDatabase)
            s.warnings.push_back("db.migrate_uri is empty: pending migrations are reported, not applied");
    }
    return s;
}

}  // namespace pulse::config
