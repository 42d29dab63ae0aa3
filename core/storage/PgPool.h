#pragma once

#include "storage/PgConnection.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pulse::storage {

// A small pool of libpq connections for the REST API, whose queries have many optional parameters and
// nullable columns (PgConnection::query handles both plainly). A connection that broke is dropped; one
// left inside a transaction by an exception is rolled back before it is reused.
class PgPool {
  public:
    PgPool(std::string conninfo, size_t maxConnections);

    // fn on a pooled connection; waits up to the timeout for one, then throws DatabaseError.
    void with(const std::function<void(PgConnection&)>& fn,
              std::chrono::milliseconds wait = std::chrono::milliseconds(5000));
    // fn inside a transaction scoped to the tenant (row-level security); committed when fn returns.
    void withTenant(const std::string& tenantId, const std::function<void(PgConnection&)>& fn);
    // fn inside a transaction scoped to several tenants (an operator's list across tenants).
    void withTenants(const std::vector<std::string>& tenantIds, const std::function<void(PgConnection&)>& fn);

  private:
    std::string conninfo_;
    size_t max_;
    size_t open_ = 0;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<PgConnection>> idle_;
};

}  // namespace pulse::storage
