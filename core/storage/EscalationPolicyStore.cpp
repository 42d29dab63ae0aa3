#include "storage/EscalationPolicyStore.h"

#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

#include <map>

namespace pulse::storage {
namespace {

const std::string kPolicyColumns =
    "p.id, p.name, p.description, p.repeat_count, p.is_default, " + isoTime("p.created_at") +
    " AS created_at, " + isoTime("p.updated_at") +
    " AS updated_at, (SELECT count(*) FROM pulse.rules r WHERE r.escalation_policy_id = p.id AND "
    "r.deleted_at IS NULL) AS rules";

// The tenant's policies (or one, $1), by name.
const std::string kSelectPolicies = "SELECT " + kPolicyColumns +
                                    " FROM pulse.escalation_policies p WHERE ($1::uuid IS NULL OR p.id = "
                                    "$1::uuid) ORDER BY p.name LIMIT 500";

// Their levels and targets with the targets' names, in order, read at once rather than per policy.
const char* kSelectLevels =
    "SELECT l.policy_id, l.level, l.delay_s FROM pulse.escalation_levels l "
    "WHERE $1::uuid IS NULL OR l.policy_id = $1::uuid ORDER BY l.policy_id, l.level";
const char* kSelectTargets =
    "SELECT t.policy_id, t.level, CASE WHEN t.channel_id IS NOT NULL THEN 'channel' WHEN t.user_id IS NOT "
    "NULL "
    "THEN 'user' ELSE 'schedule' END AS type, coalesce(t.channel_id, t.user_id, t.schedule_id)::text AS id, "
    "coalesce(c.name, s.name, nullif(u.display_name, ''), u.email::text, '') AS name, t.next_on_repeat FROM "
    "pulse.escalation_targets t LEFT JOIN pulse.channels c ON c.id = t.channel_id LEFT JOIN pulse.users u ON "
    "u.id = t.user_id LEFT JOIN pulse.schedules s ON s.id = t.schedule_id WHERE $1::uuid IS NULL OR "
    "t.policy_id = $1::uuid ORDER BY t.policy_id, t.level, t.id";

// Foreign keys are checked without row-level security: a target is looked up under the tenant first, so
// another tenant's id is refused like an unknown one. Deleted channels and disabled users page nobody.
const char* kChannelUsable = "SELECT 1 FROM pulse.channels WHERE id = $1::uuid AND deleted_at IS NULL";
const char* kUserUsable = "SELECT 1 FROM pulse.users WHERE id = $1::uuid AND NOT disabled";
const char* kScheduleUsable = "SELECT 1 FROM pulse.schedules WHERE id = $1::uuid";

const char* kPolicyExists = "SELECT 1 FROM pulse.escalation_policies WHERE id = $1::uuid";

// One default per tenant (a unique index): the new default takes it from the old.
const char* kClearDefault =
    "UPDATE pulse.escalation_policies SET is_default = false WHERE is_default AND id IS DISTINCT FROM "
    "$1::uuid";

// (tenant, name) is unique: a name in use fails with 23505.
const char* kInsertPolicy =
    "INSERT INTO pulse.escalation_policies (tenant_id, name, description, repeat_count, is_default) "
    "VALUES ($1::uuid, $2, $3, $4::int, $5::boolean) RETURNING id::text AS id";
const char* kReplacePolicy =
    "UPDATE pulse.escalation_policies SET name = $2, description = $3, repeat_count = $4::int, "
    "is_default = $5::boolean, updated_at = now() WHERE id = $1::uuid RETURNING id::text AS id";

// A replaced policy's levels are written anew (their targets go with them, ON DELETE CASCADE).
const char* kDeleteLevels = "DELETE FROM pulse.escalation_levels WHERE policy_id = $1::uuid";
const char* kInsertLevel =
    "INSERT INTO pulse.escalation_levels (tenant_id, policy_id, level, delay_s) VALUES ($1::uuid, $2::uuid, "
    "$3::int, $4::int)";
const char* kInsertTarget =
    "INSERT INTO pulse.escalation_targets (tenant_id, policy_id, level, channel_id, user_id, schedule_id, "
    "next_on_repeat) VALUES ($1::uuid, $2::uuid, $3::int, CASE WHEN $4 = 'channel' THEN $5::uuid END, CASE "
    "WHEN "
    "$4 = 'user' THEN $5::uuid END, CASE WHEN $4 = 'schedule' THEN $5::uuid END, $6::boolean)";

// Rules (not deleted) naming the policy keep it; deleted rules let it go.
const char* kSelectReferences =
    "SELECT (SELECT count(*) FROM pulse.rules WHERE escalation_policy_id = $1::uuid AND deleted_at IS NULL) "
    "AS referencing, EXISTS (SELECT 1 FROM pulse.escalation_policies WHERE id = $1::uuid) AS found";
const char* kDetachDeletedRules =
    "UPDATE pulse.rules SET escalation_policy_id = NULL WHERE escalation_policy_id = $1::uuid";
const char* kDeletePolicy = "DELETE FROM pulse.escalation_policies WHERE id = $1::uuid";

EscalationPolicyRow policyOf(const ResultRow& r) {
    EscalationPolicyRow p;
    p.id = r.text("id");
    p.name = r.text("name");
    p.description = r.text("description");
    p.repeat = r.int32("repeat_count");
    p.isDefault = r.flag("is_default");
    p.rules = r.integer("rules");
    p.createdAt = r.text("created_at");
    p.updatedAt = r.text("updated_at");
    return p;
}

std::vector<EscalationPolicyRow> policiesWithLevels(PgConnection& conn,
                                                    const std::optional<std::string>& id) {
    auto policies = rowsOf(conn.query(kSelectPolicies, {id}), policyOf);
    auto levels = conn.query(kSelectLevels, {id});
    auto targets = conn.query(kSelectTargets, {id});
    std::map<std::string, EscalationPolicyRow*> byId;
    for (auto& p : policies) byId[p.id] = &p;
    for (size_t i = 0; i < levels.rows.size(); ++i) {
        ResultRow r(levels, i);
        if (auto it = byId.find(r.text("policy_id")); it != byId.end())
            it->second->levels.push_back({r.int32("delay_s"), {}});
    }
    for (size_t i = 0; i < targets.rows.size(); ++i) {
        ResultRow r(targets, i);
        auto it = byId.find(r.text("policy_id"));
        size_t level = static_cast<size_t>(r.int32("level"));
        if (it == byId.end() || level < 1 || level > it->second->levels.size()) continue;
        it->second->levels[level - 1].targets.push_back(
            {r.text("type"), r.text("id"), r.text("name"), r.flag("next_on_repeat")});
    }
    return policies;
}

}  // namespace

std::vector<EscalationPolicyRow> EscalationPolicyStore::list(const std::string& tenantId) {
    std::vector<EscalationPolicyRow> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { out = policiesWithLevels(conn, std::nullopt); });
    return out;
}

std::optional<EscalationPolicyRow> EscalationPolicyStore::find(const std::string& tenantId,
                                                               const std::string& id) {
    std::vector<EscalationPolicyRow> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) { out = policiesWithLevels(conn, id); });
    if (out.empty()) return std::nullopt;
    return std::move(out.front());
}

EscalationPolicySave EscalationPolicyStore::save(const std::string& tenantId,
                                                 const std::optional<std::string>& id,
                                                 const EscalationPolicyFields& p) {
    EscalationPolicySave saved;
    try {
        pool_.withTenant(tenantId, [&](PgConnection& conn) {
            // A policy that is not the tenant's is not found, whatever the body names.
            if (id && conn.query(kPolicyExists, {id}).rows.empty()) {
                saved.found = false;
                return;
            }
            for (size_t l = 0; l < p.levels.size(); ++l)
                for (size_t t = 0; t < p.levels[l].targets.size(); ++t) {
                    const auto& target = p.levels[l].targets[t];
                    const char* usable = target.type == "channel"    ? kChannelUsable
                                         : target.type == "schedule" ? kScheduleUsable
                                                                     : kUserUsable;
                    if (conn.query(usable, {target.id}).rows.empty()) {
                        saved.unknownTarget =
                            "levels[" + std::to_string(l) + "].targets[" + std::to_string(t) + "].id";
                        return;
                    }
                }
            if (p.isDefault) conn.query(kClearDefault, {id});
            auto row = firstOf(conn.query(id ? kReplacePolicy : kInsertPolicy,
                                          {id ? *id : tenantId, p.name, p.description,
                                           std::to_string(p.repeat), p.isDefault ? "true" : "false"}),
                               [](const ResultRow& r) { return r.text("id"); });
            if (!row) {
                saved.found = false;
                return;
            }
            saved.id = *row;
            conn.query(kDeleteLevels, {saved.id});
            for (size_t l = 0; l < p.levels.size(); ++l) {
                std::string level = std::to_string(l + 1);
                conn.query(kInsertLevel, {tenantId, saved.id, level, std::to_string(p.levels[l].delayS)});
                for (const auto& target : p.levels[l].targets)
                    conn.query(kInsertTarget, {tenantId, saved.id, level, target.type, target.id,
                                               target.nextOnRepeat ? "true" : "false"});
            }
        });
    } catch (const DatabaseError& e) {
        if (e.sqlState() == "23505")
            throw services::Conflict("an escalation policy named '" + p.name + "' exists");
        throw;
    }
    if (!saved.unknownTarget.empty() || !saved.found) saved.id.clear();
    return saved;
}

EscalationPolicyRemoval EscalationPolicyStore::remove(const std::string& tenantId, const std::string& id) {
    EscalationPolicyRemoval out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto rows = conn.query(kSelectReferences, {id});
        ResultRow r(rows, 0);
        out.references = r.integer("referencing");
        out.found = r.flag("found");
        if (!out.found || out.references != 0) return;
        conn.query(kDetachDeletedRules, {id});
        conn.query(kDeletePolicy, {id});
    });
    return out;
}

}  // namespace pulse::storage
