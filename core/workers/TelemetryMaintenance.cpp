#include "workers/TelemetryMaintenance.h"

#include "logging/Logging.h"
#include "storage/TelemetryStore.h"

namespace pulse::workers {

void maintainTelemetryPartitions(storage::PgPool& pool, int rawDays, int rollupDays, int daysAhead) {
    auto changes = storage::TelemetryStore(pool).maintainPartitions(rawDays, rollupDays, daysAhead);
    if (changes.created != 0 || changes.dropped != 0)
        logging::get("telemetry")
            ->info("telemetry partitions: {} created, {} dropped by retention", changes.created,
                   changes.dropped);
}

}  // namespace pulse::workers
