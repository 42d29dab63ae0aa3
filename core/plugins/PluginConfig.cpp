#include "plugins/PluginConfig.h"

#include <Poco/AutoPtr.h>
#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace pulse::plugins {
namespace {

bool parseBool(const std::string& value, const std::string& where) {
    std::string l = Poco::toLower(Poco::trim(value));
    if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
    if (l == "false" || l == "no" || l == "off" || l == "0") return false;
    throw std::invalid_argument(where + ": '" + value + "' is not a boolean (true or false)");
}

std::string readFile(const std::string& path) {
    Poco::FileInputStream in(path);
    std::string out;
    Poco::StreamCopier::copyToString(in, out);
    return out;
}

}  // namespace

PluginSpec parsePluginSpecText(const std::string& text, const std::string& path) {
    std::istringstream in(text);
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> cfg;
    try {
        cfg = new Poco::Util::PropertyFileConfiguration(in);
    } catch (const Poco::Exception& e) {
        throw std::invalid_argument(path + ": " + e.displayText());
    }
    PluginSpec spec;
    spec.file = path;
    auto at = [&](const std::string& key) { return path + ": " + key; };

    Poco::Util::AbstractConfiguration::Keys top;
    cfg->keys(top);
    for (const auto& k : top)
        if (k != "plugin" && k != "instance") throw std::invalid_argument(at(k) + ": unknown key");

    Poco::Util::AbstractConfiguration::Keys pluginKeys;
    cfg->keys("plugin", pluginKeys);
    for (const auto& k : pluginKeys)
        if (k != "library" && k != "enabled")
            throw std::invalid_argument(at("plugin." + k) + ": unknown key");
    spec.library = Poco::trim(cfg->getRawString("plugin.library", ""));
    if (spec.library.empty()) throw std::invalid_argument(at("plugin.library") + ": is required");
    if (cfg->has("plugin.enabled"))
        spec.enabled = parseBool(cfg->getRawString("plugin.enabled"), at("plugin.enabled"));

    Poco::Util::AbstractConfiguration::Keys names;
    cfg->keys("instance", names);
    std::sort(names.begin(), names.end());
    static const std::set<std::string> allowed = {"component", "config", "config_file", "enabled"};
    for (const auto& name : names) {
        std::string prefix = "instance." + name;
        bool okName = !name.empty() && name.size() <= 64;
        for (char c : name)
            okName = okName && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
        if (!okName) throw std::invalid_argument(at(prefix) + ": instance names use [a-z0-9_-], at most 64");
        Poco::Util::AbstractConfiguration::Keys keys;
        cfg->keys(prefix, keys);
        for (const auto& k : keys)
            if (!allowed.count(k)) throw std::invalid_argument(at(prefix + "." + k) + ": unknown key");
        InstanceSpec inst;
        inst.name = name;
        inst.component = Poco::trim(cfg->getRawString(prefix + ".component", ""));
        if (inst.component.empty()) throw std::invalid_argument(at(prefix + ".component") + ": is required");
        if (cfg->has(prefix + ".enabled"))
            inst.enabled = parseBool(cfg->getRawString(prefix + ".enabled"), at(prefix + ".enabled"));
        bool inlineConfig = cfg->has(prefix + ".config"), fileConfig = cfg->has(prefix + ".config_file");
        if (inlineConfig && fileConfig)
            throw std::invalid_argument(at(prefix) + ": set config or config_file, not both");
        if (fileConfig) {
            Poco::Path p(Poco::trim(cfg->getRawString(prefix + ".config_file")));
            if (p.isRelative()) p = Poco::Path(Poco::Path(path).parent()).resolve(p);
            try {
                inst.configJson = readFile(p.toString());
            } catch (const Poco::Exception& e) {
                throw std::invalid_argument(at(prefix + ".config_file") + ": " + e.displayText());
            }
        } else {
            inst.configJson = inlineConfig ? cfg->getRawString(prefix + ".config") : "{}";
        }
        spec.instances.push_back(std::move(inst));
    }
    return spec;
}

PluginSpec parsePluginSpec(const std::string& path) {
    std::string text;
    try {
        text = readFile(path);
    } catch (const Poco::Exception& e) {
        throw std::invalid_argument(path + ": " + e.displayText());
    }
    return parsePluginSpecText(text, path);
}

std::vector<std::string> listPluginSpecFiles(const std::string& dir) {
    std::vector<std::string> files;
    if (!Poco::File(dir).exists()) return files;
    for (Poco::DirectoryIterator it(dir), end; it != end; ++it)
        if (it->isFile() && Poco::endsWith(it.name(), std::string(".properties")))
            files.push_back(it->path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace pulse::plugins
