// pulsed --migrate: pending migrations applied as the schema owner.
#include "app/Subsystems.h"
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "logging/Logging.h"

namespace pulse::app {
namespace {

class MigrateCommand : public Command {
  public:
    std::string name() const override { return "migrate"; }
    std::string help() const override {
        return "apply pending database migrations with db.migrate_uri, then exit";
    }
    int run(CommandContext& ctx, const CommandArgs&) override {
        if (ctx.settings.db.migrateUri.empty()) {
            logging::get("pulsed")->error("--migrate needs db.migrate_uri (PULSE_DB_MIGRATE_URI)");
            return kExitConfig;
        }
        // The migration ledger (pulse_meta.schema_migrations) is the record of what was applied and when.
        migrateOrCheck(ctx.settings, true);
        return kExitOk;
    }
};

}  // namespace

std::unique_ptr<Command> makeMigrateCommand() {
    return std::make_unique<MigrateCommand>();
}

}  // namespace pulse::app
