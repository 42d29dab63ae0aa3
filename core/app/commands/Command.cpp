#include "app/commands/Command.h"

#include "app/Subsystems.h"
#include "app/commands/Commands.h"
#include "services/AuditLog.h"
#include "storage/Database.h"
#include "storage/PgPool.h"

#include <pwd.h>
#include <unistd.h>

namespace pulse::app {

std::string CommandArgs::option(const std::string& name) const {
    auto it = options.find(name);
    return it == options.end() ? "" : it->second;
}

CommandContext::CommandContext(const config::Settings& s) : settings(s) {}
CommandContext::~CommandContext() = default;

void CommandContext::open() {
    if (db_) return;
    migrateOrCheck(settings, settings.db.migrateOnStart);
    std::string conninfo = config::withConnectTimeout(settings.db.uri, settings.db.connectTimeoutS);
    db_ = std::make_unique<storage::Database>(conninfo, 1, 2);
    pool_ = std::make_unique<storage::PgPool>(conninfo, 2);
}

storage::Database& CommandContext::database() {
    open();
    return *db_;
}

storage::PgPool& CommandContext::pool() {
    open();
    return *pool_;
}

std::string CommandContext::actor() {
    // The account the operator runs pulsed as (root, pulse, a person's login): what the audit can know.
    if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return std::string("cli:") + pw->pw_name;
    return "cli:uid-" + std::to_string(geteuid());
}

void CommandContext::audit(const std::string& tenantId, const std::string& action, const std::string& target,
                           const std::string& detailJson) {
    services::AuditEntry e;
    e.actor = actor();
    e.actorRole = "cli";
    e.tenantId = tenantId;
    e.address = "local";
    e.action = action;
    e.target = target;
    e.result = "ok";
    e.detailJson = detailJson;
    services::AuditLog(database()).record(e);
}

std::vector<std::unique_ptr<Command>> administrativeCommands() {
    std::vector<std::unique_ptr<Command>> all;
    all.push_back(makeCheckConfigCommand());
    all.push_back(makeListPluginsCommand());
    all.push_back(makeMigrateCommand());
    all.push_back(makeSeedDemoCommand());
    all.push_back(makeCreateDeviceCommand());
    all.push_back(makeCreateChannelCommand());
    all.push_back(makeCreateRuleCommand());
    return all;
}

bool splitTenantAndName(const std::string& spec, std::string& tenant, std::string& name) {
    auto slash = spec.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == spec.size()) return false;
    tenant = spec.substr(0, slash);
    name = spec.substr(slash + 1);
    return true;
}

}  // namespace pulse::app
