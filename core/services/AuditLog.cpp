#include "services/AuditLog.h"

#include "services/IdentityService.h"
#include "storage/Database.h"

#include <Poco/Data/Session.h>

#include <stdexcept>

using namespace Poco::Data::Keywords;

namespace pulse::services {

void AuditLog::record(const AuditEntry& e) {
    AuditEntry v = e;
    // A row about a tenant is written by a transaction scoped to it (pulse.write_audit checks).
    db_.withTenant(v.tenantId, [&](Poco::Data::Session& s) {
        std::vector<Poco::Int64> written;
        s << "SELECT id FROM pulse.write_audit($1, nullif($2, '')::uuid, $3, nullif($4, '')::uuid, $5, $6, "
             "$7, $8, "
             "$9::jsonb) AS id",
            use(v.actor), use(v.actorId), use(v.actorRole), use(v.tenantId), use(v.address), use(v.action),
            use(v.target), use(v.result), use(v.detailJson), into(written), now;
        if (written.empty()) throw std::runtime_error("the audit row was refused");
    });
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
    std::vector<Poco::Int64> ids;
    std::vector<std::string> at, actor, actorId, role, tenant, address, action, target, result, detail;
    Poco::Int64 b = before;
    // One tenant's entries are read under row-level security; every tenant's through the operator function.
    std::string source =
        tenantId.empty()
            ? "pulse.audit_page_all_tenants($1, $2)"
            : "(SELECT * FROM pulse.audit_log WHERE $1 <= 0 OR id < $1 ORDER BY id DESC LIMIT $2) page";
    db_.withTenant(tenantId, [&](Poco::Data::Session& s) {
        s << "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), actor, "
             "coalesce(actor_id::text, ''), actor_role, coalesce(tenant_id::text, ''), address, action, "
             "target, "
             "result, detail::text FROM " +
                 source + " ORDER BY id DESC",
            use(b), use(limit), into(ids), into(at), into(actor), into(actorId), into(role), into(tenant),
            into(address), into(action), into(target), into(result), into(detail), now;
    });
    std::vector<AuditEntry> out;
    for (size_t i = 0; i < ids.size(); ++i)
        out.push_back({ids[i], at[i], actor[i], actorId[i], role[i], tenant[i], address[i], action[i],
                       target[i], result[i], detail[i]});
    return out;
}

}  // namespace pulse::services
