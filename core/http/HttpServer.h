#pragma once

#include "http/Router.h"

#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>
#include <string>

namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::http {

struct HttpSettings {
    std::string address;
    int port = 0;
    int maxThreads = 64;
    int maxQueued = 256;
    int keepAliveTimeoutS = 15;
    long long maxBodyBytes = 1 << 20;
};

// Poco's HTTPServer in front of a Router: security headers on every response, a JSON problem for
// unknown routes, wrong methods, oversized bodies and handler failures, and per-route metrics.
class HttpServer {
  public:
    HttpServer(const HttpSettings& settings, std::shared_ptr<Router> router,
               metrics::MetricsRegistry& metrics);
    ~HttpServer();
    void start();
    void stop();
    int port() const;

  private:
    std::unique_ptr<Poco::ThreadPool> threads_;  // declared first: destroyed after the server
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    int port_ = 0;
};

}  // namespace pulse::http
