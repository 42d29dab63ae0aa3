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
    // Whether the tenant has any readings yet: the demo's history is written once.
    bool hasReadings(const std::string& tenantId);
    // Two sites with their time zones, the fleet spread over them (devices without a site only).
    void placeFleet(const std::string& tenantId);
    // The alerts a week of running would have left: an open one on the breaching boiler and an acknowledged
    // one on the silent meter (with their events), unless the tenant has alerts already.
    void seedAlerts(const std::string& tenantId, const std::string& acknowledgedBy);

  private:
    Database& db_;
};

}  // namespace pulse::storage
