#include "storage/RuleStateStore.h"

#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// A new rule instance's starting point: the devices it was not idle about.
const char* kStatesOfRule =
    "SELECT device_id, device_name, state, state_at, saved_us FROM pulse.rule_states_of($1::uuid)";

// One statement for a whole flush, whichever tenants' rules it holds (the function checks each pair, and
// keeps a stored state newer than the one offered).
const char* kSaveStates =
    "SELECT pulse.save_rule_states($1, $2::uuid[], $3::bigint[], $4::text[], $5::bigint[])";

// Others' changes after a time in µs (the caller asks with a margin: rows are stamped when written).
const char* kChangedSince =
    "SELECT rule_id, device_id, device_name, state, state_at, saved_us FROM "
    "pulse.rule_states_changed($1::bigint, $2, $3::int)";

// Where a new engine starts looking for others' changes (what came before, reload restored).
const char* kNowUs = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us";

// Checked before a silence is reported: another instance may have heard the device.
const char* kLastSeen = "SELECT device_id, last_seen_ms FROM pulse.devices_last_seen($1::bigint[])";

RuleStateRow stateOf(const ResultRow& r, const std::string& ruleId) {
    return {ruleId,          r.integer("device_id"), r.text("device_name"),
            r.text("state"), r.integer("state_at"),  r.integer("saved_us")};
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
    std::vector<long long> devices, times;
    for (const auto& s : states) {
        rules.push_back(s.ruleId);
        devices.push_back(s.deviceId);
        texts.push_back(s.state);
        times.push_back(s.stateAtMs);
    }
    pool_.with([&](PgConnection& conn) {
        conn.query(kSaveStates, {by, arrayLiteral(rules), arrayLiteral(devices), arrayLiteral(texts),
                                 arrayLiteral(times)});
    });
}

std::vector<RuleStateRow> RuleStateStore::changedSince(long long sinceUs, const std::string& by, int limit) {
    PgRows rows;
    pool_.with([&](PgConnection& conn) {
        rows = conn.query(kChangedSince, {std::to_string(sinceUs), by, std::to_string(limit)});
    });
    return rowsOf(rows, [](const ResultRow& r) { return stateOf(r, r.text("rule_id")); });
}

long long RuleStateStore::nowUs() {
    PgRows rows;
    pool_.with([&](PgConnection& conn) { rows = conn.query(kNowUs); });
    return ResultRow(rows, 0).integer("now_us");
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
