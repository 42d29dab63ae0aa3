#include "http/HealthRoutes.h"

#include "http/Problem.h"
#include "logging/Logging.h"
#include "services/HealthService.h"

namespace pulse::http {
namespace {

std::string checksJson(const services::HealthService::Result& r) {
    std::string body = "{";
    bool first = true;
    for (const auto& [name, state] : r.checks) {
        body += std::string(first ? "" : ",") + "\"" + logging::jsonEscape(name) + "\":\"" +
                logging::jsonEscape(state) + "\"";
        first = false;
    }
    return body + "}";
}

}  // namespace

void addHealthRoutes(Router& router, services::HealthService& health, const std::string& version,
                     std::chrono::steady_clock::time_point startedAt) {
    router.add("GET", "/health/live", "health_live",
               [](Exchange& ex) { sendJson(ex.response, 200, "{\"status\":\"alive\"}"); });
    router.add("GET", "/health/ready", "health_ready", [&health](Exchange& ex) {
        auto r = health.run();
        sendJson(ex.response, r.healthy ? 200 : 503,
                 std::string("{\"status\":\"") + (r.healthy ? "ready" : "not_ready") +
                     "\",\"checks\":" + checksJson(r) + "}");
    });
    router.add("GET", "/health", "health", [&health, version, startedAt](Exchange& ex) {
        auto r = health.run();
        auto uptime =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - startedAt);
        sendJson(ex.response, r.healthy ? 200 : 503,
                 std::string("{\"status\":\"") + (r.healthy ? "healthy" : "unhealthy") +
                     "\",\"checks\":" + checksJson(r) + ",\"version\":\"" + logging::jsonEscape(version) +
                     "\",\"uptime_seconds\":" + std::to_string(uptime.count()) + "}");
    });
}

}  // namespace pulse::http
