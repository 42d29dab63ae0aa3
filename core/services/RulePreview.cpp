#include "services/RulePreview.h"

#include "plugins/PluginInstance.h"
#include "plugins/PluginManager.h"
#include "services/RuleService.h"
#include "storage/MetricStore.h"
#include "storage/SiteStore.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace pulse::services {
namespace {

bool previewInScope(const storage::RuleFields& rule, const storage::RuleTrackedDeviceRow& d) {
    const std::string value = rule.scopeValue.value_or("");
    if (rule.scopeKind == "site") return d.siteId == value;
    if (rule.scopeKind == "tag") return std::find(d.tags.begin(), d.tags.end(), value) != d.tags.end();
    if (rule.scopeKind == "device") return std::to_string(d.id) == value;
    return true;
}

pulse_str previewText(const std::string& s) {
    return pulse_str{s.data(), s.size()};
}

}  // namespace

RulePreview::RulePreview(storage::PgPool& pool, const plugins::PluginManager* plugins, Limits limits)
    : pool_(pool), plugins_(plugins), limits_(limits) {}

RulePreviewResult RulePreview::run(const std::string& tenantId, const std::string& tenantSlug,
                                   const storage::RuleFields& rule, int64_t fromMs, int64_t toMs) {
    RuleService(pool_, plugins_).validate(rule);
    if (rule.scopeKind == "site" && !storage::SiteStore(pool_).find(tenantId, rule.scopeValue.value_or("")))
        throw InvalidRule("no such site", "scope.site_id");

    std::vector<storage::RuleTrackedDeviceRow> devices;
    for (auto& d : storage::RuleStore(pool_).devicesToTrack(tenantId))
        if (previewInScope(rule, d)) devices.push_back(std::move(d));
    if (rule.scopeKind == "device" && devices.empty()) throw InvalidRule("no such device", "scope.device_id");

    RulePreviewResult result;
    result.fromMs = fromMs;
    result.toMs = toMs;
    result.devices = static_cast<int>(devices.size());
    std::vector<long long> ids;
    std::unordered_map<long long, const storage::RuleTrackedDeviceRow*> byId;
    std::map<std::string, long long> idByName;
    for (const auto& d : devices) {
        ids.push_back(d.id);
        byId[d.id] = &d;
        idByName[d.name] = d.id;
    }
    auto readings = ids.empty() ? std::vector<storage::WindowReadingRow>{}
                                : storage::MetricStore(pool_).windowReadings(tenantId, ids, fromMs, toMs,
                                                                             limits_.maxReadings + 1);
    if (readings.size() > static_cast<size_t>(limits_.maxReadings)) {
        result.truncated = true;
        readings.resize(static_cast<size_t>(limits_.maxReadings));
        result.toMs = readings.back().tsMs + 1;
    }
    result.readings = static_cast<long long>(readings.size());

    auto instance = plugins_->createInstance("rule/" + rule.type, "preview", rule.configJson);
    for (const auto& d : devices) instance->track(tenantSlug, d.name, fromMs);

    std::set<std::string> open;  // devices the preview has an alert open for
    auto onVerdict = [&](const plugins::RuleVerdict& v, int64_t atMs) {
        auto id = idByName.find(v.device);
        if (id == idByName.end()) return;  // not a device in scope
        if (v.transition == PULSE_TRANSITION_FIRING && open.insert(v.device).second) {
            ++result.fired;
            if (result.firings.size() < limits_.maxFirings)
                result.firings.push_back({id->second, v.device, atMs, v.observed, v.summary});
        } else if (v.transition == PULSE_TRANSITION_CLEARED && open.erase(v.device)) {
            ++result.cleared;
        }
    };
    int64_t clock = fromMs;
    auto advanceTo = [&](int64_t t) {
        for (; clock + limits_.tickMs <= t; clock += limits_.tickMs)
            instance->tick(clock + limits_.tickMs,
                           [&](const plugins::RuleVerdict& v) { onVerdict(v, clock + limits_.tickMs); });
    };
    struct Sink {
        std::function<void(const plugins::RuleVerdict&, int64_t)>* on;
        const pulse_sample* sample;
        static void call(void* ctx, size_t, const plugins::RuleVerdict& v) {
            auto* k = static_cast<Sink*>(ctx);
            (*k->on)(v, k->sample->ts_ms);
        }
    };
    std::function<void(const plugins::RuleVerdict&, int64_t)> on = onVerdict;
    for (const auto& r : readings) {
        advanceTo(r.tsMs);
        const auto* device = byId.at(r.deviceId);
        pulse_sample sample{};
        sample.struct_size = sizeof sample;
        sample.tenant = previewText(tenantSlug);
        sample.device = previewText(device->name);
        sample.metric = previewText(r.metric);
        sample.value = r.value;
        sample.value_type = r.isBoolean ? PULSE_VALUE_BOOL : PULSE_VALUE_NUMBER;
        sample.ts_ms = r.tsMs;
        Sink sink{&on, &sample};
        instance->evaluateAll(&sample, 1, &Sink::call, &sink);
    }
    advanceTo(result.toMs);
    instance->stop();
    return result;
}

}  // namespace pulse::services
