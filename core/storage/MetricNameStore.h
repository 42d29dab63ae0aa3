#pragma once

#include <string>
#include <vector>

namespace pulse::storage {

class Database;

// The names in a tenant's metric catalog, which ingest's limit on metric names per tenant starts from; on
// the Database pool, in a transaction scoped to the tenant. The catalog itself is MetricStore's.
class MetricNameStore {
  public:
    explicit MetricNameStore(Database& db) : db_(db) {}

    std::vector<std::string> names(const std::string& tenantId);

  private:
    Database& db_;
};

}  // namespace pulse::storage
