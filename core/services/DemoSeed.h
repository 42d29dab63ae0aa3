#pragma once

#include <string>

namespace pulse::config {
struct Settings;
}
namespace pulse::storage {
class Database;
class PgPool;
}  // namespace pulse::storage

namespace pulse::services {

struct DemoLogin {
    std::string tenant;
    std::string email;
};

// Creates the demo tenant and its tenant-admin user if missing, and sets the user's password, so the
// login the run script prints always works. Idempotent.
DemoLogin seedDemo(storage::Database& db, const std::string& email, const std::string& password);

// What a week of running would have left, so that a new user's console is not empty: two sites with the
// fleet on them, a week of readings (every 10 minutes, the last hour every minute) with hourly rollups, a
// boiler that breaches its threshold now, a meter silent for two hours, and an open and an acknowledged
// alert. Readings and alerts are written only while the tenant has none. Call after the fleet exists.
void seedDemoHistory(storage::Database& db, storage::PgPool& pool, const config::Settings& settings,
                     const std::string& tenantId, const std::string& acknowledgedBy);

}  // namespace pulse::services
