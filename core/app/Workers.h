#pragma once

#include "workers/PeriodicTask.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pulse::app {

// The one owner of everything that runs on its own: threads, periodic tasks, plugin instances, the HTTP
// server. Subsystems register a worker as they start it; stopAll() stops them in reverse order of
// registration, once, whether the server is shutting down or a later subsystem failed to start. So the
// shutdown order is written nowhere else, and a new periodic worker is one every() call plus its settings.
class Workers {
  public:
    Workers() = default;
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;
    ~Workers();

    // Runs start now and, once it returned, records stop under the name.
    void start(std::string name, const std::function<void()>& start, std::function<void()> stop);
    // A task run every interval on its own thread (workers::PeriodicTask), from now on.
    void every(std::string name, std::chrono::milliseconds interval, std::function<void()> task);
    // Stops every registered worker, the last started first; a stop that throws is logged and the rest go on.
    void stopAll();
    // The names in start order (for the start-up log and tests).
    std::vector<std::string> names() const;

  private:
    struct Entry {
        std::string name;
        std::function<void()> stop;
    };
    std::vector<Entry> running_;
    std::vector<std::unique_ptr<workers::PeriodicTask>> tasks_;
};

}  // namespace pulse::app
