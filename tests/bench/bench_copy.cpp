// bench_copy: the raw COPY ceiling of the benchmark, (c): the rows the simulated fleet sends (each
// message two readings, "seq" and "temperature", per device in turn), COPied in binary straight into
// pulse.telemetry (same table, same unique index), in batches that hold every device's next messages in
// turn, as a writer batch of HTTP requests does, on one connection per thread. With one device, every
// row lands at the right edge of one index range: the easiest case for PostgreSQL's B-tree, shown as a
// second figure. Prints {"rows":..,"seconds":..,"rows_per_s":..}.
//   bench_copy <conninfo> <tenant uuid> <device id>[,<device id>...] <rows> [batch] [threads]
#include "storage/BinaryEncoding.h"
#include "storage/PgConnection.h"
#include "storage/TelemetryStore.h"

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: bench_copy <conninfo> <tenant uuid> <device id>[,<device id>...] <rows> "
                     "[batch] [threads]\n");
        return 2;
    }
    std::string conninfo = argv[1];
    auto tenant = pulse::storage::parseUuid(argv[2]);
    std::vector<long long> devices;
    std::stringstream ids(argv[3]);
    for (std::string id; std::getline(ids, id, ',');) devices.push_back(std::stoll(id));
    long long rows = std::stoll(argv[4]);
    long long batch = argc > 5 ? std::stoll(argv[5]) : 5000;
    int threads = argc > 6 ? std::stoi(argv[6]) : 2;
    int metrics[2];
    {
        pulse::storage::PgConnection c(conninfo);
        for (int m = 0; m < 2; ++m) {
            auto r = c.query(
                "INSERT INTO pulse.metrics (tenant_id, name) VALUES ($1::uuid, $2) "
                "ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
                {std::string(argv[2]), std::string(m ? "bench_copy_temperature" : "bench_copy_seq")});
            metrics[m] = std::stoi(*r.rows[0][0]);
        }
    }
    long long batchMessages = std::max(1LL, batch / 2);
    long long run = std::max(1LL, batchMessages / static_cast<long long>(devices.size()));  // per device
    long long messages = rows / 2;
    int64_t baseUs = (std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count()) -
                     messages;  // distinct timestamps per device ending now
    auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            pulse::storage::PgConnection conn(conninfo);
            for (long long first = t * batchMessages; first < messages; first += batchMessages * threads) {
                pulse::storage::BinaryCopyEncoder copy(static_cast<size_t>(batch) * 70);
                for (long long j = first; j < std::min(messages, first + batchMessages); ++j) {
                    // Message j: the devices take turns sending `run` messages each.
                    size_t device = static_cast<size_t>((j / run) % static_cast<long long>(devices.size()));
                    long long seq = (j / (run * static_cast<long long>(devices.size()))) * run + j % run;
                    for (int m = 0; m < 2; ++m) {
                        copy.row(5);
                        copy.uuid(tenant);
                        copy.int64(devices[device]);
                        copy.int32(metrics[m]);
                        copy.timestampUs(baseUs + seq);
                        copy.float64(m ? static_cast<double>(20 + seq % 10) : static_cast<double>(seq));
                    }
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
    long long copied = messages * 2;
    std::printf("{\"rows\":%lld,\"seconds\":%.3f,\"rows_per_s\":%.0f}\n", copied, seconds, copied / seconds);
    return 0;
}
