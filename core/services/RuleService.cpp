#include "services/RuleService.h"

#include "logging/Logging.h"
#include "plugins/PluginManager.h"
#include "services/ServiceErrors.h"
#include "services/Severities.h"
#include "storage/PgConnection.h"

#include <algorithm>
#include <vector>

namespace pulse::services {
namespace {

const std::vector<std::string> kScopeKinds = {"tenant", "site", "tag", "device"};

bool oneOf(const std::vector<std::string>& allowed, const std::string& value) {
    return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

}  // namespace

void RuleService::checkConfig(const std::string& type, const std::string& configJson) const {
    if (!plugins_ || !plugins_->findComponent("rule/" + type))
        throw InvalidRule("no rule plugin of type '" + type + "' is loaded", "type");
    std::string problems = plugins_->validateConfig("rule/" + type, configJson);
    if (!problems.empty()) throw InvalidRule(problems, "config");
    // The schema cannot say everything a plugin checks (a clear threshold on the wrong side of the
    // threshold): the plugin itself is asked, by creating an instance that is stopped at once, so that no
    // rule is stored that would never run.
    try {
        plugins_->createInstance("rule/" + type, "validate", configJson)->stop();
    } catch (const std::invalid_argument& e) {
        throw InvalidRule(std::string("the rule plugin refuses the config: ") + e.what(), "config");
    }
}

void RuleService::validate(const storage::RuleFields& rule) const {
    if (!isSeverity(rule.severity)) throw InvalidRule("severity must be " + severityList(), "severity");
    if (!oneOf(kScopeKinds, rule.scopeKind))
        throw InvalidRule("scope.kind must be tenant, site, tag or device", "scope.kind");
    checkConfig(rule.type, rule.configJson);
}

std::optional<std::string> RuleService::save(const std::string& tenantId,
                                             const std::optional<std::string>& id,
                                             const storage::RuleFields& rule) {
    validate(rule);
    storage::RuleSave saved;
    try {
        saved = store_.save(tenantId, id, rule);
    } catch (const storage::DatabaseError& e) {
        if (e.sqlState() == "23505") throw Conflict("a rule named '" + rule.name + "' exists");
        if (e.sqlState().rfind("23", 0) == 0 || e.sqlState() == "22P02") {
            // The database's own words stay in the log: they name tables and constraints, not the request.
            logging::get("rules")->info("rule refused by the database: {}", e.what());
            throw InvalidRule("a value of the rule is out of range or of the wrong form", "");
        }
        throw;
    }
    switch (saved.result) {
        case storage::RuleSave::Result::NoSuchSite:
            throw InvalidRule("no such site", "scope.site_id");
        case storage::RuleSave::Result::NoSuchDevice:
            throw InvalidRule("no such device", "scope.device_id");
        case storage::RuleSave::Result::NoSuchPolicy:
            throw InvalidRule("no such escalation policy", "escalation_policy_id");
        case storage::RuleSave::Result::NoSuchRule:
            return std::nullopt;
        case storage::RuleSave::Result::Saved:
            break;
    }
    return saved.id;
}

std::string RuleService::scopeValueNamed(const std::string& tenantId, const std::string& kind,
                                         const std::string& name) {
    if (kind == "site") {
        if (auto id = store_.siteIdByName(tenantId, name)) return *id;
        throw InvalidRule("no such site '" + name + "'", "scope.site_id");
    }
    if (kind == "device") {
        if (auto id = store_.deviceIdByName(tenantId, name)) return *id;
        throw InvalidRule("no such device '" + name + "'", "scope.device_id");
    }
    return name;
}

}  // namespace pulse::services
