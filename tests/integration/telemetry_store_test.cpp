// TelemetryStore against the real PostgreSQL, as the application role under row-level security: a batch
// of new readings is inserted with the rollups and last values the writer computed; a batch holding
// readings stored before takes the ON CONFLICT path and counts only the new ones; two writers with
// overlapping batches end with every reading once and rollups equal to what the rows add up to.
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "storage/TelemetryStore.h"
#include "test_env.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace pulse::storage;
using namespace pulse::test;

namespace {

constexpr int64_t kHourUs = 3'600'000'000;

class TelemetryStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        PgConnection owner(ownerUri());
        MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
        std::string slug = "store" + std::to_string(getpid()) + "-" + std::to_string(counter_++);
        tenantText_ =
            *owner.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text", {slug})
                 .rows.at(0)
                 .at(0);
        tenant_ = parseUuid(tenantText_);
        for (int d = 0; d < 3; ++d)
            devices_.push_back(std::stoll(*owner
                                               .query("INSERT INTO pulse.devices (tenant_id, name) VALUES "
                                                      "($1::uuid, $2) RETURNING id::text",
                                                      {tenantText_, "dev-" + std::to_string(d)})
                                               .rows.at(0)
                                               .at(0)));
        int64_t nowUs = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        hourUs_ = nowUs / kHourUs * kHourUs;  // readings straddle the start of this hour
    }

    TelemetryRow reading(size_t device, const std::string& metric, int64_t offsetUs, double value) const {
        TelemetryRow r;
        r.tenant = tenant_;
        r.deviceId = devices_.at(device);
        r.metric = metric;
        r.tsUs = hourUs_ + offsetUs;
        r.value = value;
        return r;
    }

    std::string scalar(const std::string& sql) {
        PgConnection owner(ownerUri());
        auto rows = owner.query(sql, {tenantText_});
        return rows.rows.empty() || !rows.rows[0][0] ? "" : *rows.rows[0][0];
    }

    // Rollups that differ from what the stored readings add up to (min/max/sum/count per hour).
    std::string rollupMismatches() {
        return scalar(R"SQL(
WITH expected AS (
    SELECT device_id, metric_id, date_trunc('hour', ts AT TIME ZONE 'UTC') AS hour, min(value) AS min,
           max(value) AS max, sum(value) AS sum, count(*) AS count
    FROM pulse.telemetry WHERE tenant_id = $1::uuid GROUP BY 1, 2, 3),
actual AS (
    SELECT device_id, metric_id, hour AT TIME ZONE 'UTC' AS hour, min, max, sum, count
    FROM pulse.telemetry_hourly WHERE tenant_id = $1::uuid)
SELECT count(*) FROM ((TABLE expected EXCEPT TABLE actual) UNION ALL (TABLE actual EXCEPT TABLE expected)) x
)SQL");
    }

    static inline int counter_ = 0;
    std::string tenantText_;
    Uuid tenant_{};
    std::vector<int64_t> devices_;
    int64_t hourUs_ = 0;
};

}  // namespace

TEST_F(TelemetryStoreTest, NewReadingsAreInsertedWithRollupsAndLatestValues) {
    PgPool pool(appUri(), 2);
    TelemetryStore store(pool);
    std::vector<TelemetryRow> batch{reading(0, "temp", -1000, 20.5), reading(0, "temp", 2000, 22.0),
                                    reading(0, "temp", -3000, 19.0), reading(1, "temp", 1000, 30.0),
                                    reading(1, "door", 500, 1.0),    reading(0, "temp", 2000, 99.0)};
    EXPECT_EQ(store.write(batch), 5u);  // the last repeats (device 0, temp, +2000 us): kept once
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE tenant_id = $1::uuid"), "5");
    EXPECT_EQ(scalar("SELECT value FROM pulse.telemetry t JOIN pulse.metrics m ON m.id = t.metric_id "
                     "WHERE t.tenant_id = $1::uuid AND m.name = 'temp' AND t.device_id = " +
                     std::to_string(devices_[0]) + " ORDER BY ts DESC LIMIT 1"),
              "22");
    EXPECT_EQ(rollupMismatches(), "0");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry_hourly WHERE tenant_id = $1::uuid"), "4");
    EXPECT_EQ(scalar("SELECT last_value FROM pulse.metrics WHERE tenant_id = $1::uuid AND name = 'temp'"),
              "22");  // device 0 at +2000 us

    // An older reading does not move the catalog's last value back.
    EXPECT_EQ(store.write({reading(2, "temp", -kHourUs / 2, 5.0)}), 1u);
    EXPECT_EQ(scalar("SELECT last_value FROM pulse.metrics WHERE tenant_id = $1::uuid AND name = 'temp'"),
              "22");
    EXPECT_EQ(rollupMismatches(), "0");
}

TEST_F(TelemetryStoreTest, RedeliveredReadingsAreNeitherStoredNorCountedTwice) {
    PgPool pool(appUri(), 2);
    TelemetryStore store(pool);
    std::vector<TelemetryRow> first{reading(0, "temp", -10, 1.0), reading(0, "temp", 10, 2.0)};
    EXPECT_EQ(store.write(first), 2u);
    std::vector<TelemetryRow> second{reading(0, "temp", 10, 2.0), reading(0, "temp", 20, 4.0),
                                     reading(1, "temp", 20, 8.0)};
    EXPECT_EQ(store.write(second), 2u);  // (0, temp, +10) was stored by the first batch
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE tenant_id = $1::uuid"), "4");
    EXPECT_EQ(scalar("SELECT sum || '/' || count FROM pulse.telemetry_hourly WHERE tenant_id = $1::uuid "
                     "AND device_id = " +
                     std::to_string(devices_[0]) + " AND hour = to_timestamp(" +
                     std::to_string(hourUs_ / 1000000) + ")"),
              "6/2");
    EXPECT_EQ(rollupMismatches(), "0");
    EXPECT_EQ(scalar("SELECT last_value FROM pulse.metrics WHERE tenant_id = $1::uuid AND name = 'temp'"),
              "8");                      // the newest reading of the batch (device 1 at +20 us)
    EXPECT_EQ(store.write(second), 0u);  // all of it again
    EXPECT_EQ(rollupMismatches(), "0");
}

TEST_F(TelemetryStoreTest, ConcurrentWritersWithOverlappingBatchesStoreEachReadingOnce) {
    // Two writers, each 30 batches over the same devices, metrics and hours; every other batch of the
    // second repeats readings of the first (a redelivery racing the original).
    std::atomic<size_t> inserted{0};
    std::atomic<int> deadlocks{0};
    auto writer = [&](int which) {
        PgPool pool(appUri(), 2);
        TelemetryStore store(pool);
        for (int b = 0; b < 30; ++b) {
            std::vector<TelemetryRow> batch;
            int source = which == 1 && b % 2 ? 0 : which;  // odd batches of writer 1 repeat writer 0's
            for (int i = 0; i < 200; ++i) {
                int64_t offset = (b * 200 + i) * 1000LL - kHourUs / 10 + source * 7;
                batch.push_back(
                    reading(static_cast<size_t>(i % 3), i % 2 ? "temp" : "hum", offset, i + source));
            }
            for (int attempt = 0;; ++attempt) {
                try {
                    inserted += store.write(batch);
                    break;
                } catch (const DatabaseError& e) {  // retried, as the writer does, but counted
                    ASSERT_TRUE(isTransient(e)) << e.what();
                    if (e.sqlState() == "40P01") ++deadlocks;
                    ASSERT_LT(attempt, 5) << e.what();
                }
            }
        }
    };
    std::thread a(writer, 0), b(writer, 1);
    a.join();
    b.join();
    // Writer 0: 30 x 200 readings; writer 1: 15 batches of its own, 15 repeating writer 0's.
    EXPECT_EQ(deadlocks.load(), 0);  // locks are taken in key order: rows, rollups, then catalog rows
    EXPECT_EQ(inserted.load(), 45u * 200u);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE tenant_id = $1::uuid"), "9000");
    EXPECT_EQ(rollupMismatches(), "0");
}

TEST_F(TelemetryStoreTest, ABatchTheDatabaseRejectsLeavesTheConnectionUsable) {
    PgPool pool(appUri(), 2);
    TelemetryStore store(pool);
    // Twenty years back: no partition holds it, and the whole batch is refused.
    std::vector<TelemetryRow> refused{reading(0, "temp", 0, 1.0),
                                      reading(0, "temp", -20LL * 365 * 24 * kHourUs, 2.0)};
    try {
        store.write(refused);
        ADD_FAILURE() << "a reading outside every partition was stored";
    } catch (const DatabaseError& e) {
        EXPECT_EQ(e.sqlState(), "23514") << e.what();  // check_violation: no partition for the row
        EXPECT_FALSE(isTransient(e));
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE tenant_id = $1::uuid"), "0");
    EXPECT_EQ(store.write({reading(0, "temp", 0, 1.0), reading(1, "hum", 5, 50.0)}), 2u);
    EXPECT_EQ(rollupMismatches(), "0");
}

TEST_F(TelemetryStoreTest, AFailureAfterARedeliveryRollsTheWholeBatchBack) {
    PgPool pool(appUri(), 2);
    TelemetryStore store(pool);
    EXPECT_EQ(store.write({reading(0, "temp", 0, 1.0)}), 1u);
    // The repeat sends the batch down the ON CONFLICT path, where the reading no partition holds fails.
    std::vector<TelemetryRow> batch{reading(0, "temp", 0, 1.0), reading(1, "temp", 10, 2.0),
                                    reading(1, "temp", -20LL * 365 * 24 * kHourUs, 3.0)};
    try {
        store.write(batch);
        ADD_FAILURE() << "a reading outside every partition was stored";
    } catch (const DatabaseError& e) {
        EXPECT_EQ(e.sqlState(), "23514") << e.what();
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.telemetry WHERE tenant_id = $1::uuid"), "1");
    EXPECT_EQ(rollupMismatches(), "0");
    EXPECT_EQ(store.write({reading(0, "temp", 0, 1.0), reading(1, "temp", 10, 2.0)}), 1u);
    EXPECT_EQ(rollupMismatches(), "0");
}
