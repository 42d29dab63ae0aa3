#pragma once

#include "storage/Page.h"

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// A device's latest message since the last flush.
struct DeviceSeenRow {
    long long deviceId = 0;
    long long seenMs = 0;
};

// A device whose status a flush or a sweep changed, and to what.
struct DeviceStatusChange {
    std::string tenantId;
    long long deviceId = 0;
    std::string status;
};

// One change of a device's status, and why (the reason the sweep or the ingest gave).
struct StatusChangeRow {
    long long id = 0;  // the cursor: older changes have smaller ids
    std::string fromStatus, toStatus, at, reason;
};

// Devices' last-seen times and ONLINE, STALE and OFFLINE status, across tenants through SECURITY DEFINER
// functions (sql/004) that lock the rows they change and record each transition. Throws DatabaseError.
class DeviceStatusStore {
  public:
    explicit DeviceStatusStore(PgPool& pool) : pool_(pool) {}

    // The devices become ONLINE, their last-seen times never going back; returns those that were not.
    std::vector<DeviceStatusChange> recordSeen(const std::vector<DeviceSeenRow>& seen);
    // Moves the devices past their thresholds to STALE or OFFLINE; returns those that moved.
    std::vector<DeviceStatusChange> sweep();
    // A device's status changes, newest first, older than the cursor; nullopt when the tenant has no such
    // device.
    std::optional<Page<StatusChangeRow>> history(const std::string& tenantId, long long deviceId,
                                                 std::optional<long long> beforeId, int limit);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
