#pragma once

#include "config/Settings.h"
#include "plugins/PluginConfig.h"
#include "plugins/PluginInstance.h"
#include "plugins/PluginLibrary.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pulse::plugins {

struct RefusedPlugin {
    std::string file;  // the library, or the plugins.d file when it could not be read
    std::string reason;
};

struct InstanceStatus {
    std::string name;
    std::string component;
    std::string specFile;
    std::string state;  // "running", "valid" (checked, not started), "refused", "disabled"
    std::string reason;
};

struct PluginReport {
    std::vector<LoadedPlugin> loaded;
    std::vector<RefusedPlugin> refused;
    std::vector<InstanceStatus> instances;
    std::vector<LoadedPlugin> available;  // libraries on plugins.path that no enabled spec names
    bool clean() const;
};

// Loads the plugins enabled in plugins.d, refuses bad ones with one log line each, and owns the
// instances. Refusing never throws: the server keeps serving without the plugin.
class PluginManager {
  public:
    enum class Mode {
        Validate,  // load libraries and check instance configs, create nothing (--check-config)
        List,      // as Validate, and also load libraries no spec enables (--list-plugins)
        Serve,     // create and start instances
    };

    explicit PluginManager(metrics::MetricsRegistry* metrics = nullptr, HostServices services = {})
        : metrics_(metrics), services_(services) {}
    ~PluginManager();

    // beforeInstances runs once every library is loaded, before any plugins.d instance is created.
    void load(const config::Settings& settings, Mode mode, const std::function<void()>& beforeInstances = {});
    void stopAll();

    const PluginReport& report() const { return report_; }
    std::vector<std::shared_ptr<PluginInstance>> instances(pulse_kind kind) const;
    std::shared_ptr<const ComponentInfo> findComponent(const std::string& qualifiedType) const;

    // Creates and starts an instance that lives outside plugins.d (a rule or a channel stored in the
    // database). The caller owns it and stops it. Throws std::invalid_argument naming what is wrong: an
    // unknown component, a config that does not match the schema, create() or start() failing.
    std::shared_ptr<PluginInstance> createInstance(const std::string& qualifiedType, const std::string& name,
                                                   const std::string& configJson) const;
    // Schema violations of configJson for a component, described; empty when it is valid.
    std::string validateConfig(const std::string& qualifiedType, const std::string& configJson) const;

  private:
    void refuse(const std::string& file, const std::string& reason);
    std::string resolveLibrary(const std::string& library, const std::vector<std::string>& paths) const;
    void loadInstance(const InstanceSpec& spec, const LoadedPlugin& plugin, const std::string& specFile,
                      Mode mode);

    metrics::MetricsRegistry* metrics_;
    HostServices services_;
    PluginReport report_;
    std::map<std::string, std::shared_ptr<const ComponentInfo>> components_;  // by kind/type
    std::vector<std::shared_ptr<PluginInstance>> instances_;                  // in start order
};

}  // namespace pulse::plugins
