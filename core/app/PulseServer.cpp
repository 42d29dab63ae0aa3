#include "app/PulseServer.h"

#include "app/Subsystems.h"
#include "logging/Logging.h"
#include "services/BrokerCredentials.h"
#include "services/DemoSeed.h"
#include "services/DeviceProvisioning.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "storage/TenantScope.h"

#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/HelpFormatter.h>

#include <unistd.h>
#include <iomanip>
#include <iostream>

namespace pulse::app {
namespace {

constexpr int kExitConfig = 78;       // EX_CONFIG
constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE

std::string defaultConfigPath(const std::map<std::string, std::string>& env) {
    auto it = env.find("PULSE_CONFIG");
    return it != env.end() && !it->second.empty() ? it->second : "etc/pulse.properties";
}

void printPlugin(const plugins::LoadedPlugin& p) {
    std::string comps;
    for (const auto& c : p.components) comps += (comps.empty() ? "" : ", ") + c->qualifiedType();
    std::cout << "  " << std::left << std::setw(20) << p.name << " " << std::setw(10) << p.version << " ABI "
              << p.abiMajor << "." << p.abiMinor << "  " << comps << "\n      file: " << p.file << "\n";
    if (!p.description.empty()) std::cout << "      " << p.description << "\n";
}

std::string envOr(const std::map<std::string, std::string>& env, const char* name,
                  const std::string& fallback) {
    auto it = env.find(name);
    return it != env.end() && !it->second.empty() ? it->second : fallback;
}

}  // namespace

PulseServer::PulseServer() {
    setUnixOptions(true);
}

void PulseServer::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    using Poco::Util::Option;
    auto add = [&](const char* name, const char* shortName, const char* help) {
        options.addOption(Option(name, shortName, help).required(false).repeatable(false));
    };
    add("help", "h", "print this help and exit");
    add("version", "v", "print the version and exit");
    options.addOption(
        Option("config", "c", "configuration file (default: $PULSE_CONFIG, else etc/pulse.properties)")
            .required(false)
            .repeatable(false)
            .argument("FILE"));
    add("help-config", "",
        "list every configuration key with its default and environment variable, then exit");
    add("check-config", "", "validate the configuration and the plugin configs, then exit (78 when invalid)");
    add("list-plugins", "",
        "list plugins (name, version, ABI, components), instances and refusals, then exit");
    add("migrate", "", "apply pending database migrations with db.migrate_uri, then exit");
    add("seed-demo", "",
        "create or refresh the demo tenant, user and fleet ($PULSE_DEMO_EMAIL, $PULSE_DEMO_PASSWORD)");
    options.addOption(
        Option("create-device", "", "create a device and print its token (shown once), then exit")
            .required(false)
            .repeatable(false)
            .argument("TENANT/NAME"));
    options.addOption(Option("create-channel", "",
                             "create a notification channel (--type, --json) routed every alert (or "
                             "--severity list), then exit")
                          .required(false)
                          .repeatable(false)
                          .argument("TENANT/NAME"));
    options.addOption(
        Option("create-rule", "", "create a rule (--type, --json, --severity, --scope), then exit")
            .required(false)
            .repeatable(false)
            .argument("TENANT/NAME"));
    options.addOption(Option("type", "",
                             "component type for --create-channel (webhook, log) or --create-rule "
                             "(threshold, heartbeat)")
                          .required(false)
                          .repeatable(false)
                          .argument("TYPE"));
    options.addOption(Option("json", "", "the plugin config (JSON) for --create-channel or --create-rule")
                          .required(false)
                          .repeatable(false)
                          .argument("JSON"));
    options.addOption(
        Option("severity", "", "rule severity, or the severities a channel is routed (comma-separated)")
            .required(false)
            .repeatable(false)
            .argument("SEVERITY"));
    options.addOption(
        Option("scope", "", "rule scope: tenant (default), site:<name>, tag:<tag> or device:<name>")
            .required(false)
            .repeatable(false)
            .argument("SCOPE"));
    options.addOption(Option("tags", "", "tags of the device made by --create-device, comma-separated")
                          .required(false)
                          .repeatable(false)
                          .argument("TAGS"));
}

void PulseServer::handleOption(const std::string& name, const std::string& value) {
    ServerApplication::handleOption(name, value);
    if (name == "config")
        configPath_ = value;
    else if (name == "help")
        setMode(Mode::Help);
    else if (name == "version")
        setMode(Mode::Version);
    else if (name == "help-config")
        setMode(Mode::HelpConfig);
    else if (name == "check-config")
        setMode(Mode::CheckConfig);
    else if (name == "list-plugins")
        setMode(Mode::ListPlugins);
    else if (name == "migrate")
        setMode(Mode::Migrate);
    else if (name == "seed-demo")
        setMode(Mode::SeedDemo);
    else if (name == "create-device") {
        setMode(Mode::CreateDevice);
        deviceSpec_ = value;
    } else if (name == "create-channel") {
        setMode(Mode::CreateChannel);
        objectSpec_ = value;
    } else if (name == "create-rule") {
        setMode(Mode::CreateRule);
        objectSpec_ = value;
    } else if (name == "type")
        type_ = value;
    else if (name == "json")
        json_ = value;
    else if (name == "severity")
        severity_ = value;
    else if (name == "scope")
        scope_ = value;
    else if (name == "tags")
        deviceTags_ = value;
}

void PulseServer::setMode(Mode mode) {
    mode_ = mode;
    if (mode == Mode::Help || mode == Mode::Version || mode == Mode::HelpConfig) stopOptionsProcessing();
}

void PulseServer::initialize(Poco::Util::Application& self) {
    logging::setup("info", "text", "");
    if (mode_ == Mode::Help || mode_ == Mode::Version || mode_ == Mode::HelpConfig) {
        ServerApplication::initialize(self);
        return;
    }
    ctx_ = std::make_unique<ServerContext>();
    auto env = config::processEnvironment();
    addSubsystem(new ConfigSubsystem(*ctx_, configPath_.empty() ? defaultConfigPath(env) : configPath_,
                                     mode_ != Mode::ListPlugins));
    if (mode_ == Mode::Serve) {
        registerProcessMetrics();
        addSubsystem(new DatabaseSubsystem(*ctx_));
        addSubsystem(new TelemetrySubsystem(*ctx_));
        addSubsystem(new PluginSubsystem(*ctx_));
        addSubsystem(new AlertingSubsystem(*ctx_));
        addSubsystem(new HttpSubsystem(*ctx_));
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
    if (startupError_ && ctx_) {
        // Subsystems that did start are not uninitialized by Poco after a failure: release them here.
        if (ctx_->ruleTick) ctx_->ruleTick->stop();
        if (ctx_->ruleReload) ctx_->ruleReload->stop();
        if (ctx_->dispatcher) ctx_->dispatcher->stop();
        if (ctx_->plugins) ctx_->plugins->stopAll();
        if (ctx_->alerts) ctx_->alerts->stop();
        ctx_->db.reset();
    }
}

void PulseServer::uninitialize() {
    if (mode_ == Mode::Serve && !startupError_) logging::get("pulsed")->info("stopping");
    ServerApplication::uninitialize();
    if (mode_ == Mode::Serve && !startupError_) logging::get("pulsed")->info("stopped");
}

void PulseServer::printHelp() const {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[OPTIONS]");
    help.setHeader("Pulse IoT fleet operations server.");
    help.setFooter(
        "Configuration: etc/pulse.properties, every key overridable by PULSE_<KEY> (see --help-config).");
    help.format(std::cout);
}

void PulseServer::printConfigKeys() const {
    for (const auto& k : config::configKeys()) {
        std::cout << k.key << "\n    " << k.description << "\n    default: "
                  << (k.defaultValue.empty() ? (k.required ? "(required)" : "(empty)") : k.defaultValue)
                  << "    env: " << config::envName(k.key) << "\n";
    }
}

int PulseServer::checkConfig() {
    const auto& s = ctx_->settings;
    int problems = 0;
    try {
        auto migrations = storage::MigrationRunner(s.dbMigrationsDir).discover();
        std::cout << "migrations: " << migrations.size() << " file(s) in " << s.dbMigrationsDir << "\n";
    } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << "\n";
        ++problems;
    }
    plugins::PluginManager pm;
    pm.load(s, plugins::PluginManager::Mode::Validate);
    for (const auto& r : pm.report().refused) {
        std::cout << "error: plugin " << r.file << ": " << r.reason << "\n";
        ++problems;
    }
    for (const auto& i : pm.report().instances) {
        if (i.state == "refused") {
            std::cout << "error: instance " << i.name << " (" << i.specFile << "): " << i.reason << "\n";
            ++problems;
        }
    }
    std::cout << "plugins: " << pm.report().loaded.size() << " loaded, " << pm.report().instances.size()
              << " instance(s)\n";
    for (const auto& [key, shown] : s.shown)
        std::cout << "  " << std::left << std::setw(28) << key << " = " << shown.value << "  ("
                  << shown.source << ")\n";
    std::cout << (problems ? "configuration INVALID: " + std::to_string(problems) + " problem(s)\n"
                           : "configuration OK: " + s.configFile + "\n");
    return problems ? kExitConfig : EXIT_OK;
}

int PulseServer::listPlugins() {
    plugins::PluginManager pm;
    pm.load(ctx_->settings, plugins::PluginManager::Mode::List);
    const auto& r = pm.report();
    std::cout << "Host ABI " << PULSE_ABI_MAJOR << "." << plugins::kHostAbiMinor << "\n\nEnabled plugins ("
              << r.loaded.size() << "):\n";
    for (const auto& p : r.loaded) printPlugin(p);
    std::cout << "\nInstances (" << r.instances.size() << "):\n";
    for (const auto& i : r.instances)
        std::cout << "  " << std::left << std::setw(20) << i.name << " " << std::setw(22) << i.component
                  << " " << std::setw(9) << i.state << (i.reason.empty() ? "" : " " + i.reason) << "\n";
    std::cout << "\nRefused (" << r.refused.size() << "):\n";
    for (const auto& f : r.refused) std::cout << "  " << f.file << "\n      " << f.reason << "\n";
    std::cout << "\nAvailable, not enabled (" << r.available.size() << "):\n";
    for (const auto& p : r.available) printPlugin(p);
    return EXIT_OK;
}

int PulseServer::seedDemo() {
    const auto& s = ctx_->settings;
    auto env = config::processEnvironment();
    std::string email = envOr(env, "PULSE_DEMO_EMAIL", "demo@pulse.local");
    std::string password = envOr(env, "PULSE_DEMO_PASSWORD", "");
    if (password.size() < 8) {
        logging::get("pulsed")->error("--seed-demo needs PULSE_DEMO_PASSWORD of at least 8 characters");
        return kExitConfig;
    }
    migrateOrCheck(s, s.dbMigrateOnStart);
    storage::Database db(config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS), 1, 2);
    auto login = services::seedDemo(db, email, password);
    logging::get("pulsed")->info("demo tenant '{}' with user {} is ready", login.tenant, login.email);
    // A small fleet; a device's token is printed only when it is created (tokens are stored hashed).
    static const char* fleet[] = {"boiler-1", "boiler-2", "chiller-1", "meter-1", "meter-2"};
    for (const char* name : fleet) {
        try {
            auto d = services::createDevice(db, login.tenant, name, {"demo"});
            std::cout << "device " << d.mqttUsername << " token " << d.token << "\n";
        } catch (const std::invalid_argument&) {
            // already provisioned by an earlier run
        }
    }
    services::syncBrokerCredentials(db, {s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile});
    return EXIT_OK;
}

int PulseServer::createDevice() {
    const auto& s = ctx_->settings;
    auto slash = deviceSpec_.find('/');
    if (slash == std::string::npos) {
        logging::get("pulsed")->error("--create-device expects TENANT/NAME, got '{}'", deviceSpec_);
        return kExitConfig;
    }
    std::vector<std::string> tags;
    for (size_t start = 0; start < deviceTags_.size();) {
        size_t comma = deviceTags_.find(',', start);
        std::string tag =
            deviceTags_.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!tag.empty()) tags.push_back(tag);
        start = comma == std::string::npos ? deviceTags_.size() : comma + 1;
    }
    migrateOrCheck(s, s.dbMigrateOnStart);
    storage::Database db(config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS), 1, 2);
    try {
        auto d =
            services::createDevice(db, deviceSpec_.substr(0, slash), deviceSpec_.substr(slash + 1), tags);
        // The broker learns the new account now, not at the next periodic sync of a running pulsed.
        services::syncBrokerCredentials(db,
                                        {s.mqttPasswordFile, s.mqttPasswordBaseFile, s.mqttBrokerPidFile});
        std::cout << "device:        " << d.mqttUsername << " (id " << d.deviceId << ")\n"
                  << "token:         " << d.token << "   (shown once; store it on the device)\n"
                  << "HTTP:          POST /api/v1/telemetry with Authorization: Bearer <token>\n"
                  << "MQTT:          username " << d.mqttUsername << ", password <token>, topic devices/"
                  << d.mqttUsername << "/telemetry\n";
        return EXIT_OK;
    } catch (const std::invalid_argument& e) {
        logging::get("pulsed")->error("{}", e.what());
        return kExitConfig;
    }
}

namespace {

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    Poco::StringTokenizer t(text, ",",
                            Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    for (const auto& item : t) out.push_back(item);
    return out;
}

}  // namespace

// Until the REST API exposes them: channels (secrets sealed, URLs checked by the egress guard) and rules
// (config checked against the rule type's schema) from the command line.
int PulseServer::createChannel() {
    const auto& s = ctx_->settings;
    auto slash = objectSpec_.find('/');
    if (slash == std::string::npos || type_.empty() || json_.empty()) {
        logging::get("pulsed")->error("--create-channel TENANT/NAME needs --type and --json");
        return kExitConfig;
    }
    migrateOrCheck(s, s.dbMigrateOnStart);
    std::vector<net::Cidr> allow;
    for (const auto& c : s.egressAllow) allow.push_back(net::Cidr::parse(c));
    net::OutboundHttp outbound{net::EgressGuard(allow)};
    plugins::PluginManager pm(nullptr, plugins::HostServices{nullptr, nullptr, &outbound});
    pm.load(s, plugins::PluginManager::Mode::Validate);
    services::SecretBox box;
    if (!s.secretsKeyFile.empty()) box = services::SecretBox::fromKeyFile(s.secretsKeyFile);
    std::string conninfo = config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS);
    storage::PgConnection conn(conninfo);
    auto tenant =
        conn.query("SELECT id::text FROM pulse.tenants WHERE slug = $1", {objectSpec_.substr(0, slash)});
    if (tenant.rows.empty()) {
        logging::get("pulsed")->error("no tenant {}", objectSpec_.substr(0, slash));
        return kExitConfig;
    }
    services::ChannelService channels(conninfo, pm, box, outbound.guard());
    try {
        std::string id = channels.create(
            *tenant.rows[0][0], services::ChannelSpec{objectSpec_.substr(slash + 1), type_, json_, 4});
        services::RouteSpec route;
        route.channelId = id;
        route.name = "from the command line";
        route.severities = splitList(severity_);
        channels.createRoute(*tenant.rows[0][0], route);
        std::cout << "channel:       " << objectSpec_ << " (id " << id << ")\n"
                  << "config:        " << channels.maskedConfig(*tenant.rows[0][0], id) << "\n"
                  << "routed:        " << (severity_.empty() ? std::string("every alert") : severity_)
                  << "\n";
        return EXIT_OK;
    } catch (const std::exception& e) {
        logging::get("pulsed")->error("channel refused: {}", e.what());
        return kExitConfig;
    }
}

int PulseServer::createRule() {
    const auto& s = ctx_->settings;
    auto slash = objectSpec_.find('/');
    if (slash == std::string::npos || type_.empty() || json_.empty()) {
        logging::get("pulsed")->error("--create-rule TENANT/NAME needs --type and --json");
        return kExitConfig;
    }
    migrateOrCheck(s, s.dbMigrateOnStart);
    plugins::PluginManager pm;
    pm.load(s, plugins::PluginManager::Mode::Validate);
    std::string problems = pm.validateConfig("rule/" + type_, json_);
    if (!problems.empty()) {
        logging::get("pulsed")->error("rule refused: {}", problems);
        return kExitConfig;
    }
    std::string scopeKind = "tenant", scopeValue;
    if (!scope_.empty() && scope_ != "tenant") {
        auto colon = scope_.find(':');
        scopeKind = scope_.substr(0, colon);
        scopeValue = colon == std::string::npos ? "" : scope_.substr(colon + 1);
        if ((scopeKind != "site" && scopeKind != "tag" && scopeKind != "device") || scopeValue.empty()) {
            logging::get("pulsed")->error("--scope is tenant, site:<name>, tag:<tag> or device:<name>");
            return kExitConfig;
        }
    }
    storage::PgConnection conn(config::withConnectTimeout(s.dbUri, s.dbConnectTimeoutS));
    try {
        auto tenant =
            conn.query("SELECT id::text FROM pulse.tenants WHERE slug = $1", {objectSpec_.substr(0, slash)});
        if (tenant.rows.empty()) {
            logging::get("pulsed")->error("no tenant {}", objectSpec_.substr(0, slash));
            return kExitConfig;
        }
        storage::TenantTransaction tx(conn, *tenant.rows[0][0]);
        auto rows = conn.query(
            "INSERT INTO pulse.rules (tenant_id, name, type, config, severity, scope_kind, scope_site_id, "
            "scope_tag, scope_device_id) SELECT t.id, $2, $3, $4::jsonb, $5, $6, "
            "(SELECT id FROM pulse.sites WHERE tenant_id = t.id AND name = $7 AND $6 = 'site'), "
            "CASE WHEN $6 = 'tag' THEN $7 END, "
            "(SELECT id FROM pulse.devices WHERE tenant_id = t.id AND name = $7 AND $6 = 'device') "
            "FROM pulse.tenants t WHERE t.slug = $1 RETURNING id::text",
            {objectSpec_.substr(0, slash), objectSpec_.substr(slash + 1), type_, json_,
             severity_.empty() ? "MEDIUM" : severity_, scopeKind, scopeValue});
        tx.commit();
        std::cout << "rule:          " << objectSpec_ << " (id " << *rows.rows[0][0] << ")\n";
        return EXIT_OK;
    } catch (const storage::DatabaseError& e) {
        logging::get("pulsed")->error("rule refused: {}", e.what());
        return kExitConfig;
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
    switch (mode_) {
        case Mode::Help:
            printHelp();
            return EXIT_OK;
        case Mode::Version:
            std::cout << "pulsed " << PULSE_VERSION << " (plugin ABI " << PULSE_ABI_MAJOR << "."
                      << plugins::kHostAbiMinor << ")\n";
            return EXIT_OK;
        case Mode::HelpConfig:
            printConfigKeys();
            return EXIT_OK;
        default:
            break;
    }
    if (startupError_) return startupError_;
    try {
        switch (mode_) {
            case Mode::CheckConfig:
                return checkConfig();
            case Mode::ListPlugins:
                return listPlugins();
            case Mode::Migrate:
                if (ctx_->settings.dbMigrateUri.empty()) {
                    logging::get("pulsed")->error("--migrate needs db.migrate_uri (PULSE_DB_MIGRATE_URI)");
                    return kExitConfig;
                }
                migrateOrCheck(ctx_->settings, true);
                return EXIT_OK;
            case Mode::SeedDemo:
                return seedDemo();
            case Mode::CreateDevice:
                return createDevice();
            case Mode::CreateChannel:
                return createChannel();
            case Mode::CreateRule:
                return createRule();
            case Mode::Serve:
                break;
            default:
                return EXIT_SOFTWARE;
        }
    } catch (const Poco::Exception& e) {
        logging::get("pulsed")->error("{}", e.displayText());
        return kExitUnavailable;
    } catch (const std::exception& e) {
        logging::get("pulsed")->error("{}", e.what());
        return kExitUnavailable;
    }
    logging::get("pulsed")->info("pulsed {} ready", PULSE_VERSION);
    waitForTerminationRequest();
    return EXIT_OK;
}

}  // namespace pulse::app
