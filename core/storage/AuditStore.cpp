#include "storage/AuditStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"

#include <stdexcept>

namespace pulse::storage {
namespace {

// Empty ids stand for NULL; pulse.write_audit checks a row about a tenant comes from its scope.
const char* kWrite =
    "SELECT id FROM pulse.write_audit($1, nullif($2, '')::uuid, $3, nullif($4, '')::uuid, $5, $6, $7, $8, "
    "$9::jsonb) AS id";

// An entry as AuditRow reads it (the time in UTC, to the millisecond), from the source that follows.
const std::string kSelectFrom =
    "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at, actor, "
    "coalesce(actor_id::text, '') AS actor_id, actor_role, coalesce(tenant_id::text, '') AS tenant_id, "
    "address, action, target, result, detail::text AS detail FROM ";

// One tenant's entries, under row-level security: $1 the cursor (0 or less: from the newest), $2 the page.
const std::string kPageOfTenant = kSelectFrom +
                                  "(SELECT * FROM pulse.audit_log WHERE $1 <= 0 OR id < $1 ORDER BY id DESC "
                                  "LIMIT $2) page ORDER BY id DESC";

// Every tenant's and the system-wide entries, through the operator-only function.
const std::string kPageAllTenants = kSelectFrom + "pulse.audit_page_all_tenants($1, $2) ORDER BY id DESC";

AuditRow auditOf(const ResultRow& r) {
    return {r.integer("id"),      r.text("at"),        r.text("actor"),   r.text("actor_id"),
            r.text("actor_role"), r.text("tenant_id"), r.text("address"), r.text("action"),
            r.text("target"),     r.text("result"),    r.text("detail")};
}

}  // namespace

void AuditStore::write(const AuditRow& e) {
    db_.withTenant(e.tenantId, [&](Poco::Data::Session& s) {
        // write_audit returns one row either way: NULL when it wrote none (a tenant outside the scope).
        auto rows = queryIn(s, kWrite, e.actor, e.actorId, e.actorRole, e.tenantId, e.address, e.action,
                            e.target, e.result, e.detailJson);
        if (rows.rows.empty() || !ResultRow(rows, 0).optionalInteger("id"))
            throw std::runtime_error("the audit row was refused");
    });
}

std::vector<AuditRow> AuditStore::page(const std::string& tenantId, long long before, int limit) {
    Poco::Int64 cursor = before;
    return rowsOf(
        queryAsTenant(db_, tenantId, tenantId.empty() ? kPageAllTenants : kPageOfTenant, cursor, limit),
        auditOf);
}

}  // namespace pulse::storage
