// pulse-plugin-check: the conformance runner plugin authors run before shipping.
//
//   pulse-plugin-check [--config kind/type=JSON]... [--params kind/type=JSON]... plugin.so
//
// Loads the library exactly as pulsed does (same loader, same descriptor checks), then for every component:
// creates two instances from the given config (or the schema's first "examples" entry, or {}), starts and
// stops them, and calls the kind's operations with fixtures, checking result codes and returned data.
// Prints one line per check and "N passed, M failed"; exits 1 when anything failed.
#include "json/JsonSchema.h"
#include "logging/Logging.h"
#include "plugins/PluginInstance.h"
#include "plugins/PluginLibrary.h"

#include <boost/dll/library_info.hpp>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace pulse;

namespace {

std::atomic<int> g_passed{0}, g_failed{0}, g_skipped{0};
std::mutex g_printMutex;  // concurrent components are exercised from several threads

void check(bool ok, const std::string& what, const std::string& detail = "") {
    std::lock_guard lock(g_printMutex);
    (ok ? g_passed : g_failed)++;
    std::cout << (ok ? "  PASS " : "  FAIL ") << what << (detail.empty() ? "" : ": " + detail) << "\n";
}

void skip(const std::string& what, const std::string& why) {
    g_skipped++;
    std::cout << "  SKIP " << what << ": " << why << "\n";
}

std::string firstExample(const json::JsonSchema& schema) {
    auto examples = json::lookupPointer(schema.document(), "/examples/0");
    return examples ? json::toJsonText(*examples) : "{}";
}

bool knownCode(pulse_result rc) {
    return rc >= PULSE_ERR_INTERNAL && rc <= PULSE_PENDING;
}

struct Collected {
    std::string bytes;
    static pulse_result write(void* ctx, const void* data, size_t len) {
        static_cast<Collected*>(ctx)->bytes.append(static_cast<const char*>(data), len);
        return PULSE_OK;
    }
    pulse_writer writer() { return pulse_writer{sizeof(pulse_writer), this, &Collected::write}; }
};

pulse_sample sample(const char* metric, double value, int64_t ts) {
    pulse_sample s{};
    s.struct_size = sizeof s;
    s.tenant = {"conformance", 11};
    s.device = {"device-1", 8};
    s.metric = {metric, std::char_traits<char>::length(metric)};
    s.value = value;
    s.value_type = PULSE_VALUE_NUMBER;
    s.ts_ms = ts;
    return s;
}

void exercise(plugins::PluginInstance& inst, const plugins::ComponentInfo& c, const std::string& params) {
    std::string q = c.qualifiedType();
    int64_t now = 1'700'000'000'000;
    switch (c.kind) {
        case PULSE_KIND_INGEST: {
            std::string status;
            pulse_result rc = inst.health(status);
            check(rc == PULSE_OK || rc == PULSE_ERR_UNAVAILABLE, q + " health() returns OK or UNAVAILABLE",
                  "code " + std::to_string(rc) + ", status '" + status + "'");
            break;
        }
        case PULSE_KIND_RULE: {
            bool codesOk = true, transitionsOk = true;
            for (int i = 0; i < 20; ++i) {
                plugins::RuleVerdict v;
                for (const char* metric : {"temperature", "humidity", "battery"}) {
                    pulse_result rc = inst.evaluate(sample(metric, i * 7.5 - 20, now + i * 1000), v);
                    codesOk = codesOk && rc == PULSE_OK;
                    transitionsOk = transitionsOk && v.transition <= PULSE_TRANSITION_CLEARED;
                }
            }
            check(codesOk, q + " evaluate() returns OK for 60 fixture samples");
            check(transitionsOk, q + " evaluate() reports only NONE, FIRING or CLEARED");
            int emitted = 0;
            pulse_result rc = inst.tick(now + 3'600'000, [&](const plugins::RuleVerdict& v) {
                emitted++;
                transitionsOk = transitionsOk && v.transition <= PULSE_TRANSITION_CLEARED;
            });
            check(rc == PULSE_OK, q + " tick() returns OK", std::to_string(emitted) + " verdict(s) emitted");
            break;
        }
        case PULSE_KIND_SENDER: {
            std::string payload =
                R"({"event":"alert.opened","alert":{"id":"00000000-0000-0000-0000-000000000001","severity":"HIGH",)"
                R"("device":"device-1","summary":"temperature 81.2 > 80"}})";
            pulse_delivery d{};
            d.struct_size = sizeof d;
            d.idempotency_key = {"conformance-1", 13};
            d.payload_json = {payload.data(), payload.size()};
            d.attempt = 1;
            d.deadline_ms = now + 10'000;
            auto out = inst.deliver(d);
            check(knownCode(out.code) && out.code != PULSE_ERR_INTERNAL,
                  q + " deliver() returns a defined outcome",
                  "code " + std::to_string(out.code) +
                      (out.detail.empty() ? "" : ", detail '" + out.detail + "'"));
            check(out.code != PULSE_RETRY || out.retryAfterMs >= -1, q + " retry_after_ms is -1 or a delay");
            break;
        }
        case PULSE_KIND_REPORT: {
            Collected c2;
            auto w = c2.writer();
            std::string err;
            pulse_result rc = inst.generate(params, w, err);
            check(rc == PULSE_OK, q + " generate() succeeds with the example params", err);
            check(!c2.bytes.empty(), q + " generate() writes output",
                  std::to_string(c2.bytes.size()) + " bytes");
            break;
        }
        case PULSE_KIND_ACTION: {
            Collected c2;
            auto w = c2.writer();
            pulse_action_progress progress{sizeof(pulse_action_progress), nullptr,
                                           [](void*, uint32_t, const char*, size_t) {}};
            pulse_action_request r{};
            r.struct_size = sizeof r;
            r.job_id = {"job-1", 5};
            r.tenant = {"conformance", 11};
            r.device = {"device-1", 8};
            r.params_json = {params.data(), params.size()};
            std::string err;
            pulse_result rc = inst.execute(r, progress, w, err);
            check(knownCode(rc) && rc != PULSE_ERR_INTERNAL, q + " execute() returns a defined outcome",
                  "code " + std::to_string(rc) + (err.empty() ? "" : ", '" + err + "'"));
            break;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    logging::setup("warn", "text", "");
    std::map<std::string, std::string> configs, params;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "--config" || a == "--params") && i + 1 < argc) {
            std::string v = argv[++i];
            auto eq = v.find('=');
            if (eq == std::string::npos) {
                std::cerr << a << " expects kind/type=JSON\n";
                return 2;
            }
            (a == "--config" ? configs : params)[v.substr(0, eq)] = v.substr(eq + 1);
        } else if (a == "--help" || a == "-h") {
            std::cout << "usage: pulse-plugin-check [--config kind/type=JSON]... [--params "
                         "kind/type=JSON]... plugin.so\n";
            return 0;
        } else {
            path = a;
        }
    }
    if (path.empty()) {
        std::cerr << "usage: pulse-plugin-check [--config kind/type=JSON]... [--params kind/type=JSON]... "
                     "plugin.so\n";
        return 2;
    }

    std::cout << "Checking " << path << "\n";
    plugins::LoadedPlugin plugin;
    try {
        plugin = plugins::loadPluginLibrary(path);
        check(true, "loads and passes the descriptor checks",
              plugin.name + " " + plugin.version + ", ABI " + std::to_string(plugin.abiMajor) + "." +
                  std::to_string(plugin.abiMinor));
    } catch (const plugins::PluginRefused& e) {
        check(false, "loads and passes the descriptor checks", e.what());
        std::cout << g_passed << " passed, " << g_failed << " failed\n";
        return 1;
    }
    try {
        boost::dll::library_info info(path);
        auto symbols = info.symbols();
        std::string extra;
        for (const auto& s : symbols)
            if (s.rfind("pulse_", 0) == 0 && s != PULSE_ENTRY_V1_NAME) extra += " " + s;
        check(extra.empty(), "exports no pulse_* symbol but the entry point", extra);
    } catch (const std::exception& e) {
        skip("symbol table", e.what());
    }

    for (const auto& c : plugin.components) {
        std::string q = c->qualifiedType();
        std::cout << q << " (" << (c->threading == PULSE_THREADING_CONCURRENT ? "concurrent" : "serial")
                  << ")\n";
        check(!c->description.empty(), q + " has a description");
        std::string config = configs.count(q) ? configs[q] : firstExample(*c->configSchema);
        auto violations = c->configSchema->validateText(config);
        if (!violations.empty()) {
            skip(q + " instance checks", "config " + config + " does not match the schema (" +
                                             json::describe(violations) + "); pass --config " + q + "=JSON");
            continue;
        }
        std::string p =
            params.count(q) ? params[q] : (c->paramsSchema ? firstExample(*c->paramsSchema) : "{}");
        std::vector<std::unique_ptr<plugins::PluginInstance>> instances;
        for (int n = 0; n < 2; ++n) {
            auto inst = std::make_unique<plugins::PluginInstance>("check-" + std::to_string(n), c, nullptr);
            std::string err;
            pulse_result rc = inst->create(config, err);
            check(rc == PULSE_OK, q + " create() instance " + std::to_string(n + 1), err);
            if (rc != PULSE_OK) continue;
            rc = inst->start(err);
            check(rc == PULSE_OK, q + " start() instance " + std::to_string(n + 1), err);
            if (rc == PULSE_OK) instances.push_back(std::move(inst));
        }
        for (auto& inst : instances) exercise(*inst, *c, p);
        if (c->threading == PULSE_THREADING_CONCURRENT && !instances.empty()) {
            std::vector<std::thread> threads;
            for (int t = 0; t < 4; ++t) threads.emplace_back([&] { exercise(*instances.front(), *c, p); });
            for (auto& t : threads) t.join();
        }
        for (auto& inst : instances) inst->stop();
        instances.clear();
        check(true, q + " stop() and destroy() return");
    }
    std::cout << g_passed << " passed, " << g_failed << " failed";
    if (g_skipped) std::cout << ", " << g_skipped << " skipped";
    std::cout << "\n";
    return g_failed ? 1 : 0;
}
