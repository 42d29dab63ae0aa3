#pragma once

#include "storage/PgConnection.h"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pulse::storage {

using Uuid = std::array<uint8_t, 16>;
Uuid parseUuid(const std::string& text);  // throws std::invalid_argument

// One reading on its way to the database.
struct TelemetryRow {
    Uuid tenant{};
    int64_t deviceId = 0;
    std::string metric;
    bool isBool = false;
    int64_t tsUs = 0;  // microseconds since the epoch
    double value = 0;
};

// Writes batches of readings on one connection: metric names resolved through the tenant's catalog
// (new names are added), rows COPied in binary into a temporary staging table, then inserted with
// ON CONFLICT DO NOTHING (a redelivered reading is not stored twice), the hourly rollups and the
// catalog's last values updated from exactly the rows inserted, all in one transaction.
class TelemetryStore {
  public:
    explicit TelemetryStore(const std::string& conninfo);
    // Returns how many rows were new. Throws DatabaseError (the transaction is rolled back).
    size_t write(const std::vector<TelemetryRow>& rows);

    // Whether an error means the connection or server is gone (retry on a new connection), as opposed
    // to a problem with the data.
    static bool transient(const DatabaseError& e);

  private:
    void resolveMetrics(const std::vector<TelemetryRow>& rows, std::vector<int32_t>& ids);
    std::string conninfo_;
    std::unique_ptr<PgConnection> conn_;
    std::map<std::pair<Uuid, std::string>, int32_t> metricIds_;
};

}  // namespace pulse::storage
