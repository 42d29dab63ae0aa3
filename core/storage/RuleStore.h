#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// What a rule is saved with.
struct RuleFields {
    std::string name;
    std::string type;  // the rule component: threshold, heartbeat
    std::string configJson = "{}";
    std::string severity = "MEDIUM";
    std::string scopeKind = "tenant";       // tenant, site, tag, device
    std::optional<std::string> scopeValue;  // the site's id, the tag, or the device's id
    bool autoClose = true;
    int flapThreshold = 3;
    int flapWindowS = 600;
    bool enabled = true;
    std::optional<std::string> escalationPolicyId;  // none: the tenant's default policy, if any
};

// A stored rule that is not deleted.
struct RuleRow {
    std::string id, name, type, configJson, severity;
    std::string scopeKind;  // and the one of these it names:
    std::optional<std::string> scopeSiteId, scopeTag;
    std::optional<long long> scopeDeviceId;
    bool autoClose = true;
    int flapThreshold = 3, flapWindowS = 600;
    bool enabled = true;
    std::optional<std::string> escalationPolicyId;
    std::string createdAt, updatedAt;  // RFC 3339 UTC
};

// How a save ended, short of a database error.
struct RuleSave {
    enum class Result {
        Saved,
        NoSuchRule,    // replacing: the tenant has no such rule (or it is deleted)
        NoSuchSite,    // the scope's site is not the tenant's
        NoSuchDevice,  // the scope's device is not the tenant's, or is decommissioned
        NoSuchPolicy,  // the escalation policy is not the tenant's
    } result = Result::Saved;
    std::string id;  // the rule's, when saved
};

// A rule of any tenant as the rule engine loads it: enabled and not deleted.
struct ActiveRuleRow {
    std::string id, tenantId, tenantSlug, name, type, configJson, severity;
    std::string scopeKind;  // and the one of these it names ("" and 0 for the others):
    std::string scopeSiteId, scopeTag;
    long long scopeDeviceId = 0;
    bool autoClose = true;
    int flapThreshold = 3, flapWindowS = 600;
    std::string updatedAt;  // a changed rule is rebuilt
};

// A device in service as a new rule instance learns of it (which are in the rule's scope, and when each was
// last seen).
struct RuleTrackedDeviceRow {
    long long id = 0;
    std::string name;
    long long lastSeenMs = 0;  // 0: never seen
    std::string siteId;        // "" when at no site
    std::vector<std::string> tags;
};

// The tenant's alert rules in pulse.rules, each call in a transaction scoped to the tenant (row-level
// security), and every tenant's for the rule engine. Deleting keeps the row (its alerts refer to it) and
// marks it deleted. Saving goes through services::RuleService, which checks the config first.
class RuleStore {
  public:
    explicit RuleStore(PgPool& pool) : pool_(pool) {}

    // By name, the first 1000. Throws DatabaseError, like every method here.
    std::vector<RuleRow> list(const std::string& tenantId);
    std::optional<RuleRow> find(const std::string& tenantId, const std::string& id);
    // Inserts the rule (no id) or replaces the tenant's rule with that id, once its scope's site or device is
    // found to be the tenant's in the same transaction. A name taken is a DatabaseError with SQLSTATE 23505.
    RuleSave save(const std::string& tenantId, const std::optional<std::string>& id, const RuleFields& rule);
    // False when the tenant has no such rule.
    bool remove(const std::string& tenantId, const std::string& id);
    // The id of the tenant's site or (not decommissioned) device of that name, as the command line names
    // them; nullopt when there is none.
    std::optional<std::string> siteIdByName(const std::string& tenantId, const std::string& name);
    std::optional<std::string> deviceIdByName(const std::string& tenantId, const std::string& name);

    // Changes whenever a rule of any tenant is saved, enabled, disabled or deleted.
    std::string rulesVersion();
    // Every tenant's enabled rules.
    std::vector<ActiveRuleRow> activeRules();
    // The tenant's devices that are not decommissioned.
    std::vector<RuleTrackedDeviceRow> devicesToTrack(const std::string& tenantId);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
