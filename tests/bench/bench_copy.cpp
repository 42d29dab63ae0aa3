// bench_copy: the raw COPY ceiling of the benchmark, (c): rows of the telemetry shape COPied in binary
// straight into pulse.telemetry (same table, same unique index), in batches, on one connection per
// thread. Prints {"rows":..,"seconds":..,"rows_per_s":..}.
//   bench_copy <conninfo> <tenant uuid> <device id> <rows> [batch] [threads]
#include "storage/PgConnection.h"
#include "storage/TelemetryStore.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

void put16(std::string& b, uint16_t v) {
    b.push_back(static_cast<char>(v >> 8));
    b.push_back(static_cast<char>(v));
}
void put32(std::string& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>(v >> s));
}
void put64(std::string& b, uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<char>(v >> s));
}

}  // namespace

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
                     946684800000000LL - rows;  // distinct timestamps ending now
    auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            pulse::storage::PgConnection conn(conninfo);
            for (long long first = t * batch; first < rows; first += batch * threads) {
                std::string buf("PGCOPY\n\377\r\n\0", 11);
                put32(buf, 0);
                put32(buf, 0);
                for (long long i = first; i < std::min(rows, first + batch); ++i) {
                    put16(buf, 5);
                    put32(buf, 16);
                    buf.append(reinterpret_cast<const char*>(tenant.data()), 16);
                    put32(buf, 8);
                    put64(buf, static_cast<uint64_t>(device));
                    put32(buf, 4);
                    put32(buf, static_cast<uint32_t>(metric));
                    put32(buf, 8);
                    put64(buf, static_cast<uint64_t>(baseUs + i));
                    double v = static_cast<double>(i % 100);
                    uint64_t bits;
                    std::memcpy(&bits, &v, 8);
                    put32(buf, 8);
                    put64(buf, bits);
                }
                put16(buf, 0xFFFF);
                conn.copyIn(
                    "COPY pulse.telemetry (tenant_id, device_id, metric_id, ts, value) FROM STDIN (FORMAT "
                    "binary)",
                    buf);
            }
        });
    }
    for (auto& w : workers) w.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("{\"rows\":%lld,\"seconds\":%.3f,\"rows_per_s\":%.0f}\n", rows, seconds, rows / seconds);
    return 0;
}
