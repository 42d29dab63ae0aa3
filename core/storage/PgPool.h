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

// The pool of libpq connections (docs/architecture.md "Database"): for the work where libpq pays over Poco
// Data, namely pipeline mode and binary arrays (the telemetry writers) and statements with many optional
// parameters and nullable columns (the REST API's stores, the alert writer's and the outbox's, whose
// PgConnection::query binds and returns them plainly). Every libpq user takes its
// connections from here, so db.libpq_pool_max bounds them all, and a connection that comes back is checked
// in one place: one that broke is dropped, one left inside a transaction is rolled back first.
class PgPool {
  public:
    PgPool(std::string conninfo, size_t maxConnections);
    ~PgPool();
    PgPool(const PgPool&) = delete;
    PgPool& operator=(const PgPool&) = delete;

    // A connection taken from the pool until the lease ends; it then goes back (or is dropped, see above).
    class Lease {
      public:
        Lease() = default;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&& other) noexcept;
        ~Lease();
        PgConnection& operator*() const { return *conn_; }
        PgConnection* operator->() const { return conn_.get(); }
        explicit operator bool() const { return conn_ != nullptr; }
        // Whether the connection served an earlier lease (and so may have been dropped by the server since).
        bool reused() const { return reused_; }
        // Ends the lease now.
        void release();

      private:
        friend class PgPool;
        PgPool* pool_ = nullptr;
        std::unique_ptr<PgConnection> conn_;
        bool reused_ = false;
    };

    // A connection; waits up to `wait` for one to be free, then throws DatabaseError (transient).
    Lease acquire(std::chrono::milliseconds wait = std::chrono::milliseconds(5000));
    // fn on a leased connection. A reused connection that turns out broken (the server restarted while it
    // was idle) is replaced and fn run once more, so callers see an error only when the database is away.
    void with(const std::function<void(PgConnection&)>& fn,
              std::chrono::milliseconds wait = std::chrono::milliseconds(5000));
    // fn inside a transaction scoped to the tenant (row-level security); committed when fn returns.
    void withTenant(const std::string& tenantId, const std::function<void(PgConnection&)>& fn);
    // One statement inside a transaction scoped to the tenant: the stores' common case.
    PgRows queryAsTenant(const std::string& tenantId, const std::string& sql,
                         const std::vector<std::optional<std::string>>& params = {});
    // fn inside a transaction scoped to several tenants (an operator's list across tenants).
    void withTenants(const std::vector<std::string>& tenantIds, const std::function<void(PgConnection&)>& fn);

    size_t capacity() const { return max_; }
    size_t inUse() const;

  private:
    void giveBack(std::unique_ptr<PgConnection> conn);

    std::string conninfo_;
    size_t max_;
    size_t leased_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<PgConnection>> idle_;
};

}  // namespace pulse::storage
