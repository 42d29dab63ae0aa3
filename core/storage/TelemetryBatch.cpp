#include "storage/TelemetryBatch.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>

namespace pulse::storage {
namespace {

constexpr int64_t kUsPerHour = 3'600'000'000;

int64_t hourStart(int64_t tsUs) {
    int64_t hours = tsUs >= 0 ? tsUs / kUsPerHour : -((-tsUs + kUsPerHour - 1) / kUsPerHour);  // floor
    return hours * kUsPerHour;
}

}  // namespace

KeyedBatch keyBatch(const std::vector<TelemetryRow>& rows, const std::vector<int32_t>& metricIds) {
    KeyedBatch out;
    std::vector<size_t> all(rows.size());
    std::iota(all.begin(), all.end(), size_t{0});
    auto key = [&](size_t i) { return std::make_tuple(rows[i].deviceId, metricIds[i], rows[i].tsUs); };
    std::stable_sort(all.begin(), all.end(), [&](size_t a, size_t b) { return key(a) < key(b); });

    out.order.reserve(all.size());
    std::map<int32_t, LatestReading> latest;
    for (size_t i : all) {
        if (!out.order.empty() && key(out.order.back()) == key(i)) {
            ++out.repeats;
            continue;
        }
        out.order.push_back(i);
        const auto& r = rows[i];
        int64_t hour = hourStart(r.tsUs);
        auto& last = out.rollups;
        if (last.empty() || last.back().deviceId != r.deviceId || last.back().metricId != metricIds[i] ||
            last.back().hourUs != hour) {
            last.push_back(HourlyRollup{r.tenant, r.deviceId, metricIds[i], hour, r.value, r.value, 0, 0});
        }
        auto& h = last.back();
        h.min = std::min(h.min, r.value);
        h.max = std::max(h.max, r.value);
        h.sum += r.value;
        ++h.count;
        auto [it, fresh] = latest.try_emplace(metricIds[i], LatestReading{metricIds[i], r.tsUs, r.value});
        if (!fresh && it->second.tsUs <= r.tsUs) it->second = LatestReading{metricIds[i], r.tsUs, r.value};
    }
    for (const auto& [id, reading] : latest) out.latest.push_back(reading);
    return out;
}

}  // namespace pulse::storage
