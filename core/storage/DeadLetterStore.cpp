#include "storage/DeadLetterStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A page of the tenant's dead letters, newest failure first (deliveries_dead_idx covers tenant and time; the
// id keeps pages stable when several failed in the same instant). $2 an optional channel, $3 the cursor.
const std::string kDeadLetterPage =
    "SELECT dl.id, dl.alert_id, a.severity, a.summary, a.status AS alert_status, d.name AS device_name, "
    "dl.channel_id::text, c.name AS channel_name, c.type AS channel_type, "
    "(c.enabled AND c.deleted_at IS NULL) AS channel_enabled, e.kind AS event_kind, dl.attempts, "
    "dl.last_status_code, dl.last_error, " +
    isoTime("dl.created_at") + " AS created_at, " + isoTime("dl.completed_at") +
    " AS completed_at FROM pulse.deliveries dl JOIN pulse.alerts a ON a.id = dl.alert_id "
    "JOIN pulse.devices d ON d.id = a.device_id JOIN pulse.channels c ON c.id = dl.channel_id "
    "JOIN pulse.alert_events e ON e.id = dl.event_id "
    "WHERE dl.status = 'DEAD' AND ($2::uuid IS NULL OR dl.channel_id = $2::uuid) AND ($3::bigint <= 0 OR "
    "dl.id < $3) "
    "ORDER BY dl.id DESC LIMIT $1::int";

// The delivery and its channel's state, locked so that two requeues of one letter do not both count.
const char* kLockDeadLetter =
    "SELECT dl.status, dl.alert_id, dl.attempts, c.enabled, c.deleted_at IS NOT NULL AS channel_deleted, "
    "c.name AS channel_name FROM pulse.deliveries dl JOIN pulse.channels c ON c.id = dl.channel_id "
    "WHERE dl.id = $1::bigint FOR UPDATE OF dl";

// Whether a later notice of the same alert to the same channel was sent or is on its way: then this one would
// arrive after it (a trigger after its resolve opens a PagerDuty incident nothing closes).
const char* kLaterNoticeOut =
    "SELECT 1 FROM pulse.deliveries l JOIN pulse.deliveries dl ON dl.id = $1::bigint WHERE l.alert_id = "
    "dl.alert_id "
    "AND l.channel_id = dl.channel_id AND l.id > dl.id AND l.status <> 'DEAD' LIMIT 1";

// Due now, with more attempts; the lease is cleared, the attempt log and the last error kept.
const char* kRequeue =
    "UPDATE pulse.deliveries SET status = 'PENDING', max_attempts = attempts + $2::int, next_attempt_at = "
    "now(), "
    "completed_at = NULL, lease_owner = NULL, lease_until = NULL WHERE id = $1::bigint";

const char* kRequeuedEvent =
    "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, actor, detail) VALUES ($1::uuid, $2::bigint, "
    "'REQUEUED', $3, jsonb_build_object('delivery', $4::bigint, 'channel', $5::text))";

DeadLetterRow deadLetterOf(const ResultRow& r) {
    DeadLetterRow d;
    d.id = r.integer("id");
    d.alertId = r.integer("alert_id");
    d.alertSeverity = r.text("severity");
    d.alertSummary = r.text("summary");
    d.alertStatus = r.text("alert_status");
    d.deviceName = r.text("device_name");
    d.channelId = r.text("channel_id");
    d.channelName = r.text("channel_name");
    d.channelType = r.text("channel_type");
    d.channelEnabled = r.flag("channel_enabled");
    d.eventKind = r.text("event_kind");
    d.attempts = r.int32("attempts");
    d.lastStatusCode = r.optionalInt32("last_status_code");
    d.lastError = r.text("last_error");
    d.createdAt = r.text("created_at");
    d.completedAt = r.text("completed_at");
    return d;
}

}  // namespace

Page<DeadLetterRow> DeadLetterStore::page(const std::string& tenantId,
                                          const std::optional<std::string>& channelId, long long before,
                                          int limit) {
    auto rows = pool_.queryAsTenant(tenantId, kDeadLetterPage,
                                    {std::to_string(limit + 1), channelId, std::to_string(before)});
    std::vector<DeadLetterRow> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(deadLetterOf(ResultRow(rows, i)));
    return pageOf(std::move(out), limit);
}

RequeueResult DeadLetterStore::requeue(const std::string& tenantId, long long deliveryId, int attempts,
                                       const std::string& actor) {
    RequeueResult result = RequeueResult::NotFound;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto rows = conn.query(kLockDeadLetter, {std::to_string(deliveryId)});
        if (rows.rows.empty()) return;
        ResultRow r(rows, 0);
        if (r.text("status") != "DEAD") {
            result = RequeueResult::NotDead;
        } else if (r.flag("channel_deleted")) {
            result = RequeueResult::ChannelGone;
        } else if (!r.flag("enabled")) {
            result = RequeueResult::ChannelDisabled;
        } else if (!conn.query(kLaterNoticeOut, {std::to_string(deliveryId)}).rows.empty()) {
            result = RequeueResult::OutOfOrder;
        } else {
            conn.query(kRequeue, {std::to_string(deliveryId), std::to_string(attempts)});
            conn.query(kRequeuedEvent, {tenantId, r.text("alert_id"), actor, std::to_string(deliveryId),
                                        r.text("channel_name")});
            result = RequeueResult::Requeued;
        }
    });
    return result;
}

}  // namespace pulse::storage
