#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// One device of an export, as a spreadsheet shows it.
struct DeviceExportRow {
    long long id = 0;
    std::string name, status;
    std::optional<std::string> siteName;
    std::string tags;  // separated by ';'
    std::optional<std::string> lastSeenAt;
    std::string createdAt;  // RFC 3339 UTC, like the other times
    std::optional<std::string> decommissionedAt;
};

// The read behind /api/v1/devices/export: the tenant's whole fleet (decommissioned devices included), in a
// transaction scoped to the tenant (row-level security).
class DeviceExportStore {
  public:
    explicit DeviceExportStore(PgPool& pool) : pool_(pool) {}

    // By id, at most maxRows. Throws DatabaseError.
    std::vector<DeviceExportRow> rows(const std::string& tenantId, int maxRows);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
