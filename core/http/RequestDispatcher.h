#pragma once

#include "http/Router.h"

#include <memory>
#include <string>

namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::http {

// Runs one complete request through the router: security headers on every response, a JSON problem for
// an invalid target, unknown routes, wrong methods and handler failures, and per-route metrics whose
// labels come from fixed sets only (route names, known methods, status codes), so no client can add a
// series.
class RequestDispatcher {
  public:
    RequestDispatcher(std::shared_ptr<Router> router, metrics::MetricsRegistry& metrics)
        : router_(std::move(router)), metrics_(metrics) {}
    void dispatch(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

    // The method as a metrics label: one of the methods HTTP defines, or "other".
    static const std::string& methodLabel(const std::string& method);
    // pulse_http_requests_total for one answer; route is a route's name, "unmatched" or "rejected" (the
    // server refused the request before routing it).
    void countRequest(const std::string& route, const std::string& method, int status) const;

  private:
    std::shared_ptr<Router> router_;
    metrics::MetricsRegistry& metrics_;
};

}  // namespace pulse::http
