#include "workers/PeriodicTask.h"

#include "logging/Logging.h"

namespace pulse::workers {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> task)
    : name_(std::move(name)), interval_(interval), task_(std::move(task)) {}

PeriodicTask::~PeriodicTask() {
    stop();
}

void PeriodicTask::start() {
    thread_ = std::thread([this] {
        bool failing = false;
        while (true) {
            {
                std::unique_lock lock(mutex_);
                if (wake_.wait_for(lock, interval_, [&] { return stopping_; })) return;
            }
            try {
                task_();
                if (failing) logging::get("workers")->info("{} recovered", name_);
                failing = false;
            } catch (const std::exception& e) {
                if (!failing)
                    logging::get("workers")->error("{} failed (retrying every {} ms): {}", name_,
                                                   interval_.count(), e.what());
                failing = true;
            }
        }
    });
}

void PeriodicTask::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace pulse::workers
