#include "workers/TelemetryMaintenance.h"

#include "logging/Logging.h"
#include "storage/PgPool.h"

namespace pulse::workers {

void maintainTelemetryPartitions(storage::PgPool& pool, int rawDays, int rollupDays, int daysAhead) {
    storage::PgRows created, dropped;
    pool.with([&](storage::PgConnection& conn) {
        created = conn.query("SELECT pulse.ensure_telemetry_partitions($1, $2)",
                             {std::to_string(rawDays), std::to_string(daysAhead)});
        dropped = conn.query("SELECT pulse.drop_expired_telemetry($1, $2)",
                             {std::to_string(rawDays), std::to_string(rollupDays)});
    });
    if (*created.rows[0][0] != "0" || *dropped.rows[0][0] != "0")
        logging::get("telemetry")
            ->info("telemetry partitions: {} created, {} dropped by retention", *created.rows[0][0],
                   *dropped.rows[0][0]);
}

}  // namespace pulse::workers
