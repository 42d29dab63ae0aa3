#pragma once

// Dead letters: deliveries whose last attempt failed for good (a permanent answer, or every attempt used),
// listed per tenant newest first, and sent again on request.
#include "storage/Page.h"

#include <optional>
#include <string>

namespace pulse::storage {

class PgPool;

struct DeadLetterRow {
    long long id = 0;
    long long alertId = 0;
    std::string alertSeverity, alertSummary, alertStatus;
    std::string deviceName;
    std::string channelId, channelName, channelType;
    bool channelEnabled = true;
    std::string eventKind;  // which notice it was: OPENED, ACKNOWLEDGED, CLOSED
    int attempts = 0;
    std::optional<int> lastStatusCode;
    std::string lastError;
    std::string createdAt, completedAt;
};

enum class RequeueResult { Requeued, NotFound, NotDead, ChannelGone, ChannelDisabled, OutOfOrder };

class DeadLetterStore {
  public:
    explicit DeadLetterStore(PgPool& pool) : pool_(pool) {}

    // The most recently queued first; before: a delivery id from the previous page (0: from the newest).
    Page<DeadLetterRow> page(const std::string& tenantId, const std::optional<std::string>& channelId,
                             long long before, int limit);
    // The delivery is PENDING again, due now, with `attempts` more attempts; its alert gets a REQUEUED event
    // naming who asked. A channel deleted since cannot take it (ChannelGone), nor one disabled (a 410, or an
    // administrator): saving the channel enables it again, and then its dead letters can be requeued. Nor one
    // whose alert's later notice to that channel was sent or is pending (OutOfOrder): it would arrive after
    // it.
    RequeueResult requeue(const std::string& tenantId, long long deliveryId, int attempts,
                          const std::string& actor);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
