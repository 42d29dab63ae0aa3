#pragma once

#include "config/Settings.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pulse::storage {
class Database;
class PgPool;
}  // namespace pulse::storage

namespace pulse::app {

constexpr int kExitOk = 0;
constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: the database is away, a migration failed
constexpr int kExitConfig = 78;       // EX_CONFIG: the configuration or the command's input is invalid

// What a command was given: the argument of its own option (--create-device TENANT/NAME) and the options
// it shares with others (--type, --json, --severity, --scope, --tags).
struct CommandArgs {
    std::string argument;
    std::map<std::string, std::string> options;
    std::string option(const std::string& name) const;
};

// What a command runs with: the loaded settings, the database once asked for (migrated or checked first,
// with small pools: one command, one caller), and the audit log its changes go to.
class CommandContext {
  public:
    explicit CommandContext(const config::Settings& settings);
    ~CommandContext();

    const config::Settings& settings;
    storage::Database& database();
    storage::PgPool& pool();
    // Records a change the command made, as the API records its own: the actor is cli:<user>, the user
    // running pulsed (the address is "local").
    void audit(const std::string& tenantId, const std::string& action, const std::string& target,
               const std::string& detailJson = "{}");
    static std::string actor();

  private:
    void open();
    std::unique_ptr<storage::Database> db_;
    std::unique_ptr<storage::PgPool> pool_;
};

// One administrative verb of pulsed: the option that selects it, its help, and what it does. PulseServer
// declares an option per command (Poco's option callbacks select it) and runs the selected one after the
// configuration is loaded.
class Command {
  public:
    virtual ~Command() = default;
    virtual std::string name() const = 0;  // the option: "create-device"
    virtual std::string help() const = 0;
    virtual std::string argumentName() const { return ""; }  // "TENANT/NAME" when the option takes one
    // False for commands that work without db.uri set (--list-plugins); the others require it.
    virtual bool needsDatabase() const { return true; }
    // The exit code: kExitOk, kExitConfig, kExitUnavailable.
    virtual int run(CommandContext& ctx, const CommandArgs& args) = 0;
};

// Every administrative command, in the order --help lists them.
std::vector<std::unique_ptr<Command>> administrativeCommands();

// "tenant/name" split at its first slash; false when there is none or a side is empty.
bool splitTenantAndName(const std::string& spec, std::string& tenant, std::string& name);

}  // namespace pulse::app
