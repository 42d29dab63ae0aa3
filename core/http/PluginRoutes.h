#pragma once

#include "http/Router.h"
#include "plugins/HostApi.h"

#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace pulse::http {

// Mounts plugin route handlers (pulse_host_api::http_route) on the router: adapts a Poco request to a
// pulse_http_request and the plugin's respond() call to the Poco response.
class PluginRoutes : public plugins::RouteRegistry {
  public:
    PluginRoutes(std::shared_ptr<Router> router, long long maxBodyBytes)
        : router_(std::move(router)), maxBodyBytes_(maxBodyBytes) {}
    pulse_result add(const std::string& method, const std::string& pattern,
                     plugins::PluginHttpHandler handler) override;

  private:
    std::shared_ptr<Router> router_;
    long long maxBodyBytes_;
    std::mutex mutex_;
    std::set<std::string> taken_;
};

}  // namespace pulse::http
