#include "storage/PgPool.h"

#include "storage/TenantScope.h"

namespace pulse::storage {
namespace {

// A connection fit for the next lease: connected, and outside any transaction (an exception may have left
// one open: it is rolled back here, not by each caller).
bool fitForReuse(PgConnection& conn) {
    if (PQstatus(conn.native()) != CONNECTION_OK) return false;
    if (PQtransactionStatus(conn.native()) == PQTRANS_IDLE) return true;
    try {
        conn.exec("ROLLBACK");
    } catch (const DatabaseError&) {
        return false;
    }
    return PQtransactionStatus(conn.native()) == PQTRANS_IDLE;
}

}  // namespace

PgPool::PgPool(std::string conninfo, size_t maxConnections)
    : conninfo_(std::move(conninfo)), max_(maxConnections) {}

PgPool::~PgPool() = default;

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), reused_(other.reused_) {
    other.pool_ = nullptr;
}

PgPool::Lease& PgPool::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = other.pool_;
        conn_ = std::move(other.conn_);
        reused_ = other.reused_;
        other.pool_ = nullptr;
    }
    return *this;
}

PgPool::Lease::~Lease() {
    release();
}

void PgPool::Lease::release() {
    if (pool_) pool_->giveBack(std::move(conn_));
    pool_ = nullptr;
}

PgPool::Lease PgPool::acquire(std::chrono::milliseconds wait) {
    Lease lease;
    {
        std::unique_lock lock(mutex_);
        if (!available_.wait_for(lock, wait, [&] { return leased_ < max_; }))
            throw DatabaseError("no database connection became free within " + std::to_string(wait.count()) +
                                " ms (db.libpq_pool_max " + std::to_string(max_) + ")");
        ++leased_;
        lease.pool_ = this;
        if (!idle_.empty()) {
            lease.conn_ = std::move(idle_.back());
            idle_.pop_back();
            lease.reused_ = true;
        }
    }
    if (!lease.conn_) {
        // Connecting happens outside the lock; a failure gives the slot back through the lease.
        lease.conn_ = std::make_unique<PgConnection>(conninfo_);
        lease.conn_->exec("SET TimeZone = 'UTC'");
    }
    return lease;
}

void PgPool::giveBack(std::unique_ptr<PgConnection> conn) {
    bool keep = conn && fitForReuse(*conn);
    std::lock_guard lock(mutex_);
    --leased_;
    if (keep) idle_.push_back(std::move(conn));
    available_.notify_one();
}

size_t PgPool::inUse() const {
    std::lock_guard lock(mutex_);
    return leased_;
}

void PgPool::with(const std::function<void(PgConnection&)>& fn, std::chrono::milliseconds wait) {
    for (int attempt = 0;; ++attempt) {
        Lease lease = acquire(wait);
        try {
            fn(*lease);
            return;
        } catch (const DatabaseError&) {
            bool broken = PQstatus(lease->native()) != CONNECTION_OK;
            if (!(broken && lease.reused() && attempt == 0)) throw;
            // A pooled connection the server dropped while idle fails on first use: once more, on a fresh
            // one. The other idle ones were most likely dropped with it (a restart): they go too.
            std::lock_guard lock(mutex_);
            idle_.clear();
        }
    }
}

void PgPool::withTenant(const std::string& tenantId, const std::function<void(PgConnection&)>& fn) {
    withTenants({tenantId}, fn);
}

PgRows PgPool::queryAsTenant(const std::string& tenantId, const std::string& sql,
                             const std::vector<std::optional<std::string>>& params) {
    PgRows rows;
    withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(sql, params); });
    return rows;
}

void PgPool::withTenants(const std::vector<std::string>& tenantIds,
                         const std::function<void(PgConnection&)>& fn) {
    with([&](PgConnection& conn) {
        TenantTransaction tx(conn, tenantIds);
        fn(conn);
        tx.commit();
    });
}

}  // namespace pulse::storage
