// pulsed --list-plugins: what plugins.d enables, what it refused, and what is available but not enabled.
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "plugins/PluginManager.h"

#include <iomanip>
#include <iostream>

namespace pulse::app {
namespace {

void printPlugin(const plugins::LoadedPlugin& p) {
    std::string comps;
    for (const auto& c : p.components) comps += (comps.empty() ? "" : ", ") + c->qualifiedType();
    std::cout << "  " << std::left << std::setw(20) << p.name << " " << std::setw(10) << p.version << " ABI "
              << p.abiMajor << "." << p.abiMinor << "  " << comps << "\n      file: " << p.file << "\n";
    if (!p.description.empty()) std::cout << "      " << p.description << "\n";
}

class ListPluginsCommand : public Command {
  public:
    std::string name() const override { return "list-plugins"; }
    std::string help() const override {
        return "list plugins (name, version, ABI, components), instances and refusals, then exit";
    }
    bool needsDatabase() const override { return false; }
    int run(CommandContext& ctx, const CommandArgs&) override {
        plugins::PluginManager pm;
        pm.load(ctx.settings, plugins::PluginManager::Mode::List);
        const auto& r = pm.report();
        std::cout << "Host ABI " << PULSE_ABI_MAJOR << "." << plugins::kHostAbiMinor
                  << "\n\nEnabled plugins (" << r.loaded.size() << "):\n";
        for (const auto& p : r.loaded) printPlugin(p);
        std::cout << "\nInstances (" << r.instances.size() << "):\n";
        for (const auto& i : r.instances)
            std::cout << "  " << std::left << std::setw(20) << i.name << " " << std::setw(22) << i.component
                      << " " << std::setw(9) << i.state << (i.reason.empty() ? "" : " " + i.reason) << "\n";
        std::cout << "\nRefused (" << r.refused.size() << "):\n";
        for (const auto& f : r.refused) std::cout << "  " << f.file << "\n      " << f.reason << "\n";
        std::cout << "\nAvailable, not enabled (" << r.available.size() << "):\n";
        for (const auto& p : r.available) printPlugin(p);
        return kExitOk;
    }
};

}  // namespace

std::unique_ptr<Command> makeListPluginsCommand() {
    return std::make_unique<ListPluginsCommand>();
}

}  // namespace pulse::app
