#include "app/Subsystems.h"

#include <Poco/URI.h>

#include "http/HealthRoutes.h"
#include "http/HttpServer.h"
#include "http/MetricsRoute.h"
#include "http/StaticFiles.h"
#include "logging/Logging.h"
#include "services/AcknowledgeLinks.h"
#include "services/BrokerCredentials.h"
#include "storage/MetricNameStore.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "workers/TelemetryMaintenance.h"

#include <Poco/URI.h>
#include <Poco/Util/Application.h>
#include <pulse/json.hpp>

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

namespace {

// Loads etc/pulse.properties with PULSE_* overrides into the context and sets up logging. First, because
// everything after it reads the settings.
void loadConfiguration(ServerContext& ctx, Poco::Util::Application& app, const std::string& path,
                       bool needDatabase) {
    ctx.settings = config::loadSettings(app.config(), path, config::processEnvironment(), needDatabase);
    const auto& s = ctx.settings;
    logging::setup(s.logLevel, s.logFormat, s.logFile);
    for (const auto& w : s.warnings) logging::get("config")->warn("{}", w);
    logging::get("config")->debug("configuration loaded from {}", s.configFile);
}

// Connects to PostgreSQL (waiting up to db.startup_timeout_s), applies or checks migrations, checks that the
// application role cannot bypass row-level security, and opens the two pools (docs/architecture.md
// "Database": Poco Data for ordinary queries, libpq where pipeline mode or binary arrays pay).
void startDatabase(ServerContext& ctx, Poco::Util::Application&) {
    const auto& s = ctx.settings;
    logging::get("pulsed")->info("pulsed {} starting (config {})", PULSE_VERSION, s.configFile);
    migrateOrCheck(s, s.db.migrateOnStart);
    std::string conninfo = config::withConnectTimeout(s.db.uri, s.db.connectTimeoutS);
    ctx.db = std::make_unique<storage::Database>(conninfo, s.db.poolMin, s.db.poolMax);
    auto problems = ctx.db->privilegeProblems();
    for (const auto& p : problems)
        logging::get("db")->error("application role: {}; row-level security would not hold", p);
    if (!problems.empty() && s.db.requireUnprivileged)
        throw storage::DatabaseError("tenant isolation would not hold: " + problems.front() +
                                     " (db.uri must name a role that owns nothing, on a schema migrated "
                                     "to row-level security; db.require_unprivileged=false overrides)");
    ctx.pgPool = std::make_unique<storage::PgPool>(conninfo, static_cast<size_t>(s.db.libpqPoolMax));
    storage::Database* db = ctx.db.get();
    ctx.health.add("database", [db]() -> std::optional<std::string> {
        try {
            db->ping();
            return std::nullopt;
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    });
    ctx.metrics.addCollector([db](metrics::MetricsRegistry& m) {
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

// The rule engine and the alert writer it hands transitions to. Before telemetry: rules evaluate on the
// ingest path.
void startRules(ServerContext& ctx, Poco::Util::Application&) {
    const auto& s = ctx.settings;
    // The registry is the rules' view of devices (scopes by site and tag) as well as ingest's identities.
    ctx.registry =
        std::make_unique<services::DeviceRegistry>(*ctx.db, std::chrono::milliseconds(s.registryCacheTtlMs));
    auto wake = ctx.deliveriesWake;
    ctx.live = std::make_unique<services::LiveEvents>(
        services::LiveEvents::Limits{s.stream.maxPerPrincipal, s.stream.maxTotal,
                                     static_cast<size_t>(s.stream.replayEvents), s.stream.heartbeatS});
    services::LiveEvents* live = ctx.live.get();
    ctx.workers.every("live stream heartbeat", std::chrono::seconds(s.stream.heartbeatS),
                      [live] { live->heartbeat(); });
    ctx.metrics.addCollector([live](metrics::MetricsRegistry& m) {
        m.gauge("pulse_live_streams", "Open live streams (GET /api/v1/stream)")
            .set(static_cast<double>(live->subscribers()));
    });
    auto escalationsWake = ctx.escalationsWake;
    ctx.alerts = std::make_unique<services::AlertService>(
        *ctx.pgPool, s.alerts, &ctx.metrics, [wake] { wake->notify(); },
        [escalationsWake] { escalationsWake->notify(); });
    services::AlertService* alerts = ctx.alerts.get();
    alerts->onCommitted([live](const std::vector<storage::AlertEventFields>& events) {
        for (const auto& e : events) {
            json::Writer w;
            w.beginObject().member("alert_id", e.alertId).member("kind", e.kind).endObject();
            live->publish(e.tenantId, "alert", 0, w.str());
        }
    });
    // Stopped after the ingest plugins and the rule tasks: writes the transitions still queued.
    ctx.workers.start(
        "alert writer", [alerts] { alerts->start(); }, [alerts] { alerts->stop(); });
    ctx.rules = std::make_unique<pipeline::RuleEngine>(*ctx.pgPool, *ctx.alerts, *ctx.registry, &ctx.metrics);
    // Stopped after the ingest plugins and the rule tick (the reverse order): what changed since the last
    // tick is saved on the way out.
    pipeline::RuleEngine* rules = ctx.rules.get();
    ctx.workers.start(
        "rule states", [] {}, [rules] { rules->saveStates(); });
    ctx.metrics.addCollector([alerts](metrics::MetricsRegistry& m) {
        m.gauge("pulse_alert_transitions_queued", "Rule transitions waiting for the alert writer")
            .set(static_cast<double>(alerts->queued()));
    });
}

// The telemetry path: partitions, the device registry and broker accounts, the batched writer, device
// status, and the ingest pipeline that ingest plugins submit to.
void startTelemetry(ServerContext& ctx, Poco::Util::Application&) {
    const auto& s = ctx.settings;
    auto maintain = [pool = ctx.pgPool.get(), s] {
        workers::maintainTelemetryPartitions(*pool, s.telemetryRawRetentionDays,
                                             s.telemetryRollupRetentionDays, s.telemetryPartitionsAheadDays);
    };
    maintain();  // before any ingest: a reading must never meet a missing partition
    ctx.workers.every("partition maintenance", std::chrono::hours(1), maintain);
    services::BrokerFiles broker{s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile};
    if (!broker.passwordFile.empty()) {
        storage::Database* db = ctx.db.get();
        auto sync = [db, broker] { services::syncBrokerCredentials(*db, broker); };
        sync();
        ctx.syncBroker = sync;
        ctx.workers.every("broker credential sync", std::chrono::seconds(s.mqttSyncS), sync);
    }
    ctx.deviceStatus = std::make_unique<services::DeviceStatusTracker>(
        *ctx.pgPool, std::chrono::milliseconds(s.statusFlushMs), std::chrono::seconds(s.statusSweepS));
    services::DeviceStatusTracker* status = ctx.deviceStatus.get();
    status->onChanged([live = ctx.live.get()](const std::vector<storage::DeviceStatusChange>& changes) {
        for (const auto& c : changes) {
            json::Writer w;
            w.beginObject().member("device_id", c.deviceId).member("status", c.status).endObject();
            live->publish(c.tenantId, "device", c.deviceId, w.str());
        }
    });
    // Stopped after the writer: last-seen times of what it wrote last are recorded too.
    ctx.workers.start(
        "device status", [status] { status->start(); }, [status] { status->stop(); });
    ctx.writer = std::make_unique<pipeline::TelemetryWriter>(*ctx.pgPool, s.writer, &ctx.metrics);
    pipeline::TelemetryWriter* writer = ctx.writer.get();
    writer->onCommitted([live = ctx.live.get()](const std::vector<storage::TelemetryRow>& rows) {
        for (const auto& r : rows)
            if (live->watched(r.deviceId))
                live->publishReading(storage::uuidText(r.tenant), r.deviceId, r.metric, r.tsUs, r.value);
    });
    // Stopped after the ingest plugins: writes what they handed over.
    ctx.workers.start(
        "telemetry writer", [writer] { writer->start(); }, [writer] { writer->stop(); });
    pipeline::DecodeLimits limits;
    limits.maxReadings = static_cast<size_t>(s.ingestMaxReadings);
    limits.maxFutureMs = static_cast<int64_t>(s.ingestMaxFutureS) * 1000;
    limits.maxAgeMs = static_cast<int64_t>(s.telemetryRawRetentionDays - 1) * 86400000LL;
    ctx.ingest = std::make_unique<pipeline::IngestPipeline>(
        *ctx.registry, *ctx.deviceStatus, *ctx.writer, ctx.metrics, limits,
        [] {
            return std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        },
        ctx.rules.get(), s.budget,
        std::make_unique<pipeline::MetricNameLimit>(static_cast<size_t>(s.maxMetricNamesPerTenant),
                                                    [db = ctx.db.get()](const std::string& tenantId) {
                                                        return storage::MetricNameStore(*db).names(tenantId);
                                                    }));
    ctx.pluginRoutes = std::make_unique<http::PluginRoutes>(ctx.router, s.http.maxBodyBytes);
    ctx.metrics.addCollector([writer](metrics::MetricsRegistry& m) {
        m.gauge("pulse_telemetry_queued_rows", "Readings waiting to be written")
            .set(static_cast<double>(writer->queuedRows()));
    });
    ctx.health.add("telemetry", [writer]() -> std::optional<std::string> {
        std::string error = writer->lastError();
        return error.empty() ? std::nullopt : std::optional<std::string>("writes failing: " + error);
    });
}

// The host services plugins get (outbound HTTP behind the egress guard), then plugins.d: loads the
// libraries, loads the rules once their types are known, creates and starts the instances, and registers
// ingest health checks.
void startPlugins(ServerContext& ctx, Poco::Util::Application&) {
    const auto& s = ctx.settings;
    ctx.outbound = std::make_unique<net::OutboundHttp>(net::EgressGuard(s.egressAllow));
    ctx.plugins = std::make_unique<plugins::PluginManager>(
        &ctx.metrics, plugins::HostServices{ctx.ingest.get(), ctx.pluginRoutes.get(), ctx.outbound.get()});
    plugins::PluginManager* pm = ctx.plugins.get();
    // Rules load once the rule types are known and before ingest starts, so that the first readings
    // are already evaluated. The instances are stopped before the writers they submit to.
    // Registered before the load: instances a load that then failed had started are stopped too.
    ctx.workers.start(
        "plugins", [] {}, [pm] { pm->stopAll(); });
    pm->load(ctx.settings, plugins::PluginManager::Mode::Serve, [&ctx] {
        ctx.rules->setPlugins(ctx.plugins.get());
        try {
            ctx.rules->reload();
        } catch (const std::exception& e) {
            logging::get("rules")->error("rules not loaded yet: {}", e.what());
        }
    });
    for (const auto& inst : ctx.plugins->instances(PULSE_KIND_INGEST)) {
        std::weak_ptr<plugins::PluginInstance> weak = inst;
        ctx.health.add("ingest:" + inst->name(), [weak]() -> std::optional<std::string> {
            auto i = weak.lock();
            if (!i) return std::string("stopped");
            std::string status;
            return i->health(status) == PULSE_OK ? std::nullopt : std::optional<std::string>(status);
        });
    }
}

// Channels (secrets sealed at rest), the notification dispatcher, and the rule reload and tick tasks.
void startAlerting(ServerContext& ctx, Poco::Util::Application&) {
    const auto& s = ctx.settings;
    if (!s.secretsKeyFile.empty()) ctx.secrets = services::SecretBox::fromKeyFile(s.secretsKeyFile);
    ctx.links = services::LinkSigner(ctx.secrets);
    ctx.channels = std::make_unique<services::ChannelService>(*ctx.pgPool, *ctx.plugins, ctx.secrets,
                                                              ctx.outbound->guard());
    ctx.dispatcher = std::make_unique<workers::NotificationDispatcher>(
        *ctx.pgPool, s.notify, workers::channelsOf(*ctx.channels), ctx.deliveriesWake, &ctx.metrics);
    workers::NotificationDispatcher* dispatcher = ctx.dispatcher.get();
    dispatcher->decorateNotice = [&ctx, console = s.alerts.consoleUrl, ttl = s.alerts.acknowledgeLinkTtlS](
                                     const std::string& payload, int64_t id) {
        return services::withAcknowledgeLink(payload, ctx.links, console, id, http::nowMs(), ttl);
    };
    ctx.workers.start(
        "notification dispatcher", [dispatcher] { dispatcher->start(); },
        [dispatcher] { dispatcher->stop(); });
    services::LiveEvents* live = ctx.live.get();
    ctx.escalator = std::make_unique<workers::Escalator>(
        *ctx.pgPool,
        workers::EscalatorSettings{s.escalation.poll, s.escalation.batch, s.alerts.maxAttempts,
                                   s.alerts.consoleUrl},
        ctx.escalationsWake, ctx.deliveriesWake, &ctx.metrics, [live](const storage::FiredEscalation& f) {
            json::Writer w;
            w.beginObject().member("alert_id", f.alertId).member("kind", "ESCALATED").endObject();
            live->publish(f.tenantId, "alert", 0, w.str());
        });
    workers::Escalator* escalator = ctx.escalator.get();
    ctx.workers.start(
        "escalator", [escalator] { escalator->start(); }, [escalator] { escalator->stop(); });
    pipeline::RuleEngine* rules = ctx.rules.get();
    ctx.workers.every("rule reload", std::chrono::milliseconds(s.rulesReloadMs),
                      [rules] { rules->reload(); });
    ctx.workers.every("rule tick", std::chrono::milliseconds(s.rulesTickMs), [rules] {
        rules->tick(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
    });
    logging::get("notify")->info("{} dispatcher thread(s) started ({} rule(s) active)", s.notify.workers,
                                 rules->ruleCount());
}

// The REST API: identity (sessions, API keys, OIDC), the audit log, and the /api/v1 resources.
void startApi(ServerContext& ctx, Poco::Util::Application&) {
    const auto& s = ctx.settings;
    ctx.identity =
        std::make_unique<services::IdentityService>(*ctx.db, services::IdentitySettings{s.api.sessionTtlS});
    ctx.audit = std::make_unique<services::AuditLog>(*ctx.db);
    if (!s.oidc.issuer.empty()) {
        services::OidcSettings oidc(s.oidc);
        std::string uri = s.oidc.jwksUri;
        ctx.oidc = std::make_unique<services::OidcVerifier>(
            oidc, [uri] { return net::fetchConfiguredUrl(uri, std::chrono::seconds(5), 1 << 20); });
        logging::get("api")->info("OIDC bearer tokens accepted from {} (keys: {})", s.oidc.issuer,
                                  s.oidc.jwksUri);
    }
    http::ApiSettings apiSettings;
    static_cast<config::ApiSettings&>(apiSettings) = s.api;
    apiSettings.trustedProxies = s.http.trustedProxies;
    apiSettings.maxBodyBytes = s.http.maxBodyBytes;
    apiSettings.consoleUrl = s.alerts.consoleUrl;
    if (ctx.oidc) {
        apiSettings.oidcIssuer = s.oidc.issuer;
        apiSettings.oidcConsoleClientId = s.oidc.consoleClientId;
        apiSettings.oidcDisplayName = s.oidc.displayName;
    }
    ctx.api = std::make_unique<http::Api>(
        http::ApiServices{ctx.db.get(), ctx.pgPool.get(), ctx.identity.get(), ctx.audit.get(),
                          ctx.alerts.get(), ctx.channels.get(), ctx.plugins.get(), ctx.oidc.get(),
                          [&ctx](bool credentials) {
                              ctx.registry->invalidate();
                              try {
                                  if (credentials && ctx.syncBroker) ctx.syncBroker();
                              } catch (const std::exception& e) {
                                  // The periodic sync retries; the registry already refuses the old token.
                                  logging::get("mqtt")->error("broker credentials not rewritten: {}",
                                                              e.what());
                              }
                          },
                          ctx.live.get(), &ctx.links},
        apiSettings);
    ctx.api->mountAll(*ctx.router);
}

// The HTTP server and the routes that are not the API's: health, metrics, the web console.
void startHttp(ServerContext& ctx, Poco::Util::Application& app) {
    const auto& s = ctx.settings;
    auto router = ctx.router;
    http::addHealthRoutes(*router, ctx.health, app.config().getString("application.version", PULSE_VERSION),
                          ctx.startedAt);
    http::addMetricsRoute(*router, ctx.metrics);
    // The console fetches the issuer's discovery document, keys and tokens when it signs in with OIDC.
    std::vector<std::string> consoleOrigins;
    if (ctx.oidc && !s.oidc.consoleClientId.empty()) {
        Poco::URI issuer(s.oidc.issuer);
        consoleOrigins.push_back(issuer.getScheme() + "://" + issuer.getAuthority());
    }
    http::addStaticFiles(*router, s.http.spaDir, consoleOrigins);
    ctx.server = std::make_unique<http::HttpServer>(s.http, router, ctx.metrics);
    http::HttpServer* server = ctx.server.get();
    // Registered last, stopped first: no request arrives while the rest stops.
    ctx.workers.start(
        "http server", [server] { server->start(); }, [server] { server->stop(); });
    logging::get("http")->info("listening on http://{}:{}/", s.http.address, server->port());
}

// The serving subsystems in the order they start (docs/architecture.md "The host"). What each starts is
// registered with ctx.workers and stopped from there, in reverse.
const struct {
    const char* name;
    void (*start)(ServerContext&, Poco::Util::Application&);
} kServingSubsystems[] = {
    {"pulse.database", startDatabase},    // PostgreSQL, migrations, the row-level security audit, the pools
    {"pulse.rules", startRules},          // device registry, alert writer, rule engine: before ingest
    {"pulse.telemetry", startTelemetry},  // partitions, broker accounts, status, writer, ingest pipeline
    {"pulse.plugins", startPlugins},      // host services, plugins.d, the stored rules, ingest instances
    {"pulse.alerting", startAlerting},    // channels, the dispatcher, rule reload and tick
    {"pulse.api", startApi},              // identity, audit, the /api/v1 resources
    {"pulse.http", startHttp},            // the HTTP server with health, metrics and the console
};

}  // namespace

ServerSubsystem::ServerSubsystem(const char* name, Start start) : name_(name), start_(std::move(start)) {}

void addConfigSubsystem(Poco::Util::Application& app, ServerContext& ctx, std::string path,
                        bool needDatabase) {
    app.addSubsystem(new ServerSubsystem(
        "pulse.config", [&ctx, path = std::move(path), needDatabase](Poco::Util::Application& a) {
            loadConfiguration(ctx, a, path, needDatabase);
        }));
}

void addServingSubsystems(Poco::Util::Application& app, ServerContext& ctx) {
    for (const auto& subsystem : kServingSubsystems)
        app.addSubsystem(new ServerSubsystem(
            subsystem.name, [&ctx, start = subsystem.start](Poco::Util::Application& a) { start(ctx, a); }));
}

}  // namespace pulse::app
