#include "storage/EscalationStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// The due levels of any tenant, fired and stepped on in the one statement (the function's loop): a crash
// before the commit leaves the level due, after it leaves it fired, never both.
const std::string kFireDueEscalations =
    "SELECT alert_id, tenant_id, level, repeat, due_at, deliveries FROM pulse.fire_due_escalations("
    "coalesce(" +
    timeFromMs("$1") + ", now()), $2::int, $3::int, $4::text)";

// How long the escalator may sleep: until the earliest timer, by the database's clock (the one the timers
// were set by).
const char* kMsUntilNextDue =
    "SELECT greatest(0, ceil(extract(epoch FROM (pulse.next_escalation_due() - now())) * 1000))::bigint AS "
    "ms";

FiredEscalation firedOf(const ResultRow& r) {
    return {r.integer("alert_id"), r.text("tenant_id"), r.int32("level"),
            r.int32("repeat"),     r.text("due_at"),    r.int32("deliveries")};
}

}  // namespace

std::vector<FiredEscalation> EscalationStore::fireDue(std::optional<long long> nowMs, int limit,
                                                      int maxAttempts, const std::string& consoleUrl) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) {
        rows = conn.query(kFireDueEscalations, {integerParam(nowMs), std::to_string(limit),
                                                std::to_string(maxAttempts), consoleUrl});
    });
    return rowsOf(rows, firedOf);
}

std::optional<long long> EscalationStore::msUntilNextDue() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kMsUntilNextDue); });
    return firstOf(rows, [](const ResultRow& r) { return r.optionalInteger("ms"); }).value_or(std::nullopt);
}

}  // namespace pulse::storage
