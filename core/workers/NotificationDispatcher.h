#pragma once

#include "config/Settings.h"
#include "services/MessageTemplates.h"
#include "storage/OutboxStore.h"
#include "workers/WakeSignal.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pulse::metrics {
class MetricsRegistry;
}
namespace pulse::plugins {
class PluginInstance;
}
namespace pulse::storage {
class PgPool;
}

namespace pulse::services {
class ChannelService;
}

namespace pulse::workers {

using DispatcherSettings = config::DispatcherSettings;

// A channel as stored, enough to build its sender instance.
struct ChannelRow {
    std::string id;
    std::string tenantId;
    std::string name;
    std::string type;
    std::string configJson;
    std::optional<std::string> sealedSecretsHex;
    std::string updatedAt;
    int maxConcurrency = 4;
};

// What a channel delivers with: its sender instance and its message templates (applied to each notice).
struct ChannelSender {
    std::shared_ptr<plugins::PluginInstance> sender;
    services::MessageTemplates templates;
};
using ChannelFactory = std::function<std::shared_ptr<const ChannelSender>(const ChannelRow&)>;

// The channels of the channel service, as the dispatcher instantiates them (pulsed and the tests alike).
ChannelFactory channelsOf(services::ChannelService& channels);

// Delivers the outbox: worker threads claim due deliveries with FOR UPDATE SKIP LOCKED and a lease (so
// that several threads and several pulsed instances never hold one delivery at once, and a crashed
// holder's claim is taken over when its lease ends), call the channel's sender, and record the attempt.
// Transient failures retry with exponential backoff and jitter, never before Retry-After; permanent ones
// and the last attempt end dead. A channel's in-flight deliveries are capped per process, and a channel
// that keeps failing has its circuit breaker opened so that it holds no worker while it is down.
class NotificationDispatcher {
  public:
    NotificationDispatcher(storage::PgPool& pool, DispatcherSettings settings, ChannelFactory channels,
                           std::shared_ptr<WakeSignal> wake, metrics::MetricsRegistry* metrics);
    ~NotificationDispatcher();

    void start();
    void stop();  // finishes the attempts in progress

    // Test hook, called after a sender answered and before the outcome is recorded. Returning false
    // abandons the delivery as a crash would (the lease is left to expire).
    std::function<bool(int64_t deliveryId)> afterDeliver;
    // Set before start(): what each attempt adds to the stored notice before the channel's templates (the
    // signed acknowledge link, made afresh per attempt so that its expiry counts from the sending).
    std::function<std::string(const std::string& payload, int64_t deliveryId)> decorateNotice;

    const std::string& owner() const { return settings_.owner; }
    bool breakerOpen(const std::string& channelId) const;

  private:
    struct Claimed;
    struct ChannelState {
        int inFlight = 0;
        int cap = 1 << 30;  // the channel's max_concurrency, known from its first claim
        int consecutiveFailures = 0;
        std::chrono::steady_clock::time_point openUntil{};
        bool halfOpen = false;
        std::string updatedAt;
        std::shared_ptr<const ChannelSender> instance;
    };

    void work(int index);
    std::optional<Claimed> claim(const std::string& worker);
    void process(Claimed& c, const std::string& worker);
    std::vector<std::string> excludedChannels();
    std::shared_ptr<const ChannelSender> instanceFor(const ChannelRow& row);
    void recordOutcome(const std::string& channelId, bool transientFailure, bool success);

    storage::OutboxStore outbox_;
    DispatcherSettings settings_;
    ChannelFactory channels_;
    std::shared_ptr<WakeSignal> wake_;
    metrics::MetricsRegistry* metrics_;
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;

    mutable std::mutex mutex_;
    std::map<std::string, ChannelState> state_;  // by channel id
};

}  // namespace pulse::workers
