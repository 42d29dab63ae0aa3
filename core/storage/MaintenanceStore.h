#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// A maintenance window (sql/015): once (a time range), or recurring daily, weekly on ISO weekdays or monthly
// on days of the month, each occurrence starting at a local time in the window's zone and lasting
// durationMinutes; scoped to the tenant, a site, listed devices or a tag.
struct MaintenanceWindowFields {
    std::string name, description, timeZone;
    std::string recurrence = "once";         // once, daily, weekly, monthly
    long long startsAtMs = 0, endsAtMs = 0;  // once
    std::string startTime;                   // recurring: HH:MM
    int durationMinutes = 0;                 // recurring
    std::vector<int> days;                   // weekly: 1..7; monthly: 1..31
    std::string validFrom;                   // recurring: YYYY-MM-DD
    std::optional<std::string> validUntil;   // recurring: YYYY-MM-DD, or no end
    std::string scope = "tenant";            // tenant, site, devices, tag
    std::optional<std::string> siteId, tag;
    std::vector<long long> deviceIds;
    bool enabled = true;
};

struct MaintenanceWindowRow : MaintenanceWindowFields {
    std::string id;
    std::optional<std::string> startsAt, endsAt;  // once: RFC 3339 UTC
    std::string siteName;
    bool active = false;  // covering now (for its scope)
    std::string createdBy, createdAt, updatedAt;
};

struct MaintenanceSave {
    bool found = true;
    bool unknownZone = false;
    std::string badReference;  // "scope.site_id", "scope.device_ids[2]": not the tenant's
    std::string id;
};

// A tenant's maintenance windows, each call one transaction scoped to the tenant. Throws services::Conflict
// for a name in use, DatabaseError otherwise.
class MaintenanceStore {
  public:
    explicit MaintenanceStore(PgPool& pool) : pool_(pool) {}

    std::vector<MaintenanceWindowRow> list(const std::string& tenantId);  // by name, at most 500
    std::optional<MaintenanceWindowRow> find(const std::string& tenantId, const std::string& id);
    MaintenanceSave save(const std::string& tenantId, const std::optional<std::string>& id,
                         const MaintenanceWindowFields& w, const std::string& actor);
    // Deleting a window ends it: alerts it holds are notified at the next sweep.
    bool remove(const std::string& tenantId, const std::string& id);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
