#include "storage/DeviceExportStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// Every device with its site's name, bounded by the export's row limit.
const std::string kDeviceExport =
    "SELECT d.id, d.name, d.status, s.name AS site_name, array_to_string(d.tags, ';') AS tags, " +
    isoTime("d.last_seen_at") + " AS last_seen_at, " + isoTime("d.created_at") + " AS created_at, " +
    isoTime("d.decommissioned_at") +
    " AS decommissioned_at FROM pulse.devices d LEFT JOIN pulse.sites s ON s.id = d.site_id ORDER BY d.id "
    "LIMIT $1::int";

DeviceExportRow exportedDeviceOf(const ResultRow& r) {
    DeviceExportRow d;
    d.id = r.integer("id");
    d.name = r.text("name");
    d.status = r.text("status");
    d.siteName = r.optionalText("site_name");
    d.tags = r.text("tags");
    d.lastSeenAt = r.optionalText("last_seen_at");
    d.createdAt = r.text("created_at");
    d.decommissionedAt = r.optionalText("decommissioned_at");
    return d;
}

}  // namespace

std::vector<DeviceExportRow> DeviceExportStore::rows(const std::string& tenantId, int maxRows) {
    return rowsOf(pool_.queryAsTenant(tenantId, kDeviceExport, {std::to_string(maxRows)}), exportedDeviceOf);
}

}  // namespace pulse::storage
