#include "storage/NotificationGroupStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// The due groups of any tenant, sent and rescheduled in the one statement (the function's loop): a crash
// before the commit leaves the notice due, after it leaves it queued in the outbox, never both.
const std::string kFlushDueGroups =
    "SELECT group_id, tenant_id, kind, alerts, deliveries FROM pulse.flush_due_groups(coalesce(" +
    timeFromMs("$1") + ", now()), $2::int, $3::int, $4::text)";

// By the database's clock, the one the timers were set by.
const char* kMsUntilNextDue =
    "SELECT greatest(0, ceil(extract(epoch FROM (pulse.next_group_flush_due() - now())) * 1000))::bigint AS "
    "ms";

// Under the tenant's scope (row-level security); the 50 most urgent members first, as the notices list them.
const std::string kListGroups =
    "SELECT g.id, g.routing_rule_id::text AS routing_rule_id, g.rule_id::text AS rule_id, ru.name AS "
    "rule_name, "
    "g.site_id::text AS site_id, s.name AS site_name, g.group_key, g.status, g.notifications, " +
    isoTime("g.next_flush_at") + " AS next_notice_at, " + isoTime("g.last_flushed_at") +
    " AS last_notice_at, " + isoTime("g.resolved_at") + " AS resolved_at, " + isoTime("g.created_at") +
    " AS created_at, "
    "g.channel_id::text AS channel_id, "
    "(SELECT count(*) FROM pulse.notification_group_alerts m WHERE m.group_id = g.id) AS alert_count, "
    "(SELECT coalesce(jsonb_agg(x.item ORDER BY x.ord), '[]')::text FROM (SELECT row_number() OVER (ORDER BY "
    "a.status = 'CLOSED', a.status = 'ACKNOWLEDGED', pulse.severity_rank(a.severity) DESC, a.opened_at, "
    "a.id) "
    "AS ord, jsonb_build_object('id', a.id, 'status', a.status, 'severity', a.severity, 'summary', "
    "a.summary, "
    "'device_id', d.id, 'device_name', d.name) AS item "
    "FROM pulse.notification_group_alerts m JOIN pulse.alerts a ON a.id = m.alert_id "
    "JOIN pulse.devices d ON d.id = a.device_id WHERE m.group_id = g.id) x WHERE x.ord <= 50) AS alerts "
    "FROM pulse.notification_groups g LEFT JOIN pulse.rules ru ON ru.id = g.rule_id "
    "LEFT JOIN pulse.sites s ON s.id = g.site_id WHERE (NOT $1::boolean OR g.status = 'OPEN') "
    "ORDER BY g.created_at DESC, g.id DESC LIMIT $2::int";

FlushedGroup flushedOf(const ResultRow& r) {
    return {r.integer("group_id"), r.text("tenant_id"), r.text("kind"), r.int32("alerts"),
            r.int32("deliveries")};
}

NotificationGroupRow groupOf(const ResultRow& r) {
    NotificationGroupRow g;
    g.id = r.integer("id");
    g.routingRuleId = r.optionalText("routing_rule_id");
    g.ruleId = r.optionalText("rule_id");
    g.ruleName = r.optionalText("rule_name");
    g.siteId = r.optionalText("site_id");
    g.siteName = r.optionalText("site_name");
    g.groupKey = r.text("group_key");
    g.status = r.text("status");
    g.notifications = r.int32("notifications");
    g.nextNoticeAt = r.optionalText("next_notice_at");
    g.lastNoticeAt = r.optionalText("last_notice_at");
    g.resolvedAt = r.optionalText("resolved_at");
    g.createdAt = r.text("created_at");
    g.channelId = r.optionalText("channel_id");
    g.alertCount = r.int32("alert_count");
    g.alertsJson = r.text("alerts");
    return g;
}

}  // namespace

std::vector<FlushedGroup> NotificationGroupStore::flushDue(std::optional<long long> nowMs, int limit,
                                                           int maxAttempts, const std::string& consoleUrl) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) {
        rows = conn.query(kFlushDueGroups, {integerParam(nowMs), std::to_string(limit),
                                            std::to_string(maxAttempts), consoleUrl});
    });
    return rowsOf(rows, flushedOf);
}

std::optional<long long> NotificationGroupStore::msUntilNextDue() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kMsUntilNextDue); });
    return firstOf(rows, [](const ResultRow& r) { return r.optionalInteger("ms"); }).value_or(std::nullopt);
}

std::vector<NotificationGroupRow> NotificationGroupStore::list(const std::string& tenantId, bool open,
                                                               int limit) {
    std::vector<NotificationGroupRow> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        out = rowsOf(conn.query(kListGroups, {open ? "true" : "false", std::to_string(limit)}), groupOf);
    });
    return out;
}

}  // namespace pulse::storage
