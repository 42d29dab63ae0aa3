#pragma once

#include "storage/PgConnection.h"
#include "storage/PgPool.h"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pulse::storage {

using Uuid = std::array<uint8_t, 16>;
Uuid parseUuid(const std::string& text);  // throws std::invalid_argument
std::string uuidText(const Uuid& u);      // the canonical 8-4-4-4-12 form

// One reading on its way to the database.
struct TelemetryRow {
    Uuid tenant{};
    int64_t deviceId = 0;
    std::string metric;
    bool isBool = false;
    int64_t tsUs = 0;  // microseconds since the epoch
    double value = 0;
};

// What one partition maintenance did.
struct TelemetryPartitionChanges {
    long long created = 0;  // partitions made for the retention window and ahead
    long long dropped = 0;  // partitions retention expired
};

// Writes batches of readings on one connection, each in one transaction: metric names resolved through
// the tenant's catalog (new names are added first), rows put in key order and sent as binary arrays.
// Usually no reading of a batch is stored yet: all are inserted, and the hourly rollups and the
// catalog's last values are upserted from what the writer computed, in one round trip. When one is (a
// redelivery), the insert falls back to ON CONFLICT DO NOTHING, and rollups and last values follow
// exactly the rows inserted: a redelivered reading is not stored or counted twice.
//
// The store holds one pooled connection between batches (a writer thread's); after a failure it gives it
// back to the pool, which drops or rolls it back, and leases another for the next batch.
class TelemetryStore {
  public:
    explicit TelemetryStore(PgPool& pool);
    // Returns how many rows were new. Throws DatabaseError (the transaction is rolled back);
    // storage::isTransient tells whether retrying can help.
    size_t write(const std::vector<TelemetryRow>& rows);
    // Creates the partitions for the raw retention window and daysAhead, and drops what retention expired
    // (raw readings and hourly rollups, each by its own), through the schema's functions (sql/002, sql/004).
    // Throws DatabaseError.
    TelemetryPartitionChanges maintainPartitions(int rawRetentionDays, int rollupRetentionDays,
                                                 int daysAhead);

  private:
    void resolveMetrics(const std::vector<TelemetryRow>& rows, const std::vector<std::string>& tenantIds,
                        std::vector<int32_t>& ids);
    PgPool& pool_;
    PgPool::Lease conn_;
    std::map<Uuid, std::unordered_map<std::string, int32_t>> metricIds_;  // tenant -> name -> catalog id
};

}  // namespace pulse::storage
