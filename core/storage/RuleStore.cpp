#include "storage/RuleStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A rule as RuleRow reads it.
const std::string kRuleColumns =
    "r.id, r.name, r.type, r.config, r.severity, r.scope_kind, r.scope_site_id, r.scope_tag, "
    "r.scope_device_id, r.auto_close, r.flap_threshold, r.flap_window_s, r.enabled, " +
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
const char* kDeviceInService =
    "SELECT 1 FROM pulse.devices WHERE id = $1::bigint AND decommissioned_at IS NULL";

// The command line names a scope's site or device; the rule stores its id.
const char* kSiteIdByName = "SELECT id FROM pulse.sites WHERE name = $1";
const char* kDeviceIdByName = "SELECT id FROM pulse.devices WHERE name = $1 AND decommissioned_at IS NULL";

// The values both saves set: $2 the name .. $11 enabled; $7 is the scope's site, tag or device, which lands
// in the column its kind ($6) names.
const char* kRuleValueColumns =
    "name, type, config, severity, scope_kind, scope_site_id, scope_tag, scope_device_id, "
    "auto_close, flap_threshold, flap_window_s, enabled";
const char* kRuleValues =
    "$2, $3, $4::jsonb, $5, $6, CASE WHEN $6 = 'site' THEN ($7::text)::uuid END, "
    "CASE WHEN $6 = 'tag' THEN $7::text END, CASE WHEN $6 = 'device' THEN ($7::text)::bigint "
    "END, $8::boolean, $9::int, $10::int, $11::boolean";

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
    rule.flapThreshold = static_cast<int>(r.integer("flap_threshold"));
    rule.flapWindowS = static_cast<int>(r.integer("flap_window_s"));
    rule.enabled = r.flag("enabled");
    rule.createdAt = r.text("created_at");
    rule.updatedAt = r.text("updated_at");
    return rule;
}

}  // namespace

std::vector<RuleRow> RuleStore::list(const std::string& tenantId) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kRuleList); });
    std::vector<RuleRow> out;
    for (size_t i = 0; i < rows.rows.size(); ++i) out.push_back(ruleOf(ResultRow(rows, i)));
    return out;
}

std::optional<RuleRow> RuleStore::find(const std::string& tenantId, const std::string& id) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kRuleById, {id}); });
    if (rows.rows.empty()) return std::nullopt;
    return ruleOf(ResultRow(rows, 0));
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
                                                      rule.enabled ? "true" : "false"};
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
        auto rows = conn.query(id ? kReplaceRule : kInsertRule, params);
        if (rows.rows.empty())
            saved.result = RuleSave::Result::NoSuchRule;
        else
            saved.id = ResultRow(rows, 0).text("id");
    });
    return saved;
}

bool RuleStore::remove(const std::string& tenantId, const std::string& id) {
    bool found = false;
    pool_.withTenant(tenantId,
                     [&](PgConnection& conn) { found = !conn.query(kDeleteRule, {id}).rows.empty(); });
    return found;
}

std::optional<std::string> RuleStore::siteIdByName(const std::string& tenantId, const std::string& name) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kSiteIdByName, {name}); });
    if (rows.rows.empty()) return std::nullopt;
    return ResultRow(rows, 0).text("id");
}

std::optional<std::string> RuleStore::deviceIdByName(const std::string& tenantId, const std::string& name) {
    PgRows rows;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { rows = conn.query(kDeviceIdByName, {name}); });
    if (rows.rows.empty()) return std::nullopt;
    return ResultRow(rows, 0).text("id");
}

}  // namespace pulse::storage
