#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace pulse::workers {

// Runs a task on its own thread every interval until stopped; a failing run is logged once per streak
// of failures, and the next run is the retry.
class PeriodicTask {
  public:
    PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> task);
    ~PeriodicTask();
    void start();
    void stop();

  private:
    std::string name_;
    std::chrono::milliseconds interval_;
    std::function<void()> task_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace pulse::workers
