#pragma once

#include "http/Router.h"

namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::http {

// /metrics in the Prometheus text exposition format 0.0.4.
void addMetricsRoute(Router& router, metrics::MetricsRegistry& registry);

}  // namespace pulse::http
