#pragma once

#include "json/JsonSchema.h"

#include <pulse/plugin.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::plugins {

// Why a plugin library or one of its instances was not accepted. The message is the whole log line's
// reason: which version, which field, what was expected.
class PluginRefused : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The kinds' names (ingest, rule, sender, report, action): pulse::kind_name of the SDK, "" for an unknown
// kind.
const char* kindName(pulse_kind kind);
std::optional<pulse_kind> kindFromName(const std::string& name);

// One component as the host keeps it: the plugin's descriptor copied into zeroed host structs, so that
// a plugin built against an older minor reads as zeros in the members it does not know.
struct ComponentInfo {
    std::string plugin;
    pulse_kind kind = 0;
    std::string type;
    std::string description;
    std::string configSchemaText;
    std::shared_ptr<const json::JsonSchema> configSchema;
    pulse_threading threading = PULSE_THREADING_SERIAL;
    pulse_component fns{};  // lifecycle function pointers
    pulse_ingest_ops ingest{};
    pulse_rule_ops rule{};
    pulse_sender_ops sender{};
    pulse_report_ops report{};
    pulse_action_ops action{};
    std::shared_ptr<const json::JsonSchema> paramsSchema;  // report and action kinds

    std::string qualifiedType() const { return std::string(kindName(kind)) + "/" + type; }
};

struct LoadedPlugin {
    std::string file;
    std::string name;
    std::string version;
    std::string description;
    std::string license;
    uint32_t abiMajor = 0;
    uint32_t abiMinor = 0;
    std::vector<std::shared_ptr<const ComponentInfo>> components;
};

// Loads a plugin library with Boost.DLL (rtld_now | rtld_local; never unloaded, docs/plugin-guide.md), calls
// its entry point and validates the descriptor. Throws PluginRefused with the reason.
LoadedPlugin loadPluginLibrary(const std::string& path);

// Validates a descriptor already obtained from an entry point (used by loadPluginLibrary and the tests).
LoadedPlugin validateDescriptor(const pulse_plugin* descriptor, const std::string& file);

}  // namespace pulse::plugins
