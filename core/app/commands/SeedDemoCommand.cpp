// pulsed --seed-demo: the demo tenant, its admin and a small fleet (what scripts/run shows a new user).
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "logging/Logging.h"
#include "services/BrokerCredentials.h"
#include "services/DemoSeed.h"
#include "services/DeviceProvisioning.h"
#include "storage/TenantStore.h"

#include <pulse/json.hpp>

#include <cstdlib>
#include <iostream>

namespace pulse::app {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

class SeedDemoCommand : public Command {
  public:
    std::string name() const override { return "seed-demo"; }
    std::string help() const override {
        return "create or refresh the demo tenant, user and fleet ($PULSE_DEMO_EMAIL, $PULSE_DEMO_PASSWORD)";
    }
    int run(CommandContext& ctx, const CommandArgs&) override {
        const auto& s = ctx.settings;
        std::string email = envOr("PULSE_DEMO_EMAIL", "demo@pulse.local");
        std::string password = envOr("PULSE_DEMO_PASSWORD", "");
        if (password.size() < 8) {
            logging::get("pulsed")->error("--seed-demo needs PULSE_DEMO_PASSWORD of at least 8 characters");
            return kExitConfig;
        }
        auto& db = ctx.database();
        auto login = services::seedDemo(db, email, password);
        std::string tenantId = storage::TenantStore(ctx.pool()).idBySlug(login.tenant).value_or("");
        ctx.audit(tenantId, "demo.seed", login.email, json::objectOf({{"tenant", login.tenant}}));
        logging::get("pulsed")->info("demo tenant '{}' with user {} is ready", login.tenant, login.email);
        // A small fleet; a device's token is printed only when it is created (tokens are stored hashed).
        static const char* fleet[] = {"boiler-1", "boiler-2", "chiller-1", "meter-1", "meter-2"};
        for (const char* name : fleet) {
            try {
                auto d = services::createDevice(db, login.tenant, name, {"demo"});
                ctx.audit(tenantId, "device.create", std::to_string(d.deviceId),
                          json::objectOf({{"name", name}}));
                std::cout << "device " << d.mqttUsername << " token " << d.token << "\n";
            } catch (const std::invalid_argument&) {
                // already provisioned by an earlier run
            }
        }
        if (s.demoHistory) services::seedDemoHistory(db, ctx.pool(), s, tenantId, "user:" + login.email);
        services::syncBrokerCredentials(db,
                                        {s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile});
        return kExitOk;
    }
};

}  // namespace

std::unique_ptr<Command> makeSeedDemoCommand() {
    return std::make_unique<SeedDemoCommand>();
}

}  // namespace pulse::app
