#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// One notice the flusher sent (or a group it ended without one).
struct FlushedGroup {
    long long groupId = 0;
    std::string tenantId;
    std::string kind;    // OPENED, ACKNOWLEDGED, CLOSED (a notice); ENDED (none: ended quietly)
    int alerts = 0;      // in the group
    int deliveries = 0;  // queued in the outbox (0: its channel is disabled)
};

// A group as the API lists it: its routing rule, what it groups by, its timers and its alerts.
struct NotificationGroupRow {
    long long id = 0;
    std::optional<std::string> routingRuleId, channelId, ruleId, ruleName, siteId, siteName;
    std::string groupKey, status;                                       // OPEN, RESOLVED
    std::optional<std::string> nextNoticeAt, lastNoticeAt, resolvedAt;  // RFC 3339 UTC
    int notifications = 0;
    int alertCount = 0;      // all of them; alertsJson holds at most 50
    std::string alertsJson;  // [{id, status, severity, summary, device_id, device_name}], most urgent first
    std::string createdAt;
};

// Notification groups (sql/018): the flusher's statement, for every tenant at once through a SECURITY
// DEFINER function that claims due groups FOR UPDATE SKIP LOCKED (like the escalator's), and the tenant's
// list. Throws DatabaseError.
class NotificationGroupStore {
  public:
    explicit NotificationGroupStore(PgPool& pool) : pool_(pool) {}

    // Sends at most `limit` groups' due notices by nowMs (nullopt: the database's now), in one transaction.
    std::vector<FlushedGroup> flushDue(std::optional<long long> nowMs, int limit, int maxAttempts,
                                       const std::string& consoleUrl);
    // Milliseconds from the database's now to the earliest group's next notice (nullopt: none due ever).
    std::optional<long long> msUntilNextDue();
    // The tenant's groups, newest first; `open` only those not resolved.
    std::vector<NotificationGroupRow> list(const std::string& tenantId, bool open, int limit);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
