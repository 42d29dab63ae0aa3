#include "services/DeviceStatusTracker.h"

#include "logging/Logging.h"
#include "storage/PgConnection.h"

#include <vector>

namespace pulse::services {

DeviceStatusTracker::DeviceStatusTracker(storage::PgPool& pool, std::chrono::milliseconds flushInterval,
                                         std::chrono::milliseconds sweepInterval)
    : store_(pool), flushInterval_(flushInterval), sweepInterval_(sweepInterval) {}

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
    std::vector<storage::DeviceSeenRow> seen;
    seen.reserve(batch.size());
    for (const auto& [id, ts] : batch) seen.push_back({id, ts});
    try {
        announce(store_.recordSeen(seen));
    } catch (const storage::DatabaseError&) {
        std::lock_guard lock(mutex_);  // keep the newer of what failed and what arrived since
        for (const auto& [id, ts] : batch)
            if (pending_[id] < ts) pending_[id] = ts;
        throw;
    }
}

int DeviceStatusTracker::sweep() {
    auto moved = store_.sweep();
    announce(moved);
    return static_cast<int>(moved.size());
}

void DeviceStatusTracker::onChanged(
    std::function<void(const std::vector<storage::DeviceStatusChange>&)> changed) {
    changed_ = std::move(changed);
}

void DeviceStatusTracker::announce(const std::vector<storage::DeviceStatusChange>& changes) {
    if (changed_ && !changes.empty()) changed_(changes);
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
