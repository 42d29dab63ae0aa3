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
    long long stateAtMs = 0;  // when the saving instance reached it (its clock)
    long long savedUs = 0;    // when it was written (the database's clock, µs since 1970)
};

struct RuleStateToSave {
    std::string ruleId;
    long long deviceId = 0;
    std::string state;
    long long stateAtMs = 0;
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
    // Saves the states as instance `by` (the other instances restore them); one older than the stored state
    // of its (rule, device) is not written.
    void save(const std::string& by, const std::vector<RuleStateToSave>& states);
    // What instances other than `by` saved after sinceUs, oldest first, at most limit.
    std::vector<RuleStateRow> changedSince(long long sinceUs, const std::string& by, int limit);
    // The database's clock (µs since 1970): where a new engine starts looking for others' changes.
    long long nowUs();
    // The stored last-seen times of these devices.
    std::vector<DeviceLastSeenRow> lastSeen(const std::vector<long long>& deviceIds);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
