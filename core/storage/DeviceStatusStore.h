#pragma once

#include <vector>

namespace pulse::storage {

class PgPool;

// A device's latest message since the last flush.
struct DeviceSeenRow {
    long long deviceId = 0;
    long long seenMs = 0;
};

// Devices' last-seen times and ONLINE, STALE and OFFLINE status, across tenants through SECURITY DEFINER
// functions (sql/004) that lock the rows they change and record each transition. Throws DatabaseError.
class DeviceStatusStore {
  public:
    explicit DeviceStatusStore(PgPool& pool) : pool_(pool) {}

    // The devices become ONLINE, their last-seen times never going back.
    void recordSeen(const std::vector<DeviceSeenRow>& seen);
    // Moves the devices past their thresholds to STALE or OFFLINE; returns how many moved.
    int sweep();

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
