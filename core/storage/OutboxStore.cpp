#include "storage/OutboxStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"
#include "storage/TenantScope.h"

namespace pulse::storage {
namespace {

// The next due delivery of any tenant, through a SECURITY DEFINER function (sql/004).
const char* kClaimDelivery =
    "SELECT id, tenant_id, alert_id, idempotency_key, payload, attempts, max_attempts, channel_id, "
    "channel_name, channel_type, channel_config, channel_secrets, channel_updated_at, "
    "channel_max_concurrency, "
    "channel_enabled, channel_disabled_reason FROM pulse.claim_delivery($1, $2::int, $3::uuid[])";

// A claim handed back as if never made: the claim counted an attempt that did not happen.
const char* kHandBackDelivery =
    "UPDATE pulse.deliveries SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1 "
    "WHERE id = $1::bigint AND lease_owner = $2";

// The attempt's outcome, only while the lease and the claim's count are still the worker's (a lease that
// expired during the attempt was taken over); a deferral ($8 = 1) does not count as an attempt, and keeps the
// last real answer.
const char* kRecordDeliveryOutcome =
    "UPDATE pulse.deliveries SET status = $3, next_attempt_at = now() + make_interval(secs => $4::double "
    "precision), lease_owner = NULL, lease_until = NULL, "
    "last_status_code = CASE WHEN $8::int = 1 THEN last_status_code ELSE $5::int END, "
    "last_error = CASE WHEN $8::int = 1 THEN last_error ELSE $6 END, "
    "attempts = attempts - $8::int, completed_at = CASE WHEN $3 <> 'PENDING' THEN now() END "
    "WHERE id = $1::bigint AND lease_owner = $2 AND attempts = $7::int RETURNING id";

// The delivery's attempt log, as the API shows it.
const char* kAddDeliveryAttempt =
    "INSERT INTO pulse.delivery_attempts (tenant_id, delivery_id, attempt, started_at, duration_ms, outcome, "
    "status_code, detail, worker) VALUES ($1::uuid, $2::bigint, $3::int, to_timestamp($4::bigint / 1000.0), "
    "$5::int, $6, $7::int, $8, $9)";

// A delivery's end goes into its alert's history; a group's notice into the history of every alert of the
// group when it was queued (the notice listed them all, though it is a delivery of its lead), naming the
// group.
const char* kAddDeliveryEvent =
    "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, detail) "
    "SELECT $1::uuid, x.alert_id, $3, jsonb_build_object('channel', $4::text, 'delivery', $5::bigint, "
    "'attempts', $6::int, 'status_code', $7::int, 'detail', $8::text) || "
    "CASE WHEN d.notification_group_id IS NULL THEN '{}'::jsonb "
    "ELSE jsonb_build_object('group', d.notification_group_id) END "
    "FROM pulse.deliveries d CROSS JOIN LATERAL (SELECT d.alert_id UNION SELECT m.alert_id "
    "FROM pulse.notification_group_alerts m WHERE m.group_id = d.notification_group_id "
    "AND m.added_at <= d.created_at) x "
    "WHERE d.id = $5::bigint AND d.alert_id = $2::bigint";

// An endpoint that answered 410 Gone is not dialled again until an administrator saves the channel.
const char* kDisableGoneChannel =
    "UPDATE pulse.channels SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone', "
    "updated_at = now() WHERE id = $1::uuid";

ClaimedDelivery claimedOf(const ResultRow& r) {
    ClaimedDelivery c;
    c.id = r.integer("id");
    c.tenantId = r.text("tenant_id");
    c.alertId = r.integer("alert_id");
    c.idempotencyKey = r.text("idempotency_key");
    c.payload = r.text("payload");
    c.attempts = r.int32("attempts");
    c.maxAttempts = r.int32("max_attempts");
    c.channelId = r.text("channel_id");
    c.channelName = r.text("channel_name");
    c.channelType = r.text("channel_type");
    c.channelConfigJson = r.text("channel_config");
    c.channelSealedSecretsHex = r.optionalText("channel_secrets");
    c.channelUpdatedAt = r.text("channel_updated_at");
    c.channelMaxConcurrency = r.int32("channel_max_concurrency");
    c.channelEnabled = r.flag("channel_enabled");
    c.channelDisabledReason = r.text("channel_disabled_reason");
    return c;
}

}  // namespace

std::optional<ClaimedDelivery> OutboxStore::claim(const std::string& worker, long long leaseS,
                                                  const std::vector<std::string>& excludedChannelIds) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) {
        rows = conn.query(kClaimDelivery, {worker, std::to_string(leaseS), arrayLiteral(excludedChannelIds)});
    });
    return firstOf(rows, claimedOf);
}

void OutboxStore::handBack(const std::string& tenantId, long long deliveryId, const std::string& worker) {
    pool_.queryAsTenant(tenantId, kHandBackDelivery, {std::to_string(deliveryId), worker});
}

bool OutboxStore::recordAttempt(const DeliveryAttemptRecord& a) {
    bool recorded = false;
    pool_.with([&](PgConnection& conn) {
        TenantTransaction tx(conn, a.tenantId);
        auto updated =
            conn.query(kRecordDeliveryOutcome, {std::to_string(a.deliveryId), a.worker, a.status,
                                                std::to_string(static_cast<double>(a.retryDelayMs) / 1000.0),
                                                integerParam(a.statusCode), a.detail,
                                                std::to_string(a.attempts), a.deferred ? "1" : "0"});
        if (updated.rows.empty()) return;  // taken over: tx rolls back
        // A deferral (the plugin pacing itself) is not an attempt: the attempt log shows what was sent.
        if (!a.deferred)
            conn.query(kAddDeliveryAttempt,
                       {a.tenantId, std::to_string(a.deliveryId), std::to_string(a.attempts),
                        std::to_string(a.startedMs), std::to_string(a.durationMs), a.attemptOutcome,
                        integerParam(a.statusCode), a.detail, a.worker});
        if (a.alertEventKind)
            conn.query(kAddDeliveryEvent, {a.tenantId, std::to_string(a.alertId), *a.alertEventKind,
                                           a.channelName, std::to_string(a.deliveryId),
                                           std::to_string(a.attempts), integerParam(a.statusCode), a.detail});
        if (a.disableChannel) conn.query(kDisableGoneChannel, {a.channelId});
        tx.commit();
        recorded = true;
    });
    return recorded;
}

}  // namespace pulse::storage
