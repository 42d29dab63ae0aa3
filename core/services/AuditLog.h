#pragma once

#include "storage/AuditStore.h"

#include <string>
#include <vector>

namespace pulse::services {

struct Principal;

// One audited action (docs/reliability.md S10), as the audit log stores it.
using AuditEntry = storage::AuditRow;

// The audit log (sql/005): written through pulse.write_audit, never updated or deleted by pulsed.
class AuditLog {
  public:
    explicit AuditLog(storage::Database& db) : db_(db) {}

    // Throws when the row cannot be written: an action that cannot be audited does not happen silently.
    void record(const AuditEntry& entry);
    // An entry for what principal (may be null: anonymous) did.
    static AuditEntry entry(const Principal* principal, const std::string& address, const std::string& action,
                            const std::string& target, const std::string& result);

    // Newest first, ids below `before` (0: from the newest). tenantId empty: every tenant and system-wide
    // entries, through an operator-only function (the caller checks the role); otherwise that tenant's
    // entries under row-level security.
    std::vector<AuditEntry> page(const std::string& tenantId, long long before, int limit);

  private:
    storage::Database& db_;
};

}  // namespace pulse::services
