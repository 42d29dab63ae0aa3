#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// A delivery a dispatcher worker claimed (its lease holds it), with what its channel's sender is built of.
struct ClaimedDelivery {
    long long id = 0;
    std::string tenantId;
    long long alertId = 0;
    std::string idempotencyKey;
    std::string payload;
    int attempts = 0;  // counting this one
    int maxAttempts = 0;
    std::string channelId, channelName, channelType;
    std::string channelConfigJson;
    std::optional<std::string> channelSealedSecretsHex;
    std::string channelUpdatedAt;
    int channelMaxConcurrency = 4;
    bool channelEnabled = true;
    std::string channelDisabledReason;
};

// What became of one attempt, as the dispatcher decided it.
struct DeliveryAttemptRecord {
    long long deliveryId = 0;
    std::string tenantId;
    long long alertId = 0;
    std::string worker;  // the lease's owner
    int attempts = 0;    // the claim's count: a delivery claimed again since is not this worker's any more
    std::string status;  // PENDING (tried again after retryDelayMs), DONE, DEAD
    long long retryDelayMs = 0;
    bool deferred = false;  // the sender deferred: this attempt is not counted
    std::optional<int> statusCode;
    std::string detail;
    long long startedMs = 0;
    long long durationMs = 0;
    std::string attemptOutcome;                 // DELIVERED, RETRY, FAILED
    std::optional<std::string> alertEventKind;  // NOTIFIED or NOTIFY_FAILED, into the alert's history
    std::string channelId, channelName;
    bool disableChannel = false;  // the endpoint is gone for good
};

// The outbox's deliveries as the dispatcher works them (docs/architecture.md): claims under a lease through
// a SECURITY DEFINER function (any tenant's), and each attempt's outcome recorded in a transaction scoped to
// the delivery's tenant. Throws DatabaseError.
class OutboxStore {
  public:
    explicit OutboxStore(PgPool& pool) : pool_(pool) {}

    // The next due delivery not of the excluded channels, leased to the worker for leaseS seconds.
    std::optional<ClaimedDelivery> claim(const std::string& worker, long long leaseS,
                                         const std::vector<std::string>& excludedChannelIds);
    // Gives a claim back untouched: not attempted, its attempt not counted.
    void handBack(const std::string& tenantId, long long deliveryId, const std::string& worker);
    // The delivery's new state, the attempt, the alert's event and (when asked) the channel disabled,
    // together; false, with nothing written, when the worker's lease was taken over meanwhile.
    bool recordAttempt(const DeliveryAttemptRecord& attempt);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
