#pragma once

#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// A rule's state of one device as its plugin saved it (ABI 1.4; "" when idle).
struct RuleStateRow {
    std::string ruleId;
    long long deviceId = 0;
    std::string deviceName;
    std::string state;
    std::string savedAt;  // PostgreSQL's text of the time, compared only for equality and order
};

struct RuleStateToSave {
    std::string ruleId;
    long long deviceId = 0;
    std::string state;
};

struct DeviceLastSeenRow {
    long long deviceId = 0;
    long long lastSeenMs = 0;  // 0: never seen
};

// pulse.rule_state (sql/017): what the rule engine keeps of its rules' per-device state, for every tenant at
// once through SECURITY DEFINER functions (the engine serves every tenant, like the rule loading).
class RuleStateStore {
  public:
    explicit RuleStateStore(PgPool& pool) : pool_(pool) {}

    // The rule's stored states that are not idle (a new instance of the rule restores them).
    std::vector<RuleStateRow> ofRule(const std::string& ruleId);
    // Saves the states as instance `by` (the other instances restore them).
    void save(const std::string& by, const std::vector<RuleStateToSave>& states);
    // What instances other than `by` saved after `since` (an RFC 3339 or PostgreSQL time; "" for all),
    // oldest first, at most limit.
    std::vector<RuleStateRow> changedSince(const std::string& since, const std::string& by, int limit);
    // The stored last-seen times of these devices.
    std::vector<DeviceLastSeenRow> lastSeen(const std::vector<long long>& deviceIds);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
