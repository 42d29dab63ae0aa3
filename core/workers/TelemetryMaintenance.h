#pragma once

namespace pulse::storage {
class PgPool;
}

namespace pulse::workers {

// Creates the telemetry partitions for the retention window and ahead, and drops what retention expired
// (run once at start-up, before ingest, then hourly). Throws storage::DatabaseError.
void maintainTelemetryPartitions(storage::PgPool& pool, int rawRetentionDays, int rollupRetentionDays,
                                 int daysAhead);

}  // namespace pulse::workers
