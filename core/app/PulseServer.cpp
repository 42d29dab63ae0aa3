#include "app/PulseServer.h"

#include "app/Subsystems.h"
#include "logging/Logging.h"
#include "plugins/PluginManager.h"

#include <Poco/DirectoryIterator.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionCallback.h>

#include <unistd.h>
#include <ctime>
#include <iostream>
#include <map>
#include <set>

namespace pulse::app {

PulseServer::PulseServer() {
    setUnixOptions(true);
}

void PulseServer::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    using Poco::Util::Option;
    using Poco::Util::OptionCallback;
    auto option = [&](const std::string& name, const std::string& help, const std::string& argument,
                      void (PulseServer::*handler)(const std::string&, const std::string&)) {
        Option o(name, "", help);
        o.required(false).repeatable(false).callback(OptionCallback<PulseServer>(this, handler));
        if (!argument.empty()) o.argument(argument);
        options.addOption(o);
    };
    option("help", "print this help (with the component types plugins.d loads) and exit", "",
           &PulseServer::showInformation);
    option("version", "print the version and exit", "", &PulseServer::showInformation);
    option("help-config", "list every configuration key with its default and environment variable, then exit",
           "", &PulseServer::showInformation);
    option("config", "configuration file (default: $PULSE_CONFIG, else etc/pulse.properties)", "FILE",
           &PulseServer::setConfigPath);
    for (const auto& c : commands_)
        option(c->name(), c->help(), c->argumentName(), &PulseServer::selectCommand);
    option("type",
           "component type for --create-channel (a sender) or --create-rule (a rule); --help lists them",
           "TYPE", &PulseServer::setCommandOption);
    option("json", "the plugin config (JSON) for --create-channel or --create-rule", "JSON",
           &PulseServer::setCommandOption);
    option("severity", "rule severity, or the severities a channel is routed (comma-separated)", "SEVERITY",
           &PulseServer::setCommandOption);
    option("scope", "rule scope: tenant (default), site:<name>, tag:<tag> or device:<name>", "SCOPE",
           &PulseServer::setCommandOption);
    option("tags", "tags of the device made by --create-device, comma-separated", "TAGS",
           &PulseServer::setCommandOption);
}

void PulseServer::selectCommand(const std::string& name, const std::string& value) {
    for (const auto& c : commands_)
        if (c->name() == name) command_ = c.get();
    args_.argument = value;
}

void PulseServer::setCommandOption(const std::string& name, const std::string& value) {
    args_.options[name] = value;
}

void PulseServer::setConfigPath(const std::string&, const std::string& value) {
    configPath_ = value;
}

void PulseServer::showInformation(const std::string& name, const std::string&) {
    information_ = name;
    stopOptionsProcessing();
}

std::string PulseServer::configPath() const {
    if (!configPath_.empty()) return configPath_;
    const char* env = std::getenv("PULSE_CONFIG");
    return env && *env ? env : "etc/pulse.properties";
}

void PulseServer::initialize(Poco::Util::Application& self) {
    logging::setup("info", "text", "");
    if (!information_.empty()) {
        ServerApplication::initialize(self);
        return;
    }
    ctx_ = std::make_unique<ServerContext>();
    addConfigSubsystem(*this, *ctx_, configPath(), !command_ || command_->needsDatabase());
    if (!command_) {
        registerProcessMetrics();
        addServingSubsystems(*this, *ctx_);
    }
    try {
        ServerApplication::initialize(self);
    } catch (const config::ConfigError& e) {
        logging::get("config")->error("{}", e.what());
        startupError_ = kExitConfig;
    } catch (const Poco::Exception& e) {
        logging::get("pulsed")->error("start-up failed: {}", e.displayText());
        startupError_ = kExitUnavailable;
    } catch (const std::exception& e) {
        logging::get("pulsed")->error("start-up failed: {}", e.what());
        startupError_ = kExitUnavailable;
    }
    // Poco does not uninitialize the subsystems that did start before one failed: what they started stops
    // here, in the same reverse order as at a normal stop.
    if (startupError_ && ctx_) ctx_->workers.stopAll();
}

void PulseServer::uninitialize() {
    bool serving = information_.empty() && !command_ && !startupError_;
    if (serving) logging::get("pulsed")->info("stopping");
    if (ctx_) ctx_->workers.stopAll();
    ServerApplication::uninitialize();
    if (serving) logging::get("pulsed")->info("stopped");
}

std::string PulseServer::loadedComponentTypes() {
    try {
        logging::setup("off", "text", "");  // plugin refusals are --check-config's to report, not --help's
        // The application's configuration: it knows ${application.dir}, which plugins.path starts from.
        auto settings = config::loadSettings(config(), configPath(), config::processEnvironment(), false);
        plugins::PluginManager pm;
        pm.load(settings, plugins::PluginManager::Mode::List);
        std::map<std::string, std::set<std::string>> byKind;
        for (const auto& p : pm.report().loaded)
            for (const auto& c : p.components) byKind[plugins::kindName(c->kind)].insert(c->type);
        std::string out;
        for (const auto& [kind, types] : byKind) {
            out += "  " + kind + ":";
            for (const auto& t : types) out += " " + t;
            out += "\n";
        }
        return out;
    } catch (const std::exception&) {
        return "";
    }
}

void PulseServer::printHelp() {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[OPTIONS]");
    help.setHeader("Pulse IoT fleet operations server.");
    std::string types = loadedComponentTypes();
    help.setFooter(
        "Configuration: " + configPath() + ", every key overridable by PULSE_<KEY> (see --help-config).\n" +
        (types.empty() ? "Component types: the configuration could not be read (see --check-config).\n"
                       : "Component types plugins.d loads (for --type):\n" + types));
    help.format(std::cout);
}

void PulseServer::printConfigKeys() const {
    for (const auto& k : config::configKeys()) {
        std::cout << k.key << "\n    " << k.description << "\n    default: "
                  << (k.defaultValue.empty() ? (k.required ? "(required)" : "(empty)") : k.defaultValue)
                  << "    env: " << config::envName(k.key) << "\n";
    }
}

void PulseServer::registerProcessMetrics() {
    auto& m = ctx_->metrics;
    m.gauge("pulse_build_info", "Build information", {{"version", PULSE_VERSION}}).set(1);
    m.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds")
        .set(static_cast<double>(std::time(nullptr)));
    m.addCollector([](metrics::MetricsRegistry& reg) {
        long pages = 0, resident = 0;
        if (FILE* f = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
            std::fclose(f);
        }
        reg.gauge("process_resident_memory_bytes", "Resident memory size in bytes")
            .set(static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
        double fds = 0;
        try {
            for (Poco::DirectoryIterator it(std::string("/proc/self/fd")), end; it != end; ++it) fds += 1;
        } catch (const Poco::Exception&) {
        }
        reg.gauge("process_open_fds", "Number of open file descriptors").set(fds);
    });
}

int PulseServer::main(const std::vector<std::string>&) {
    if (information_ == "help") {
        printHelp();
        return kExitOk;
    }
    if (information_ == "version") {
        std::cout << "pulsed " << PULSE_VERSION << " (plugin ABI " << PULSE_ABI_MAJOR << "."
                  << plugins::kHostAbiMinor << ")\n";
        return kExitOk;
    }
    if (information_ == "help-config") {
        printConfigKeys();
        return kExitOk;
    }
    if (startupError_) return startupError_;
    if (command_) {
        try {
            CommandContext context(ctx_->settings);
            return command_->run(context, args_);
        } catch (const config::ConfigError& e) {
            logging::get("pulsed")->error("{}", e.what());
            return kExitConfig;
        } catch (const Poco::Exception& e) {
            logging::get("pulsed")->error("{}", e.displayText());
            return kExitUnavailable;
        } catch (const std::exception& e) {
            logging::get("pulsed")->error("{}", e.what());
            return kExitUnavailable;
        }
    }
    logging::get("pulsed")->info("pulsed {} ready", PULSE_VERSION);
    waitForTerminationRequest();
    return kExitOk;
}

}  // namespace pulse::app
