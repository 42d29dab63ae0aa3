#include "http/MetricsRoute.h"

#include "metrics/MetricsRegistry.h"

namespace pulse::http {

void addMetricsRoute(Router& router, metrics::MetricsRegistry& registry) {
    router.add("GET", "/metrics", "metrics", [&registry](Exchange& ex) {
        std::string body = registry.render();
        ex.response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
        ex.response.setContentType("text/plain; version=0.0.4; charset=utf-8");
        ex.response.setContentLength(static_cast<std::streamsize>(body.size()));
        ex.response.send() << body;
    });
}

}  // namespace pulse::http
