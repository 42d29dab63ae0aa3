#include "services/DeviceStatusTracker.h"

#include "logging/Logging.h"
#include "storage/PgPool.h"

namespace pulse::services {
namespace {

// Devices of every tenant, through SECURITY DEFINER functions (sql/004).
const char* kFlush = "SELECT pulse.record_devices_seen($1::bigint[], $2::bigint[])";
const char* kSweep = "SELECT pulse.sweep_device_status()";

}  // namespace

DeviceStatusTracker::DeviceStatusTracker(storage::PgPool& pool, std::chrono::milliseconds flushInterval,
                                         std::chrono::milliseconds sweepInterval)
    : pool_(pool), flushInterval_(flushInterval), sweepInterval_(sweepInterval) {}

DeviceStatusTracker::~DeviceStatusTracker() {
    stop();
}

void DeviceStatusTracker::seen(int64_t deviceId, int64_t tsMs) {
    std::lock_guard lock(mutex_);
    auto& latest = pending_[deviceId];
    if (tsMs > latest) latest = tsMs;
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
        pool_.with([&](storage::PgConnection& conn) { conn.query(kFlush, {ids + "}", times + "}"}); });
    } catch (const storage::DatabaseError&) {
        std::lock_guard lock(mutex_);  // keep the newer of what failed and what arrived since
        for (const auto& [id, ts] : batch)
            if (pending_[id] < ts) pending_[id] = ts;
        throw;
    }
}

int DeviceStatusTracker::sweep() {
    int changed = 0;
    pool_.with([&](storage::PgConnection& conn) {
        changed = std::stoi(conn.query(kSweep).rows.at(0).at(0).value_or("0"));
    });
    return changed;
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
