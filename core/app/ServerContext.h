#pragma once

#include "config/Settings.h"
#include "metrics/MetricsRegistry.h"
#include "plugins/PluginManager.h"
#include "services/HealthService.h"
#include "storage/Database.h"

#include <chrono>
#include <memory>

namespace pulse::app {

// What the subsystems share. Owned by the application; subsystems fill and release their parts.
struct ServerContext {
    config::Settings settings;
    metrics::MetricsRegistry metrics;
    services::HealthService health;
    std::unique_ptr<storage::Database> db;
    std::unique_ptr<plugins::PluginManager> plugins;
    std::chrono::steady_clock::time_point startedAt = std::chrono::steady_clock::now();
};

}  // namespace pulse::app
