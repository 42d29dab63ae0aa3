#include "services/AuditLog.h"

#include "services/IdentityService.h"
#include "storage/Database.h"

#include <Poco/Data/Session.h>

using namespace Poco::Data::Keywords;

namespace pulse::services {

void AuditLog::record(const AuditEntry& e) {
    AuditEntry v = e;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT pulse.write_audit($1, nullif($2, '')::uuid, $3, nullif($4, '')::uuid, $5, $6, $7, $8, "
             "$9::jsonb)",
            use(v.actor), use(v.actorId), use(v.actorRole), use(v.tenantId), use(v.address), use(v.action),
            use(v.target), use(v.result), use(v.detailJson), now;
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
    std::string t = tenantId;
    Poco::Int64 b = before;
    db_.withSession([&](Poco::Data::Session& s) {
        s << "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), actor, "
             "coalesce(actor_id::text, ''), actor_role, coalesce(tenant_id::text, ''), "
             "address, action, target, result, detail::text FROM pulse.audit_page(nullif($1, '')::uuid, $2, "
             "$3)",
            use(t), use(b), use(limit), into(ids), into(at), into(actor), into(actorId), into(role),
            into(tenant), into(address), into(action), into(target), into(result), into(detail), now;
    });
    std::vector<AuditEntry> out;
    for (size_t i = 0; i < ids.size(); ++i)
        out.push_back({ids[i], at[i], actor[i], actorId[i], role[i], tenant[i], address[i], action[i],
                       target[i], result[i], detail[i]});
    return out;
}

}  // namespace pulse::services
