#include "http/HealthRoutes.h"

#include "http/Problem.h"
#include "services/HealthService.h"

#include <pulse/json.hpp>

namespace pulse::http {
namespace {

void writeChecks(json::Writer& w, const services::HealthService::Result& r) {
    w.key("checks").beginObject();
    for (const auto& [name, state] : r.checks) w.member(name, state);
    w.endObject();
}

}  // namespace

void addHealthRoutes(Router& router, services::HealthService& health, const std::string& version,
                     std::chrono::steady_clock::time_point startedAt) {
    router.add("GET", "/health/live", "health_live",
               [](Exchange& ex) { sendJson(ex.response, 200, "{\"status\":\"alive\"}"); });
    router.add("GET", "/health/ready", "health_ready", [&health](Exchange& ex) {
        auto r = health.run();
        json::Writer w;
        w.beginObject().member("status", r.healthy ? "ready" : "not_ready");
        writeChecks(w, r);
        sendJson(ex.response, r.healthy ? 200 : 503, w.endObject().str());
    });
    router.add("GET", "/health", "health", [&health, version, startedAt](Exchange& ex) {
        auto r = health.run();
        auto uptime =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - startedAt);
        json::Writer w;
        w.beginObject().member("status", r.healthy ? "healthy" : "unhealthy");
        writeChecks(w, r);
        w.member("version", version).member("uptime_seconds", static_cast<long long>(uptime.count()));
        sendJson(ex.response, r.healthy ? 200 : 503, w.endObject().str());
    });
}

}  // namespace pulse::http
