#include "storage/RuleStateStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A new rule instance's starting point: the devices it was not idle about.
const char* kStatesOfRule =
    "SELECT device_id, device_name, state, saved_at FROM pulse.rule_states_of($1::uuid)";

// One statement for a whole flush, whichever tenants' rules it holds (the function checks each pair).
const char* kSaveStates = "SELECT pulse.save_rule_states($1, $2::uuid[], $3::bigint[], $4::text[])";

// saved_at as text with its full precision, so that the next call can pass it back as `since`.
const char* kChangedSince =
    "SELECT rule_id, device_id, device_name, state, saved_at::text AS saved_at FROM "
    "pulse.rule_states_changed(coalesce(nullif($1, '')::timestamptz, '-infinity'), $2, $3::int)";

// Checked before a silence is reported: another instance may have heard the device.
const char* kLastSeen = "SELECT device_id, last_seen_ms FROM pulse.devices_last_seen($1::bigint[])";

RuleStateRow stateOf(const ResultRow& r, const std::string& ruleId) {
    return {ruleId, r.integer("device_id"), r.text("device_name"), r.text("state"), r.text("saved_at")};
}

}  // namespace

std::vector<RuleStateRow> RuleStateStore::ofRule(const std::string& ruleId) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kStatesOfRule, {ruleId}); });
    return rowsOf(rows, [&](const ResultRow& r) { return stateOf(r, ruleId); });
}

void RuleStateStore::save(const std::string& by, const std::vector<RuleStateToSave>& states) {
    if (states.empty()) return;
    std::vector<std::string> rules, texts;
    std::vector<long long> devices;
    for (const auto& s : states) {
        rules.push_back(s.ruleId);
        devices.push_back(s.deviceId);
        texts.push_back(s.state);
    }
    pool_.with([&](PgConnection& conn) {
        conn.query(kSaveStates, {by, arrayLiteral(rules), arrayLiteral(devices), arrayLiteral(texts)});
    });
}

std::vector<RuleStateRow> RuleStateStore::changedSince(const std::string& since, const std::string& by,
                                                       int limit) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) {
        rows = conn.query(kChangedSince, {since, by, std::to_string(limit)});
    });
    return rowsOf(rows, [](const ResultRow& r) { return stateOf(r, r.text("rule_id")); });
}

std::vector<DeviceLastSeenRow> RuleStateStore::lastSeen(const std::vector<long long>& deviceIds) {
    if (deviceIds.empty()) return {};
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kLastSeen, {arrayLiteral(deviceIds)}); });
    return rowsOf(rows, [](const ResultRow& r) {
        return DeviceLastSeenRow{r.integer("device_id"), r.integer("last_seen_ms")};
    });
}

}  // namespace pulse::storage
