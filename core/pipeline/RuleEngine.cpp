#include "pipeline/RuleEngine.h"

#include "config/ProcessIdentity.h"
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"
#include "plugins/PluginInstance.h"
#include "plugins/PluginManager.h"
#include "services/DeviceRegistry.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace pulse::pipeline {
namespace {

pulse_str view(const std::string& s) {
    return pulse_str{s.data(), s.size()};
}

// States restored from other instances per tick at most (the rest on the next tick).
constexpr int kChangesPerTick = 5000;

}  // namespace

bool ActiveRule::inScope(const services::DeviceIdentity& device) const {
    if (scopeKind == "tenant") return true;
    if (scopeKind == "site") return device.siteId == scopeSiteId;
    if (scopeKind == "device") return device.deviceId == scopeDeviceId;
    if (scopeKind == "tag")
        return std::find(device.tags.begin(), device.tags.end(), scopeTag) != device.tags.end();
    return false;
}

RuleEngine::RuleEngine(storage::PgPool& pool, services::AlertService& alerts,
                       services::DeviceRegistry& registry, metrics::MetricsRegistry* metrics,
                       std::string instanceId)
    : store_(pool),
      alerts_(alerts),
      registry_(registry),
      metrics_(metrics),
      index_(std::make_shared<const Index>()),
      states_(pool),
      instanceId_(instanceId.empty() ? config::processIdentity() : std::move(instanceId)) {
    if (metrics_) {
        evaluations_ =
            &metrics_->counter("pulse_rule_evaluations_total", "Readings evaluated against a rule");
        transitions_ =
            &metrics_->counter("pulse_rule_transitions_total", "Rule verdicts that changed a state");
        metrics_->addCollector([this](metrics::MetricsRegistry& m) {
            m.gauge("pulse_rules_active", "Rules loaded and evaluating")
                .set(static_cast<double>(ruleCount()));
        });
    }
}

RuleEngine::~RuleEngine() = default;

void RuleEngine::setPlugins(const plugins::PluginManager* plugins) {
    std::lock_guard lock(reloadMutex_);
    plugins_ = plugins;
    version_.clear();
}

std::shared_ptr<const RuleEngine::Index> RuleEngine::snapshot() const {
    std::lock_guard lock(indexMutex_);
    return index_;
}

size_t RuleEngine::ruleCount() const {
    auto idx = snapshot();
    size_t n = 0;
    for (const auto& [tenant, rules] : *idx) n += rules.size();
    return n;
}

std::shared_ptr<ActiveRule> RuleEngine::build(const storage::ActiveRuleRow& r) {
    auto rule = std::make_shared<ActiveRule>();
    rule->id = r.id;
    rule->tenantId = r.tenantId;
    rule->tenantSlug = r.tenantSlug;
    rule->name = r.name;
    rule->type = r.type;
    rule->configJson = r.configJson;
    rule->scopeKind = r.scopeKind;
    rule->scopeSiteId = r.scopeSiteId;
    rule->scopeTag = r.scopeTag;
    rule->scopeDeviceId = r.scopeDeviceId;
    rule->severity = r.severity;
    rule->autoClose = r.autoClose;
    rule->flapThreshold = r.flapThreshold;
    rule->flapWindowS = r.flapWindowS;
    rule->updatedAt = r.updatedAt;
    rule->instance = plugins_->createInstance("rule/" + rule->type, "rule:" + rule->name, rule->configJson);
    return rule;
}

// Tells a new rule instance which devices are in its scope and when each was last seen.
void RuleEngine::track(const ActiveRule& rule) {
    for (const auto& row : store_.devicesToTrack(rule.tenantId)) {
        services::DeviceIdentity device;
        device.deviceName = row.name;
        device.siteId = row.siteId;
        device.deviceId = row.id;
        device.tags = row.tags;
        if (rule.inScope(device)) rule.instance->track(rule.tenantSlug, device.deviceName, row.lastSeenMs);
    }
}

// A new rule instance goes on from the states its rule's devices were left in (a restart, an edit).
void RuleEngine::restoreSaved(const ActiveRule& rule) {
    auto saved = states_.ofRule(rule.id);
    std::lock_guard lock(statesMutex_);
    for (const auto& s : saved) {
        if (rule.instance->restoreState(rule.tenantSlug, s.deviceName, s.state) != PULSE_OK)
            logging::get("rules")->warn("rule {}: the saved state of device {} was refused; it starts idle",
                                        rule.name, s.deviceName);
        known_[{rule.id, s.deviceId}] = Known{s.state, s.stateAtMs, s.savedUs};
    }
}

void RuleEngine::markEvaluated(const std::shared_ptr<const ActiveRule>& rule, int64_t deviceId,
                               const std::string& deviceName, int64_t atMs) {
    std::lock_guard lock(evaluatedMutex_);
    auto& e = evaluated_[{rule->id, deviceId}];
    // After a reload the new instance's state is the one to save (an evaluation of the old one that ends
    // later does not put it back).
    if (!e.rule || rule->updatedAt >= e.rule->updatedAt) e.rule = rule;
    if (e.deviceName.empty()) e.deviceName = deviceName;
    e.atMs = std::max(e.atMs, atMs);
}

void RuleEngine::saveStates() {
    std::map<StateKey, Evaluated> evaluated;
    {
        std::lock_guard lock(evaluatedMutex_);
        evaluated.swap(evaluated_);
    }
    if (evaluated.empty()) return;
    std::vector<storage::RuleStateToSave> changed;
    std::vector<std::pair<StateKey, std::optional<Known>>> previous;  // to put back if the write fails
    {
        std::lock_guard lock(statesMutex_);
        for (const auto& [key, e] : evaluated) {
            auto text = e.rule->instance->saveState(e.rule->tenantSlug, e.deviceName);
            if (!text) continue;  // a rule that keeps no state (built before ABI 1.4)
            auto known = known_.find(key);
            if (known == known_.end() && text->empty()) continue;  // idle and never stored
            if (known != known_.end() && known->second.state == *text) {
                // Unchanged: nothing to write, but it still holds as of this evaluation.
                known->second.stateAtMs = std::max(known->second.stateAtMs, e.atMs);
                continue;
            }
            previous.emplace_back(key,
                                  known == known_.end() ? std::nullopt : std::optional<Known>(known->second));
            int64_t applied = known == known_.end() ? 0 : known->second.appliedSavedUs;
            known_[key] = Known{*text, e.atMs, applied};
            changed.push_back({key.first, key.second, *text, e.atMs});
        }
    }
    try {
        states_.save(instanceId_, changed);
        if (metrics_ && !changed.empty())
            metrics_
                ->counter("pulse_rule_states_saved_total", "Rule states of a device saved to the database")
                .add(static_cast<double>(changed.size()));
    } catch (const std::exception& e) {
        // Tried again on the next tick (a silent device is not evaluated again to mark it).
        {
            std::lock_guard lock(statesMutex_);
            for (const auto& [key, before] : previous) {
                if (before)
                    known_[key] = *before;
                else
                    known_.erase(key);
            }
        }
        std::lock_guard lock(evaluatedMutex_);
        for (auto& [key, ev] : evaluated) evaluated_.try_emplace(key, std::move(ev));
        logging::get("rules")->warn("rule states not saved ({} changed): {}", changed.size(), e.what());
    }
}

void RuleEngine::restoreChangedStates() {
    // Rows are stamped when written, not when committed: look again a little before the last one seen, and
    // skip what was applied already.
    constexpr int64_t kMarginUs = 5'000'000;
    int64_t since = 0;
    bool paging = false;
    {
        std::lock_guard lock(statesMutex_);
        since = changesSeenUpToUs_;
        paging = changesPageFull_;
    }
    if (since == 0) return;  // no rule loaded yet
    // After a full page, the next one goes on from its last row (the margin would return the same rows).
    auto changes = states_.changedSince(paging ? since : since - kMarginUs, instanceId_, kChangesPerTick);
    {
        std::lock_guard lock(statesMutex_);
        changesPageFull_ = changes.size() >= static_cast<size_t>(kChangesPerTick);
    }
    if (changes.empty()) return;
    std::map<std::string, std::shared_ptr<const ActiveRule>> rules;
    auto index = snapshot();  // held for the loop
    for (const auto& [tenant, list] : *index)
        for (const auto& rule : list) rules[rule->id] = rule;
    // Held while restoring: an evaluation starting now waits and then goes on from the restored state, and
    // one under way (marked before it began) keeps its own.
    std::lock_guard evaluatedLock(evaluatedMutex_);
    std::lock_guard lock(statesMutex_);
    for (const auto& c : changes) {
        StateKey key{c.ruleId, c.deviceId};
        changesSeenUpToUs_ = std::max<int64_t>(changesSeenUpToUs_, c.savedUs);
        auto rule = rules.find(c.ruleId);
        if (rule == rules.end() || evaluated_.count(key)) continue;
        auto& known = known_[key];
        // Applied already, or older than what this instance reached itself.
        if (c.savedUs <= known.appliedSavedUs || c.stateAtMs < known.stateAtMs) continue;
        rule->second->instance->restoreState(rule->second->tenantSlug, c.deviceName, c.state);
        known = Known{c.state, c.stateAtMs, c.savedUs};
        if (metrics_)
            metrics_
                ->counter("pulse_rule_states_restored_total",
                          "Rule states of a device restored from another instance's save")
                .add();
    }
}

void RuleEngine::reload() {
    std::lock_guard lock(reloadMutex_);
    if (!plugins_) return;
    auto log = logging::get("rules");
    std::string v = store_.rulesVersion();
    if (v == version_) return;
    // Others' changes are read from the first load on (what was saved before, the rules restore).
    bool first = false;
    {
        std::lock_guard slock(statesMutex_);
        first = changesSeenUpToUs_ == 0;
    }
    if (first) {
        int64_t now = states_.nowUs();
        std::lock_guard slock(statesMutex_);
        if (changesSeenUpToUs_ == 0) changesSeenUpToUs_ = now;
    }
    std::map<std::string, std::shared_ptr<const ActiveRule>> next;
    auto index = std::make_shared<Index>();
    for (const auto& row : store_.activeRules()) {
        std::shared_ptr<const ActiveRule> rule;
        if (auto it = byId_.find(row.id); it != byId_.end() && it->second->updatedAt == row.updatedAt) {
            rule = it->second;  // unchanged: keep its instance and per-device state
        } else if (auto f = failed_.find(row.id); f != failed_.end() && f->second == row.updatedAt) {
            continue;  // this version was refused already and logged
        } else {
            try {
                auto built = build(row);
                track(*built);
                restoreSaved(*built);
                rule = built;
                log->info("rule {} ({}, {}) of tenant {} loaded", built->name, built->type, built->severity,
                          built->tenantSlug);
            } catch (const std::exception& e) {
                failed_[row.id] = row.updatedAt;
                log->error("rule {} ({}) refused: {}", row.name, row.type, e.what());
                continue;
            }
        }
        next[row.id] = rule;
        (*index)[rule->tenantId].push_back(rule);
    }
    for (const auto& [id, rule] : byId_)
        if (!next.count(id)) log->info("rule {} unloaded", rule->name);
    byId_ = std::move(next);
    {
        std::lock_guard ilock(indexMutex_);
        index_ = index;
    }
    version_ = v;
}

void RuleEngine::evaluate(const services::DeviceIdentity& device, const std::vector<Reading>& readings) {
    auto idx = snapshot();
    auto it = idx->find(device.tenantId);
    if (it == idx->end() || readings.empty()) return;
    // The samples of this message, built once for all the rules (views into device and readings).
    thread_local std::vector<pulse_sample> samples;
    samples.clear();
    for (const auto& reading : readings) {
        pulse_sample sample{};
        sample.struct_size = sizeof sample;
        sample.tenant = view(device.tenantSlug);
        sample.device = view(device.deviceName);
        sample.metric = view(reading.metric);
        sample.value = reading.value;
        sample.value_type = reading.isBool ? PULSE_VALUE_BOOL : PULSE_VALUE_NUMBER;
        sample.ts_ms = reading.tsUs / 1000;
        samples.push_back(sample);
    }
    struct Sink {
        RuleEngine* self;
        const services::DeviceIdentity* device;
        const std::shared_ptr<const ActiveRule>* rule;
        static void on(void* ctx, size_t i, const plugins::RuleVerdict& v) {
            auto* k = static_cast<Sink*>(ctx);
            if (k->self->transitions_) k->self->transitions_->add();
            k->self->alerts_.submit(services::Transition{*k->rule, k->device->deviceId, k->device->deviceName,
                                                         v.transition, v.observed, v.summary,
                                                         samples[i].ts_ms});
        }
    };
    size_t evaluated = 0;
    int64_t nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    for (const auto& rule : it->second) {
        if (!rule->inScope(device)) continue;
        evaluated += samples.size();
        Sink sink{this, &device, &rule};
        // Marked before (so that another instance's state is not restored over an evaluation under way)
        // and after (so that a save between the two still sees this evaluation's state).
        bool keepsState = rule->instance->component().rule.save != nullptr;
        if (keepsState) markEvaluated(rule, device.deviceId, device.deviceName, nowMs);
        rule->instance->evaluateAll(samples.data(), samples.size(), &Sink::on, &sink);
        if (keepsState) markEvaluated(rule, device.deviceId, device.deviceName, nowMs);
    }
    if (evaluations_ && evaluated) evaluations_->add(static_cast<double>(evaluated));
}

std::vector<std::pair<plugins::RuleVerdict, services::DeviceIdentity>> RuleEngine::tickRule(
    const std::shared_ptr<const ActiveRule>& rule, int64_t nowMs) {
    auto collect = [&] {
        std::vector<plugins::RuleVerdict> verdicts;
        rule->instance->tick(nowMs, [&](const plugins::RuleVerdict& v) {
            if (v.transition != PULSE_TRANSITION_NONE) verdicts.push_back(v);
        });
        return verdicts;
    };
    std::vector<std::pair<plugins::RuleVerdict, services::DeviceIdentity>> out;
    for (auto& v : collect()) {
        std::optional<services::DeviceIdentity> device;
        try {
            device = registry_.byName(rule->tenantSlug, v.device);
        } catch (const std::exception& e) {
            logging::get("rules")->warn("rule {}: cannot resolve device {}: {}", rule->name, v.device,
                                        e.what());
            continue;
        }
        if (!device || device->decommissioned || device->tenantId != rule->tenantId ||
            !rule->inScope(*device))
            continue;
        out.emplace_back(std::move(v), std::move(*device));
    }
    // A time-based FIRING may be a silence only this instance heard (another one took the device's
    // readings): the rule is told the stored last-seen times and ticked again; a device it now calls
    // heard of again (CLEARED) was not silent, and neither verdict stands.
    std::vector<long long> firing;
    for (const auto& [v, device] : out)
        if (v.transition == PULSE_TRANSITION_FIRING) firing.push_back(device.deviceId);
    if (firing.empty()) return out;
    std::vector<storage::DeviceLastSeenRow> seen;
    try {
        seen = states_.lastSeen(firing);
    } catch (const std::exception& e) {
        logging::get("rules")->warn("rule {}: stored last-seen times not read ({}); its verdicts stand",
                                    rule->name, e.what());
        return out;
    }
    std::map<long long, long long> lastSeenOf;
    for (const auto& s : seen) lastSeenOf[s.deviceId] = s.lastSeenMs;
    for (const auto& [v, device] : out)
        if (auto it = lastSeenOf.find(device.deviceId); it != lastSeenOf.end() && it->second > 0)
            rule->instance->track(rule->tenantSlug, device.deviceName, it->second);
    std::set<std::string> heard;
    for (const auto& v : collect())
        if (v.transition == PULSE_TRANSITION_CLEARED) heard.insert(v.device);
    // A reading taken meanwhile (ingest threads) may have ended the condition and sent its CLEARED
    // already: a FIRING the rule no longer stands by (its state is idle) would open an alert nothing closes.
    bool keepsState = rule->instance->component().rule.save != nullptr;
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const auto& r) {
                                 if (r.first.transition != PULSE_TRANSITION_FIRING) return false;
                                 if (heard.count(r.first.device)) return true;
                                 if (!keepsState) return false;
                                 auto state = rule->instance->saveState(rule->tenantSlug, r.first.device);
                                 return state && state->empty();
                             }),
              out.end());
    return out;
}

void RuleEngine::tick(int64_t nowMs) {
    try {
        restoreChangedStates();
    } catch (const std::exception& e) {
        logging::get("rules")->warn("rule states of other instances not read: {}", e.what());
    }
    auto idx = snapshot();
    for (const auto& [tenant, rules] : *idx) {
        for (const auto& rule : rules) {
            for (const auto& [v, device] : tickRule(rule, nowMs)) {
                markEvaluated(rule, device.deviceId, device.deviceName, nowMs);  // its state changed
                if (transitions_) transitions_->add();
                alerts_.submit(services::Transition{rule, device.deviceId, device.deviceName, v.transition,
                                                    v.observed, v.summary, nowMs});
            }
        }
    }
    saveStates();
}

}  // namespace pulse::pipeline
