// pulsed --create-rule TENANT/NAME --type T --json J [--severity S] [--scope ...]: a rule through the API's
// save path and checks (services::RuleService: the plugin's schema and the plugin itself, the tenant's own
// scope).
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "logging/Logging.h"
#include "plugins/PluginManager.h"
#include "services/RuleService.h"
#include "storage/TenantStore.h"

#include <pulse/json.hpp>

#include <iostream>

namespace pulse::app {
namespace {

class CreateRuleCommand : public Command {
  public:
    std::string name() const override { return "create-rule"; }
    std::string help() const override {
        return "create a rule (--type, --json, --severity, --scope), then exit";
    }
    std::string argumentName() const override { return "TENANT/NAME"; }
    int run(CommandContext& ctx, const CommandArgs& args) override {
        std::string tenant, name;
        storage::RuleFields rule;
        rule.type = args.option("type");
        rule.configJson = args.option("json");
        if (!splitTenantAndName(args.argument, tenant, name) || rule.type.empty() ||
            rule.configJson.empty()) {
            logging::get("pulsed")->error("--create-rule TENANT/NAME needs --type and --json");
            return kExitConfig;
        }
        rule.name = name;
        if (!args.option("severity").empty()) rule.severity = args.option("severity");
        std::string scope = args.option("scope"), scopeName;
        if (!scope.empty() && scope != "tenant") {
            auto colon = scope.find(':');
            rule.scopeKind = scope.substr(0, colon);
            scopeName = colon == std::string::npos ? "" : scope.substr(colon + 1);
            if ((rule.scopeKind != "site" && rule.scopeKind != "tag" && rule.scopeKind != "device") ||
                scopeName.empty()) {
                logging::get("pulsed")->error("--scope is tenant, site:<name>, tag:<tag> or device:<name>");
                return kExitConfig;
            }
        }
        plugins::PluginManager pm;
        pm.load(ctx.settings, plugins::PluginManager::Mode::Validate);
        auto tenantId = storage::TenantStore(ctx.pool()).idBySlug(tenant);
        if (!tenantId) {
            logging::get("pulsed")->error("no tenant {}", tenant);
            return kExitConfig;
        }
        services::RuleService rules(ctx.pool(), &pm);
        try {
            if (rule.scopeKind != "tenant")
                rule.scopeValue = rules.scopeValueNamed(*tenantId, rule.scopeKind, scopeName);
            std::string id = *rules.save(*tenantId, std::nullopt, rule);
            ctx.audit(*tenantId, "rule.create", id, json::objectOf({{"type", rule.type}}));
            std::cout << "rule:          " << args.argument << " (id " << id << ")\n";
            return kExitOk;
        } catch (const std::invalid_argument& e) {
            logging::get("pulsed")->error("rule refused: {}", e.what());
            return kExitConfig;
        }
    }
};

}  // namespace

std::unique_ptr<Command> makeCreateRuleCommand() {
    return std::make_unique<CreateRuleCommand>();
}

}  // namespace pulse::app
