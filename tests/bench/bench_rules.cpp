// bench_rules <plugin dir> [messages] [rules]: the CPU cost of rule evaluation on the ingest path, as
// RuleEngine does it: every message of a device (3 readings) goes through each rule of its tenant,
// one serialized call per rule and message. Runs on one thread, then on two threads sharing the same
// rule instances (two MQTT connections do), and prints nanoseconds per message as JSON.
#include "plugins/PluginInstance.h"
#include "plugins/PluginLibrary.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace pulse::plugins;

namespace {

double run(const std::vector<std::shared_ptr<PluginInstance>>& rules, long messages, int threads) {
    auto body = [&](int t) {
        std::string device = "dev-" + std::to_string(t);
        const char* metrics[] = {"temperature", "humidity", "battery"};
        std::vector<pulse_sample> samples(3);
        long transitions = 0;
        for (long m = 0; m < messages; ++m) {
            for (int i = 0; i < 3; ++i) {
                pulse_sample& s = samples[static_cast<size_t>(i)];
                s = pulse_sample{};
                s.struct_size = sizeof s;
                s.tenant = {"bench", 5};
                s.device = {device.data(), device.size()};
                s.metric = {metrics[i], std::char_traits<char>::length(metrics[i])};
                s.value = 20 + static_cast<double>(m % 10);
                s.ts_ms = 1700000000000 + m;
            }
            for (const auto& r : rules)
                r->evaluateAll(
                    samples.data(), samples.size(),
                    [](void* ctx, size_t, const RuleVerdict&) { ++*static_cast<long*>(ctx); }, &transitions);
        }
        if (transitions) std::fprintf(stderr, "unexpected transitions: %ld\n", transitions);
    };
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(body, t);
    for (auto& t : pool) t.join();
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    return ns / static_cast<double>(messages * threads);  // wall time per message
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_rules <plugin dir> [messages] [rules]\n");
        return 2;
    }
    long messages = argc > 2 ? std::atol(argv[2]) : 500000;
    int count = argc > 3 ? std::atoi(argv[3]) : 10;
    auto plugin = loadPluginLibrary(std::string(argv[1]) + "/rule_threshold.so");
    std::vector<std::shared_ptr<PluginInstance>> rules;
    for (int i = 0; i < count; ++i) {
        auto r = std::make_shared<PluginInstance>("r" + std::to_string(i), plugin.components.at(0), nullptr);
        std::string error;
        if (r->create("{\"metric\":\"temperature\",\"operator\":\"GT\",\"threshold\":" +
                          std::to_string(1000 + i) + "}",
                      error) != PULSE_OK) {
            std::fprintf(stderr, "create failed: %s\n", error.c_str());
            return 1;
        }
        rules.push_back(r);
    }
    run(rules, messages / 10, 1);  // warm-up
    double one = run(rules, messages, 1);
    double two = run(rules, messages, 2);
    std::printf(
        "{\"rules\":%d,\"readings_per_message\":3,\"ns_per_message_1_thread\":%.0f,"
        "\"ns_per_message_2_threads\":%.0f}\n",
        count, one, two * 2);
    return 0;
}
