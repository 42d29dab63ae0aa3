#include "storage/RuleStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A rule as RuleRow reads it.
const std::string kRuleColumns =
    "r.id, r.name, r.type, r.config, r.severity, r.scope_kind, r.scope_site_id, r.scope_tag, "
    "r.scope_device_id, r.auto_close, r.flap_threshold, r.flap_window_s, r.enabled, "
    "r.escalation_policy_id, " +
    isoTime("r.created_at") + " AS created_at, " + isoTime("r.updated_at") + " AS updated_at";

// The whole list in one page: a tenant has tens of rules, not thousands.
const std::string kRuleList =
    "SELECT " + kRuleColumns + " FROM pulse.rules r WHERE r.deleted_at IS NULL ORDER BY r.name LIMIT 1000";

// One rule, unless deleted.
const std::string kRuleById =
    "SELECT " + kRuleColumns + " FROM pulse.rules r WHERE r.id = $1::uuid AND r.deleted_at IS NULL";

// Foreign keys are checked without row-level security: a scope's site or device is looked up under the
// tenant first, so another tenant's id is refused like an unknown one.
const char* kSiteExists = "SELECT 1 FROM pulse.sites WHERE id = $1::uuid";
const char* kPolicyExists = "SELECT 1 FROM pulse.escalation_policies WHERE id = $1::uuid";
const char* kDeviceInService =
    "SELECT 1 FROM pulse.devices WHERE id = $1::bigint AND decommissioned_at IS NULL";

// The command line names a scope's site or device; the rule stores its id.
const char* kSiteIdByName = "SELECT id FROM pulse.sites WHERE name = $1";
const char* kDeviceIdByName = "SELECT id FROM pulse.devices WHERE name = $1 AND decommissioned_at IS NULL";

// The values both saves set: $2 the name .. $11 enabled, $12 the escalation policy; $7 is the scope's site,
// tag or device, which lands in the column its kind ($6) names.
const char* kRuleValueColumns =
    "name, type, config, severity, scope_kind, scope_site_id, scope_tag, scope_device_id, "
    "auto_close, flap_threshold, flap_window_s, enabled, escalation_policy_id";
const char* kRuleValues =
    "$2, $3, $4::jsonb, $5, $6, CASE WHEN $6 = 'site' THEN ($7::text)::uuid END, "
    "CASE WHEN $6 = 'tag' THEN $7::text END, CASE WHEN $6 = 'device' THEN ($7::text)::bigint "
    "END, $8::boolean, $9::int, $10::int, $11::boolean, $12::uuid";

// A new rule of the tenant $1.
const std::string kInsertRule = std::string("INSERT INTO pulse.rules (tenant_id, ") + kRuleValueColumns +
                                ") VALUES ($1::uuid, " + kRuleValues + ") RETURNING id";

// A whole rule replaced ($1 its id); updated_at tells the rule engine to rebuild it, state and all.
const std::string kReplaceRule =
    std::string("UPDATE pulse.rules SET (") + kRuleValueColumns + ", updated_at) = (" + kRuleValues +
    ", clock_timestamp()) WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id";

// Deleted rules stay (their alerts refer to them), disabled and out of every list.
const char* kDeleteRule =
    "UPDATE pulse.rules SET deleted_at = now(), enabled = false, updated_at = clock_timestamp() WHERE id = "
    "$1::uuid AND deleted_at IS NULL RETURNING id";

// Every tenant's rules and their version, through SECURITY DEFINER functions (sql/004): the rule engine
// re-reads the rules only when the version changed.
const char* kRulesVersion = "SELECT pulse.rules_version() AS version";
const char* kActiveRules =
    "SELECT id, tenant_id, tenant_slug, name, type, config, scope_kind, scope_site_id, scope_tag, "
    "scope_device_id, severity, auto_close, flap_threshold, flap_window_s, updated_at FROM "
    "pulse.active_rules()";

// A new rule instance's devices, their tags as one text joined by the unit separator.
const char* kDevicesToTrack =
    "SELECT d.name, coalesce((extract(epoch FROM d.last_seen_at) * 1000)::bigint, 0) AS last_seen_ms, "
    "coalesce(d.site_id::text, '') AS site_id, array_to_string(d.tags, E'\\x1f') AS tags, d.id "
    "FROM pulse.devices d WHERE d.tenant_id = $1::uuid AND d.decommissioned_at IS NULL";

RuleRow ruleOf(const ResultRow& r) {
    RuleRow rule;
    rule.id = r.text("id");
    rule.name = r.text("name");
    rule.type = r.text("type");
    rule.configJson = r.text("config");
    rule.severity = r.text("severity");
    rule.scopeKind = r.text("scope_kind");
    rule.scopeSiteId = r.optionalText("scope_site_id");
    rule.scopeTag = r.optionalText("scope_tag");
    rule.scopeDeviceId = r.optionalInteger("scope_device_id");
    rule.autoClose = r.flag("auto_close");
    rule.flapThreshold = r.int32("flap_threshold");
    rule.flapWindowS = r.int32("flap_window_s");
    rule.enabled = r.flag("enabled");
    rule.createdAt = r.text("created_at");
    rule.updatedAt = r.text("updated_at");
    rule.escalationPolicyId = r.optionalText("escalation_policy_id");
    return rule;
}

ActiveRuleRow activeRuleOf(const ResultRow& r) {
    ActiveRuleRow rule;
    rule.id = r.text("id");
    rule.tenantId = r.text("tenant_id");
    rule.tenantSlug = r.text("tenant_slug");
    rule.name = r.text("name");
    rule.type = r.text("type");
    rule.configJson = r.text("config");
    rule.severity = r.text("severity");
    rule.scopeKind = r.text("scope_kind");
    rule.scopeSiteId = r.text("scope_site_id");
    rule.scopeTag = r.text("scope_tag");
    rule.scopeDeviceId = r.integer("scope_device_id");
    rule.autoClose = r.flag("auto_close");
    rule.flapThreshold = r.int32("flap_threshold");
    rule.flapWindowS = r.int32("flap_window_s");
    rule.updatedAt = r.text("updated_at");
    return rule;
}

RuleTrackedDeviceRow trackedDeviceOf(const ResultRow& r) {
    RuleTrackedDeviceRow device;
    device.id = r.integer("id");
    device.name = r.text("name");
    device.lastSeenMs = r.integer("last_seen_ms");
    device.siteId = r.text("site_id");
    const std::string& tags = r.text("tags");
    for (size_t start = 0; !tags.empty() && start <= tags.size();) {
        size_t end = tags.find('\x1f', start);
        if (end == std::string::npos) end = tags.size();
        device.tags.push_back(tags.substr(start, end - start));
        start = end + 1;
    }
    return device;
}

std::string idOf(const ResultRow& r) {
    return r.text("id");
}

}  // namespace

std::vector<RuleRow> RuleStore::list(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kRuleList), ruleOf);
}

std::optional<RuleRow> RuleStore::find(const std::string& tenantId, const std::string& id) {
    return firstOf(pool_.queryAsTenant(tenantId, kRuleById, {id}), ruleOf);
}

RuleSave RuleStore::save(const std::string& tenantId, const std::optional<std::string>& id,
                         const RuleFields& rule) {
    std::vector<std::optional<std::string>> params = {id ? *id : tenantId,
                                                      rule.name,
                                                      rule.type,
                                                      rule.configJson,
                                                      rule.severity,
                                                      rule.scopeKind,
                                                      rule.scopeValue,
                                                      rule.autoClose ? "true" : "false",
                                                      std::to_string(rule.flapThreshold),
                                                      std::to_string(rule.flapWindowS),
                                                      rule.enabled ? "true" : "false",
                                                      rule.escalationPolicyId};
    RuleSave saved;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        if (rule.scopeKind == "site" && conn.query(kSiteExists, {rule.scopeValue}).rows.empty()) {
            saved.result = RuleSave::Result::NoSuchSite;
            return;
        }
        if (rule.scopeKind == "device" && conn.query(kDeviceInService, {rule.scopeValue}).rows.empty()) {
            saved.result = RuleSave::Result::NoSuchDevice;
            return;
        }
        if (rule.escalationPolicyId && conn.query(kPolicyExists, {rule.escalationPolicyId}).rows.empty()) {
            saved.result = RuleSave::Result::NoSuchPolicy;
            return;
        }
        if (auto savedId = firstOf(conn.query(id ? kReplaceRule : kInsertRule, params), idOf))
            saved.id = *savedId;
        else
            saved.result = RuleSave::Result::NoSuchRule;
    });
    return saved;
}

bool RuleStore::remove(const std::string& tenantId, const std::string& id) {
    return !pool_.queryAsTenant(tenantId, kDeleteRule, {id}).rows.empty();
}

std::optional<std::string> RuleStore::siteIdByName(const std::string& tenantId, const std::string& name) {
    return firstOf(pool_.queryAsTenant(tenantId, kSiteIdByName, {name}), idOf);
}

std::optional<std::string> RuleStore::deviceIdByName(const std::string& tenantId, const std::string& name) {
    return firstOf(pool_.queryAsTenant(tenantId, kDeviceIdByName, {name}), idOf);
}

std::string RuleStore::rulesVersion() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kRulesVersion); });
    return ResultRow(rows, 0).text("version");
}

std::vector<ActiveRuleRow> RuleStore::activeRules() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kActiveRules); });
    return rowsOf(rows, activeRuleOf);
}

std::vector<RuleTrackedDeviceRow> RuleStore::devicesToTrack(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kDevicesToTrack, {tenantId}), trackedDeviceOf);
}

}  // namespace pulse::storage
