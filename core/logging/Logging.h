#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace pulse::logging {

// Configures the default spdlog logger: level, text or JSON lines, standard error or a file.
// Safe to call again (for example after the configuration is loaded).
void setup(const std::string& level, const std::string& format, const std::string& file);

// A logger for one component ("http", "db", "plugin:audit"), sharing the default logger's sinks.
std::shared_ptr<spdlog::logger> get(const std::string& name);

// Escapes text for a JSON string value.

}  // namespace pulse::logging
