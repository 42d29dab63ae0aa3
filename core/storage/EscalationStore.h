#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// One level an escalation fired.
struct FiredEscalation {
    long long alertId = 0;
    std::string tenantId;
    int level = 0;       // 1..5
    int repeat = 0;      // the pass, 0 the first
    std::string dueAt;   // when it was due (RFC 3339 UTC)
    int deliveries = 0;  // pages queued in the outbox
};

// The escalator's statements: alerts' escalation timers of every tenant, fired through a SECURITY DEFINER
// function (sql/012) that claims them FOR UPDATE SKIP LOCKED, so that instances never fire the same level
// twice. Throws DatabaseError.
class EscalationStore {
  public:
    explicit EscalationStore(PgPool& pool) : pool_(pool) {}

    // Fires at most `limit` levels due by nowMs (nullopt: the database's now), in one transaction: each
    // level's event, its deliveries (maxAttempts each, linking to consoleUrl) and the step to the next.
    std::vector<FiredEscalation> fireDue(std::optional<long long> nowMs, int limit, int maxAttempts,
                                         const std::string& consoleUrl);
    // Milliseconds from the database's now to the earliest timer of any tenant (0 when one is due; nullopt
    // when none is set).
    std::optional<long long> msUntilNextDue();

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
