#pragma once

#include "app/commands/Command.h"

#include <memory>

namespace pulse::app {

// One factory per command, each in its own file; administrativeCommands() lists them.
std::unique_ptr<Command> makeCheckConfigCommand();
std::unique_ptr<Command> makeListPluginsCommand();
std::unique_ptr<Command> makeMigrateCommand();
std::unique_ptr<Command> makeSeedDemoCommand();
std::unique_ptr<Command> makeCreateDeviceCommand();
std::unique_ptr<Command> makeCreateChannelCommand();
std::unique_ptr<Command> makeCreateRuleCommand();

}  // namespace pulse::app
