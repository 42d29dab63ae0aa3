// keyBatch: the writer's side of storing a batch. Rows in key order with repeats dropped, and the
// rollups and last values PostgreSQL would compute from exactly those rows.
#include "storage/TelemetryBatch.h"

#include <gtest/gtest.h>

using pulse::storage::keyBatch;
using pulse::storage::TelemetryRow;

namespace {

constexpr int64_t kHourUs = 3'600'000'000;

TelemetryRow row(int64_t device, const std::string& metric, int64_t tsUs, double value) {
    TelemetryRow r;
    r.tenant[0] = 7;
    r.deviceId = device;
    r.metric = metric;
    r.tsUs = tsUs;
    r.value = value;
    return r;
}

}  // namespace

TEST(TelemetryBatch, OrdersByDeviceMetricAndTimeAndKeepsTheFirstOfRepeatedKeys) {
    std::vector<TelemetryRow> rows{row(2, "b", 10, 1), row(1, "a", 30, 2), row(1, "a", 20, 3),
                                   row(2, "b", 10, 4), row(1, "b", 5, 5)};
    std::vector<int32_t> metricIds{20, 10, 10, 20, 20};
    auto batch = keyBatch(rows, metricIds);
    EXPECT_EQ(batch.order, (std::vector<size_t>{2, 1, 4, 0}));  // (1,a,20) (1,a,30) (1,b,5) (2,b,10)
    EXPECT_EQ(batch.repeats, 1u);                               // rows[3] repeats rows[0]'s key
}

TEST(TelemetryBatch, RollupsPerDeviceMetricAndUtcHour) {
    int64_t h = 490'000 * kHourUs;  // some hour in 2025
    std::vector<TelemetryRow> rows{row(1, "t", h + 5, 4.0),          row(1, "t", h + kHourUs - 1, -1.5),
                                   row(1, "t", h + kHourUs, 10.0),   row(2, "t", h + 7, 3.0),
                                   row(1, "t", h + kHourUs - 1, 99), row(1, "p", h, 0.25)};
    std::vector<int32_t> metricIds{1, 1, 1, 1, 1, 2};
    auto batch = keyBatch(rows, metricIds);
    ASSERT_EQ(batch.rollups.size(), 4u);
    const auto& first = batch.rollups[0];  // device 1, metric 1, hour h: 4.0 and -1.5 (99 is a repeat)
    EXPECT_EQ(first.deviceId, 1);
    EXPECT_EQ(first.metricId, 1);
    EXPECT_EQ(first.hourUs, h);
    EXPECT_EQ(first.min, -1.5);
    EXPECT_EQ(first.max, 4.0);
    EXPECT_EQ(first.sum, 2.5);
    EXPECT_EQ(first.count, 2);
    EXPECT_EQ(first.tenant, rows[0].tenant);
    EXPECT_EQ(batch.rollups[1].hourUs, h + kHourUs);  // the next hour starts a new rollup
    EXPECT_EQ(batch.rollups[1].count, 1);
    EXPECT_EQ(batch.rollups[2].metricId, 2);  // device 1, metric 2
    EXPECT_EQ(batch.rollups[3].deviceId, 2);
    EXPECT_EQ(batch.rollups[3].sum, 3.0);
}

TEST(TelemetryBatch, HoursBeforeTheEpochRoundDown) {
    std::vector<TelemetryRow> rows{row(1, "t", -1, 1.0), row(1, "t", -kHourUs, 2.0)};
    auto batch = keyBatch(rows, {1, 1});
    ASSERT_EQ(batch.rollups.size(), 1u);
    EXPECT_EQ(batch.rollups[0].hourUs, -kHourUs);
    EXPECT_EQ(batch.rollups[0].count, 2);
}

TEST(TelemetryBatch, LatestIsTheNewestReadingOfEachMetricAcrossDevices) {
    std::vector<TelemetryRow> rows{row(1, "t", 300, 1.0), row(2, "t", 500, 2.0), row(3, "t", 400, 3.0),
                                   row(1, "p", 100, 4.0)};
    auto batch = keyBatch(rows, {5, 5, 5, 6});
    ASSERT_EQ(batch.latest.size(), 2u);
    EXPECT_EQ(batch.latest[0].metricId, 5);
    EXPECT_EQ(batch.latest[0].tsUs, 500);
    EXPECT_EQ(batch.latest[0].value, 2.0);
    EXPECT_EQ(batch.latest[1].metricId, 6);
    EXPECT_EQ(batch.latest[1].value, 4.0);
}
