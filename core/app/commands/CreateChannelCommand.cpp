// pulsed --create-channel TENANT/NAME --type T --json J [--severity list]: a notification channel (secrets
// sealed, URLs checked by the egress guard) through the API's save path, routed every alert or the listed
// severities.
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "logging/Logging.h"
#include "net/OutboundHttp.h"
#include "plugins/PluginManager.h"
#include "services/ChannelService.h"
#include "services/SecretBox.h"
#include "storage/TenantStore.h"

#include <Poco/StringTokenizer.h>

#include <pulse/json.hpp>

#include <iostream>

namespace pulse::app {
namespace {

class CreateChannelCommand : public Command {
  public:
    std::string name() const override { return "create-channel"; }
    std::string help() const override {
        return "create a notification channel (--type, --json) routed every alert (or --severity list), then "
               "exit";
    }
    std::string argumentName() const override { return "TENANT/NAME"; }
    int run(CommandContext& ctx, const CommandArgs& args) override {
        std::string tenant, channel, type = args.option("type"), config = args.option("json"),
                                     severities = args.option("severity");
        if (!splitTenantAndName(args.argument, tenant, channel) || type.empty() || config.empty()) {
            logging::get("pulsed")->error("--create-channel TENANT/NAME needs --type and --json");
            return kExitConfig;
        }
        const auto& s = ctx.settings;
        net::OutboundHttp outbound{net::EgressGuard(s.egressAllow)};
        plugins::PluginManager pm(nullptr, plugins::HostServices{nullptr, nullptr, &outbound});
        pm.load(s, plugins::PluginManager::Mode::Validate);
        services::SecretBox box;
        if (!s.secretsKeyFile.empty()) box = services::SecretBox::fromKeyFile(s.secretsKeyFile);
        auto tenantId = storage::TenantStore(ctx.pool()).idBySlug(tenant);
        if (!tenantId) {
            logging::get("pulsed")->error("no tenant {}", tenant);
            return kExitConfig;
        }
        services::ChannelService channels(ctx.pool(), pm, box, outbound.guard());
        try {
            std::string id = channels.create(*tenantId, services::ChannelSpec{channel, type, config, 4});
            ctx.audit(*tenantId, "channel.create", id, json::objectOf({{"type", type}}));  // never the config
            services::RouteSpec route;
            route.channelId = id;
            route.name = "from the command line";
            Poco::StringTokenizer t(
                severities, ",", Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
            route.severities.assign(t.begin(), t.end());
            std::string routeId = channels.createRoute(*tenantId, route);
            ctx.audit(*tenantId, "routing_rule.create", routeId, json::objectOf({{"channel_id", id}}));
            std::cout << "channel:       " << args.argument << " (id " << id << ")\n"
                      << "config:        " << channels.maskedConfig(*tenantId, id) << "\n"
                      << "routed:        " << (severities.empty() ? std::string("every alert") : severities)
                      << "\n";
            return kExitOk;
        } catch (const std::exception& e) {
            logging::get("pulsed")->error("channel refused: {}", e.what());
            return kExitConfig;
        }
    }
};

}  // namespace

std::unique_ptr<Command> makeCreateChannelCommand() {
    return std::make_unique<CreateChannelCommand>();
}

}  // namespace pulse::app
