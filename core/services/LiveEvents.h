#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pulse::services {

// Where a subscriber's events go: a server-sent event stream (http/EventStream), or a test's collector.
// send() never blocks; false once the sink is gone (client left, over its buffer bound, server stopping).
class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual bool send(std::string frame) = 0;
    virtual bool closed() const = 0;
    virtual void close() = 0;  // ends the stream (its client sees the connection close)
};

// A change the console shows live: "alert" (an alert's event: opened, acknowledged, ...), "device" (a
// status change) or "telemetry" (a reading of a device someone watches). `data` is a JSON object. Alert and
// device events name what changed, and the console reads it through the REST API, under row-level security;
// a reading carries its value.
struct LiveEvent {
    long long id = 0;  // increasing, across restarts too; what a reconnecting client sends as Last-Event-ID
    std::string tenantId, type;
    long long deviceId = 0;
    std::string data;
};

struct LiveSubscription {
    std::string tenantId, principalId;
    std::set<long long> devices;  // whose readings it wants (the devices on screen)
    std::shared_ptr<EventSink> sink;
};

// The server's live events: published by the alert writer, the status tracker and the telemetry writer
// after they commit, sent to the streams of the event's tenant. Keeps the last `replay` alert and device
// events so that a client reconnecting with Last-Event-ID misses nothing; one that was away longer is
// told to reload ("reset"). Bounded per principal and in total: a subscriber past either is refused.
class LiveEvents {
  public:
    struct Limits {
        int perPrincipal = 8;
        int total = 2000;
        size_t replay = 4096;
        int heartbeatS = 15;
    };
    enum class Admission { Admitted, PrincipalFull, ServerFull };

    explicit LiveEvents(Limits limits);

    const Limits& limits() const { return limits_; }
    // Whether a stream of this principal would be admitted now (the API answers 429 before it streams).
    Admission admission(const std::string& principalId);
    // Registers the subscriber and replays what it missed since lastEventId, all before any new event.
    Admission subscribe(LiveSubscription subscription, std::optional<long long> lastEventId);
    void publish(const std::string& tenantId, const std::string& type, long long deviceId, std::string data);
    // A reading of a device: a no-op (one atomic load) unless some stream watches that device.
    bool watched(long long deviceId) const;
    void publishReading(const std::string& tenantId, long long deviceId, const std::string& metric,
                        long long tsUs, double value);
    // A comment line to every stream, so that proxies and clients see the connection alive; drops the
    // streams that ended.
    void heartbeat();
    size_t subscribers() const;

    // The event as it goes on the wire (text/event-stream).
    static std::string frame(const LiveEvent& e);

  private:
    void dropClosed();                                          // with mutex_ held
    Admission admissionLocked(const std::string& principalId);  // with mutex_ held
    void rebuildWatched();

    Limits limits_;
    mutable std::mutex mutex_;
    std::vector<LiveSubscription> subscribers_;
    std::deque<LiveEvent> recent_;  // alert and device events, oldest first
    // Starts at the time of start-up in microseconds, so that ids are not reused by a restarted server: a
    // client's Last-Event-ID from before the restart is older than everything kept, and it reloads.
    long long nextId_ = 1;
    std::atomic<bool> anyWatched_{false};
    std::set<long long> watched_;
};

}  // namespace pulse::services
