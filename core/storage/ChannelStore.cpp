#include "storage/ChannelStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A channel as ChannelRow reads it: never the sealed secrets, only whether there are any.
const std::string kChannelColumns =
    "c.id, c.name, c.type, c.config, c.secrets IS NOT NULL AS has_secrets, c.enabled, "
    "nullif(c.disabled_reason, '') AS disabled_reason, c.max_concurrency, c.templates::text AS templates, " +
    isoTime("c.created_at") + " AS created_at, " + isoTime("c.updated_at") + " AS updated_at";

// The whole list in one page: a tenant has a handful of channels.
const std::string kChannelList =
    "SELECT " + kChannelColumns +
    " FROM pulse.channels c WHERE c.deleted_at IS NULL ORDER BY c.name LIMIT 1000";

// One channel, for its page and after a change.
const std::string kChannelById =
    "SELECT " + kChannelColumns + " FROM pulse.channels c WHERE c.id = $1::uuid AND c.deleted_at IS NULL";

// A channel's message templates, replaced whole; updated_at moves so that dispatchers pick them up (they
// keep a channel's sender and templates until it changes).
const char* kReplaceTemplates =
    "UPDATE pulse.channels SET templates = $2::jsonb, updated_at = now() WHERE id = $1::uuid AND "
    "deleted_at IS NULL RETURNING id";

// A channel's message templates, for a dispatcher making its sender.
const char* kTemplatesOf =
    "SELECT templates::text AS templates FROM pulse.channels WHERE id = $1::uuid AND deleted_at IS NULL";

// The sealed secrets of one channel, to open for a test delivery.
const char* kChannelSecrets =
    "SELECT type, encode(secrets, 'hex') AS secrets FROM pulse.channels WHERE id = $1::uuid AND "
    "deleted_at IS NULL";

// The whole list in one page, in the order they were made (the order they are matched in does not matter:
// every matching rule delivers).
const std::string kRoutingRuleList =
    "SELECT r.id, r.channel_id, r.name, array_to_json(r.severities) AS severities, "
    "array_to_json(r.rule_types) AS rule_types, r.site_id, r.tag, r.throttle_s, r.enabled, "
    "array_to_string(r.group_by, ',') AS group_by, r.group_wait_s, r.group_interval_s, "
    "r.repeat_interval_s, " +
    isoTime("r.created_at") +
    " AS created_at FROM pulse.routing_rules r ORDER BY r.created_at, r.id LIMIT 1000";

// (tenant, name) is unique: a name in use fails with 23505.
const char* kInsertChannel =
    "INSERT INTO pulse.channels (tenant_id, name, type, config, secrets, max_concurrency) "
    "VALUES ($1, $2, $3, $4::jsonb, decode($5, 'hex'), $6::int) RETURNING id::text AS id";

// What a new config is made from, locked until it is replaced.
const char* kLockChannelSecrets =
    "SELECT type, encode(secrets, 'hex') AS secrets FROM pulse.channels WHERE id = $1::uuid AND "
    "tenant_id = $2::uuid AND deleted_at IS NULL FOR UPDATE";

// A saved config enables the channel again (the dispatcher disables it when its endpoint is gone).
const char* kReplaceChannelConfig =
    "UPDATE pulse.channels SET config = $3::jsonb, secrets = decode($4, 'hex'), updated_at = now(), "
    "enabled = true, disabled_reason = '' WHERE id = $1::uuid AND tenant_id = $2::uuid";

// No row when the channel is not the tenant's. The site must be this tenant's too (foreign keys are checked
// without row-level security).
const char* kInsertRoutingRule =
    "INSERT INTO pulse.routing_rules (tenant_id, channel_id, name, severities, rule_types, site_id, tag, "
    "throttle_s, group_by, group_wait_s, group_interval_s, repeat_interval_s) SELECT $1::uuid, c.id, $3, "
    "$4::text[], $5::text[], $6::uuid, $7, $8::int, $9::text[], $10::int, $11::int, $12::int "
    "FROM pulse.channels c WHERE c.id = $2::uuid AND c.tenant_id = $1::uuid AND c.deleted_at IS NULL "
    "AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM pulse.sites s WHERE s.id = $6::uuid)) "
    "RETURNING id::text AS id";

// The same checks as an insert; no row when the rule, the channel or the site is not the tenant's.
const char* kUpdateRoutingRule =
    "UPDATE pulse.routing_rules r SET channel_id = c.id, name = $3, severities = $4::text[], "
    "rule_types = $5::text[], site_id = $6::uuid, tag = $7, throttle_s = $8::int, enabled = $9::boolean, "
    "group_by = $11::text[], group_wait_s = $12::int, group_interval_s = $13::int, repeat_interval_s = "
    "$14::int "
    "FROM pulse.channels c WHERE r.id = $10::uuid AND r.tenant_id = $1::uuid AND c.id = $2::uuid "
    "AND c.tenant_id = $1::uuid AND c.deleted_at IS NULL "
    "AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM pulse.sites s WHERE s.id = $6::uuid)) "
    "RETURNING r.id::text AS id";

// Deliveries made by a routing rule keep their history (and their channel) without it. Two statements:
// a foreign key is checked against the rows as the statement found them, so detaching and deleting in one
// statement would fail.
const char* kDetachRuleDeliveries =
    "UPDATE pulse.deliveries SET routing_rule_id = NULL WHERE routing_rule_id = ANY ($1::uuid[])";
const char* kDeleteRoutingRule =
    "DELETE FROM pulse.routing_rules WHERE id = $1::uuid RETURNING id::text AS id";

// A deleted channel keeps its row, because its deliveries name it: disabled (pending deliveries end as
// permanent failures, "channel disabled: deleted"), its secrets dropped, its name free for a new one.
const char* kDeleteChannel =
    "UPDATE pulse.channels SET deleted_at = now(), enabled = false, disabled_reason = 'deleted', "
    "secrets = NULL, updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id::text AS id";
const char* kRoutingRulesOfChannel =
    "SELECT coalesce(array_agg(id)::text, '{}') AS ids FROM pulse.routing_rules WHERE channel_id = $1::uuid";
const char* kDeleteChannelRoutes = "DELETE FROM pulse.routing_rules WHERE channel_id = $1::uuid";

std::string idOf(const ResultRow& r) {
    return r.text("id");
}

ChannelRow channelOf(const ResultRow& r) {
    ChannelRow c;
    c.id = r.text("id");
    c.name = r.text("name");
    c.type = r.text("type");
    c.configJson = r.text("config");
    c.hasSecrets = r.flag("has_secrets");
    c.enabled = r.flag("enabled");
    c.disabledReason = r.optionalText("disabled_reason");
    c.maxConcurrency = r.int32("max_concurrency");
    c.templatesJson = r.text("templates");
    c.createdAt = r.text("created_at");
    c.updatedAt = r.text("updated_at");
    return c;
}

RoutingRuleRow routingRuleOf(const ResultRow& r) {
    RoutingRuleRow route;
    route.id = r.text("id");
    route.channelId = r.text("channel_id");
    route.name = r.text("name");
    route.severitiesJson = r.text("severities");
    route.ruleTypesJson = r.text("rule_types");
    route.siteId = r.optionalText("site_id");
    route.tag = r.optionalText("tag");
    route.throttleS = r.int32("throttle_s");
    route.enabled = r.flag("enabled");
    route.createdAt = r.text("created_at");
    // "rule,site": the check constraint allows nothing with a comma in it.
    std::string by = r.text("group_by");
    for (size_t start = 0; start < by.size();) {
        size_t comma = std::min(by.find(',', start), by.size());
        route.grouping.by.push_back(by.substr(start, comma - start));
        start = comma + 1;
    }
    route.grouping.waitS = r.int32("group_wait_s");
    route.grouping.intervalS = r.int32("group_interval_s");
    route.grouping.repeatS = r.int32("repeat_interval_s");
    return route;
}

}  // namespace

std::vector<ChannelRow> ChannelStore::list(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kChannelList), channelOf);
}

std::optional<ChannelRow> ChannelStore::find(const std::string& tenantId, const std::string& id) {
    return firstOf(pool_.queryAsTenant(tenantId, kChannelById, {id}), channelOf);
}

std::vector<RoutingRuleRow> ChannelStore::routingRules(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kRoutingRuleList), routingRuleOf);
}

std::string ChannelStore::create(const std::string& tenantId, const ChannelFields& c) {
    auto rows = pool_.queryAsTenant(
        tenantId, kInsertChannel,
        {tenantId, c.name, c.type, c.publicConfigJson, c.sealedSecretsHex, std::to_string(c.maxConcurrency)});
    return idOf(ResultRow(rows, 0));
}

bool ChannelStore::replaceConfig(
    const std::string& tenantId, const std::string& channelId,
    const std::function<ChannelConfigUpdate(const StoredChannelSecrets&)>& update) {
    bool found = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto stored = firstOf(conn.query(kLockChannelSecrets, {channelId, tenantId}), [](const ResultRow& r) {
            return StoredChannelSecrets{r.text("type"), r.optionalText("secrets")};
        });
        if (!stored) return;
        ChannelConfigUpdate next = update(*stored);
        conn.query(kReplaceChannelConfig,
                   {channelId, tenantId, next.publicConfigJson, next.sealedSecretsHex});
        found = true;
    });
    return found;
}

bool ChannelStore::replaceTemplates(const std::string& tenantId, const std::string& channelId,
                                    const std::string& templatesJson) {
    return !pool_.queryAsTenant(tenantId, kReplaceTemplates, {channelId, templatesJson}).rows.empty();
}

std::string ChannelStore::templatesOf(const std::string& tenantId, const std::string& channelId) {
    return firstOf(pool_.queryAsTenant(tenantId, kTemplatesOf, {channelId}),
                   [](const ResultRow& r) { return r.text("templates"); })
        .value_or("{}");
}

std::optional<std::string> ChannelStore::createRoutingRule(const std::string& tenantId,
                                                           const RoutingRuleFields& rule) {
    return firstOf(pool_.queryAsTenant(
                       tenantId, kInsertRoutingRule,
                       {tenantId, rule.channelId, rule.name, arrayLiteral(rule.severities),
                        arrayLiteral(rule.ruleTypes), rule.siteId, rule.tag, std::to_string(rule.throttleS),
                        arrayLiteral(rule.grouping.by), std::to_string(rule.grouping.waitS),
                        std::to_string(rule.grouping.intervalS), std::to_string(rule.grouping.repeatS)}),
                   idOf);
}

std::optional<StoredChannelSecrets> ChannelStore::secrets(const std::string& tenantId,
                                                          const std::string& id) {
    return firstOf(pool_.queryAsTenant(tenantId, kChannelSecrets, {id}), [](const ResultRow& r) {
        return StoredChannelSecrets{r.text("type"), r.optionalText("secrets")};
    });
}

std::optional<std::string> ChannelStore::updateRoutingRule(const std::string& tenantId, const std::string& id,
                                                           const RoutingRuleFields& rule, bool enabled) {
    return firstOf(
        pool_.queryAsTenant(
            tenantId, kUpdateRoutingRule,
            {tenantId, rule.channelId, rule.name, arrayLiteral(rule.severities), arrayLiteral(rule.ruleTypes),
             rule.siteId, rule.tag, std::to_string(rule.throttleS), enabled ? "true" : "false", id,
             arrayLiteral(rule.grouping.by), std::to_string(rule.grouping.waitS),
             std::to_string(rule.grouping.intervalS), std::to_string(rule.grouping.repeatS)}),
        idOf);
}

bool ChannelStore::deleteRoutingRule(const std::string& tenantId, const std::string& id) {
    bool found = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        conn.query(kDetachRuleDeliveries, {"{" + id + "}"});
        found = !conn.query(kDeleteRoutingRule, {id}).rows.empty();
    });
    return found;
}

bool ChannelStore::deleteChannel(const std::string& tenantId, const std::string& id) {
    bool found = false;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (conn.query(kDeleteChannel, {id}).rows.empty()) return;
        found = true;
        auto routes = ResultRow(conn.query(kRoutingRulesOfChannel, {id}), 0).text("ids");
        conn.query(kDetachRuleDeliveries, {routes});
        conn.query(kDeleteChannelRoutes, {id});
    });
    return found;
}

}  // namespace pulse::storage
