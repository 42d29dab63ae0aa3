#pragma once

#include "config/Settings.h"
#include "http/Router.h"
#include "net/EgressGuard.h"

#include <memory>
#include <string>
#include <vector>

namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::http {

using HttpSettings = config::HttpSettings;

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
