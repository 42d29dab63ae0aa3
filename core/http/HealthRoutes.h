#pragma once

#include "http/Router.h"

#include <chrono>
#include <string>

namespace pulse::services {
class HealthService;
}

namespace pulse::http {

// /health (full report), /health/live (the process serves), /health/ready (every check passes; 503
// otherwise, so a load balancer stops sending traffic).
void addHealthRoutes(Router& router, services::HealthService& health, const std::string& version,
                     std::chrono::steady_clock::time_point startedAt);

}  // namespace pulse::http
