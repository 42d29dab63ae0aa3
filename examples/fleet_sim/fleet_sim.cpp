// fleet_sim: N simulated devices sending numbered readings over MQTT or HTTP, or a plain MQTT subscriber
// that counts what arrives (the broker's own ceiling).
//
//   fleet_sim mqtt --tokens FILE --uri tcp://127.0.0.1:51883 [--messages M] [--rate R] [--acked FILE]
//   fleet_sim http --tokens FILE --url http://127.0.0.1:8080 [--messages M] [--batch K] [--rate R] [--acked
//   FILE] fleet_sim subscribe --uri URI --user U --password P --expect N [--idle-timeout S]
//
// FILE holds lines "device <tenant>/<name> token <token>" (what pulsed --seed-demo and --create-device
// print). Every message carries {"seq": n} per device, so the loss oracle can compare what each device
// had acknowledged (PUBACK, HTTP 2xx) with the rows stored; --acked writes "<tenant>/<name> <seq>" lines.
// --rate is messages per second over the whole fleet (0: as fast as acknowledgements allow). The last
// line printed is a JSON summary with the rate and acknowledgement latency percentiles.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Device {
    std::string name;  // tenant/device
    std::string token;
};

struct Options {
    std::string mode, tokens, uri = "tcp://127.0.0.1:51883", url = "http://127.0.0.1:8080", acked, user,
                              password;
    long messages = 100, batch = 1, expect = 0;
    double rate = 0, idleTimeout = 10;
    int inflight = 64;
};

struct Stats {
    std::mutex mutex;
    std::vector<double> latencies;  // seconds, per acknowledged message
    long acked = 0, errors = 0;
    std::ofstream ackedFile;
    void ack(const std::string& device, long seq, double latency) {
        std::lock_guard lock(mutex);
        ++acked;
        latencies.push_back(latency);
        if (ackedFile.is_open()) ackedFile << device << ' ' << seq << '\n';
    }
    void error() {
        std::lock_guard lock(mutex);
        ++errors;
    }
};

std::vector<Device> readTokens(const std::string& path) {
    std::vector<Device> out;
    std::ifstream in(path);
    std::string word, name, tokenWord, token;
    while (in >> word >> name >> tokenWord >> token)
        if (word == "device" && tokenWord == "token") out.push_back({name, token});
    return out;
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Spreads sends over time when a rate is set: each sender waits for its next slot.
class Pacer {
  public:
    Pacer(double perSecond, int senders)
        : interval_(perSecond > 0 ? senders / perSecond : 0), start_(Clock::now()) {}
    void wait(long n) const {
        if (interval_ <= 0) return;
        std::this_thread::sleep_until(start_ + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(interval_ * n)));
    }

  private:
    double interval_;
    Clock::time_point start_;
};

void runMqtt(const Options& o, const std::vector<Device>& devices, Stats& stats) {
    Pacer pacer(o.rate, static_cast<int>(devices.size()));
    std::vector<std::thread> threads;
    for (const auto& d : devices) {
        threads.emplace_back([&, d] {
            long long lastTs = 0;
            try {
                mqtt::async_client client(
                    o.uri, "sim-" + d.name.substr(d.name.find('/') + 1) + "-" + std::to_string(::getpid()),
                    mqtt::create_options(MQTTVERSION_5));
                mqtt::connect_options opts;
                opts.set_mqtt_version(MQTTVERSION_5);
                opts.set_clean_start(true);
                opts.set_user_name(d.name);
                opts.set_password(d.token);
                opts.set_max_inflight(o.inflight);
                client.connect(opts)->wait();
                std::string topic = "devices/" + d.name + "/telemetry";
                // Each PUBACK is timed when it arrives (listener), not when the sender gets round to it.
                struct Ack : mqtt::iaction_listener {
                    Stats* stats;
                    std::string device;
                    long seq;
                    Clock::time_point sent;
                    void on_success(const mqtt::token&) override {
                        stats->ack(device, seq, std::chrono::duration<double>(Clock::now() - sent).count());
                    }
                    void on_failure(const mqtt::token&) override { stats->error(); }
                };
                std::vector<std::unique_ptr<Ack>>
                    acks;  // alive until after disconnect: callbacks may trail wait()
                std::vector<mqtt::delivery_token_ptr> window;
                auto drain = [&](size_t keep) {
                    while (window.size() > keep) {
                        try {
                            window.front()->wait();
                        } catch (const mqtt::exception&) {
                        }
                        window.erase(window.begin());
                    }
                };
                for (long seq = 1; seq <= o.messages; ++seq) {
                    pacer.wait(seq - 1);
                    // ts = the publish time in ms, one later than the device's previous reading when
                    // they would share a millisecond: unique per reading (a QoS 1 redelivery carries the same
                    // ts and is stored once), and pulsed's commit-age histogram is publish -> commit.
                    long long ts =
                        std::max<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count(),
                                            lastTs + 1);
                    lastTs = ts;
                    std::string payload = "{\"ts\":" + std::to_string(ts) +
                                          ",\"values\":{\"seq\":" + std::to_string(seq) +
                                          ",\"temperature\":" + std::to_string(20 + seq % 10) +
                                          ",\"humidity\":" + std::to_string(40 + seq % 7) + "}}";
                    auto ack = std::make_unique<Ack>();
                    ack->stats = &stats;
                    ack->device = d.name;
                    ack->seq = seq;
                    ack->sent = Clock::now();
                    auto msg = mqtt::make_message(topic, payload, 1, false);
                    window.push_back(client.publish(msg, nullptr, *ack));
                    acks.push_back(std::move(ack));
                    drain(static_cast<size_t>(o.inflight - 1));
                }
                drain(0);
                client.disconnect()->wait();
            } catch (const std::exception& e) {
                std::cerr << d.name << ": " << e.what() << "\n";
                stats.error();
            }
        });
    }
    for (auto& t : threads) t.join();
}

void runHttp(const Options& o, const std::vector<Device>& devices, Stats& stats) {
    Poco::URI base(o.url);
    Pacer pacer(o.rate / static_cast<double>(o.batch),
                static_cast<int>(devices.size()));  // requests per second
    std::vector<std::thread> threads;
    long requests = (o.messages + o.batch - 1) / o.batch;
    for (const auto& d : devices) {
        threads.emplace_back([&, d] {
            Poco::Net::HTTPClientSession session(base.getHost(), base.getPort());
            session.setKeepAlive(true);
            session.setTimeout(Poco::Timespan(30, 0));
            long seq = 0;
            for (long r = 0; r < requests; ++r) {
                pacer.wait(r);
                std::string body = "[";
                std::vector<long> seqs;
                for (long i = 0; i < o.batch && seq < o.messages; ++i) {
                    ++seq;
                    seqs.push_back(seq);
                    body += std::string(i ? "," : "") + "{\"values\":{\"seq\":" + std::to_string(seq) +
                            ",\"temperature\":" + std::to_string(20 + seq % 10) + "},\"ts\":" +
                            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count() -
                                           o.messages + seq) +
                            "}";
                }
                body += "]";
                auto sent = Clock::now();
                try {
                    Poco::Net::HTTPRequest req("POST", "/api/v1/telemetry", Poco::Net::HTTPMessage::HTTP_1_1);
                    req.set("Authorization", "Bearer " + d.token);
                    req.setContentType("application/json");
                    req.setContentLength(static_cast<std::streamsize>(body.size()));
                    session.sendRequest(req) << body;
                    Poco::Net::HTTPResponse res;
                    std::string answer;
                    Poco::StreamCopier::copyToString(session.receiveResponse(res), answer);
                    if (res.getStatus() / 100 == 2) {
                        double latency = std::chrono::duration<double>(Clock::now() - sent).count();
                        for (long s : seqs) stats.ack(d.name, s, latency);
                    } else {
                        stats.error();
                    }
                } catch (const Poco::Exception&) {
                    stats.error();
                    session.reset();
                }
            }
        });
    }
    for (auto& t : threads) t.join();
}

int runSubscribe(const Options& o) {
    mqtt::async_client client(o.uri, "sim-subscriber-" + std::to_string(::getpid()),
                              mqtt::create_options(MQTTVERSION_5));
    std::atomic<long> received{0};
    std::atomic<int64_t> firstNs{0}, lastNs{0};
    client.set_message_callback([&](mqtt::const_message_ptr) {
        int64_t now = Clock::now().time_since_epoch().count();
        int64_t zero = 0;
        firstNs.compare_exchange_strong(zero, now);
        lastNs = now;
        ++received;
    });
    mqtt::connect_options opts;
    opts.set_mqtt_version(MQTTVERSION_5);
    opts.set_clean_start(true);
    opts.set_user_name(o.user);
    opts.set_password(o.password);
    client.connect(opts)->wait();
    client.subscribe("devices/+/+/telemetry", 1)->wait();
    std::cout << "subscribed" << std::endl;
    long last = -1;
    auto idleSince = Clock::now();
    while (received < o.expect) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (received != last) {
            last = received;
            idleSince = Clock::now();
        } else if (Clock::now() - idleSince > std::chrono::duration<double>(o.idleTimeout)) {
            break;
        }
    }
    client.disconnect()->wait();
    double seconds = (lastNs - firstNs) / 1e9;
    std::printf("{\"mode\":\"subscribe\",\"received\":%ld,\"seconds\":%.3f,\"msgs_per_s\":%.0f}\n",
                received.load(), seconds, seconds > 0 ? received / seconds : 0.0);
    return received >= o.expect ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (argc < 2) {
        std::cerr << "usage: fleet_sim mqtt|http|subscribe [options] (see the source header)\n";
        return 2;
    }
    o.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--tokens")
            o.tokens = v;
        else if (k == "--uri")
            o.uri = v;
        else if (k == "--url")
            o.url = v;
        else if (k == "--acked")
            o.acked = v;
        else if (k == "--user")
            o.user = v;
        else if (k == "--password")
            o.password = v;
        else if (k == "--messages")
            o.messages = std::stol(v);
        else if (k == "--batch")
            o.batch = std::max(1L, std::stol(v));
        else if (k == "--expect")
            o.expect = std::stol(v);
        else if (k == "--rate")
            o.rate = std::stod(v);
        else if (k == "--idle-timeout")
            o.idleTimeout = std::stod(v);
        else if (k == "--inflight")
            o.inflight = std::max(1, std::stoi(v));
        else {
            std::cerr << "unknown option " << k << "\n";
            return 2;
        }
    }
    if (o.mode == "subscribe") return runSubscribe(o);
    auto devices = readTokens(o.tokens);
    if (devices.empty()) {
        std::cerr << "no devices in " << o.tokens << "\n";
        return 2;
    }
    Stats stats;
    if (!o.acked.empty()) stats.ackedFile.open(o.acked, std::ios::trunc);
    auto started = Clock::now();
    if (o.mode == "mqtt")
        runMqtt(o, devices, stats);
    else if (o.mode == "http")
        runHttp(o, devices, stats);
    else {
        std::cerr << "unknown mode " << o.mode << "\n";
        return 2;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf(
        "{\"mode\":\"%s\",\"devices\":%zu,\"acked\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"msgs_per_s\":%.0f,"
        "\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
        o.mode.c_str(), devices.size(), stats.acked, stats.errors, seconds, stats.acked / seconds,
        percentile(stats.latencies, 0.5) * 1000, percentile(stats.latencies, 0.99) * 1000);
    return stats.errors ? 1 : 0;
}
