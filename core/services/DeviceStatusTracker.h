#pragma once

#include "storage/DeviceStatusStore.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace pulse::storage {
class PgPool;
}

namespace pulse::services {

// Device last-seen times and status. Ingest calls seen() per message (in memory); a worker flushes the
// latest times in one statement per interval (devices become ONLINE, transitions recorded), and a
// sweeper moves devices past their thresholds to STALE and OFFLINE, recording each transition. Both run
// in transactions that lock the rows they change, so several instances can run them at once.
class DeviceStatusTracker {
  public:
    DeviceStatusTracker(storage::PgPool& pool, std::chrono::milliseconds flushInterval,
                        std::chrono::milliseconds sweepInterval);
    ~DeviceStatusTracker();

    void seen(int64_t deviceId, int64_t tsMs);
    // Told of every status change once written (the live stream). Set before start(); must not block.
    void onChanged(std::function<void(const std::vector<storage::DeviceStatusChange>&)> changed);
    void start();
    void stop();  // flushes what is pending

    // One flush and one sweep now (tests, and the worker's loop).
    void flush();
    int sweep();

  private:
    void run();

    void announce(const std::vector<storage::DeviceStatusChange>& changes);

    storage::DeviceStatusStore store_;
    std::function<void(const std::vector<storage::DeviceStatusChange>&)> changed_;
    std::chrono::milliseconds flushInterval_, sweepInterval_;
    std::mutex mutex_;
    std::unordered_map<int64_t, int64_t> pending_;  // device -> latest ts
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace pulse::services
