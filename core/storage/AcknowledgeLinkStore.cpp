#include "storage/AcknowledgeLinkStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"

namespace pulse::storage {
namespace {

// The delivery and its alert, under the tenant's row-level security.
const char* kSelectView =
    "SELECT a.id, a.status, a.severity, a.summary, r.name AS rule_name, dv.name AS device_name, "
    "d.ack_link_used_at IS NOT NULL AS used FROM pulse.deliveries d JOIN pulse.alerts a ON a.id = d.alert_id "
    "JOIN pulse.rules r ON r.id = a.rule_id JOIN pulse.devices dv ON dv.id = a.device_id WHERE d.id = "
    "$1::bigint AND d.alert_id = $2::bigint";

// First use wins: a second finds the column set and changes nothing.
const char* kMarkUsed =
    "UPDATE pulse.deliveries SET ack_link_used_at = now() WHERE id = $1::bigint AND alert_id = $2::bigint "
    "AND "
    "ack_link_used_at IS NULL RETURNING id";
const char* kDeliveryExists =
    "SELECT 1 FROM pulse.deliveries WHERE id = $1::bigint AND alert_id = $2::bigint";

// The person it reached (a disabled user's link no longer works), or the channel it was posted to.
const char* kRecipientUser =
    "SELECT 'user:' || email::text AS label, id::text AS id, role FROM pulse.users WHERE id = $1::uuid AND "
    "NOT "
    "disabled";
const char* kRecipientChannel =
    "SELECT 'channel:' || c.name AS label, c.id::text AS id, '' AS role FROM pulse.deliveries d JOIN "
    "pulse.channels c ON c.id = d.channel_id WHERE d.id = $1::bigint";

}  // namespace

std::optional<AcknowledgeLinkView> AcknowledgeLinkStore::view(const std::string& tenantId,
                                                              long long deliveryId, long long alertId) {
    std::optional<AcknowledgeLinkView> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        out = firstOf(conn.query(kSelectView, {std::to_string(deliveryId), std::to_string(alertId)}),
                      [](const ResultRow& r) {
                          return AcknowledgeLinkView{r.integer("id"),     r.text("status"),
                                                     r.text("severity"),  r.text("summary"),
                                                     r.text("rule_name"), r.text("device_name"),
                                                     r.flag("used")};
                      });
    });
    return out;
}

AcknowledgeLinkUse AcknowledgeLinkStore::consume(const std::string& tenantId, long long deliveryId,
                                                 long long alertId, const std::string& userId) {
    AcknowledgeLinkUse out;
    using R = AcknowledgeLinkUse::Result;
    std::string delivery = std::to_string(deliveryId), alert = std::to_string(alertId);
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto who =
            userId.empty() ? conn.query(kRecipientChannel, {delivery}) : conn.query(kRecipientUser, {userId});
        if (who.rows.empty()) return;
        if (conn.query(kMarkUsed, {delivery, alert}).rows.empty()) {
            if (!conn.query(kDeliveryExists, {delivery, alert}).rows.empty()) out.result = R::AlreadyUsed;
            return;
        }
        ResultRow r(who, 0);
        out.result = R::Consumed;
        out.actorLabel = r.text("label");
        out.actorId = r.text("id");
        out.actorRole = r.text("role");
    });
    return out;
}

}  // namespace pulse::storage
