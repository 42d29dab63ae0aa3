#pragma once

#include "app/ServerContext.h"

#include <Poco/Util/Subsystem.h>

#include <memory>
#include <string>

namespace pulse::http {
class HttpServer;
}

namespace pulse::app {

// Loads etc/pulse.properties with PULSE_* overrides into the context and sets up logging. First, because
// everything after it reads the settings. Every subsystem after it starts its workers through
// ctx.workers, which stops them in reverse order (PulseServer::uninitialize, or after a failed start).
class ConfigSubsystem : public Poco::Util::Subsystem {
  public:
    ConfigSubsystem(ServerContext& ctx, std::string path, bool needDatabase)
        : ctx_(ctx), path_(std::move(path)), needDatabase_(needDatabase) {}
    const char* name() const override { return "pulse.config"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
    std::string path_;
    bool needDatabase_;
};

// Connects to PostgreSQL (waiting up to db.startup_timeout_s), applies or checks migrations, checks
// that the application role cannot bypass row-level security, and opens the two pools (docs/architecture.md
// "Database": Poco Data for ordinary queries, libpq where pipeline mode or binary arrays pay).
class DatabaseSubsystem : public Poco::Util::Subsystem {
  public:
    explicit DatabaseSubsystem(ServerContext& ctx) : ctx_(ctx) {}
    const char* name() const override { return "pulse.database"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
};

// The rule engine and the alert writer it hands transitions to. Before telemetry: rules evaluate on the
// ingest path.
class RulesSubsystem : public Poco::Util::Subsystem {
  public:
    explicit RulesSubsystem(ServerContext& ctx) : ctx_(ctx) {}
    const char* name() const override { return "pulse.rules"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
};

// The telemetry path: partitions, the device registry and broker accounts, the batched writer, device
// status, and the ingest pipeline that ingest plugins submit to.
class TelemetrySubsystem : public Poco::Util::Subsystem {
  public:
    explicit TelemetrySubsystem(ServerContext& ctx) : ctx_(ctx) {}
    const char* name() const override { return "pulse.telemetry"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
};

// The host services plugins get (outbound HTTP behind the egress guard), then plugins.d: loads the
// libraries, loads the rules once their types are known, creates and starts the instances, and registers
// ingest health checks.
class PluginSubsystem : public Poco::Util::Subsystem {
  public:
    explicit PluginSubsystem(ServerContext& ctx) : ctx_(ctx) {}
    const char* name() const override { return "pulse.plugins"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
};

// Channels (secrets sealed at rest), the notification dispatcher, and the rule reload and tick tasks.
class AlertingSubsystem : public Poco::Util::Subsystem {
  public:
    explicit AlertingSubsystem(ServerContext& ctx) : ctx_(ctx) {}
    const char* name() const override { return "pulse.alerting"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
};

// The REST API: identity (sessions, API keys, OIDC), the audit log, and the /api/v1 resources.
class ApiSubsystem : public Poco::Util::Subsystem {
  public:
    explicit ApiSubsystem(ServerContext& ctx) : ctx_(ctx) {}
    const char* name() const override { return "pulse.api"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}

  private:
    ServerContext& ctx_;
};

// The HTTP server and the routes that are not the API's: health, metrics, the web console.
class HttpSubsystem : public Poco::Util::Subsystem {
  public:
    explicit HttpSubsystem(ServerContext& ctx);
    ~HttpSubsystem() override;
    const char* name() const override { return "pulse.http"; }
    void initialize(Poco::Util::Application& app) override;
    void uninitialize() override {}
    int port() const;

  private:
    ServerContext& ctx_;
    http::HttpServer* server_ = nullptr;  // owned by the context, stopped by its workers
};

// Adds the serving subsystems, in the order they start, to the application (pulsed's serve mode).
void addServingSubsystems(Poco::Util::Application& app, ServerContext& ctx);

// Applies pending migrations as the owner (or only checks them), retrying the connection until the
// startup timeout. Shared by the database subsystem and --migrate.
void migrateOrCheck(const config::Settings& settings, bool apply);

}  // namespace pulse::app
