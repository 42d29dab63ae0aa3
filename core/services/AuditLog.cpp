#include "services/AuditLog.h"

#include "services/IdentityService.h"

namespace pulse::services {

void AuditLog::record(const AuditEntry& e) {
    // A row about a tenant is written by a transaction scoped to it (pulse.write_audit checks).
    storage::AuditStore(db_).write(e);
}

AuditEntry AuditLog::entry(const Principal* p, const std::string& address, const std::string& action,
                           const std::string& target, const std::string& result) {
    AuditEntry e;
    e.actor = p ? p->label : "anonymous";
    e.actorId = p ? p->id : "";
    e.actorRole = p ? p->role : "";
    e.tenantId = p ? p->tenantId : "";
    e.address = address;
    e.action = action;
    e.target = target;
    e.result = result;
    return e;
}

std::vector<AuditEntry> AuditLog::page(const std::string& tenantId, long long before, int limit) {
    return storage::AuditStore(db_).page(tenantId, before, limit);
}

}  // namespace pulse::services
