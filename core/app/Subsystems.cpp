#include "app/Subsystems.h"

#include "http/HealthRoutes.h"
#include "http/HttpServer.h"
#include "http/MetricsRoute.h"
#include "http/StaticFiles.h"
#include "logging/Logging.h"
#include "services/BrokerCredentials.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "workers/TelemetryMaintenance.h"

#include <Poco/Data/Session.h>
#include <Poco/Util/Application.h>

#include <thread>

namespace pulse::app {
namespace {

// Retries fn while the database refuses connections, up to the timeout; other errors pass through.
template <class Fn>
void withStartupRetry(int timeoutS, Fn&& fn) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutS);
    for (int attempt = 1;; ++attempt) {
        try {
            fn();
            return;
        } catch (const storage::DatabaseError& e) {
            bool unreachable = std::string(e.what()).rfind("cannot connect", 0) == 0;
            if (!unreachable || std::chrono::steady_clock::now() >= deadline) throw;
            if (attempt == 1) logging::get("db")->warn("waiting for the database: {}", e.what());
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
}

}  // namespace

void migrateOrCheck(const config::Settings& s, bool apply) {
    storage::MigrationRunner runner(s.dbMigrationsDir);
    withStartupRetry(s.dbStartupTimeoutS, [&] {
        if (apply) {
            storage::PgConnection owner(config::withConnectTimeout(s.dbMigrateUri, s.dbConnectTimeoutS));
            auto applied = runner.migrate(owner, s.dbAppRole);
            logging::get("db")->info("schema is current ({} migration(s) applied now)", applied.size());
        } else {
            storage::PgConnection conn(config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS));
            auto pending = runner.pending(conn);
            if (!pending.empty())
                throw storage::DatabaseError(std::to_string(pending.size()) +
                                             " migration(s) pending, starting with " + pending.front().name +
                                             "; run pulsed --migrate with db.migrate_uri set");
        }
    });
}

void ConfigSubsystem::initialize(Poco::Util::Application& app) {
    ctx_.settings = config::loadSettings(app.config(), path_, config::processEnvironment(), needDatabase_);
    const auto& s = ctx_.settings;
    logging::setup(s.logLevel, s.logFormat, s.logFile);
    for (const auto& w : s.warnings) logging::get("config")->warn("{}", w);
    logging::get("config")->debug("configuration loaded from {}", s.configFile);
}

void DatabaseSubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    logging::get("pulsed")->info("pulsed {} starting (config {})", PULSE_VERSION, s.configFile);
    migrateOrCheck(s, s.dbMigrateOnStart);
    ctx_.db = std::make_unique<storage::Database>(config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS),
                                                  s.dbPoolMin, s.dbPoolMax);
    auto problems = ctx_.db->privilegeProblems();
    for (const auto& p : problems)
        logging::get("db")->error("application role: {}; row-level security would not hold", p);
    if (!problems.empty() && s.dbRequireUnprivileged)
        throw storage::DatabaseError("tenant isolation would not hold: " + problems.front() +
                                     " (db.uri must name a role that owns nothing, on a schema migrated "
                                     "to row-level security; db.require_unprivileged=false overrides)");
    storage::Database* db = ctx_.db.get();
    ctx_.health.add("database", [db]() -> std::optional<std::string> {
        try {
            db->ping();
            return std::nullopt;
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    });
    ctx_.metrics.addCollector([db](metrics::MetricsRegistry& m) {
        const char* help = "Database pool connections by state";
        m.gauge("pulse_db_pool_connections", help, {{"state", "used"}}).set(db->poolUsed());
        m.gauge("pulse_db_pool_connections", help, {{"state", "idle"}}).set(db->poolIdle());
        m.gauge("pulse_db_pool_capacity", "Database pool capacity").set(db->poolCapacity());
    });
    logging::get("db")->info("database pool ready ({}..{} connections)", s.dbPoolMin, s.dbPoolMax);
}

void DatabaseSubsystem::uninitialize() {
    ctx_.db.reset();
}

void TelemetrySubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    std::string conninfo = config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS);
    auto maintain = [conninfo, s] {
        workers::maintainTelemetryPartitions(conninfo, s.telemetryRawRetentionDays,
                                             s.telemetryRollupRetentionDays, s.telemetryPartitionsAheadDays);
    };
    maintain();  // before any ingest: a reading must never meet a missing partition
    ctx_.partitionMaintenance =
        std::make_unique<workers::PeriodicTask>("partition maintenance", std::chrono::hours(1), maintain);
    ctx_.partitionMaintenance->start();
    services::BrokerFiles broker{s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile};
    if (!broker.passwordFile.empty()) {
        storage::Database* db = ctx_.db.get();
        auto sync = [db, broker] { services::syncBrokerCredentials(*db, broker); };
        sync();
        ctx_.syncBroker = sync;
        ctx_.brokerSync = std::make_unique<workers::PeriodicTask>("broker credential sync",
                                                                  std::chrono::seconds(s.mqttSyncS), sync);
        ctx_.brokerSync->start();
    }
    ctx_.registry =
        std::make_unique<services::DeviceRegistry>(*ctx_.db, std::chrono::milliseconds(s.registryCacheTtlMs));
    ctx_.deviceStatus = std::make_unique<services::DeviceStatusTracker>(
        conninfo, std::chrono::milliseconds(s.statusFlushMs), std::chrono::seconds(s.statusSweepS));
    ctx_.deviceStatus->start();
    ctx_.writer = std::make_unique<pipeline::TelemetryWriter>(
        conninfo,
        pipeline::WriterSettings{static_cast<size_t>(s.telemetryQueueRows),
                                 static_cast<size_t>(s.telemetryBatchRows),
                                 std::chrono::milliseconds(s.telemetryFlushMs), s.telemetryWriterThreads},
        &ctx_.metrics);
    ctx_.writer->start();
    // Rules evaluate on the ingest path; their transitions queue for the alert writer, which wakes the
    // dispatcher when it created deliveries.
    std::vector<net::Cidr> allow;
    for (const auto& c : s.egressAllow) allow.push_back(net::Cidr::parse(c));
    ctx_.outbound = std::make_unique<net::OutboundHttp>(net::EgressGuard(allow));
    if (!s.secretsKeyFile.empty()) ctx_.secrets = services::SecretBox::fromKeyFile(s.secretsKeyFile);
    auto wake = ctx_.deliveriesWake;
    ctx_.alerts = std::make_unique<services::AlertService>(
        conninfo,
        services::AlertSettings{static_cast<size_t>(s.alertsQueue), s.notifyMaxAttempts,
                                std::chrono::milliseconds(1000)},
        &ctx_.metrics, [wake] { wake->notify(); });
    ctx_.alerts->start();
    ctx_.rules =
        std::make_unique<pipeline::RuleEngine>(conninfo, *ctx_.alerts, *ctx_.registry, &ctx_.metrics);
    pipeline::DecodeLimits limits;
    limits.maxReadings = static_cast<size_t>(s.ingestMaxReadings);
    limits.maxFutureMs = static_cast<int64_t>(s.ingestMaxFutureS) * 1000;
    limits.maxAgeMs = static_cast<int64_t>(s.telemetryRawRetentionDays - 1) * 86400000LL;
    ctx_.ingest = std::make_unique<pipeline::IngestPipeline>(
        *ctx_.registry, *ctx_.deviceStatus, *ctx_.writer, ctx_.metrics, limits,
        [] {
            return std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        },
        ctx_.rules.get(),
        pipeline::BudgetSettings{
            static_cast<double>(s.ingestDeviceReadingsPerS), static_cast<double>(s.ingestDeviceBurst),
            static_cast<double>(s.ingestTenantReadingsPerS), static_cast<double>(s.ingestTenantBurst)},
        std::make_unique<pipeline::MetricNameLimit>(
            static_cast<size_t>(s.maxMetricNamesPerTenant),
            [db = ctx_.db.get()](const std::string& tenantId) {
                std::vector<std::string> names;
                std::string id = tenantId;
                db->withTenant(id, [&](Poco::Data::Session& session) {
                    session << "SELECT name FROM pulse.metrics WHERE tenant_id = $1::uuid",
                        Poco::Data::Keywords::use(id), Poco::Data::Keywords::into(names),
                        Poco::Data::Keywords::now;
                });
                return names;
            }));
    ctx_.pluginRoutes = std::make_unique<http::PluginRoutes>(ctx_.router, s.httpMaxBodyBytes);
    pipeline::TelemetryWriter* writer = ctx_.writer.get();
    ctx_.metrics.addCollector([writer](metrics::MetricsRegistry& m) {
        m.gauge("pulse_telemetry_queued_rows", "Readings waiting to be written")
            .set(static_cast<double>(writer->queuedRows()));
    });
    ctx_.health.add("telemetry", [writer]() -> std::optional<std::string> {
        std::string error = writer->lastError();
        return error.empty() ? std::nullopt : std::optional<std::string>("writes failing: " + error);
    });
}

void TelemetrySubsystem::uninitialize() {
    // The ingest plugins are stopped by now: write what they handed over, then record last-seen times.
    if (ctx_.writer) ctx_.writer->stop();
    if (ctx_.deviceStatus) ctx_.deviceStatus->stop();
    if (ctx_.alerts) ctx_.alerts->stop();  // writes the transitions still queued
    if (ctx_.partitionMaintenance) ctx_.partitionMaintenance->stop();
    if (ctx_.brokerSync) ctx_.brokerSync->stop();
}

void PluginSubsystem::initialize(Poco::Util::Application&) {
    ctx_.plugins = std::make_unique<plugins::PluginManager>(
        &ctx_.metrics,
        plugins::HostServices{ctx_.ingest.get(), ctx_.pluginRoutes.get(), ctx_.outbound.get()});
    // Rules load once the rule types are known and before ingest starts, so that the first readings
    // are already evaluated.
    ctx_.plugins->load(ctx_.settings, plugins::PluginManager::Mode::Serve, [this] {
        ctx_.rules->setPlugins(ctx_.plugins.get());
        try {
            ctx_.rules->reload();
        } catch (const std::exception& e) {
            logging::get("rules")->error("rules not loaded yet: {}", e.what());
        }
    });
    for (const auto& inst : ctx_.plugins->instances(PULSE_KIND_INGEST)) {
        std::weak_ptr<plugins::PluginInstance> weak = inst;
        ctx_.health.add("ingest:" + inst->name(), [weak]() -> std::optional<std::string> {
            auto i = weak.lock();
            if (!i) return std::string("stopped");
            std::string status;
            return i->health(status) == PULSE_OK ? std::nullopt : std::optional<std::string>(status);
        });
    }
}

void PluginSubsystem::uninitialize() {
    if (ctx_.plugins) ctx_.plugins->stopAll();
}

void AlertingSubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    std::string conninfo = config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS);
    ctx_.channels = std::make_unique<services::ChannelService>(conninfo, *ctx_.plugins, ctx_.secrets,
                                                               ctx_.outbound->guard());
    services::ChannelService* channels = ctx_.channels.get();
    workers::DispatcherSettings d;
    d.workers = s.notifyWorkers;
    d.poll = std::chrono::milliseconds(s.notifyPollMs);
    d.lease = std::chrono::seconds(s.notifyLeaseS);
    d.attemptTimeout = std::chrono::milliseconds(s.notifyAttemptTimeoutMs);
    d.backoffBase = std::chrono::milliseconds(s.notifyBackoffBaseMs);
    d.backoffMax = std::chrono::seconds(s.notifyBackoffMaxS);
    d.breakerFailures = s.notifyBreakerFailures;
    d.breakerOpen = std::chrono::seconds(s.notifyBreakerOpenS);
    ctx_.dispatcher = std::make_unique<workers::NotificationDispatcher>(
        conninfo, d,
        [channels](const workers::ChannelRow& row) {
            return channels->instantiate("channel:" + row.name, row.type, row.configJson,
                                         row.sealedSecretsHex);
        },
        ctx_.deliveriesWake, &ctx_.metrics);
    ctx_.dispatcher->start();
    pipeline::RuleEngine* rules = ctx_.rules.get();
    ctx_.ruleReload = std::make_unique<workers::PeriodicTask>(
        "rule reload", std::chrono::milliseconds(s.rulesReloadMs), [rules] { rules->reload(); });
    ctx_.ruleReload->start();
    ctx_.ruleTick = std::make_unique<workers::PeriodicTask>(
        "rule tick", std::chrono::milliseconds(s.rulesTickMs), [rules] {
            rules->tick(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
        });
    ctx_.ruleTick->start();
    services::AlertService* alerts = ctx_.alerts.get();
    ctx_.metrics.addCollector([alerts](metrics::MetricsRegistry& m) {
        m.gauge("pulse_alert_transitions_queued", "Rule transitions waiting for the alert writer")
            .set(static_cast<double>(alerts->queued()));
    });
    logging::get("notify")->info("{} dispatcher thread(s) started ({} rule(s) active)", s.notifyWorkers,
                                 rules->ruleCount());
}

void AlertingSubsystem::uninitialize() {
    if (ctx_.ruleTick) ctx_.ruleTick->stop();
    if (ctx_.ruleReload) ctx_.ruleReload->stop();
    if (ctx_.dispatcher) ctx_.dispatcher->stop();
}

HttpSubsystem::HttpSubsystem(ServerContext& ctx) : ctx_(ctx) {}
HttpSubsystem::~HttpSubsystem() = default;

void HttpSubsystem::initialize(Poco::Util::Application& app) {
    const auto& s = ctx_.settings;
    auto router = ctx_.router;
    http::addHealthRoutes(*router, ctx_.health, app.config().getString("application.version", PULSE_VERSION),
                          ctx_.startedAt);
    http::addMetricsRoute(*router, ctx_.metrics);
    // The REST API: identity, audit and the resources, each query under the principal's tenant.
    ctx_.apiPool = std::make_unique<storage::PgPool>(config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS),
                                                     static_cast<size_t>(s.dbPoolMax));
    ctx_.identity =
        std::make_unique<services::IdentityService>(*ctx_.db, services::IdentitySettings{s.sessionTtlS});
    ctx_.audit = std::make_unique<services::AuditLog>(*ctx_.db);
    http::ApiSettings apiSettings;
    apiSettings.secureCookies = s.secureCookies;
    for (const auto& c : s.trustedProxies) apiSettings.trustedProxies.push_back(net::Cidr::parse(c));
    apiSettings.sessionTtlS = s.sessionTtlS;
    apiSettings.maxBodyBytes = s.httpMaxBodyBytes;
    apiSettings.ipPerS = s.rateIpPerS;
    apiSettings.ipBurst = s.rateIpBurst;
    apiSettings.tenantPerS = s.rateTenantPerS;
    apiSettings.tenantBurst = s.rateTenantBurst;
    apiSettings.loginMaxPerIp = s.loginMaxFailuresPerIp;
    apiSettings.loginMaxPerAccount = s.loginMaxFailuresPerAccount;
    apiSettings.loginWindowS = s.loginFailureWindowS;
    if (!s.oidcIssuer.empty()) {
        services::OidcSettings oidc;
        oidc.issuer = s.oidcIssuer;
        oidc.audience = s.oidcAudience;
        oidc.jwksUri = s.oidcJwksUri;
        oidc.algorithms = s.oidcAlgorithms;
        oidc.roleClaim = s.oidcRoleClaim;
        oidc.roleMap = s.oidcRoleMap;
        oidc.tenantClaim = s.oidcTenantClaim;
        oidc.leewayS = s.oidcLeewayS;
        oidc.jwksRefreshS = s.oidcJwksRefreshS;
        std::string uri = s.oidcJwksUri;
        ctx_.oidc = std::make_unique<services::OidcVerifier>(
            oidc, [uri] { return net::fetchConfiguredUrl(uri, std::chrono::seconds(5), 1 << 20); });
        logging::get("api")->info("OIDC bearer tokens accepted from {} (keys: {})", s.oidcIssuer,
                                  s.oidcJwksUri);
    }
    ctx_.api = std::make_unique<http::Api>(
        http::ApiServices{ctx_.db.get(), ctx_.apiPool.get(), ctx_.identity.get(), ctx_.audit.get(),
                          ctx_.alerts.get(), ctx_.channels.get(), ctx_.plugins.get(), ctx_.oidc.get(),
                          [this](bool credentials) {
                              ctx_.registry->invalidate();
                              try {
                                  if (credentials && ctx_.syncBroker) ctx_.syncBroker();
                              } catch (const std::exception& e) {
                                  // The periodic sync retries; the registry already refuses the old token.
                                  logging::get("mqtt")->error("broker credentials not rewritten: {}",
                                                              e.what());
                              }
                          }},
        apiSettings);
    ctx_.api->mountAll(*router);
    http::addStaticFiles(*router, s.spaDir);
    http::HttpSettings hs;
    hs.address = s.httpAddress;
    hs.port = s.httpPort;
    hs.workers = s.httpMaxThreads;
    hs.maxQueued = s.httpMaxQueued;
    hs.keepAliveTimeoutS = s.httpKeepAliveTimeoutS;
    hs.maxBodyBytes = s.httpMaxBodyBytes;
    hs.headerTimeoutS = s.httpHeaderTimeoutS;
    hs.bodyTimeoutS = s.httpBodyTimeoutS;
    hs.writeTimeoutS = s.httpWriteTimeoutS;
    hs.maxConnections = s.httpMaxConnections;
    hs.maxConnectionsPerAddress = s.httpMaxConnectionsPerAddress;
    hs.addressRequestsPerS = s.httpAddressRequestsPerS;
    hs.addressBurst = s.httpAddressBurst;
    for (const auto& p : s.trustedProxies) hs.uncappedPeers.push_back(net::Cidr::parse(p));
    server_ = std::make_unique<http::HttpServer>(hs, router, ctx_.metrics);
    server_->start();
    logging::get("http")->info("listening on http://{}:{}/", s.httpAddress, server_->port());
}

void HttpSubsystem::uninitialize() {
    if (server_) {
        server_->stop();
        server_.reset();
    }
}

int HttpSubsystem::port() const {
    return server_ ? server_->port() : 0;
}

}  // namespace pulse::app
