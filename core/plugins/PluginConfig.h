#pragma once

#include <string>
#include <vector>

namespace pulse::plugins {

// One instance block of a plugins.d file:
//   instance.<name>.component = <kind>/<type>
//   instance.<name>.config = {...JSON...}      (or config_file = path relative to the file)
//   instance.<name>.enabled = true
struct InstanceSpec {
    std::string name;
    std::string component;  // "sender/log"
    std::string configJson;
    bool enabled = true;
};

// One etc/plugins.d/*.properties file: which library, whether it loads, its instances.
struct PluginSpec {
    std::string file;
    std::string library;  // as written; resolved against plugins.path unless absolute
    bool enabled = true;
    std::vector<InstanceSpec> instances;
};

// Parses one file; throws std::invalid_argument naming the file and key at fault.
PluginSpec parsePluginSpec(const std::string& path);
// Parses the text of a file (the fuzz target enters here); path is used in messages and for config_file.
PluginSpec parsePluginSpecText(const std::string& text, const std::string& path);

// The *.properties files of a directory, sorted by name.
std::vector<std::string> listPluginSpecFiles(const std::string& dir);

}  // namespace pulse::plugins
