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
    auto healthy = [&] {
        return conn && PQstatus(conn->native()) == CONNECTION_OK &&
               PQtransactionStatus(conn->native()) == PQTRANS_IDLE;
    };
    bool reused = conn != nullptr;
    for (int attempt = 0;; ++attempt) {
        try {
            if (conn && PQstatus(conn->native()) != CONNECTION_OK) conn.reset();
            if (!conn) {
                conn = std::make_unique<PgConnection>(conninfo_);
                conn->exec("SET TimeZone = 'UTC'");
            }
            fn(*conn);
            break;
        } catch (...) {
            bool broken = !conn || PQstatus(conn->native()) != CONNECTION_OK;
            if (!broken && PQtransactionStatus(conn->native()) != PQTRANS_IDLE) {
                try {
                    conn->exec("ROLLBACK");
                } catch (...) {
                    broken = true;
                }
            }
            if (broken) conn.reset();
            // A pooled connection the server dropped while idle fails on first use: once, on a fresh one.
            if (broken && reused && attempt == 0) {
                reused = false;
                continue;
            }
            giveBack(!broken);
            throw;
        }
    }
    giveBack(healthy());
}

void PgPool::withTenant(const std::string& tenantId, const std::function<void(PgConnection&)>& fn) {
    withTenants({tenantId}, fn);
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
