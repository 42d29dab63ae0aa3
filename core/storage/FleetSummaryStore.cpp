#include "storage/FleetSummaryStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// Devices in service by status: one pass over the tenant's devices.
const char* kDevicesByStatus =
    "SELECT status AS key, count(*) AS n FROM pulse.devices WHERE decommissioned_at IS NULL GROUP BY status";

// Alerts not closed, by severity (alerts_tenant_status_idx).
const char* kOpenAlertsBySeverity =
    "SELECT severity AS key, count(*) AS n FROM pulse.alerts WHERE status <> 'CLOSED' GROUP BY severity";

// Readings stored in the last minute: today's partition only, and within it the blocks the BRIN index on
// ts (sql/007) says hold the last minute.
const char* kReadingsLastMinute =
    "SELECT count(*) AS n FROM pulse.telemetry WHERE ts > now() - interval '1 minute'";

const std::string kNow = "SELECT " + isoTime("now()") + " AS at";

std::map<std::string, long long> countsOf(const PgRows& rows) {
    std::map<std::string, long long> counts;
    for (auto& [key, n] :
         rowsOf(rows, [](const ResultRow& r) { return std::pair(r.text("key"), r.integer("n")); }))
        counts[key] = n;
    return counts;
}

}  // namespace

FleetSummary FleetSummaryStore::read(const std::string& tenantId) {
    FleetSummary s;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        s.devicesByStatus = countsOf(conn.query(kDevicesByStatus));
        s.openAlertsBySeverity = countsOf(conn.query(kOpenAlertsBySeverity));
        s.readingsLastMinute = ResultRow(conn.query(kReadingsLastMinute), 0).integer("n");
        s.at = ResultRow(conn.query(kNow), 0).text("at");
    });
    return s;
}

}  // namespace pulse::storage
