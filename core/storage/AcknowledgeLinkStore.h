#pragma once

#include <optional>
#include <string>

namespace pulse::storage {

class PgPool;

// What the acknowledge page shows about the alert a link is for.
struct AcknowledgeLinkView {
    long long alertId = 0;
    std::string status, severity, summary, ruleName, deviceName;
    bool used = false;  // the link's delivery has had its link used
};

// Who a link was sent to, as the audit log and acknowledged_by name them.
struct AcknowledgeLinkUse {
    enum class Result { Consumed, AlreadyUsed, NotFound };
    Result result = Result::NotFound;
    std::string actorLabel;  // "user:<email>", or "channel:<name>" for a channel's page
    std::string actorId, actorRole;
};

// The single-use half of acknowledge links (sql/014): the delivery a link came with remembers its use. Each
// call one transaction under the link's tenant.
class AcknowledgeLinkStore {
  public:
    explicit AcknowledgeLinkStore(PgPool& pool) : pool_(pool) {}

    // nullopt when the tenant has no such delivery of that alert.
    std::optional<AcknowledgeLinkView> view(const std::string& tenantId, long long deliveryId,
                                            long long alertId);
    // Marks the link used (at most once) and says who it was sent to: userId's user (not disabled), or,
    // with no user, the delivery's channel.
    AcknowledgeLinkUse consume(const std::string& tenantId, long long deliveryId, long long alertId,
                               const std::string& userId);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
