// pulsed --create-device TENANT/NAME [--tags a,b]: a device through the API's save path, its token shown
// once.
#include "app/commands/Command.h"
#include "app/commands/Commands.h"
#include "logging/Logging.h"
#include "services/BrokerCredentials.h"
#include "services/DeviceProvisioning.h"
#include "storage/TenantStore.h"

#include <Poco/StringTokenizer.h>

#include <pulse/json.hpp>

#include <iostream>

namespace pulse::app {
namespace {

class CreateDeviceCommand : public Command {
  public:
    std::string name() const override { return "create-device"; }
    std::string help() const override {
        return "create a device (--tags a,b) and print its token (shown once), then exit";
    }
    std::string argumentName() const override { return "TENANT/NAME"; }
    int run(CommandContext& ctx, const CommandArgs& args) override {
        std::string tenant, device;
        if (!splitTenantAndName(args.argument, tenant, device)) {
            logging::get("pulsed")->error("--create-device expects TENANT/NAME, got '{}'", args.argument);
            return kExitConfig;
        }
        Poco::StringTokenizer t(args.option("tags"), ",",
                                Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
        std::vector<std::string> tags(t.begin(), t.end());
        const auto& s = ctx.settings;
        auto& db = ctx.database();
        try {
            auto d = services::createDevice(db, tenant, device, tags);
            ctx.audit(storage::TenantStore(ctx.pool()).idBySlug(tenant).value_or(""), "device.create",
                      std::to_string(d.deviceId), json::objectOf({{"name", device}}));
            // The broker learns the new account now, not at the next periodic sync of a running pulsed.
            services::syncBrokerCredentials(
                db, {s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile});
            std::cout << "device:        " << d.mqttUsername << " (id " << d.deviceId << ")\n"
                      << "token:         " << d.token << "   (shown once; store it on the device)\n"
                      << "HTTP:          POST /api/v1/telemetry with Authorization: Bearer <token>\n"
                      << "MQTT:          username " << d.mqttUsername << ", password <token>, topic devices/"
                      << d.mqttUsername << "/telemetry\n";
            return kExitOk;
        } catch (const std::invalid_argument& e) {
            logging::get("pulsed")->error("{}", e.what());
            return kExitConfig;
        }
    }
};

}  // namespace

std::unique_ptr<Command> makeCreateDeviceCommand() {
    return std::make_unique<CreateDeviceCommand>();
}

}  // namespace pulse::app
