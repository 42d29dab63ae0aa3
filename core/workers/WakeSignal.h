#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace pulse::workers {

// "There may be work": lets the alert writer wake idle dispatcher threads at once instead of at their
// next poll. Missed signals are harmless; the poll interval bounds the delay.
class WakeSignal {
  public:
    void notify() {
        {
            std::lock_guard lock(mutex_);
            ++generation_;
        }
        cv_.notify_all();
    }
    // Waits until a notify() newer than `seen` or the timeout; returns the current generation.
    uint64_t wait(uint64_t seen, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, timeout, [&] { return generation_ != seen; });
        return generation_;
    }
    uint64_t generation() {
        std::lock_guard lock(mutex_);
        return generation_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    uint64_t generation_ = 0;
};

}  // namespace pulse::workers
