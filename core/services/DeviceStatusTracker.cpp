#include "services/DeviceStatusTracker.h"

#include "logging/Logging.h"
#include "storage/PgConnection.h"

namespace pulse::services {
namespace {

const char* kFlush =
    "WITH seen AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS s(id, ts_ms)),"
    " old AS (SELECT d.id, d.tenant_id, d.status, to_timestamp(s.ts_ms / 1000.0) AS at"
    "         FROM pulse.devices d JOIN seen s ON s.id = d.id FOR UPDATE OF d),"
    " upd AS (UPDATE pulse.devices d SET status = 'ONLINE',"
    "           last_seen_at = greatest(coalesce(d.last_seen_at, o.at), o.at)"
    "         FROM old o WHERE d.id = o.id)"
    "INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at, reason)"
    " SELECT tenant_id, id, status, 'ONLINE', at, 'telemetry received' FROM old WHERE status <> 'ONLINE'";

const char* kSweep =
    "WITH due AS ("
    "  SELECT d.id, d.tenant_id, d.status AS old,"
    "    CASE WHEN d.last_seen_at IS NULL"
    "           OR now() - d.last_seen_at > make_interval(secs => coalesce(d.offline_after_s, "
    "t.default_offline_after_s))"
    "         THEN 'OFFLINE'"
    "         WHEN now() - d.last_seen_at > make_interval(secs => coalesce(d.stale_after_s, "
    "t.default_stale_after_s))"
    "         THEN 'STALE' ELSE 'ONLINE' END AS new,"
    "    d.last_seen_at"
    "  FROM pulse.devices d JOIN pulse.tenants t ON t.id = d.tenant_id"
    "  WHERE d.status <> 'OFFLINE' FOR UPDATE OF d SKIP LOCKED),"
    " moved AS (SELECT * FROM due WHERE new <> old AND new <> 'ONLINE'),"
    " upd AS (UPDATE pulse.devices d SET status = m.new FROM moved m WHERE d.id = m.id)"
    "INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at, reason)"
    " SELECT tenant_id, id, old, new, now(), 'no telemetry since ' || coalesce(last_seen_at::text, 'ever')"
    " FROM moved RETURNING 1";

}  // namespace

DeviceStatusTracker::DeviceStatusTracker(std::string conninfo, std::chrono::milliseconds flushInterval,
                                         std::chrono::milliseconds sweepInterval)
    : conninfo_(std::move(conninfo)), flushInterval_(flushInterval), sweepInterval_(sweepInterval) {}

DeviceStatusTracker::~DeviceStatusTracker() {
    stop();
}

void DeviceStatusTracker::seen(int64_t deviceId, int64_t tsMs) {
    std::lock_guard lock(mutex_);
    auto& latest = pending_[deviceId];
    if (tsMs > latest) latest = tsMs;
}

storage::PgConnection& DeviceStatusTracker::connection() {
    if (!conn_) conn_ = std::make_unique<storage::PgConnection>(conninfo_);
    return *conn_;
}

void DeviceStatusTracker::flush() {
    std::unordered_map<int64_t, int64_t> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(pending_);
    }
    if (batch.empty()) return;
    std::string ids = "{", times = "{";
    for (const auto& [id, ts] : batch) {
        ids += (ids.size() > 1 ? "," : "") + std::to_string(id);
        times += (times.size() > 1 ? "," : "") + std::to_string(ts);
    }
    try {
        connection().query(kFlush, {ids + "}", times + "}"});
    } catch (const storage::DatabaseError&) {
        conn_.reset();
        std::lock_guard lock(mutex_);  // keep the newer of what failed and what arrived since
        for (const auto& [id, ts] : batch)
            if (pending_[id] < ts) pending_[id] = ts;
        throw;
    }
}

int DeviceStatusTracker::sweep() {
    try {
        return static_cast<int>(connection().query(kSweep).rows.size());
    } catch (const storage::DatabaseError&) {
        conn_.reset();
        throw;
    }
}

void DeviceStatusTracker::start() {
    thread_ = std::thread([this] { run(); });
}

void DeviceStatusTracker::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void DeviceStatusTracker::run() {
    auto log = logging::get("status");
    auto nextSweep = std::chrono::steady_clock::now() + sweepInterval_;
    bool failing = false;
    while (true) {
        bool last;
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, flushInterval_, [&] { return stopping_; });
            last = stopping_;
        }
        try {
            flush();
            if (std::chrono::steady_clock::now() >= nextSweep) {
                int moved = sweep();
                if (moved) log->info("{} device(s) moved to STALE or OFFLINE", moved);
                nextSweep = std::chrono::steady_clock::now() + sweepInterval_;
            }
            if (failing) log->info("device status updates recovered");
            failing = false;
        } catch (const storage::DatabaseError& e) {
            if (!failing) log->error("device status update failed (will retry): {}", e.what());
            failing = true;
        }
        if (last) return;
    }
}

}  // namespace pulse::services
