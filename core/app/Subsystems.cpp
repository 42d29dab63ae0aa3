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
    storage::MigrationRunner runner(s.db.migrationsDir);
    withStartupRetry(s.db.startupTimeoutS, [&] {
        if (apply) {
            storage::PgConnection owner(config::withConnectTimeout(s.db.migrateUri, s.db.connectTimeoutS));
            auto applied = runner.migrate(owner, s.db.appRole);
            logging::get("db")->info("schema is current ({} migration(s) applied now)", applied.size());
        } else {
            storage::PgConnection conn(config::withConnectTimeout(s.db.uri, s.db.connectTimeoutS));
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
    migrateOrCheck(s, s.db.migrateOnStart);
    std::string conninfo = config::withConnectTimeout(s.db.uri, s.db.connectTimeoutS);
    ctx_.db = std::make_unique<storage::Database>(conninfo, s.db.poolMin, s.db.poolMax);
    auto problems = ctx_.db->privilegeProblems();
    for (const auto& p : problems)
        logging::get("db")->error("application role: {}; row-level security would not hold", p);
    if (!problems.empty() && s.db.requireUnprivileged)
        throw storage::DatabaseError("tenant isolation would not hold: " + problems.front() +
                                     " (db.uri must name a role that owns nothing, on a schema migrated "
                                     "to row-level security; db.require_unprivileged=false overrides)");
    ctx_.pgPool = std::make_unique<storage::PgPool>(conninfo, static_cast<size_t>(s.db.libpqPoolMax));
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
    logging::get("db")->info(
        "database pools ready: Poco Data {}..{} sessions, libpq up to {} connections: this instance's "
        "budget is {} connections",
        s.db.poolMin, s.db.poolMax, s.db.libpqPoolMax, s.db.poolMax + s.db.libpqPoolMax);
}

void RulesSubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    // The registry is the rules' view of devices (scopes by site and tag) as well as ingest's identities.
    ctx_.registry =
        std::make_unique<services::DeviceRegistry>(*ctx_.db, std::chrono::milliseconds(s.registryCacheTtlMs));
    auto wake = ctx_.deliveriesWake;
    ctx_.alerts = std::make_unique<services::AlertService>(
        *ctx_.pgPool,
        services::AlertSettings{static_cast<size_t>(s.alertsQueue), s.notifyMaxAttempts,
                                std::chrono::milliseconds(1000)},
        &ctx_.metrics, [wake] { wake->notify(); });
    services::AlertService* alerts = ctx_.alerts.get();
    // Stopped after the ingest plugins and the rule tasks: writes the transitions still queued.
    ctx_.workers.start(
        "alert writer", [alerts] { alerts->start(); }, [alerts] { alerts->stop(); });
    ctx_.rules =
        std::make_unique<pipeline::RuleEngine>(*ctx_.pgPool, *ctx_.alerts, *ctx_.registry, &ctx_.metrics);
    ctx_.metrics.addCollector([alerts](metrics::MetricsRegistry& m) {
        m.gauge("pulse_alert_transitions_queued", "Rule transitions waiting for the alert writer")
            .set(static_cast<double>(alerts->queued()));
    });
}

void TelemetrySubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    auto maintain = [pool = ctx_.pgPool.get(), s] {
        workers::maintainTelemetryPartitions(*pool, s.telemetryRawRetentionDays,
                                             s.telemetryRollupRetentionDays, s.telemetryPartitionsAheadDays);
    };
    maintain();  // before any ingest: a reading must never meet a missing partition
    ctx_.workers.every("partition maintenance", std::chrono::hours(1), maintain);
    services::BrokerFiles broker{s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile};
    if (!broker.passwordFile.empty()) {
        storage::Database* db = ctx_.db.get();
        auto sync = [db, broker] { services::syncBrokerCredentials(*db, broker); };
        sync();
        ctx_.syncBroker = sync;
        ctx_.workers.every("broker credential sync", std::chrono::seconds(s.mqttSyncS), sync);
    }
    ctx_.deviceStatus = std::make_unique<services::DeviceStatusTracker>(
        *ctx_.pgPool, std::chrono::milliseconds(s.statusFlushMs), std::chrono::seconds(s.statusSweepS));
    services::DeviceStatusTracker* status = ctx_.deviceStatus.get();
    // Stopped after the writer: last-seen times of what it wrote last are recorded too.
    ctx_.workers.start(
        "device status", [status] { status->start(); }, [status] { status->stop(); });
    ctx_.writer = std::make_unique<pipeline::TelemetryWriter>(*ctx_.pgPool, s.writer, &ctx_.metrics);
    pipeline::TelemetryWriter* writer = ctx_.writer.get();
    // Stopped after the ingest plugins: writes what they handed over.
    ctx_.workers.start(
        "telemetry writer", [writer] { writer->start(); }, [writer] { writer->stop(); });
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
        ctx_.rules.get(), s.budget,
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
    ctx_.pluginRoutes = std::make_unique<http::PluginRoutes>(ctx_.router, s.http.maxBodyBytes);
    ctx_.metrics.addCollector([writer](metrics::MetricsRegistry& m) {
        m.gauge("pulse_telemetry_queued_rows", "Readings waiting to be written")
            .set(static_cast<double>(writer->queuedRows()));
    });
    ctx_.health.add("telemetry", [writer]() -> std::optional<std::string> {
        std::string error = writer->lastError();
        return error.empty() ? std::nullopt : std::optional<std::string>("writes failing: " + error);
    });
}

void PluginSubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    ctx_.outbound = std::make_unique<net::OutboundHttp>(net::EgressGuard(s.egressAllow));
    ctx_.plugins = std::make_unique<plugins::PluginManager>(
        &ctx_.metrics,
        plugins::HostServices{ctx_.ingest.get(), ctx_.pluginRoutes.get(), ctx_.outbound.get()});
    plugins::PluginManager* pm = ctx_.plugins.get();
    // Rules load once the rule types are known and before ingest starts, so that the first readings
    // are already evaluated. The instances are stopped before the writers they submit to.
    // Registered before the load: instances a load that then failed had started are stopped too.
    ctx_.workers.start(
        "plugins", [] {}, [pm] { pm->stopAll(); });
    pm->load(ctx_.settings, plugins::PluginManager::Mode::Serve, [this] {
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

void AlertingSubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    if (!s.secretsKeyFile.empty()) ctx_.secrets = services::SecretBox::fromKeyFile(s.secretsKeyFile);
    ctx_.channels = std::make_unique<services::ChannelService>(*ctx_.pgPool, *ctx_.plugins, ctx_.secrets,
                                                               ctx_.outbound->guard());
    ctx_.dispatcher = std::make_unique<workers::NotificationDispatcher>(
        *ctx_.pgPool, s.notify, workers::channelsOf(*ctx_.channels), ctx_.deliveriesWake, &ctx_.metrics);
    workers::NotificationDispatcher* dispatcher = ctx_.dispatcher.get();
    ctx_.workers.start(
        "notification dispatcher", [dispatcher] { dispatcher->start(); },
        [dispatcher] { dispatcher->stop(); });
    pipeline::RuleEngine* rules = ctx_.rules.get();
    ctx_.workers.every("rule reload", std::chrono::milliseconds(s.rulesReloadMs),
                       [rules] { rules->reload(); });
    ctx_.workers.every("rule tick", std::chrono::milliseconds(s.rulesTickMs), [rules] {
        rules->tick(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
    });
    logging::get("notify")->info("{} dispatcher thread(s) started ({} rule(s) active)", s.notify.workers,
                                 rules->ruleCount());
}

void ApiSubsystem::initialize(Poco::Util::Application&) {
    const auto& s = ctx_.settings;
    ctx_.identity =
        std::make_unique<services::IdentityService>(*ctx_.db, services::IdentitySettings{s.api.sessionTtlS});
    ctx_.audit = std::make_unique<services::AuditLog>(*ctx_.db);
    if (!s.oidc.issuer.empty()) {
        services::OidcSettings oidc(s.oidc);
        std::string uri = s.oidc.jwksUri;
        ctx_.oidc = std::make_unique<services::OidcVerifier>(
            oidc, [uri] { return net::fetchConfiguredUrl(uri, std::chrono::seconds(5), 1 << 20); });
        logging::get("api")->info("OIDC bearer tokens accepted from {} (keys: {})", s.oidc.issuer,
                                  s.oidc.jwksUri);
    }
    http::ApiSettings apiSettings;
    static_cast<config::ApiSettings&>(apiSettings) = s.api;
    apiSettings.trustedProxies = s.http.trustedProxies;
    apiSettings.maxBodyBytes = s.http.maxBodyBytes;
    ctx_.api = std::make_unique<http::Api>(
        http::ApiServices{ctx_.db.get(), ctx_.pgPool.get(), ctx_.identity.get(), ctx_.audit.get(),
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
    ctx_.api->mountAll(*ctx_.router);
}

HttpSubsystem::HttpSubsystem(ServerContext& ctx) : ctx_(ctx) {}
HttpSubsystem::~HttpSubsystem() = default;

void HttpSubsystem::initialize(Poco::Util::Application& app) {
    const auto& s = ctx_.settings;
    auto router = ctx_.router;
    http::addHealthRoutes(*router, ctx_.health, app.config().getString("application.version", PULSE_VERSION),
                          ctx_.startedAt);
    http::addMetricsRoute(*router, ctx_.metrics);
    http::addStaticFiles(*router, s.http.spaDir);
    ctx_.server = std::make_unique<http::HttpServer>(s.http, router, ctx_.metrics);
    server_ = ctx_.server.get();
    http::HttpServer* server = server_;
    // Registered last, stopped first: no request arrives while the rest stops.
    ctx_.workers.start(
        "http server", [server] { server->start(); }, [server] { server->stop(); });
    logging::get("http")->info("listening on http://{}:{}/", s.http.address, server_->port());
}

int HttpSubsystem::port() const {
    return server_ ? server_->port() : 0;
}

void addServingSubsystems(Poco::Util::Application& app, ServerContext& ctx) {
    app.addSubsystem(new DatabaseSubsystem(ctx));
    app.addSubsystem(new RulesSubsystem(ctx));
    app.addSubsystem(new TelemetrySubsystem(ctx));
    app.addSubsystem(new PluginSubsystem(ctx));
    app.addSubsystem(new AlertingSubsystem(ctx));
    app.addSubsystem(new ApiSubsystem(ctx));
    app.addSubsystem(new HttpSubsystem(ctx));
}

}  // namespace pulse::app
