#pragma once

#include "http/Router.h"
#include "net/EgressGuard.h"

#include <memory>
#include <string>
#include <vector>

namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::http {

struct HttpSettings {
    std::string address;
    int port = 0;
    int workers = 64;            // threads running handlers
    int maxQueued = 256;         // complete requests waiting for a worker (503 above)
    int keepAliveTimeoutS = 15;  // an idle keep-alive connection closes after this
    long long maxBodyBytes = 1 << 20;
    int headerTimeoutS = 5;              // the whole header, from its first byte (or from accept)
    int bodyTimeoutS = 30;               // the whole body, from the end of the header
    int writeTimeoutS = 30;              // the whole response
    int maxConnections = 16384;          // open connections; idle keep-alive ones are reclaimed first
    int maxConnectionsPerAddress = 256;  // per IPv4 address or IPv6 /64 (429 above)
    double addressRequestsPerS = 1000;   // requests per address, sustained (429 above); 0: no limit
    double addressBurst = 2000;
    std::vector<net::Cidr> uncappedPeers;  // trusted proxies: many clients behind one address
};

// The HTTP/1.1 server. Connections live on one event-driven I/O thread (Boost.Asio): an idle, silent or
// slow client costs a socket and a timer, never a thread. A request is read in full (header within
// headerTimeoutS, body within bodyTimeoutS, framing checked by RequestReader) before it is handed to the
// worker pool, whose handlers build the response in memory; the I/O thread writes it out within
// writeTimeoutS. See docs/architecture.md ("HTTP server") for why Poco's thread-per-connection server was
// replaced.
class HttpServer {
  public:
    HttpServer(const HttpSettings& settings, std::shared_ptr<Router> router,
               metrics::MetricsRegistry& metrics);
    ~HttpServer();
    void start();
    void stop();
    int port() const;

    struct State;  // the I/O thread's side, shared with the connections

  private:
    std::unique_ptr<State> state_;
};

}  // namespace pulse::http
