#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// Whom a level pages: a channel, a user (through each of their contact methods), or a schedule (whoever is
// on call when the level fires, through their contact methods).
struct EscalationTarget {
    std::string type;  // "channel", "user", "schedule"
    std::string id;
    std::string name;  // on reading: the channel's or schedule's name, or the user's display name or e-mail
    bool nextOnRepeat = false;  // a schedule: on pass n, the n-th person on call after whoever is now
};

struct EscalationLevel {
    int delayS = 300;  // after paging, how long until the next level (or the next pass)
    std::vector<EscalationTarget> targets;
};

struct EscalationPolicyFields {
    std::string name, description;
    int repeat = 0;  // passes after the first
    bool isDefault = false;
    std::vector<EscalationLevel> levels;  // 1..5
};

struct EscalationPolicyRow : EscalationPolicyFields {
    std::string id;
    long long rules = 0;  // rules naming it (not deleted)
    std::string createdAt, updatedAt;
};

// How a save ended, short of a database error.
struct EscalationPolicySave {
    bool found = true;  // replacing: false when the tenant has no such policy
    std::string id;
    // A target that is not the tenant's (or is a deleted channel or a disabled user): where it is in the
    // body ("levels[1].targets[0].id"); empty when saved.
    std::string unknownTarget;
};

struct EscalationPolicyRemoval {
    bool found = false;
    long long references = 0;  // rules (not deleted) naming it: not deleted
};

// A tenant's escalation policies with their levels and targets (sql/012), each call one transaction scoped
// to the tenant. Throws services::Conflict for a name in use, DatabaseError otherwise.
class EscalationPolicyStore {
  public:
    explicit EscalationPolicyStore(PgPool& pool) : pool_(pool) {}

    std::vector<EscalationPolicyRow> list(const std::string& tenantId);  // by name, at most 500
    std::optional<EscalationPolicyRow> find(const std::string& tenantId, const std::string& id);
    // Creates (no id) or replaces the whole policy; a default policy takes the tenant's default from
    // another. Alerts escalating under it go on with its new levels.
    EscalationPolicySave save(const std::string& tenantId, const std::optional<std::string>& id,
                              const EscalationPolicyFields& policy);
    // Deletes it unless a rule names it; alerts escalating under it stop escalating.
    EscalationPolicyRemoval remove(const std::string& tenantId, const std::string& id);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
