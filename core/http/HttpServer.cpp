#include "http/HttpServer.h"

#include "http/Problem.h"
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>

#include <chrono>

namespace pulse::http {
namespace {

class DispatchHandler : public Poco::Net::HTTPRequestHandler {
  public:
    DispatchHandler(std::shared_ptr<Router> router, metrics::MetricsRegistry& metrics, long long maxBody)
        : router_(std::move(router)), metrics_(metrics), maxBody_(maxBody) {}

    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
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
        } else if (req.hasContentLength() && req.getContentLength64() > maxBody_) {
            res.setKeepAlive(false);  // the body is left unread
            sendProblem(res, 413, "Content Too Large",
                        "the body is larger than the limit of " + std::to_string(maxBody_) + " bytes", path);
        } else {
            auto m = router_->match(req.getMethod(), path);
            if (m.handler) {
                route = m.name;
                Exchange ex{req, res, path, std::move(m.params)};
                try {
                    (*m.handler)(ex);
                } catch (const std::exception& e) {
                    logging::get("http")->error("{} {} failed: {}", req.getMethod(), path, e.what());
                    if (!res.sent())
                        sendProblem(res, 500, "Internal Server Error",
                                    "the request failed; see the server log", path);
                }
            } else if (!m.allowedMethods.empty()) {
                std::string allow;
                for (const auto& a : m.allowedMethods) allow += (allow.empty() ? "" : ", ") + a;
                res.set("Allow", allow);
                sendProblem(res, 405, "Method Not Allowed",
                            req.getMethod() + " is not allowed here; use " + allow, path);
            } else {
                sendProblem(res, 404, "Not Found", "no resource at " + path, path);
            }
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics_
            .counter("pulse_http_requests_total", "HTTP requests served",
                     {{"route", route},
                      {"method", req.getMethod().size() <= 8 ? req.getMethod() : "other"},
                      {"code", std::to_string(static_cast<int>(res.getStatus()))}})
            .add();
        metrics_
            .histogram("pulse_http_request_duration_seconds", "HTTP request handling time",
                       metrics::MetricsRegistry::latencyBuckets(), {{"route", route}})
            .observe(seconds);
    }

  private:
    std::shared_ptr<Router> router_;
    metrics::MetricsRegistry& metrics_;
    long long maxBody_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    Factory(std::shared_ptr<Router> router, metrics::MetricsRegistry& metrics, long long maxBody)
        : router_(std::move(router)), metrics_(metrics), maxBody_(maxBody) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new DispatchHandler(router_, metrics_, maxBody_);
    }

  private:
    std::shared_ptr<Router> router_;
    metrics::MetricsRegistry& metrics_;
    long long maxBody_;
};

}  // namespace

HttpServer::HttpServer(const HttpSettings& s, std::shared_ptr<Router> router,
                       metrics::MetricsRegistry& metrics) {
    auto* params = new Poco::Net::HTTPServerParams;
    // Each keep-alive connection holds a thread while open (MEASURED.md): size the pool for the
    // connections we claim to serve, not Poco's default of 16.
    params->setMaxThreads(s.maxThreads);
    params->setMaxQueued(s.maxQueued);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(s.keepAliveTimeoutS, 0));
    params->setMaxKeepAliveRequests(10000);
    params->setServerName("pulsed");
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(s.address, static_cast<Poco::UInt16>(s.port)),
                                   128);
    // Our own pool: TCPServer otherwise uses Poco's default pool, capped at 16 threads whatever maxThreads
    // says.
    threads_ = std::make_unique<Poco::ThreadPool>("http", 2, s.maxThreads);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(std::move(router), metrics, s.maxBodyBytes),
                                                      *threads_, socket, params);
    port_ = socket.address().port();
}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    server_->start();
}

void HttpServer::stop() {
    if (server_) {
        server_->stopAll(true);
        server_.reset();
    }
    if (threads_) threads_->joinAll();
}

int HttpServer::port() const {
    return port_;
}

}  // namespace pulse::http
