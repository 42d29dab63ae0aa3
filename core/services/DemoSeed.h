#pragma once

#include <string>

namespace pulse::storage {
class Database;
}

namespace pulse::services {

struct DemoLogin {
    std::string tenant;
    std::string email;
};

// Creates the demo tenant and its tenant-admin user if missing, and sets the user's password, so the
// login the run script prints always works. Idempotent.
DemoLogin seedDemo(storage::Database& db, const std::string& email, const std::string& password);

}  // namespace pulse::services
