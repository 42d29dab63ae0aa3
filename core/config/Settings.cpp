#include "config/Settings.h"

#include "net/EgressGuard.h"
#include "services/Roles.h"

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
#include <type_traits>

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

// A list value: comma-separated items, trimmed, empty ones dropped.
std::vector<std::string> items(const std::string& text, const char* separator = ",") {
    Poco::StringTokenizer t(text, separator,
                            Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    return std::vector<std::string>(t.begin(), t.end());
}

// A field of Settings as the value of a row. The loop has checked the text already (an integer within
// the row's bounds, "true"/"false", a choice), so conversions here do not fail; list items may.
template <class T>
T converted(const std::string& text) {
    if constexpr (std::is_same_v<T, std::string>) {
        return text;
    } else if constexpr (std::is_same_v<T, bool>) {
        return text == "true";
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        return items(text);
    } else if constexpr (std::is_same_v<T, std::vector<net::Cidr>>) {
        std::vector<net::Cidr> out;
        for (const auto& item : items(text)) out.push_back(net::Cidr::parse(item));
        return out;
    } else {
        return static_cast<T>(std::stoll(text));
    }
}

using Fill = std::function<void(Settings&, const std::string&)>;

template <class T>
Fill into(T Settings::*field) {
    return [field](Settings& s, const std::string& v) { s.*field = converted<T>(v); };
}

template <class Group, class T>
Fill into(Group Settings::*group, T Group::*field) {
    return [group, field](Settings& s, const std::string& v) { s.*group.*field = converted<T>(v); };
}

// An integer in Unit (milliseconds, seconds) into a duration field.
template <class Unit, class Group, class Duration>
Fill into(Group Settings::*group, Duration Group::*field) {
    return [group, field](Settings& s, const std::string& v) {
        s.*group.*field = std::chrono::duration_cast<Duration>(Unit(std::stoll(v)));
    };
}

void oidcAlgorithms(Settings& s, const std::string& v) {
    s.oidc.algorithms.clear();
    for (const auto& a : items(v)) {
        if (a != "RS256" && a != "ES256")
            throw std::invalid_argument("'" + a +
                                        "' is not accepted (RS256 and ES256 are; never none or an HMAC)");
        s.oidc.algorithms.push_back(a);
    }
}

void oidcRoleMap(Settings& s, const std::string& v) {
    s.oidc.roleMap.clear();
    for (const auto& pair : items(v)) {
        auto eq = pair.find('=');
        std::string role = eq == std::string::npos ? "" : pair.substr(eq + 1);
        if (eq == 0 || !services::isRole(role))
            throw std::invalid_argument("'" + pair + "' is not claim=role with role " + services::roleList());
        s.oidc.roleMap[pair.substr(0, eq)] = role;
    }
}

}  // namespace

std::string envName(const std::string& key) {
    std::string out = "PULSE_";
    for (char c : key) out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

const std::vector<ConfigKey>& configKeys() {
    using K = KeyType;
    using S = Settings;
    using Ms = std::chrono::milliseconds;
    using Sec = std::chrono::seconds;
    static const std::vector<ConfigKey> keys = {
        {"http.address", K::String, "127.0.0.1", "address the HTTP server binds to",
         into(&S::http, &HttpSettings::address)},
        {"http.port", K::Int, "8080", "HTTP port (0 picks a free port, logged at start-up)",
         into(&S::http, &HttpSettings::port), 0, 65535},
        {"http.max_threads", K::Int, "64",
         "HTTP worker threads running handlers (connections are held by the I/O thread, not by these)",
         into(&S::http, &HttpSettings::workers), 2, 4096},
        {"http.max_queued", K::Int, "256", "complete requests waiting for a worker (503 above)",
         into(&S::http, &HttpSettings::maxQueued), 1, 65536},
        {"http.keep_alive_timeout_s", K::Int, "15", "idle keep-alive connections close after this",
         into(&S::http, &HttpSettings::keepAliveTimeoutS), 1, 3600},
        {"http.header_timeout_s", K::Int, "5",
         "a request header must arrive whole within this (from accept, or from its first byte); 408 after",
         into(&S::http, &HttpSettings::headerTimeoutS), 1, 300},
        {"http.body_timeout_s", K::Int, "30", "a request body must arrive whole within this; 408 after",
         into(&S::http, &HttpSettings::bodyTimeoutS), 1, 3600},
        {"http.write_timeout_s", K::Int, "30", "a response must be taken by the client within this",
         into(&S::http, &HttpSettings::writeTimeoutS), 1, 3600},
        {"http.max_connections", K::Int, "16384",
         "open HTTP connections (idle keep-alive ones are closed first to make room; 503 when none is idle); "
         "lowered to fit the process's descriptor limit",
         into(&S::http, &HttpSettings::maxConnections), 16, 1000000},
        {"http.address_requests_per_s", K::Int, "1000",
         "requests per second one client address (IPv4, or IPv6 /64) may send to any route, sustained (429 "
         "above); trusted proxies are exempt; 0: no limit",
         into(&S::http, &HttpSettings::addressRequestsPerS), 0, 10000000},
        {"http.address_burst", K::Int, "2000", "requests one client address may send at once",
         into(&S::http, &HttpSettings::addressBurst), 1, 10000000},
        {"http.max_connections_per_address", K::Int, "256",
         "open connections per client IPv4 address or IPv6 /64 (429 above); trusted proxies are exempt",
         into(&S::http, &HttpSettings::maxConnectionsPerAddress), 1, 1000000},
        {"http.max_body_bytes", K::Int, "1048576", "largest request body accepted (413 above)",
         into(&S::http, &HttpSettings::maxBodyBytes), 1024, 1LL << 30},
        {"http.spa_dir", K::Path, "../spa/dist", "directory of the built web UI served at /",
         into(&S::http, &HttpSettings::spaDir)},
        {"http.stream_buffer_bytes", K::Int, "1048576",
         "an event stream's data not yet taken by its client, at most; past it the stream is closed (the "
         "client reconnects and resumes)",
         into(&S::http, &HttpSettings::streamBufferBytes), 4096, 1LL << 30},
        {"stream.max_per_principal", K::Int, "8", "open live streams per user or API key (429 above)",
         into(&S::stream, &StreamSettings::maxPerPrincipal), 1, 10000},
        {"stream.max_total", K::Int, "2000", "open live streams in all (429 above)",
         into(&S::stream, &StreamSettings::maxTotal), 1, 1000000},
        {"stream.replay_events", K::Int, "4096",
         "alert and device events kept for streams that reconnect with Last-Event-ID",
         into(&S::stream, &StreamSettings::replayEvents), 16, 1000000},
        {"demo.history", K::Bool, "true",
         "--seed-demo also writes what a week of running leaves: sites, readings, a breaching and a silent "
         "device, open and acknowledged alerts (only while the demo tenant has no readings)",
         into(&S::demoHistory)},
        {"stream.heartbeat_s", K::Int, "15", "a keep-alive comment on every live stream this often",
         into(&S::stream, &StreamSettings::heartbeatS), 1, 3600},
        {"log.level",
         K::Choice,
         "info",
         "least severe level written",
         into(&S::logLevel),
         0,
         0,
         {"trace", "debug", "info", "warn", "error", "critical", "off"}},
        {"log.format",
         K::Choice,
         "text",
         "text lines, or JSON lines for log shippers",
         into(&S::logFormat),
         0,
         0,
         {"text", "json"}},
        {"log.file", K::Path, "", "log to this file instead of standard error", into(&S::logFile)},
        {"db.uri",
         K::Secret,
         "",
         "libpq conninfo of the application role (owns no tables)",
         into(&S::db, &DatabaseSettings::uri),
         0,
         0,
         {},
         true},
        {"db.migrate_uri", K::Secret, "", "libpq conninfo of the schema owner, used only to migrate",
         into(&S::db, &DatabaseSettings::migrateUri)},
        {"db.migrate_on_start", K::Bool, "true",
         "apply pending sql/ migrations at start-up (needs db.migrate_uri)",
         into(&S::db, &DatabaseSettings::migrateOnStart)},
        {"db.migrations_dir", K::Path, "../sql", "directory of the NNN_name.sql migrations",
         into(&S::db, &DatabaseSettings::migrationsDir)},
        {"db.pool_min", K::Int, "1",
         "Poco Data sessions kept open (ordinary queries: identity, audit, registry)",
         into(&S::db, &DatabaseSettings::poolMin), 0, 1000},
        {"db.pool_max", K::Int, "6", "Poco Data sessions at most", into(&S::db, &DatabaseSettings::poolMax),
         1, 1000},
        {"db.libpq_pool_max", K::Int, "16",
         "libpq connections at most: the REST API's queries, the telemetry writers (one each), the alert "
         "writer, the dispatcher's claims, status, rule reloads; with db.pool_max the instance's budget",
         into(&S::db, &DatabaseSettings::libpqPoolMax), 1, 1000},
        {"db.app_role", K::String, "pulse_app", "role migrations grant table privileges to",
         into(&S::db, &DatabaseSettings::appRole)},
        {"db.connect_timeout_s", K::Int, "3", "libpq connect timeout",
         into(&S::db, &DatabaseSettings::connectTimeoutS), 1, 300},
        {"db.startup_timeout_s", K::Int, "30", "how long start-up waits for the database",
         into(&S::db, &DatabaseSettings::startupTimeoutS), 0, 3600},
        {"db.require_unprivileged", K::Bool, "true",
         "refuse to serve when the application role is superuser, BYPASSRLS or owns tables",
         into(&S::db, &DatabaseSettings::requireUnprivileged)},
        {"telemetry.writer_threads", K::Int, "2", "threads writing telemetry batches",
         into(&S::writer, &WriterSettings::threads), 1, 32},
        {"telemetry.batch_rows", K::Int, "5000", "readings written in one batch (one transaction)",
         into(&S::writer, &WriterSettings::batchRows), 100, 1000000},
        {"telemetry.flush_ms", K::Int, "200",
         "a batch is written at the latest this long after its first reading",
         into<Ms>(&S::writer, &WriterSettings::flushInterval), 1, 60000},
        {"telemetry.queue_rows", K::Int, "200000",
         "readings queued at most; beyond, ingest waits and then answers 503 (backpressure)",
         into(&S::writer, &WriterSettings::maxQueuedRows), 1000, 100000000},
        {"telemetry.raw_retention_days", K::Int, "90",
         "days raw readings are kept (partitions dropped after)", into(&S::telemetryRawRetentionDays), 2,
         3650},
        {"telemetry.rollup_retention_days", K::Int, "730", "days hourly rollups are kept",
         into(&S::telemetryRollupRetentionDays), 2, 36500},
        {"telemetry.partitions_ahead_days", K::Int, "7", "daily partitions created ahead of time",
         into(&S::telemetryPartitionsAheadDays), 1, 366},
        {"ingest.max_readings", K::Int, "10000", "readings in one message at most (413 above)",
         into(&S::ingestMaxReadings), 1, 1000000},
        {"telemetry.max_metric_names_per_tenant", K::Int, "2000",
         "distinct metric names one tenant may have (a message adding more is refused with 422); 0: no limit",
         into(&S::maxMetricNamesPerTenant), 0, 10000000},
        {"ingest.device_readings_per_s", K::Int, "1000",
         "readings per second one device may send, sustained (429 above; MQTT: dropped and counted); 0: no "
         "limit",
         into(&S::budget, &BudgetSettings::deviceReadingsPerS), 0, 100000000},
        {"ingest.device_burst", K::Int, "10000", "readings one device may send at once",
         into(&S::budget, &BudgetSettings::deviceBurst), 1, 100000000},
        {"ingest.tenant_readings_per_s", K::Int, "50000",
         "readings per second all of one tenant's devices may send, sustained; 0: no limit",
         into(&S::budget, &BudgetSettings::tenantReadingsPerS), 0, 100000000},
        {"ingest.tenant_burst", K::Int, "200000", "readings one tenant may send at once",
         into(&S::budget, &BudgetSettings::tenantBurst), 1, 1000000000},
        {"ingest.max_future_s", K::Int, "600", "how far ahead of the server clock a reading may be",
         into(&S::ingestMaxFutureS), 0, 86400},
        {"status.flush_ms", K::Int, "1000", "how often last-seen times are written", into(&S::statusFlushMs),
         10, 60000},
        {"status.sweep_s", K::Int, "5", "how often devices are checked for STALE and OFFLINE",
         into(&S::statusSweepS), 1, 3600},
        {"registry.cache_ttl_ms", K::Int, "5000",
         "device identities are cached this long (revocation takes effect within it)",
         into(&S::registryCacheTtlMs), 0, 600000},
        {"mqtt.password_file", K::Path, "",
         "Mosquitto password file Pulse writes device accounts into (empty: not managed)",
         into(&S::mqttPasswordFile)},
        {"mqtt.password_base_file", K::Path, "",
         "accounts Pulse does not manage, copied first (the ingest account)", into(&S::mqttPasswordBaseFile)},
        {"mqtt.broker_pid_file", K::Path, "", "the broker's PID file; Pulse sends SIGHUP after writing",
         into(&S::mqttBrokerPidFile)},
        {"mqtt.sync_s", K::Int, "30", "how often the password file is rewritten from the database",
         into(&S::mqttSyncS), 1, 86400},
        {"secrets.key_file", K::Path, "",
         "file holding the 32-byte key (64 hex digits) that encrypts channel secrets at rest; empty: "
         "channels with secrets cannot be saved or used",
         into(&S::secretsKeyFile)},
        {"egress.allow", K::List, "",
         "comma-separated CIDRs senders may reach although private or loopback (tests, private proxies)",
         into(&S::egressAllow)},
        {"rules.reload_ms", K::Int, "2000", "how often rule changes are picked up from the database",
         into(&S::rulesReloadMs), 100, 600000},
        {"rules.tick_ms", K::Int, "1000", "how often time-based rules (hold-for, heartbeat) are advanced",
         into(&S::rulesTickMs), 50, 60000},
        {"alerts.queue", K::Int, "100000", "rule transitions waiting for the alert writer at most",
         into(&S::alerts, &AlertSettings::queueCapacity), 100, 10000000},
        {"alerts.flapping_sweep_ms", K::Int, "1000",
         "how often alerts held open for flapping are checked for release once stable",
         into<Ms>(&S::alerts, &AlertSettings::flappingSweep), 50, 600000},
        {"alerts.parent_settle_s", K::Int, "60",
         "a parent device that recovered (back online, its heartbeat alert closed) still suppresses its "
         "children's alerts this long, while they reconnect behind it; 0: released at once",
         into(&S::alerts, &AlertSettings::parentSettleS), 0, 3600},
        {"escalation.poll_ms", K::Int, "1000",
         "the longest the escalator waits before looking for due levels (other instances' alerts)",
         into<Ms>(&S::escalation, &EscalationSettings::poll), 10, 60000},
        {"escalation.batch", K::Int, "200", "escalation levels fired per transaction",
         into(&S::escalation, &EscalationSettings::batch), 1, 10000},
        {"notify.workers", K::Int, "8", "dispatcher threads delivering notifications",
         into(&S::notify, &DispatcherSettings::workers), 0, 256},
        {"notify.poll_ms", K::Int, "500", "how often idle dispatchers look for due deliveries",
         into<Ms>(&S::notify, &DispatcherSettings::poll), 10, 60000},
        {"notify.lease_s", K::Int, "60",
         "a claimed delivery is another instance's to take after this (longer than any attempt)",
         into<Sec>(&S::notify, &DispatcherSettings::lease), 5, 3600},
        {"notify.attempt_timeout_ms", K::Int, "15000", "time allowed for one delivery attempt",
         into<Ms>(&S::notify, &DispatcherSettings::attemptTimeout), 100, 600000},
        {"notify.console_url", K::String, "",
         "the console's address as its users reach it (https://pulse.example.com): notifications link to the "
         "alert there; empty: no link",
         into(&S::alerts, &AlertSettings::consoleUrl)},
        {"notify.acknowledge_link_ttl_s", K::Int, "86400",
         "how long the signed, single-use acknowledge link in an opening's or a page's message works (needs "
         "notify.console_url and secrets.key_file); 0: no links",
         into(&S::alerts, &AlertSettings::acknowledgeLinkTtlS), 0, 604800},
        {"notify.max_attempts", K::Int, "10", "attempts before a delivery is dead",
         into(&S::alerts, &AlertSettings::maxAttempts), 1, 100},
        {"notify.backoff_base_ms", K::Int, "5000", "delay after the first failed attempt (doubles each time)",
         into<Ms>(&S::notify, &DispatcherSettings::backoffBase), 1, 3600000},
        {"notify.backoff_max_s", K::Int, "21600", "longest delay between attempts",
         into<Sec>(&S::notify, &DispatcherSettings::backoffMax), 1, 604800},
        {"notify.breaker_failures", K::Int, "5",
         "consecutive transient failures that open a channel's circuit breaker",
         into(&S::notify, &DispatcherSettings::breakerFailures), 1, 1000},
        {"notify.breaker_open_s", K::Int, "30", "how long an open breaker holds a channel's deliveries",
         into<Sec>(&S::notify, &DispatcherSettings::breakerOpen), 1, 86400},
        {"identity.session_ttl_s", K::Int, "28800", "a browser session ends this long after login",
         into(&S::api, &ApiSettings::sessionTtlS), 60, 2592000},
        {"identity.secure_cookies", K::Bool, "false",
         "mark the session cookie Secure (set when pulsed is reached over HTTPS, directly or via a proxy)",
         into(&S::api, &ApiSettings::secureCookies)},
        {"oidc.issuer", K::String, "",
         "accept bearer tokens (JWT) from this OpenID Connect issuer (its iss); empty: OIDC off",
         into(&S::oidc, &OidcSettings::issuer)},
        {"oidc.audience", K::String, "",
         "the aud an access token must carry: Pulse's API audience (Keycloak: an audience mapper), not a "
         "client id "
         "that ID tokens also carry",
         into(&S::oidc, &OidcSettings::audience)},
        {"oidc.jwks_uri", K::String, "", "where the issuer publishes its signing keys (JWKS)",
         into(&S::oidc, &OidcSettings::jwksUri)},
        {"oidc.algorithms", K::List, "RS256,ES256", "signature algorithms accepted (of RS256, ES256)",
         oidcAlgorithms},
        {"oidc.role_claim", K::String, "pulse_role",
         "dotted path of the claim holding the role(s), e.g. realm_access.roles for Keycloak",
         into(&S::oidc, &OidcSettings::roleClaim)},
        {"oidc.role_map", K::List, "",
         "comma-separated claim=role pairs (roles: customer, tenant-admin, operator, operator-admin); empty: "
         "claim values are role names",
         oidcRoleMap},
        {"oidc.tenant_claim", K::String, "pulse_tenant", "claim holding the tenant's slug for tenant roles",
         into(&S::oidc, &OidcSettings::tenantClaim)},
        {"oidc.leeway_s", K::Int, "60", "clock skew allowed on exp and nbf",
         into(&S::oidc, &OidcSettings::leewayS), 0, 600},
        {"oidc.jwks_refresh_s", K::Int, "60", "an unknown key id refetches the keys at most this often",
         into(&S::oidc, &OidcSettings::jwksRefreshS), 1, 86400},
        {"oidc.console_client_id", K::String, "",
         "the console's client id at the issuer (a public client: authorization code with PKCE, redirect URI "
         "<console origin>/sign-in/callback); empty: the console offers password sign-in only",
         into(&S::oidc, &OidcSettings::consoleClientId)},
        {"oidc.display_name", K::String, "single sign-on",
         "the provider's name on the console's sign-in button", into(&S::oidc, &OidcSettings::displayName)},
        {"http.trusted_proxies", K::List, "",
         "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: none",
         into(&S::http, &HttpSettings::trustedProxies)},
        {"ratelimit.ip_per_s", K::Int, "20", "API requests per second per client address (sustained)",
         into(&S::api, &ApiSettings::ipPerS), 1, 100000},
        {"ratelimit.ip_burst", K::Int, "60", "API requests a client address may send at once",
         into(&S::api, &ApiSettings::ipBurst), 1, 1000000},
        {"ratelimit.tenant_per_s", K::Int, "50", "API requests per second per tenant (sustained)",
         into(&S::api, &ApiSettings::tenantPerS), 1, 100000},
        {"ratelimit.tenant_burst", K::Int, "150", "API requests a tenant may send at once",
         into(&S::api, &ApiSettings::tenantBurst), 1, 1000000},
        {"login.max_failures_per_ip", K::Int, "20",
         "failed logins from one address (any account) before it must wait",
         into(&S::api, &ApiSettings::loginMaxPerIp), 1, 100000},
        {"login.max_failures_per_account", K::Int, "5",
         "failed logins for one account from one address before that pair must wait",
         into(&S::api, &ApiSettings::loginMaxPerAccount), 1, 100000},
        {"login.failure_window_s", K::Int, "300", "how long a failed login counts",
         into(&S::api, &ApiSettings::loginWindowS), 1, 86400},
        {"plugins.path", K::PathList, "${application.dir}../lib/pulse/plugins",
         "colon-separated directories searched for plugin libraries", into(&S::pluginPaths)},
        {"plugins.config_dir", K::Path, "plugins.d", "directory of the plugin *.properties files",
         into(&S::pluginConfigDir)},
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

namespace {

// The settings a layered configuration gives: every row's value (file, environment or default) checked by
// its type and stored in its field. Problems are collected, not thrown, so all are reported at once.
void applyRows(Settings& s, const std::function<std::string(const ConfigKey&)>& sourceOf,
               const std::function<std::string(const ConfigKey&)>& rawOf, bool needDatabase,
               std::vector<std::string>& errors) {
    for (const auto& k : configKeys()) {
        std::string source = sourceOf(k);
        auto fail = [&](const std::string& why) { errors.push_back(k.key + " (" + source + "): " + why); };
        std::string raw;
        try {
            raw = Poco::trim(rawOf(k));
        } catch (const Poco::Exception& e) {
            fail(e.displayText());
            continue;
        }
        bool required = k.required && (needDatabase || k.key.rfind("db.", 0) != 0);
        if (required && raw.empty()) {
            fail("is required: " + k.description + " (set it in the file or " + envName(k.key) + ")");
            continue;
        }
        bool valid = true;
        switch (k.type) {
            case KeyType::Int: {
                try {
                    size_t used = 0;
                    long long v = std::stoll(raw, &used);
                    if (used != raw.size()) throw std::invalid_argument(raw);
                    if (v < k.min || v > k.max) {
                        fail(raw + " is outside " + std::to_string(k.min) + ".." + std::to_string(k.max));
                        valid = false;
                    }
                } catch (const std::exception&) {
                    fail("'" + raw + "' is not an integer");
                    valid = false;
                }
                break;
            }
            case KeyType::Bool: {
                std::string l = Poco::toLower(raw);
                if (l != "true" && l != "false" && l != "yes" && l != "no" && l != "1" && l != "0" &&
                    l != "on" && l != "off") {
                    fail("'" + raw + "' is not a boolean (true or false)");
                    valid = false;
                } else {
                    raw = (l == "true" || l == "yes" || l == "1" || l == "on") ? "true" : "false";
                }
                break;
            }
            case KeyType::Choice:
                if (std::find(k.choices.begin(), k.choices.end(), raw) == k.choices.end()) {
                    std::string allowed;
                    for (const auto& c : k.choices) allowed += (allowed.empty() ? "" : ", ") + c;
                    fail("'" + raw + "' is not one of " + allowed);
                    valid = false;
                }
                break;
            case KeyType::Path:
                raw = resolvePath(raw, s.configDir);
                break;
            case KeyType::PathList: {  // colon-separated, each resolved; stored as a list
                std::string joined;
                for (const auto& d : items(raw, ":"))
                    joined += (joined.empty() ? "" : ",") + resolvePath(d, s.configDir);
                raw = joined;
                break;
            }
            default:
                break;
        }
        if (!valid) continue;
        try {
            k.fill(s, raw);
        } catch (const std::exception& e) {
            fail(e.what());
            continue;
        }
        s.shown[k.key] = {k.type == KeyType::Secret && !raw.empty() ? "***" : raw, source};
    }
}

// What no single row can say: settings that must agree with each other.
void checkTogether(Settings& s, bool needDatabase, std::vector<std::string>& errors) {
    // Keys fetched over plain HTTP could be swapped on the way, and every token forged: https, or loopback.
    auto loopback = [](const std::string& uri) {
        try {
            std::string host = Poco::URI(uri).getHost();
            return host == "localhost" || Poco::Net::IPAddress(host).isLoopback();
        } catch (const Poco::Exception&) {
            return false;
        }
    };
    const auto& o = s.oidc;
    if (!o.jwksUri.empty() && o.jwksUri.rfind("https://", 0) != 0 &&
        !(o.jwksUri.rfind("http://", 0) == 0 && loopback(o.jwksUri)))
        errors.push_back("oidc.jwks_uri: must be https:// (plain http only on loopback)");
    if (!o.issuer.empty() && (o.audience.empty() || o.jwksUri.empty() || o.algorithms.empty()))
        errors.push_back("oidc.issuer is set: oidc.audience, oidc.jwks_uri and oidc.algorithms must be too");
    const std::string& console = s.alerts.consoleUrl;
    if (!console.empty() &&
        ((console.rfind("https://", 0) != 0 && console.rfind("http://", 0) != 0) || console.back() == '/'))
        errors.push_back("notify.console_url: an http:// or https:// address without a trailing '/'");
    if (s.notify.attemptTimeout >= s.notify.lease)
        errors.push_back("notify.attempt_timeout_ms must be shorter than notify.lease_s");
    if (s.db.poolMin > s.db.poolMax) errors.push_back("db.pool_min is greater than db.pool_max");
    if (s.db.migrateOnStart && s.db.migrateUri.empty()) {
        s.db.migrateOnStart = false;
        if (needDatabase)
            s.warnings.push_back("db.migrate_uri is empty: pending migrations are reported, not applied");
    }
}

void throwIfAny(const std::vector<std::string>& errors) {
    if (errors.empty()) return;
    std::string msg = "invalid configuration:";
    for (const auto& e : errors) msg += "\n  " + e;
    throw ConfigError(msg);
}

}  // namespace

Settings loadSettings(Poco::Util::LayeredConfiguration& appConfig, const std::string& configPath,
                      const std::map<std::string, std::string>& env, bool needDatabase) {
    Settings s{};
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

    auto sourceOf = [&](const ConfigKey& k) {
        return envSource.count(k.key)     ? envSource[k.key]
               : file->hasProperty(k.key) ? s.configFile
                                          : "default";
    };
    auto rawOf = [&](const ConfigKey& k) {
        return sourceOf(k) == "default" ? appConfig.expand(k.defaultValue) : appConfig.getString(k.key);
    };
    applyRows(s, sourceOf, rawOf, needDatabase, errors);
    throwIfAny(errors);
    checkTogether(s, needDatabase, errors);
    throwIfAny(errors);
    return s;
}

std::string settingsTable() {
    std::string out = "| key | default | allowed | environment | meaning |\n|---|---|---|---|---|\n";
    for (const auto& k : configKeys()) {
        std::string def = k.defaultValue.empty() ? (k.required ? "(required)" : "(empty)") : k.defaultValue;
        std::string allowed;
        if (k.type == KeyType::Int) allowed = std::to_string(k.min) + " to " + std::to_string(k.max);
        if (k.type == KeyType::Bool) allowed = "true, false";
        for (const auto& c : k.choices) allowed += (allowed.empty() ? "" : ", ") + c;
        if (k.type == KeyType::Secret) allowed = "secret (shown as ***)";
        std::string meaning = k.description;
        for (size_t at = 0; (at = meaning.find('|', at)) != std::string::npos; at += 2)
            meaning.insert(at, "\\");
        out += "| `" + k.key + "` | " + def + " | " + allowed + " | `" + envName(k.key) + "` | " + meaning +
               " |\n";
    }
    return out;
}

Settings defaults() {
    Settings s{};
    s.configDir = Poco::Path::current();
    std::vector<std::string> errors;
    applyRows(
        s, [](const ConfigKey&) { return std::string("default"); },
        [](const ConfigKey& k) { return k.defaultValue; }, false, errors);
    checkTogether(s, false, errors);
    throwIfAny(errors);
    return s;
}

}  // namespace pulse::config
