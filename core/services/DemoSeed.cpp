#include "services/DemoSeed.h"

#include "config/Settings.h"
#include "services/PasswordHasher.h"
#include "storage/DemoSeedStore.h"
#include "storage/DeviceStatusStore.h"
#include "storage/DeviceStore.h"
#include "storage/TelemetryStore.h"

#include <chrono>
#include <cmath>
#include <map>
#include <vector>

namespace pulse::services {

DemoLogin seedDemo(storage::Database& db, const std::string& email, const std::string& password) {
    storage::DemoFixture fixture{"demo",       "Demo Fleet",   email,
                                 "Demo Admin", "tenant-admin", hashPassword(password)};
    storage::DemoSeedStore(db).seed(fixture);
    return {fixture.tenantSlug, email};
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kMinuteUs = 60LL * 1000000;

struct Series {
    const char* metric;
    double base, swing;  // value = base + swing * (daily wave)
};

// Each device's metrics, and when it last reported (minutes ago): meter-2 went silent two hours ago.
struct Profile {
    std::vector<Series> series;
    int silentForMin = 0;
    bool breachesNow = false;  // its temperature climbs past the demo rule's 80 in the last half hour
};

const std::map<std::string, Profile>& profiles() {
    static const std::map<std::string, Profile> p = {
        {"boiler-1", {{{"temperature", 64, 8}, {"pressure", 1.2, 0.05}}}},
        {"boiler-2", {{{"temperature", 66, 7}, {"pressure", 1.25, 0.06}}, 0, true}},
        {"chiller-1", {{{"temperature", 6, 1.5}, {"power", 12, 3}}}},
        {"meter-1", {{{"power", 3.2, 1.5}, {"voltage", 230, 2}}}},
        {"meter-2", {{{"power", 2.4, 1.2}, {"voltage", 229, 2}}, 120}},
    };
    return p;
}

}  // namespace

void seedDemoHistory(storage::Database& db, storage::PgPool& pool, const config::Settings& s,
                     const std::string& tenantId, const std::string& acknowledgedBy) {
    storage::DemoSeedStore store(db);
    store.placeFleet(tenantId);
    if (!store.hasReadings(tenantId)) {
        storage::TelemetryStore telemetry(pool);
        // A week back needs its daily partitions.
        telemetry.maintainPartitions(s.telemetryRawRetentionDays, s.telemetryRollupRetentionDays,
                                     s.telemetryPartitionsAheadDays);
        storage::DeviceFilter all;
        all.limit = 200;
        auto devices = storage::DeviceStore(pool).list({tenantId}, all).rows;
        auto tenant = storage::parseUuid(tenantId);
        int64_t nowUs = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        nowUs -= nowUs % kMinuteUs;
        std::vector<storage::TelemetryRow> rows;
        std::vector<storage::DeviceSeenRow> seen;
        for (const auto& d : devices) {
            auto profile = profiles().find(d.name);
            if (profile == profiles().end()) continue;
            const Profile& p = profile->second;
            int64_t lastUs = nowUs - p.silentForMin * kMinuteUs;
            // Every 10 minutes for a week, then every minute for the last hour.
            for (int64_t t = nowUs - 7 * 24 * 60 * kMinuteUs; t <= lastUs;
                 t += (nowUs - t > 60 * kMinuteUs ? 10 : 1) * kMinuteUs) {
                double day =
                    std::sin(2 * kPi * static_cast<double>(t % (1440 * kMinuteUs)) / (1440.0 * kMinuteUs));
                double ripple =
                    std::sin(static_cast<double>(t / kMinuteUs) * 0.37 + static_cast<double>(d.id));
                for (const auto& series : p.series) {
                    double v = series.base + series.swing * day + series.swing * 0.15 * ripple;
                    double minutesAgo = static_cast<double>(nowUs - t) / static_cast<double>(kMinuteUs);
                    if (p.breachesNow && std::string(series.metric) == "temperature" && minutesAgo < 30)
                        v = 86.4 - minutesAgo * 0.6;  // climbing to 86.4 now
                    rows.push_back({tenant, d.id, series.metric, false, t, std::round(v * 100) / 100});
                }
            }
            seen.push_back({d.id, lastUs / 1000});
        }
        for (size_t i = 0; i < rows.size(); i += 5000)
            telemetry.write({rows.begin() + static_cast<std::ptrdiff_t>(i),
                             rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), i + 5000))});
        if (!seen.empty()) storage::DeviceStatusStore(pool).recordSeen(seen);
    }
    store.seedAlerts(tenantId, acknowledgedBy);
}

}  // namespace pulse::services
