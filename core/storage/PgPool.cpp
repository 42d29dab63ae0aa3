#include "storage/PgPool.h"

#include "storage/TenantScope.h"

namespace pulse::storage {

PgPool::PgPool(std::string conninfo, size_t maxConnections)
    : conninfo_(std::move(conninfo)), max_(maxConnections) {}

void PgPool::with(const std::function<void(PgConnection&)>& fn, std::chrono::milliseconds wait) {
    std::unique_ptr<PgConnection> conn;
    {
        std::unique_lock lock(mutex_);
        if (!available_.wait_for(lock, wait, [&] { return !idle_.empty() || open_ < max_; }))
            throw DatabaseError("no database connection became free within " + std::to_string(wait.count()) +
                                " ms");
        if (!idle_.empty()) {
            conn = std::move(idle_.back());
            idle_.pop_back();
        }
        ++open_;
    }
    auto giveBack = [&](bool keep) {
        std::lock_guard lock(mutex_);
        --open_;
        if (keep && conn) idle_.push_back(std::move(conn));
        available_.notify_one();
    };
    try {
        if (conn && PQstatus(conn->native()) != CONNECTION_OK) conn.reset();
        if (!conn) {
            conn = std::make_unique<PgConnection>(conninfo_);
            conn->exec("SET TimeZone = 'UTC'");
        }
        fn(*conn);
    } catch (...) {
        bool keep = conn && PQstatus(conn->native()) == CONNECTION_OK;
        if (keep && PQtransactionStatus(conn->native()) != PQTRANS_IDLE) {
            try {
                conn->exec("ROLLBACK");
            } catch (const DatabaseError&) {
                keep = false;
            }
        }
        giveBack(keep);
        throw;
    }
    giveBack(PQtransactionStatus(conn->native()) == PQTRANS_IDLE);
}

void PgPool::withTenant(const std::string& tenantId, const std::function<void(PgConnection&)>& fn) {
    with([&](PgConnection& conn) {
        TenantTransaction tx(conn, tenantId);
        fn(conn);
        tx.commit();
    });
}

}  // namespace pulse::storage
