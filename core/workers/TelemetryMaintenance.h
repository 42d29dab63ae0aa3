#pragma once

#include <string>

namespace pulse::workers {

// Creates the telemetry partitions for the retention window and ahead, and drops what retention expired
// (run once at start-up, before ingest, then hourly from a PeriodicTask). Throws storage::DatabaseError.
void maintainTelemetryPartitions(const std::string& conninfo, int rawRetentionDays, int rollupRetentionDays,
                                 int daysAhead);

}  // namespace pulse::workers
