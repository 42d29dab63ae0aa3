#include "workers/NotificationDispatcher.h"

#include "config/ProcessIdentity.h"
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"
#include "plugins/PluginInstance.h"
#include "services/ChannelService.h"
#include "workers/Backoff.h"

#include <random>

namespace pulse::workers {

struct NotificationDispatcher::Claimed {
    int64_t id = 0;
    std::string tenantId;
    int64_t alertId = 0;
    std::string key;
    std::string payload;
    int attempts = 0;
    int maxAttempts = 0;
    bool channelEnabled = true;
    std::string disabledReason;
    ChannelRow channel;
};

namespace {

int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

ChannelFactory channelsOf(services::ChannelService& channels) {
    return [&channels](const ChannelRow& row) {
        auto made = std::make_shared<ChannelSender>();
        made->sender =
            channels.instantiate("channel:" + row.name, row.type, row.configJson, row.sealedSecretsHex);
        made->templates = channels.templatesOf(row.tenantId, row.id);
        return std::shared_ptr<const ChannelSender>(made);
    };
}

NotificationDispatcher::NotificationDispatcher(storage::PgPool& pool, DispatcherSettings settings,
                                               ChannelFactory channels, std::shared_ptr<WakeSignal> wake,
                                               metrics::MetricsRegistry* metrics)
    : outbox_(pool),
      settings_(std::move(settings)),
      channels_(std::move(channels)),
      wake_(wake ? std::move(wake) : std::make_shared<WakeSignal>()),
      metrics_(metrics) {
    // Each dispatcher of the process its own owner (tests run several; their leases must not mix).
    static std::atomic<int> dispatchers{0};
    if (settings_.owner.empty())
        settings_.owner = config::processIdentity() + "/d" + std::to_string(++dispatchers);
}

NotificationDispatcher::~NotificationDispatcher() {
    stop();
}

void NotificationDispatcher::start() {
    stopping_ = false;
    for (int i = 0; i < settings_.workers; ++i) threads_.emplace_back([this, i] { work(i); });
}

void NotificationDispatcher::stop() {
    stopping_ = true;
    wake_->notify();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

bool NotificationDispatcher::breakerOpen(const std::string& channelId) const {
    std::lock_guard lock(mutex_);
    auto it = state_.find(channelId);
    return it != state_.end() && it->second.consecutiveFailures >= settings_.breakerFailures;
}

std::vector<std::string> NotificationDispatcher::excludedChannels() {
    std::vector<std::string> out;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : state_) {
        bool tripped = s.consecutiveFailures >= settings_.breakerFailures;
        if (tripped && now < s.openUntil) {
            out.push_back(id);  // open: hold its deliveries
        } else if (s.inFlight >= (tripped ? 1 : s.cap)) {
            out.push_back(id);  // at its cap (half-open: one probe at a time)
        }
    }
    return out;
}

std::shared_ptr<const ChannelSender> NotificationDispatcher::instanceFor(const ChannelRow& row) {
    {
        std::lock_guard lock(mutex_);
        auto& s = state_[row.id];
        if (s.instance && s.updatedAt == row.updatedAt) return s.instance;
    }
    auto instance = channels_(row);  // may throw: the caller records a failed attempt
    std::lock_guard lock(mutex_);
    auto& s = state_[row.id];
    s.instance = instance;
    s.updatedAt = row.updatedAt;
    return instance;
}

void NotificationDispatcher::recordOutcome(const std::string& channelId, bool transientFailure,
                                           bool success) {
    std::lock_guard lock(mutex_);
    auto& s = state_[channelId];
    if (success) {
        if (s.consecutiveFailures >= settings_.breakerFailures)
            logging::get("notify")->info("channel {}: breaker closed, deliveries resume", channelId);
        s.consecutiveFailures = 0;
    } else if (transientFailure) {
        if (++s.consecutiveFailures == settings_.breakerFailures)
            logging::get("notify")->warn("channel {}: {} failures in a row, breaker open for {} ms",
                                         channelId, s.consecutiveFailures, settings_.breakerOpen.count());
        if (s.consecutiveFailures >= settings_.breakerFailures)
            s.openUntil = std::chrono::steady_clock::now() + settings_.breakerOpen;
    }
}

std::optional<NotificationDispatcher::Claimed> NotificationDispatcher::claim(const std::string& worker) {
    auto row = outbox_.claim(worker, settings_.lease.count(), excludedChannels());
    if (!row) return std::nullopt;
    Claimed c;
    c.id = row->id;
    c.tenantId = row->tenantId;
    c.alertId = row->alertId;
    c.key = row->idempotencyKey;
    c.payload = row->payload;
    c.attempts = row->attempts;
    c.maxAttempts = row->maxAttempts;
    c.channel.id = row->channelId;
    c.channel.tenantId = c.tenantId;
    c.channel.name = row->channelName;
    c.channel.type = row->channelType;
    c.channel.configJson = row->channelConfigJson;
    c.channel.sealedSecretsHex = row->channelSealedSecretsHex;
    c.channel.updatedAt = row->channelUpdatedAt;
    c.channel.maxConcurrency = row->channelMaxConcurrency;
    c.channelEnabled = row->channelEnabled;
    c.disabledReason = row->channelDisabledReason;
    return c;
}

// No connection is held while the sender works: only the claim before and the outcome after use one.
void NotificationDispatcher::process(Claimed& c, const std::string& worker) {
    auto log = logging::get("notify");
    // The per-channel cap: a claim beyond it is handed back untouched (another thread raced us to it).
    {
        std::lock_guard lock(mutex_);
        auto& s = state_[c.channel.id];
        s.cap = c.channel.maxConcurrency;
        int cap = s.consecutiveFailures >= settings_.breakerFailures ? 1 : s.cap;
        if (s.inFlight >= cap) {
            outbox_.handBack(c.tenantId, c.id, worker);
            return;
        }
        ++s.inFlight;
    }
    struct Release {
        NotificationDispatcher* self;
        std::string channel;
        ~Release() {
            std::lock_guard lock(self->mutex_);
            --self->state_[channel].inFlight;
        }
    } release{this, c.channel.id};

    auto started = std::chrono::steady_clock::now();
    int64_t startedMs = wallMs();
    plugins::DeliveryOutcome outcome;
    bool transient = false;
    if (!c.channelEnabled) {
        outcome.code = PULSE_ERR_CONFIG;
        outcome.detail = "channel disabled" + (c.disabledReason.empty() ? "" : ": " + c.disabledReason);
    } else {
        std::shared_ptr<const ChannelSender> sender;
        try {
            sender = instanceFor(c.channel);
        } catch (const std::exception& e) {
            outcome.code = PULSE_RETRY;  // an administrator can fix the plugin set-up; retries give them time
            outcome.detail = std::string("channel unusable: ") + e.what();
        }
        if (sender) {
            // The channel's templates, as they are now (a change applies to retries too).
            std::string payload = services::withMessage(
                decorateNotice ? decorateNotice(c.payload, c.id) : c.payload, sender->templates);
            pulse_delivery d{};
            d.struct_size = sizeof d;
            d.idempotency_key = pulse_str{c.key.data(), c.key.size()};
            d.payload_json = pulse_str{payload.data(), payload.size()};
            d.attempt = static_cast<uint32_t>(c.attempts);
            d.deadline_ms = startedMs + settings_.attemptTimeout.count();
            outcome = sender->sender->deliver(d);
        }
    }
    if (afterDeliver && !afterDeliver(c.id)) return;  // simulated crash: the lease runs out on its own

    auto durationMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
    std::string status, attemptOutcome, eventKind;
    int64_t delayMs = 0;
    bool defer = outcome.code == PULSE_DEFER;
    if (outcome.code == PULSE_OK) {
        status = "DONE";
        attemptOutcome = "DELIVERED";
        eventKind = "NOTIFIED";
    } else if (outcome.code == PULSE_RETRY || defer) {
        transient = !defer;
        attemptOutcome = "RETRY";
        if (!defer && c.attempts >= c.maxAttempts) {
            status = "DEAD";
            eventKind = "NOTIFY_FAILED";
            outcome.detail += " (last of " + std::to_string(c.maxAttempts) + " attempts)";
        } else {
            status = "PENDING";
            static thread_local std::mt19937_64 rng(std::random_device{}());
            // A deferral is the plugin pacing itself: it comes back when it asked, without backoff.
            delayMs = defer ? (outcome.retryAfterMs >= 0 ? outcome.retryAfterMs : settings_.poll.count())
                            : retryDelayMs(c.attempts, settings_.backoffBase.count(),
                                           settings_.backoffMax.count(), outcome.retryAfterMs, rng);
        }
    } else {
        status = "DEAD";
        attemptOutcome = "FAILED";
        eventKind = "NOTIFY_FAILED";
    }
    recordOutcome(c.channel.id, transient, outcome.code == PULSE_OK);

    storage::DeliveryAttemptRecord record;
    record.deliveryId = c.id;
    record.tenantId = c.tenantId;
    record.alertId = c.alertId;
    record.worker = worker;
    record.attempts = c.attempts;
    record.status = status;
    record.retryDelayMs = delayMs;
    record.deferred = defer;
    if (outcome.statusCode) record.statusCode = outcome.statusCode;
    record.detail = outcome.detail;
    record.startedMs = startedMs;
    record.durationMs = durationMs;
    record.attemptOutcome = attemptOutcome;
    if (!eventKind.empty()) record.alertEventKind = eventKind;
    record.channelId = c.channel.id;
    record.channelName = c.channel.name;
    record.disableChannel = outcome.statusCode == 410;
    bool takenOver = !outbox_.recordAttempt(record);
    if (!takenOver && record.disableChannel)
        log->warn("channel {} ({}) disabled: the endpoint answered 410 Gone", c.channel.name, c.channel.id);
    if (takenOver) {
        log->warn("delivery {} was taken over by another dispatcher (lease expired during the attempt)",
                  c.id);
        return;
    }

    if (metrics_) {
        const char* what = status == "DONE"   ? "delivered"
                           : status == "DEAD" ? "dead"
                           : defer            ? "deferred"
                                              : "retry";
        metrics_->counter("pulse_notify_attempts_total", "Delivery attempts by outcome", {{"outcome", what}})
            .add();
        metrics_
            ->histogram("pulse_notify_attempt_seconds", "Duration of delivery attempts",
                        {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})
            .observe(static_cast<double>(durationMs) / 1000.0);
    }
    if (status == "DEAD")
        log->warn("delivery {} to channel {} is dead after {} attempt(s): {}", c.id, c.channel.name,
                  c.attempts, outcome.detail);
}

void NotificationDispatcher::work(int index) {
    auto log = logging::get("notify");
    std::string worker = settings_.owner + "/" + std::to_string(index);
    bool failing = false;
    uint64_t seen = wake_->generation();
    while (!stopping_) {
        try {
            std::optional<Claimed> claimed;
            claimed = claim(worker);
            if (failing) log->info("dispatcher {} reconnected", worker);
            failing = false;
            if (!claimed) {
                seen = wake_->wait(seen, settings_.poll);
                continue;
            }
            process(*claimed, worker);
        } catch (const std::exception& e) {
            if (!failing) log->error("dispatcher {}: {} (retrying)", worker, e.what());
            failing = true;
            seen = wake_->wait(seen, std::chrono::milliseconds(1000));
        }
    }
}

}  // namespace pulse::workers
