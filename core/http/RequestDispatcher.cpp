#include "http/RequestDispatcher.h"

#include "http/Problem.h"
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

#include <Poco/URI.h>

#include <array>
#include <chrono>

namespace pulse::http {

const std::string& RequestDispatcher::methodLabel(const std::string& method) {
    static const std::array<std::string, 9> known = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                                     "DELETE", "OPTIONS", "TRACE", "CONNECT"};
    static const std::string other = "other";
    for (const auto& m : known)
        if (m == method) return m;
    return other;
}

void RequestDispatcher::countRequest(const std::string& route, const std::string& method, int status) const {
    metrics_
        .counter("pulse_http_requests_total", "HTTP requests served",
                 {{"route", route}, {"method", methodLabel(method)}, {"code", std::to_string(status)}})
        .add();
}

void RequestDispatcher::dispatch(Poco::Net::HTTPServerRequest& req,
                                 Poco::Net::HTTPServerResponse& res) const {
    auto started = std::chrono::steady_clock::now();
    applySecurityHeaders(res);
    std::string path;
    try {
        path = Poco::URI(req.getURI()).getPath();
    } catch (const Poco::Exception&) {
        path = "";
    }
    std::string route = "unmatched";
    if (path.empty() || path.front() != '/') {
        sendProblem(res, 400, "Bad Request", "the request target is not a valid path");
    } else if (path.find('\0') != std::string::npos) {
        // A NUL would end the name at the C level (a file "x.html\0.js" served as JavaScript).
        sendProblem(res, 400, "Bad Request", "the request target holds a NUL byte");
    } else {
        auto m = router_->match(req.getMethod(), path);
        if (m.handler) {
            route = m.name;
            Exchange ex{req, res, path, std::move(m.params)};
            try {
                (*m.handler)(ex);
            } catch (const std::exception& e) {
                logging::get("http")->error("{} {} failed: {}", methodLabel(req.getMethod()), path, e.what());
                if (!res.sent())
                    sendProblem(res, 500, "Internal Server Error", "the request failed; see the server log",
                                path);
            }
        } else if (!m.allowedMethods.empty()) {
            std::string allow;
            for (const auto& a : m.allowedMethods) allow += (allow.empty() ? "" : ", ") + a;
            res.set("Allow", allow);
            sendProblem(res, 405, "Method Not Allowed",
                        methodLabel(req.getMethod()) + " is not allowed here; use " + allow, path);
        } else {
            sendProblem(res, 404, "Not Found", "no resource at " + path, path);
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    countRequest(route, req.getMethod(), static_cast<int>(res.getStatus()));
    metrics_
        .histogram("pulse_http_request_duration_seconds", "HTTP request handling time",
                   metrics::MetricsRegistry::latencyBuckets(), {{"route", route}})
        .observe(seconds);
}

}  // namespace pulse::http
