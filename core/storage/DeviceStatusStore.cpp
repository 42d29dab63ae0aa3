#include "storage/DeviceStatusStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"

#include <string>

namespace pulse::storage {
namespace {

// One statement per flush however many devices: their ids and times as two arrays.
const char* kRecordDevicesSeen = "SELECT pulse.record_devices_seen($1::bigint[], $2::bigint[])";

// Devices of every tenant past their stale or offline thresholds.
const char* kSweepDeviceStatus = "SELECT pulse.sweep_device_status() AS moved";

}  // namespace

void DeviceStatusStore::recordSeen(const std::vector<DeviceSeenRow>& seen) {
    std::string ids = "{", times = "{";
    for (const auto& device : seen) {
        ids += (ids.size() > 1 ? "," : "") + std::to_string(device.deviceId);
        times += (times.size() > 1 ? "," : "") + std::to_string(device.seenMs);
    }
    pool_.with([&](PgConnection& conn) { conn.query(kRecordDevicesSeen, {ids + "}", times + "}"}); });
}

int DeviceStatusStore::sweep() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kSweepDeviceStatus); });
    return static_cast<int>(ResultRow(rows, 0).optionalInteger("moved").value_or(0));
}

}  // namespace pulse::storage
