#pragma once

#include <map>
#include <string>

namespace pulse::storage {

class PgPool;

// What a fleet looks like now, for the console's KPI strip: devices by status (decommissioned ones not
// counted), open alerts (OPEN or ACKNOWLEDGED) by severity, and the readings stored in the last minute.
struct FleetSummary {
    std::map<std::string, long long> devicesByStatus;       // ONLINE, STALE, OFFLINE
    std::map<std::string, long long> openAlertsBySeverity;  // CRITICAL .. INFO
    long long readingsLastMinute = 0;
    std::string at;  // when it was read, RFC 3339 UTC
};

// One tenant's summary, read in one transaction scoped to it (row-level security).
class FleetSummaryStore {
  public:
    explicit FleetSummaryStore(PgPool& pool) : pool_(pool) {}
    FleetSummary read(const std::string& tenantId);  // throws DatabaseError

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
