#include "plugins/PluginLibrary.h"

#include "plugins/HostApi.h"

#include <pulse/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <set>

namespace pulse::plugins {
namespace {

// Sizes of the structs as released in ABI 1.0: a plugin's struct_size must be at least these.
constexpr uint32_t kPluginSize_1_0 = sizeof(pulse_plugin);
constexpr uint32_t kComponentSize_1_0 = sizeof(pulse_component);

std::mutex g_loadMutex;
// Loaded libraries are kept for the life of the process: unloading code that may have live threads,
// TLS or exception objects crashes.
std::vector<boost::dll::shared_library*>& keptLibraries() {
    static auto* libs = new std::vector<boost::dll::shared_library*>;
    return *libs;
}

bool validIdentifier(const char* s) {
    if (!s || !(*s >= 'a' && *s <= 'z')) return false;
    size_t n = 0;
    for (const char* p = s; *p; ++p, ++n)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') || n >= 64) return false;
    return true;
}

std::string text(const char* s) {
    return s ? std::string(s) : std::string();
}

// Copies min(declared, sizeof(T)) bytes of a size-prefixed struct into a zeroed T.
template <class T>
T copySized(const void* src, const std::string& what, uint32_t minimum) {
    T out{};
    if (!src) throw PluginRefused(what + " is NULL");
    uint32_t declared;
    std::memcpy(&declared, src, sizeof declared);
    if (declared < minimum)
        throw PluginRefused(what + " struct_size " + std::to_string(declared) +
                            " is smaller than ABI 1.0's " + std::to_string(minimum));
    std::memcpy(&out, src, std::min<size_t>(declared, sizeof(T)));
    return out;
}

std::shared_ptr<const json::JsonSchema> compileSchema(const char* schema, const std::string& what) {
    if (!schema) throw PluginRefused(what + " is NULL");
    try {
        return std::make_shared<const json::JsonSchema>(json::JsonSchema::compile(std::string(schema)));
    } catch (const json::SchemaError& e) {
        throw PluginRefused(what + " is not a usable JSON Schema: " + e.what());
    }
}

ComponentInfo validateComponent(const pulse_component* raw, const std::string& plugin, uint32_t index) {
    std::string where = "component #" + std::to_string(index);
    auto c = copySized<pulse_component>(raw, where, kComponentSize_1_0);
    ComponentInfo info;
    info.plugin = plugin;
    info.kind = c.kind;
    if (!kindName(c.kind)[0]) throw PluginRefused(where + " has unknown kind " + std::to_string(c.kind));
    if (!validIdentifier(c.type))
        throw PluginRefused(where + " type '" + text(c.type) + "' is not a name of the form [a-z][a-z0-9_]*");
    info.type = c.type;
    where = "component " + info.qualifiedType();
    info.description = text(c.description);
    if (c.threading != PULSE_THREADING_SERIAL && c.threading != PULSE_THREADING_CONCURRENT)
        throw PluginRefused(where + " declares unknown threading " + std::to_string(c.threading));
    info.threading = c.threading;
    if (!c.create || !c.destroy) throw PluginRefused(where + " lacks create() or destroy()");
    info.configSchemaText = text(c.config_schema);
    info.configSchema = compileSchema(c.config_schema, where + " config_schema");
    info.fns = c;

    auto need = [&](const void* fn, const char* name) {
        if (!fn) throw PluginRefused(where + " lacks the required operation " + name + "()");
    };
    std::string opsWhere = where + " ops";
    switch (c.kind) {
        case PULSE_KIND_INGEST:
            info.ingest = copySized<pulse_ingest_ops>(c.ops, opsWhere, sizeof(pulse_ingest_ops));
            break;
        case PULSE_KIND_RULE:
            // 1.0's rule ops end after tick; later minors' members (track, save, restore) stay NULL.
            info.rule = copySized<pulse_rule_ops>(c.ops, opsWhere, offsetof(pulse_rule_ops, track));
            need(reinterpret_cast<const void*>(info.rule.evaluate), "evaluate");
            break;
        case PULSE_KIND_SENDER:
            info.sender = copySized<pulse_sender_ops>(c.ops, opsWhere, sizeof(pulse_sender_ops));
            need(reinterpret_cast<const void*>(info.sender.deliver), "deliver");
            break;
        case PULSE_KIND_REPORT:
            info.report = copySized<pulse_report_ops>(c.ops, opsWhere, sizeof(pulse_report_ops));
            need(reinterpret_cast<const void*>(info.report.generate), "generate");
            if (!info.report.content_type) throw PluginRefused(where + " lacks content_type");
            info.paramsSchema = compileSchema(info.report.params_schema, where + " params_schema");
            break;
        case PULSE_KIND_ACTION:
            info.action = copySized<pulse_action_ops>(c.ops, opsWhere, sizeof(pulse_action_ops));
            need(reinterpret_cast<const void*>(info.action.execute), "execute");
            info.paramsSchema = compileSchema(info.action.params_schema, where + " params_schema");
            break;
    }
    return info;
}

}  // namespace

const char* kindName(pulse_kind kind) {
    return pulse::kind_name(kind);
}

std::optional<pulse_kind> kindFromName(const std::string& name) {
    for (pulse_kind k = PULSE_KIND_INGEST; k <= PULSE_KIND_ACTION; ++k)
        if (name == kindName(k)) return k;
    return std::nullopt;
}

LoadedPlugin validateDescriptor(const pulse_plugin* descriptor, const std::string& file) {
    if (!descriptor) throw PluginRefused("the entry point returned NULL (the plugin declined this host)");
    auto d = copySized<pulse_plugin>(descriptor, "the plugin descriptor", kPluginSize_1_0);
    if (d.abi_major != PULSE_ABI_MAJOR)
        throw PluginRefused("built for ABI " + std::to_string(d.abi_major) + "." +
                            std::to_string(d.abi_minor) + ", this host speaks ABI " +
                            std::to_string(PULSE_ABI_MAJOR) + ".0-" + std::to_string(PULSE_ABI_MAJOR) + "." +
                            std::to_string(kHostAbiMinor));
    if (d.abi_minor > kHostAbiMinor)
        throw PluginRefused("built for ABI 1." + std::to_string(d.abi_minor) + ", newer than this host's 1." +
                            std::to_string(kHostAbiMinor) + "; upgrade pulsed or rebuild the plugin");
    if (!validIdentifier(d.name))
        throw PluginRefused("plugin name '" + text(d.name) + "' is not a name of the form [a-z][a-z0-9_]*");
    LoadedPlugin p;
    p.file = file;
    p.name = d.name;
    p.version = text(d.version);
    if (p.version.empty()) throw PluginRefused("plugin " + p.name + " declares no version");
    p.description = text(d.description);
    p.license = text(d.license);
    p.abiMajor = d.abi_major;
    p.abiMinor = d.abi_minor;
    if (d.component_count == 0 || !d.components)
        throw PluginRefused("plugin " + p.name + " declares no components");
    if (d.component_count > 256) throw PluginRefused("plugin " + p.name + " declares too many components");
    std::set<std::string> seen;
    for (uint32_t i = 0; i < d.component_count; ++i) {
        auto info = std::make_shared<ComponentInfo>(validateComponent(d.components[i], p.name, i));
        if (!seen.insert(info->qualifiedType()).second)
            throw PluginRefused("plugin " + p.name + " declares " + info->qualifiedType() + " twice");
        p.components.push_back(std::move(info));
    }
    return p;
}

LoadedPlugin loadPluginLibrary(const std::string& path) {
    std::lock_guard lock(g_loadMutex);  // one load at a time (docs/architecture.md, "Plugins")
    boost::dll::shared_library* lib = nullptr;
    try {
        lib = new boost::dll::shared_library(
            path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginRefused(std::string("cannot load the library: ") + e.what());
    }
    keptLibraries().push_back(lib);
    if (!lib->has(PULSE_ENTRY_V1_NAME))
        throw PluginRefused(std::string("exports no entry symbol ") + PULSE_ENTRY_V1_NAME +
                            " (not a Pulse plugin, or built for another ABI major)");
    auto& entry = lib->get<const pulse_plugin*(uint32_t, uint32_t)>(PULSE_ENTRY_V1_NAME);
    const pulse_plugin* descriptor = nullptr;
    try {
        descriptor = entry(PULSE_ABI_VERSION(1, 0), PULSE_ABI_VERSION(1, kHostAbiMinor));
    } catch (...) {
        throw PluginRefused("the entry point threw an exception");
    }
    return validateDescriptor(descriptor, path);
}

}  // namespace pulse::plugins
