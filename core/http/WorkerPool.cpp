#include "http/WorkerPool.h"

#include "logging/Logging.h"

#include <pthread.h>

namespace pulse::http {

WorkerPool::WorkerPool(int threads, size_t maxQueued) : maxQueued_(maxQueued) {
    for (int i = 0; i < threads; ++i)
        threads_.emplace_back([this, i] {
            pthread_setname_np(pthread_self(), ("http-" + std::to_string(i)).substr(0, 15).c_str());
            run();
        });
}

WorkerPool::~WorkerPool() {
    stop();
}

bool WorkerPool::trySubmit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= maxQueued_) return false;
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void WorkerPool::stop() {
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        dropped.swap(queue_);
    }
    wake_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

size_t WorkerPool::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

int WorkerPool::busy() const {
    std::lock_guard lock(mutex_);
    return busy_;
}

void WorkerPool::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
        }
        try {
            job();
        } catch (const std::exception& e) {
            logging::get("http")->error("request job failed: {}", e.what());
        }
        std::lock_guard lock(mutex_);
        --busy_;
    }
}

}  // namespace pulse::http
