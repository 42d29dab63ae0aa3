// pulsed --check-config: the configuration, the migrations directory and every plugin config, checked.
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "plugins/PluginManager.h"
#include "storage/MigrationRunner.h"

#include <iomanip>
#include <iostream>

namespace pulse::app {
namespace {

class CheckConfigCommand : public Command {
  public:
    std::string name() const override { return "check-config"; }
    std::string help() const override {
        return "validate the configuration and the plugin configs, then exit (78 when invalid)";
    }
    int run(CommandContext& ctx, const CommandArgs&) override {
        const auto& s = ctx.settings;
        int problems = 0;
        try {
            auto migrations = storage::MigrationRunner(s.db.migrationsDir).discover();
            std::cout << "migrations: " << migrations.size() << " file(s) in " << s.db.migrationsDir << "\n";
        } catch (const std::exception& e) {
            std::cout << "error: " << e.what() << "\n";
            ++problems;
        }
        plugins::PluginManager pm;
        pm.load(s, plugins::PluginManager::Mode::Validate);
        for (const auto& r : pm.report().refused) {
            std::cout << "error: plugin " << r.file << ": " << r.reason << "\n";
            ++problems;
        }
        for (const auto& i : pm.report().instances) {
            if (i.state == "refused") {
                std::cout << "error: instance " << i.name << " (" << i.specFile << "): " << i.reason << "\n";
                ++problems;
            }
        }
        std::cout << "plugins: " << pm.report().loaded.size() << " loaded, " << pm.report().instances.size()
                  << " instance(s)\n";
        for (const auto& [key, shown] : s.shown)
            std::cout << "  " << std::left << std::setw(28) << key << " = " << shown.value << "  ("
                      << shown.source << ")\n";
        std::cout << (problems ? "configuration INVALID: " + std::to_string(problems) + " problem(s)\n"
                               : "configuration OK: " + s.configFile + "\n");
        return problems ? kExitConfig : kExitOk;
    }
};

}  // namespace

std::unique_ptr<Command> makeCheckConfigCommand() {
    return std::make_unique<CheckConfigCommand>();
}

}  // namespace pulse::app
