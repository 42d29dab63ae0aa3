#pragma once

#include <string>

namespace pulse::storage {

class Database;

// The demo tenant and its tenant-admin user, as the run script's login names them.
struct DemoFixture {
    std::string tenantSlug, tenantName;
    std::string email, displayName, role;
    std::string passwordHash;  // Argon2id (services::hashPassword)
};

// Writes the demo fleet's fixture on the Database pool, all in one transaction: the tenant (created if
// missing, through a SECURITY DEFINER function), its user (whose password and access are reset), and the
// rules, log channel and routing that make it raise alerts out of the box. Idempotent.
class DemoSeedStore {
  public:
    explicit DemoSeedStore(Database& db) : db_(db) {}

    void seed(const DemoFixture& fixture);

  private:
    Database& db_;
};

}  // namespace pulse::storage
