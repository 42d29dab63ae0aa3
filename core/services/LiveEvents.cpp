#include "services/LiveEvents.h"

#include <pulse/json.hpp>

#include <algorithm>
#include <chrono>

namespace pulse::services {

LiveEvents::LiveEvents(Limits limits)
    : limits_(limits),
      nextId_(std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count()) {}

std::string LiveEvents::frame(const LiveEvent& e) {
    // One data line: the payload is JSON without newlines (the SDK writer escapes them).
    return "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + e.data + "\n\n";
}

void LiveEvents::dropClosed() {
    auto before = subscribers_.size();
    subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                      [](const LiveSubscription& s) { return s.sink->closed(); }),
                       subscribers_.end());
    if (subscribers_.size() != before) rebuildWatched();
}

void LiveEvents::rebuildWatched() {
    watched_.clear();
    for (const auto& s : subscribers_) watched_.insert(s.devices.begin(), s.devices.end());
    anyWatched_.store(!watched_.empty(), std::memory_order_relaxed);
}

LiveEvents::Admission LiveEvents::admissionLocked(const std::string& principalId) {
    dropClosed();
    if (static_cast<int>(subscribers_.size()) >= limits_.total) return Admission::ServerFull;
    auto mine = std::count_if(subscribers_.begin(), subscribers_.end(),
                              [&](const LiveSubscription& o) { return o.principalId == principalId; });
    return mine >= limits_.perPrincipal ? Admission::PrincipalFull : Admission::Admitted;
}

LiveEvents::Admission LiveEvents::admission(const std::string& principalId) {
    std::lock_guard lock(mutex_);
    return admissionLocked(principalId);
}

LiveEvents::Admission LiveEvents::subscribe(LiveSubscription s, std::optional<long long> lastEventId) {
    std::lock_guard lock(mutex_);
    if (auto a = admissionLocked(s.principalId); a != Admission::Admitted) return a;
    if (lastEventId) {
        // Replay what came after it. If it is older than what is kept (the client was away long, or the
        // server restarted) or newer than anything sent, the client must reload what it shows.
        bool kept =
            *lastEventId + 1 >= (recent_.empty() ? nextId_ : recent_.front().id) && *lastEventId < nextId_;
        if (!kept) {
            s.sink->send(frame({nextId_ - 1, s.tenantId, "reset", 0, "{}"}));
        } else {
            for (const auto& e : recent_)
                if (e.id > *lastEventId && e.tenantId == s.tenantId) s.sink->send(frame(e));
        }
    }
    subscribers_.push_back(std::move(s));
    rebuildWatched();
    return Admission::Admitted;
}

void LiveEvents::publish(const std::string& tenantId, const std::string& type, long long deviceId,
                         std::string data) {
    std::lock_guard lock(mutex_);
    LiveEvent e{nextId_++, tenantId, type, deviceId, std::move(data)};
    std::string wire = frame(e);
    for (auto& s : subscribers_)
        if (s.tenantId == tenantId) s.sink->send(wire);
    recent_.push_back(std::move(e));
    while (recent_.size() > limits_.replay) recent_.pop_front();
}

bool LiveEvents::watched(long long deviceId) const {
    if (!anyWatched_.load(std::memory_order_relaxed)) return false;
    std::lock_guard lock(mutex_);
    return watched_.count(deviceId) > 0;
}

void LiveEvents::publishReading(const std::string& tenantId, long long deviceId, const std::string& metric,
                                long long tsUs, double value) {
    std::lock_guard lock(mutex_);
    // Readings are not kept for replay: the chart reloads its range when the stream comes back.
    LiveEvent e{nextId_++, tenantId, "telemetry", deviceId, ""};
    json::Writer w;
    w.beginObject()
        .member("device_id", deviceId)
        .member("metric", metric)
        .member("at_us", tsUs)
        .member("value", value)
        .endObject();
    e.data = w.str();
    std::string wire = frame(e);
    for (auto& s : subscribers_)
        if (s.tenantId == tenantId && s.devices.count(deviceId)) s.sink->send(wire);
}

void LiveEvents::heartbeat() {
    std::lock_guard lock(mutex_);
    for (auto& s : subscribers_) s.sink->send(": keep-alive\n\n");
    dropClosed();
}

size_t LiveEvents::subscribers() const {
    std::lock_guard lock(mutex_);
    return std::count_if(subscribers_.begin(), subscribers_.end(),
                         [](const LiveSubscription& s) { return !s.sink->closed(); });
}

}  // namespace pulse::services
