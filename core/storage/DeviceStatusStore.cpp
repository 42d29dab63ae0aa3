#include "storage/DeviceStatusStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

#include <string>

namespace pulse::storage {
namespace {

// One statement per flush however many devices: their ids and times as two arrays.
const char* kRecordDevicesSeen =
    "SELECT tenant_id::text AS tenant_id, device_id, status FROM pulse.record_devices_seen($1::bigint[], "
    "$2::bigint[])";

// Devices of every tenant past their stale or offline thresholds.
const char* kSweepDeviceStatus =
    "SELECT tenant_id::text AS tenant_id, device_id, status FROM pulse.sweep_device_status()";

DeviceStatusChange changeOf(const ResultRow& r) {
    return {r.text("tenant_id"), r.integer("device_id"), r.text("status")};
}

// Whether the device is the tenant's (a device with no changes yet has an empty history, not a 404).
const char* kDeviceExists = "SELECT 1 AS found FROM pulse.devices WHERE id = $1::bigint";

// A device's changes newest first (ids grow with time), before the cursor, a page and one
// more row.
const std::string kHistoryPage =
    "SELECT id, from_status, to_status, " + isoTime("at") +
    " AS at, reason FROM pulse.device_status_history WHERE device_id = $1::bigint "
    "AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT "
    "$3::int";

}  // namespace

std::vector<DeviceStatusChange> DeviceStatusStore::recordSeen(const std::vector<DeviceSeenRow>& seen) {
    std::string ids = "{", times = "{";
    for (const auto& device : seen) {
        ids += (ids.size() > 1 ? "," : "") + std::to_string(device.deviceId);
        times += (times.size() > 1 ? "," : "") + std::to_string(device.seenMs);
    }
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kRecordDevicesSeen, {ids + "}", times + "}"}); });
    return rowsOf(rows, changeOf);
}

std::vector<DeviceStatusChange> DeviceStatusStore::sweep() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kSweepDeviceStatus); });
    return rowsOf(rows, changeOf);
}

std::optional<Page<StatusChangeRow>> DeviceStatusStore::history(const std::string& tenantId,
                                                                long long deviceId,
                                                                std::optional<long long> beforeId,
                                                                int limit) {
    std::optional<Page<StatusChangeRow>> page;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kDeviceExists, {std::to_string(deviceId)}).rows.empty()) return;
        auto rows = conn.query(kHistoryPage,
                               {std::to_string(deviceId), integerParam(beforeId), std::to_string(limit + 1)});
        page = pageOf(rowsOf(rows,
                             [](const ResultRow& r) {
                                 return StatusChangeRow{r.integer("id"), r.text("from_status"),
                                                        r.text("to_status"), r.text("at"), r.text("reason")};
                             }),
                      limit);
    });
    return page;
}

}  // namespace pulse::storage
