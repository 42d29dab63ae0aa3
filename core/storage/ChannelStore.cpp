#include "storage/ChannelStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A channel as ChannelRow reads it: never the sealed secrets, only whether there are any.
const std::string kChannelColumns =
    "c.id, c.name, c.type, c.config, c.secrets IS NOT NULL AS has_secrets, c.enabled, "
    "nullif(c.disabled_reason, '') AS disabled_reason, c.max_concurrency, " +
    isoTime("c.created_at") + " AS created_at, " + isoTime("c.updated_at") + " AS updated_at";

// The whole list in one page: a tenant has a handful of channels.
const std::string kChannelList =
    "SELECT " + kChannelColumns + " FROM pulse.channels c ORDER BY c.name LIMIT 1000";

// One channel, for its page and after a change.
const std::string kChannelById = "SELECT " + kChannelColumns + " FROM pulse.channels c WHERE c.id = $1::uuid";

// The whole list in one page, in the order they were made (the order they are matched in does not matter:
// every matching rule delivers).
const std::string kRoutingRuleList =
    "SELECT r.id, r.channel_id, r.name, array_to_json(r.severities) AS severities, "
    "array_to_json(r.rule_types) AS rule_types, r.site_id, r.tag, r.throttle_s, r.enabled, " +
    isoTime("r.created_at") +
    " AS created_at FROM pulse.routing_rules r ORDER BY r.created_at, r.id LIMIT 1000";

ChannelRow channelOf(const ResultRow& r) {
    ChannelRow c;
    c.id = r.text("id");
    c.name = r.text("name");
    c.type = r.text("type");
    c.configJson = r.text("config");
    c.hasSecrets = r.flag("has_secrets");
    c.enabled = r.flag("enabled");
    c.disabledReason = r.optionalText("disabled_reason");
    c.maxConcurrency = static_cast<int>(r.integer("max_concurrency"));
    c.createdAt = r.text("created_at");
    c.updatedAt = r.text("updated_at");
    return c;
}

}  // namespace

std::vector<ChannelRow> ChannelStore::list(const std::string& tenantId) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kChannelList); });
    std::vector<ChannelRow> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(channelOf(ResultRow(rows, i)));
    return out;
}

std::optional<ChannelRow> ChannelStore::find(const std::string& tenantId, const std::string& id) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kChannelById, {id}); });
    if (rows.rows.empty()) return std::nullopt;
    return channelOf(ResultRow(rows, 0));
}

std::vector<RoutingRuleRow> ChannelStore::routingRules(const std::string& tenantId) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kRoutingRuleList); });
    std::vector<RoutingRuleRow> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) {
        ResultRow r(rows, i);
        RoutingRuleRow route;
        route.id = r.text("id");
        route.channelId = r.text("channel_id");
        route.name = r.text("name");
        route.severitiesJson = r.text("severities");
        route.ruleTypesJson = r.text("rule_types");
        route.siteId = r.optionalText("site_id");
        route.tag = r.optionalText("tag");
        route.throttleS = static_cast<int>(r.integer("throttle_s"));
        route.enabled = r.flag("enabled");
        route.createdAt = r.text("created_at");
        out.push_back(std::move(route));
    }
    return out;
}

}  // namespace pulse::storage
