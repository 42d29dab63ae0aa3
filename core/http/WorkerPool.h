#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pulse::http {

// The threads that run request handlers (which may wait on the database), fed by a bounded queue. The
// connections themselves live on the I/O thread, so a worker is only ever busy with a complete request.
class WorkerPool {
  public:
    WorkerPool(int threads, size_t maxQueued);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // False when the queue is full (the caller answers 503) or the pool has stopped.
    bool trySubmit(std::function<void()> job);
    // Lets the running jobs finish, drops the queued ones (their connections are closing), joins.
    void stop();
    size_t queued() const;
    int busy() const;

  private:
    void run();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> queue_;
    size_t maxQueued_;
    int busy_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace pulse::http
