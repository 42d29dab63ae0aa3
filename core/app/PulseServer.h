#pragma once

#include "app/ServerContext.h"
#include "app/commands/Command.h"

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <string>
#include <vector>

namespace pulse::app {

// pulsed: the Pulse host. Serves in the foreground (or --daemon), or runs one administrative command
// (core/app/commands/: --check-config, --migrate, --create-device, ...) and exits.
class PulseServer : public Poco::Util::ServerApplication {
  public:
    PulseServer();

  protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void initialize(Poco::Util::Application& self) override;
    void uninitialize() override;
    int main(const std::vector<std::string>& args) override;

  private:
    // Option callbacks (Poco::Util::OptionCallback).
    void selectCommand(const std::string& name, const std::string& value);
    void setCommandOption(const std::string& name, const std::string& value);
    void setConfigPath(const std::string& name, const std::string& value);
    void showInformation(const std::string& name, const std::string& value);

    void printHelp();
    // The component types the configuration's plugins.d loads, by kind ("rule: threshold, heartbeat"), for
    // --help; empty when the configuration cannot be read.
    std::string loadedComponentTypes();
    void printConfigKeys() const;
    void registerProcessMetrics();
    std::string configPath() const;

    std::vector<std::unique_ptr<Command>> commands_ = administrativeCommands();
    Command* command_ = nullptr;  // null: serve
    CommandArgs args_;
    std::string information_;  // help, version or help-config: printed, no configuration loaded
    std::string configPath_;
    int startupError_ = 0;
    std::unique_ptr<ServerContext> ctx_;
};

}  // namespace pulse::app
