// sender_snmp against a real snmptrapd (tests/bench/snmp_bench.sh starts it): notifications per second and
// per-delivery latency, one at a time and from 8 threads at once (the ratio shows whether the one SNMP
// thread serialises informs), and an inform channel's latency while another channel's informs go to a
// receiver that never answers (the ratio to its latency alone). Prints figures, asserts nothing.
#include <pulse/testing.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNotice = R"({"type":"alert.opened","tenant":{"id":"t","slug":"acme","name":"Acme"},
  "alert":{"id":97,"status":"OPEN","severity":"CRITICAL","summary":"temperature 91 > 80",
  "rule":{"name":"too hot","type":"threshold"},"device":{"id":1,"name":"dev-1","tags":[]}}})";

struct Figures {
    double perSecond = 0, p50 = 0, p99 = 0;
    int failed = 0;
};

pulse::testing::TestHost* makeHost(const std::string& config) {
    auto* host = new pulse::testing::TestHost(config);
    host->on_resolve([](const std::string&) {
        pulse::EgressAddress a;
        a.address = "127.0.0.1";
        return a;
    });
    return host;
}

Figures run(pulse::testing::Instance& inst, int total, int threads) {
    std::vector<double> ms(total);
    std::atomic<int> next{0}, failed{0};
    auto started = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int i; (i = next++) < total;) {
                auto t0 = Clock::now();
                auto o = inst.deliver("k-" + std::to_string(i), kNotice);
                ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                if (o.code != PULSE_OK) ++failed;
            }
        });
    for (auto& t : pool) t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::sort(ms.begin(), ms.end());
    return {total / seconds, ms[total / 2], ms[std::min<size_t>(total - 1, total * 99 / 100)], failed.load()};
}

void print(const char* what, const Figures& f) {
    std::printf("%-44s %8.0f /s   p50 %6.2f ms   p99 %6.2f ms   failed %d\n", what, f.perSecond, f.p50, f.p99,
                f.failed);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: snmp_bench PLUGIN_SO RECEIVER_PORT SILENT_PORT COMMUNITY [N]\n");
        return 2;
    }
    std::string port = argv[2], silent = argv[3], community = argv[4];
    int n = argc > 5 ? std::atoi(argv[5]) : 2000;
    const pulse_plugin* plugin = pulse::testing::load_plugin(argv[1]);
    std::string v2c =
        R"({"host":"receiver.example.com","port":)" + port + R"(,"community":")" + community + "\"";
    std::string v3 =
        R"({"host":"receiver.example.com","port":)" + port +
        R"(,"version":"3","user":"informuser","auth_passphrase":"auth-passphrase-1","priv_passphrase":"priv-passphrase-1")";
    struct Case {
        const char* name;
        std::string config;
    } cases[] = {{"v2c trap", v2c + R"(,"notification":"trap"})"},
                 {"v2c inform", v2c + "}"},
                 {"v3 authPriv inform (SHA-256, AES)", v3 + "}"}};
    std::printf("sender_snmp to snmptrapd on 127.0.0.1, %d notifications per row\n", n);
    long traps = 0, informs = 0;  // sent and, for informs, acknowledged
    for (const auto& c : cases) {
        std::unique_ptr<pulse::testing::TestHost> host(makeHost(c.config));
        auto inst = host->create(plugin, "sender", "snmp");
        run(inst, std::min(n, 50), 1);  // session, discovery and keys before the measured runs
        Figures one = run(inst, n, 1), eight = run(inst, n, 8);
        print((std::string(c.name) + ", 1 at a time").c_str(), one);
        print((std::string(c.name) + ", 8 threads").c_str(), eight);
        std::printf("%-44s %8.2fx\n", "  8 threads / 1 at a time (rate)", eight.perSecond / one.perSecond);
        long done = std::min(n, 50) + 2L * n - one.failed - eight.failed;
        (c.config.find("trap") != std::string::npos ? traps : informs) += done;
    }

    // R6 for SNMP: 4 threads keep informs outstanding to a port where nothing answers (each waits out its
    // tries) while one v2c inform channel is measured; its figures against the same channel alone.
    std::unique_ptr<pulse::testing::TestHost> goodHost(makeHost(cases[1].config));
    auto good = goodHost->create(plugin, "sender", "snmp");
    run(good, 50, 1);
    Figures alone = run(good, n / 4, 1);
    informs += 50 + n / 4 - alone.failed;
    std::unique_ptr<pulse::testing::TestHost> deadHost(makeHost(R"({"host":"silent.example.com","port":)" +
                                                                silent + R"(,"community":")" + community +
                                                                R"(","timeout_ms":500,"retries":1})"));
    auto dead = deadHost->create(plugin, "sender", "snmp");
    std::atomic<bool> stop{false};
    std::atomic<int> abandoned{0};
    std::vector<std::thread> hangers;
    for (int t = 0; t < 4; ++t)
        hangers.emplace_back([&] {
            while (!stop) {
                if (dead.deliver("silent", kNotice).code != PULSE_OK) ++abandoned;
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Figures beside = run(good, n / 4, 1);
    stop = true;
    for (auto& t : hangers) t.join();
    informs += n / 4 - beside.failed;
    print("v2c inform alone", alone);
    print("v2c inform beside a silent receiver", beside);
    std::printf("%-44s %8.2fx p99 (informs to the silent one given up: %d)\n", "  beside / alone",
                beside.p99 / alone.p99, abandoned.load());
    std::printf("done: %ld traps sent, %ld informs acknowledged\n", traps, informs);
    return 0;
}
