#pragma once

#include <string>
#include <vector>

namespace pulse::storage {

class Database;

// One audited action (docs/reliability.md S10): who, for which tenant, from where, what, on what, how it
// ended.
struct AuditRow {
    long long id = 0;
    std::string at;
    std::string actor;  // user:<email>, api-key:<prefix>, anonymous
    std::string actorId;
    std::string actorRole;
    std::string tenantId;  // whose data; empty when none
    std::string address;
    std::string action;  // e.g. session.login, device.create, alert.acknowledge, tenant.read
    std::string target;
    std::string result;  // ok, denied, failed
    std::string detailJson = "{}";
};

// The audit log (pulse.audit_log, sql/005) on the Database pool: written through pulse.write_audit, never
// updated or deleted.
class AuditStore {
  public:
    explicit AuditStore(Database& db) : db_(db) {}

    // Writes the row (its id and at are the database's) in a transaction scoped to its tenant, or to none;
    // throws std::runtime_error when the function refuses it.
    void write(const AuditRow& entry);
    // Newest first, ids below `before` (0: from the newest). tenantId empty: every tenant and system-wide
    // entries, through an operator-only function; otherwise that tenant's under row-level security.
    std::vector<AuditRow> page(const std::string& tenantId, long long before, int limit);

  private:
    Database& db_;
};

}  // namespace pulse::storage
