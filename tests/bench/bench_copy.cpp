// bench_copy: the raw COPY ceiling of the benchmark, (c): rows of the telemetry shape COPied in binary
// straight into pulse.telemetry (same table, same unique index), in batches, on one connection per
// thread. Prints {"rows":..,"seconds":..,"rows_per_s":..}.
//   bench_copy <conninfo> <tenant uuid> <device id> <rows> [batch] [threads]
#include "storage/CopyEncoder.h"
#include "storage/PgConnection.h"
#include "storage/TelemetryStore.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: bench_copy <conninfo> <tenant uuid> <device id> <rows> [batch] [threads]\n");
        return 2;
    }
    std::string conninfo = argv[1];
    auto tenant = pulse::storage::parseUuid(argv[2]);
    long long device = std::stoll(argv[3]), rows = std::stoll(argv[4]);
    long long batch = argc > 5 ? std::stoll(argv[5]) : 5000;
    int threads = argc > 6 ? std::stoi(argv[6]) : 2;
    int metric;
    {
        pulse::storage::PgConnection c(conninfo);
        auto r = c.query(
            "INSERT INTO pulse.metrics (tenant_id, name) VALUES ($1::uuid, 'bench_copy') "
            "ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            {std::string(argv[2])});
        metric = std::stoi(*r.rows[0][0]);
    }
    int64_t baseUs = (std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count()) -
                     rows;  // distinct timestamps ending now
    auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            pulse::storage::PgConnection conn(conninfo);
            for (long long first = t * batch; first < rows; first += batch * threads) {
                pulse::storage::BinaryCopyEncoder copy(static_cast<size_t>(batch) * 70);
                for (long long i = first; i < std::min(rows, first + batch); ++i) {
                    copy.row(5);
                    copy.uuid(tenant);
                    copy.int64(device);
                    copy.int32(metric);
                    copy.timestampUs(baseUs + i);
                    copy.float64(static_cast<double>(i % 100));
                }
                conn.copyIn(
                    "COPY pulse.telemetry (tenant_id, device_id, metric_id, ts, value) FROM STDIN (FORMAT "
                    "binary)",
                    copy.finish());
            }
        });
    }
    for (auto& w : workers) w.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("{\"rows\":%lld,\"seconds\":%.3f,\"rows_per_s\":%.0f}\n", rows, seconds, rows / seconds);
    return 0;
}
