#include "workers/TelemetryMaintenance.h"

#include "logging/Logging.h"
#include "storage/PgConnection.h"

namespace pulse::workers {

void maintainTelemetryPartitions(const std::string& conninfo, int rawDays, int rollupDays, int daysAhead) {
    storage::PgConnection conn(conninfo);
    auto created = conn.query("SELECT pulse.ensure_telemetry_partitions($1, $2)",
                              {std::to_string(rawDays), std::to_string(daysAhead)});
    auto dropped = conn.query("SELECT pulse.drop_expired_telemetry($1, $2)",
                              {std::to_string(rawDays), std::to_string(rollupDays)});
    if (*created.rows[0][0] != "0" || *dropped.rows[0][0] != "0")
        logging::get("telemetry")
            ->info("telemetry partitions: {} created, {} dropped by retention", *created.rows[0][0],
                   *dropped.rows[0][0]);
}

}  // namespace pulse::workers
