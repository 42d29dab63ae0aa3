#include "plugins/PluginManager.h"

#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/String.h>

#include <algorithm>
#include <set>

namespace pulse::plugins {

bool PluginReport::clean() const {
    return refused.empty() && std::none_of(instances.begin(), instances.end(),
                                           [](const InstanceStatus& s) { return s.state == "refused"; });
}

PluginManager::~PluginManager() {
    stopAll();
}

void PluginManager::refuse(const std::string& file, const std::string& reason) {
    logging::get("plugins")->error("plugin {} refused: {}", file, reason);
    report_.refused.push_back({file, reason});
}

std::string PluginManager::resolveLibrary(const std::string& library,
                                          const std::vector<std::string>& paths) const {
    Poco::Path p(library);
    if (p.isAbsolute()) return library;
    for (const auto& dir : paths) {
        Poco::Path candidate = Poco::Path(Poco::Path::forDirectory(dir)).resolve(p);
        if (Poco::File(candidate).exists()) return candidate.toString();
    }
    std::string searched;
    for (const auto& d : paths) searched += (searched.empty() ? "" : ":") + d;
    throw PluginRefused("library " + library + " not found on plugins.path (" + searched + ")");
}

void PluginManager::load(const config::Settings& settings, Mode mode,
                         const std::function<void()>& beforeInstances) {
    auto log = logging::get("plugins");
    struct Pending {
        PluginSpec spec;
        LoadedPlugin plugin;
        std::string specFile;
    };
    std::vector<Pending> pending;
    std::set<std::string> usedLibraries;
    std::set<std::string> pluginNames;
    std::set<std::string> instanceNames;

    for (const auto& specFile : listPluginSpecFiles(settings.pluginConfigDir)) {
        PluginSpec spec;
        try {
            spec = parsePluginSpec(specFile);
        } catch (const std::exception& e) {
            refuse(specFile, e.what());
            continue;
        }
        if (!spec.enabled) {
            for (const auto& i : spec.instances)
                report_.instances.push_back(
                    {i.name, i.component, specFile, "disabled", "plugin.enabled = false"});
            continue;
        }
        std::string libPath;
        LoadedPlugin plugin;
        try {
            libPath = resolveLibrary(spec.library, settings.pluginPaths);
            usedLibraries.insert(Poco::Path(libPath).absolute().toString());
            plugin = loadPluginLibrary(libPath);
            if (!pluginNames.insert(plugin.name).second)
                throw PluginRefused("another loaded plugin is already named " + plugin.name);
            for (const auto& c : plugin.components)
                if (auto it = components_.find(c->qualifiedType()); it != components_.end())
                    throw PluginRefused("component " + c->qualifiedType() +
                                        " is already provided by plugin " + it->second->plugin);
        } catch (const PluginRefused& e) {
            refuse(libPath.empty() ? spec.library : libPath, e.what());
            for (const auto& i : spec.instances)
                report_.instances.push_back(
                    {i.name, i.component, specFile, "refused", "its plugin was refused"});
            continue;
        }
        for (const auto& c : plugin.components) components_[c->qualifiedType()] = c;
        log->info("plugin {} {} (ABI {}.{}) loaded from {}: {} component(s)", plugin.name, plugin.version,
                  plugin.abiMajor, plugin.abiMinor, libPath, plugin.components.size());
        report_.loaded.push_back(plugin);
        pending.push_back({std::move(spec), plugin, specFile});
    }

    // Every component is known now: rules stored in the database can be set up before ingest starts.
    if (beforeInstances) beforeInstances();
    for (const auto& [spec, plugin, specFile] : pending) {
        for (const auto& inst : spec.instances) {
            if (!instanceNames.insert(inst.name).second) {
                report_.instances.push_back({inst.name, inst.component, specFile, "refused",
                                             "another instance is already named " + inst.name});
                log->error("instance {} ({}) refused: the name is already taken", inst.name, specFile);
                continue;
            }
            loadInstance(inst, plugin, specFile, mode);
        }
    }

    if (mode == Mode::List) {
        for (const auto& dir : settings.pluginPaths) {
            if (!Poco::File(dir).exists()) continue;
            std::vector<std::string> libs;
            for (Poco::DirectoryIterator it(dir), end; it != end; ++it)
                if (it->isFile() && Poco::endsWith(it.name(), std::string(".so")) &&
                    !usedLibraries.count(Poco::Path(it->path()).absolute().toString()))
                    libs.push_back(it->path());
            std::sort(libs.begin(), libs.end());
            for (const auto& lib : libs) {
                try {
                    report_.available.push_back(loadPluginLibrary(lib));
                } catch (const PluginRefused& e) {
                    refuse(lib, e.what());
                }
            }
        }
    }

    if (metrics_) {
        metrics_->gauge("pulse_plugins_loaded", "Plugin libraries loaded")
            .set(static_cast<double>(report_.loaded.size()));
        metrics_->gauge("pulse_plugins_refused", "Plugin libraries or plugin files refused at start-up")
            .set(static_cast<double>(report_.refused.size()));
        std::map<std::string, double> byState = {
            {"running", 0}, {"refused", 0}, {"disabled", 0}, {"valid", 0}};
        for (const auto& s : report_.instances) byState[s.state] += 1;
        for (const auto& [state, n] : byState)
            metrics_
                ->gauge("pulse_plugin_instances", "Configured plugin instances by state", {{"state", state}})
                .set(n);
    }
}

void PluginManager::loadInstance(const InstanceSpec& spec, const LoadedPlugin& plugin,
                                 const std::string& specFile, Mode mode) {
    auto log = logging::get("plugins");
    InstanceStatus status{spec.name, spec.component, specFile, "refused", ""};
    auto refuseInstance = [&](const std::string& why) {
        status.reason = why;
        log->error("instance {} ({}) refused: {}", spec.name, spec.component, why);
        report_.instances.push_back(status);
    };
    if (!spec.enabled) {
        report_.instances.push_back({spec.name, spec.component, specFile, "disabled", "enabled = false"});
        return;
    }
    auto it = std::find_if(plugin.components.begin(), plugin.components.end(),
                           [&](const auto& c) { return c->qualifiedType() == spec.component; });
    if (it == plugin.components.end()) {
        std::string offered;
        for (const auto& c : plugin.components) offered += (offered.empty() ? "" : ", ") + c->qualifiedType();
        return refuseInstance("plugin " + plugin.name + " has no component " + spec.component + " (it has " +
                              offered + ")");
    }
    auto violations = (*it)->configSchema->validateText(spec.configJson);
    if (!violations.empty())
        return refuseInstance("config does not match the schema: " + json::describe(violations));
    if (mode != Mode::Serve) {
        status.state = "valid";
        report_.instances.push_back(status);
        return;
    }
    auto instance = std::make_shared<PluginInstance>(spec.name, *it, metrics_, services_);
    std::string error;
    if (instance->create(spec.configJson, error) != PULSE_OK)
        return refuseInstance("create() failed: " + error);
    if (instance->start(error) != PULSE_OK) return refuseInstance("start() failed: " + error);
    status.state = "running";
    report_.instances.push_back(status);
    instances_.push_back(std::move(instance));
    log->info("instance {} ({}) started", spec.name, spec.component);
}

void PluginManager::stopAll() {
    // Reverse start order; the instances are destroyed when the last reference goes.
    for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) (*it)->stop();
    instances_.clear();
}

std::vector<std::shared_ptr<PluginInstance>> PluginManager::instances(pulse_kind kind) const {
    std::vector<std::shared_ptr<PluginInstance>> out;
    for (const auto& i : instances_)
        if (i->component().kind == kind) out.push_back(i);
    return out;
}

std::shared_ptr<const ComponentInfo> PluginManager::findComponent(const std::string& qualifiedType) const {
    auto it = components_.find(qualifiedType);
    return it == components_.end() ? nullptr : it->second;
}

}  // namespace pulse::plugins

namespace pulse::plugins {

std::string PluginManager::validateConfig(const std::string& qualifiedType,
                                          const std::string& configJson) const {
    auto component = findComponent(qualifiedType);
    if (!component) return "no loaded plugin provides " + qualifiedType;
    auto violations = component->configSchema->validateText(configJson);
    return violations.empty() ? "" : json::describe(violations);
}

std::shared_ptr<PluginInstance> PluginManager::createInstance(const std::string& qualifiedType,
                                                              const std::string& name,
                                                              const std::string& configJson) const {
    auto component = findComponent(qualifiedType);
    if (!component) throw std::invalid_argument("no loaded plugin provides " + qualifiedType);
    auto violations = component->configSchema->validateText(configJson);
    if (!violations.empty())
        throw std::invalid_argument("config does not match the schema of " + qualifiedType + ": " +
                                    json::describe(violations));
    auto instance = std::make_shared<PluginInstance>(name, component, metrics_, services_);
    std::string error;
    if (instance->create(configJson, error) != PULSE_OK)
        throw std::invalid_argument(qualifiedType + " create() failed: " + error);
    if (instance->start(error) != PULSE_OK)
        throw std::invalid_argument(qualifiedType + " start() failed: " + error);
    return instance;
}

}  // namespace pulse::plugins
