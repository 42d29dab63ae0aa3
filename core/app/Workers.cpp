#include "app/Workers.h"

#include "logging/Logging.h"

namespace pulse::app {

Workers::~Workers() {
    stopAll();
}

void Workers::start(std::string name, const std::function<void()>& start, std::function<void()> stop) {
    start();
    running_.push_back({std::move(name), std::move(stop)});
}

void Workers::every(std::string name, std::chrono::milliseconds interval, std::function<void()> task) {
    auto t = std::make_unique<workers::PeriodicTask>(name, interval, std::move(task));
    workers::PeriodicTask* raw = t.get();
    tasks_.push_back(std::move(t));
    start(
        std::move(name), [raw] { raw->start(); }, [raw] { raw->stop(); });
}

void Workers::stopAll() {
    while (!running_.empty()) {
        Entry e = std::move(running_.back());
        running_.pop_back();
        try {
            e.stop();
            logging::get("pulsed")->debug("stopped {}", e.name);
        } catch (const std::exception& ex) {
            logging::get("pulsed")->error("stopping {} failed: {}", e.name, ex.what());
        }
    }
    tasks_.clear();
}

std::vector<std::string> Workers::names() const {
    std::vector<std::string> out;
    for (const auto& e : running_) out.push_back(e.name);
    return out;
}

}  // namespace pulse::app
