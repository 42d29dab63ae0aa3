#pragma once

#include "app/ServerContext.h"

#include <Poco/Util/Subsystem.h>

#include <functional>
#include <string>

namespace pulse::app {

// One of the server's subsystems: Poco's Application initializes them in the order they were added. A
// subsystem builds what its name says into the context and starts its workers through ctx.workers, which
// stops them in reverse order (PulseServer::uninitialize, or after a failed start): uninitialize() has
// nothing of its own to do.
class ServerSubsystem : public Poco::Util::Subsystem {
  public:
    using Start = std::function<void(Poco::Util::Application&)>;
    ServerSubsystem(const char* name, Start start);
    const char* name() const override { return name_; }
    void initialize(Poco::Util::Application& app) override { start_(app); }
    void uninitialize() override {}

  private:
    const char* name_;
    Start start_;
};

// The configuration (file, environment, logging): first, in every mode.
void addConfigSubsystem(Poco::Util::Application& app, ServerContext& ctx, std::string path,
                        bool needDatabase);

// Adds the serving subsystems, in the order they start, to the application (pulsed's serve mode).
void addServingSubsystems(Poco::Util::Application& app, ServerContext& ctx);

// Applies pending migrations as the owner (or only checks them), retrying the connection until the
// startup timeout. Shared by the database subsystem and --migrate.
void migrateOrCheck(const config::Settings& settings, bool apply);

}  // namespace pulse::app
