#pragma once

#include "storage/RuleStore.h"

#include <optional>
#include <stdexcept>
#include <string>

namespace pulse::plugins {
class PluginManager;
}
namespace pulse::storage {
class PgPool;
}

namespace pulse::services {

// A rule that is not saved as given: why (fit for a 422 problem), and the request field at fault ("type",
// "config", "severity", "scope.site_id", ...; empty when no one field is).
class InvalidRule : public std::invalid_argument {
  public:
    InvalidRule(const std::string& why, std::string field)
        : std::invalid_argument(why), field_(std::move(field)) {}
    const std::string& field() const { return field_; }

  private:
    std::string field_;
};

// The one way rules are saved, for the REST API and pulsed --create-rule alike: the config must satisfy the
// rule plugin's schema and the plugin itself, the scope's site or device must be the tenant's, the name free.
class RuleService {
  public:
    // plugins may be null (no rule can be saved: every type is unknown).
    RuleService(storage::PgPool& pool, const plugins::PluginManager* plugins)
        : store_(pool), plugins_(plugins) {}

    // Inserts the rule (no id) or replaces the tenant's rule with that id; returns its id, or nullopt when
    // the tenant has no such rule. Throws InvalidRule, Conflict (the name is taken), or
    // storage::DatabaseError.
    std::optional<std::string> save(const std::string& tenantId, const std::optional<std::string>& id,
                                    const storage::RuleFields& rule);
    // The checks save() makes before the database's: severity, scope kind, the config (schema and plugin).
    // Throws InvalidRule.
    void validate(const storage::RuleFields& rule) const;
    // A scope's value from the name the command line gives (site:<name>, device:<name>): the site's or
    // device's id; a tag is itself. Throws InvalidRule when the tenant has no such site or device.
    std::string scopeValueNamed(const std::string& tenantId, const std::string& kind,
                                const std::string& name);

  private:
    void checkConfig(const std::string& type, const std::string& configJson) const;

    storage::RuleStore store_;
    const plugins::PluginManager* plugins_;
};

}  // namespace pulse::services
