#pragma once

#include "app/ServerContext.h"

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <string>

namespace pulse::app {

// pulsed: the Pulse host. Runs in the foreground (or --daemon), or performs one administrative task
// (--check-config, --list-plugins, --migrate, --seed-demo) and exits.
class PulseServer : public Poco::Util::ServerApplication {
  public:
    PulseServer();

  protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    void initialize(Poco::Util::Application& self) override;
    void uninitialize() override;
    int main(const std::vector<std::string>& args) override;

  private:
    enum class Mode {
        Serve,
        Help,
        Version,
        HelpConfig,
        CheckConfig,
        ListPlugins,
        Migrate,
        SeedDemo,
        CreateDevice,
        CreateChannel,
        CreateRule
    };

    void setMode(Mode mode);
    void printHelp() const;
    void printConfigKeys() const;
    int checkConfig();
    int listPlugins();
    int seedDemo();
    int createDevice();
    int createChannel();
    int createRule();
    void registerProcessMetrics();

    Mode mode_ = Mode::Serve;
    std::string configPath_;
    std::string deviceSpec_;  // --create-device TENANT/NAME
    std::string deviceTags_;  // --tags a,b
    std::string objectSpec_;  // --create-channel / --create-rule TENANT/NAME
    std::string type_;        // --type: the sender or rule component type
    std::string json_;        // --json: the plugin config
    std::string severity_;    // --severity (rules), --severities (channel routing)
    std::string scope_;       // --scope site:<name> | tag:<tag> | device:<name>
    int startupError_ = 0;
    std::unique_ptr<ServerContext> ctx_;
};

}  // namespace pulse::app
