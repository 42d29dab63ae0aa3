#pragma once

#include "net/EgressGuard.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pulse::net {

struct OutboundRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int64_t timeoutMs = 10000;
    size_t maxBodyBytes = 64 * 1024;  // of the response kept
};

struct OutboundResponse {
    enum class Outcome { Response, Denied, Invalid, Unavailable } outcome = Outcome::Unavailable;
    int status = 0;
    int64_t retryAfterMs = -1;  // from Retry-After (seconds or HTTP date); -1 when absent
    std::string body;
    std::string error;  // why there is no response
};

// Outgoing HTTP for senders, through the egress guard: resolve and check once, connect to a checked
// address, present the URL's host (Host header, TLS server name and certificate check), never follow
// redirects, one connection per request.
class OutboundHttp {
  public:
    explicit OutboundHttp(EgressGuard guard = EgressGuard()) : guard_(std::move(guard)) {}
    OutboundResponse send(const OutboundRequest& request) const;
    const EgressGuard& guard() const { return guard_; }

  private:
    EgressGuard guard_;
};

// Retry-After as milliseconds from now: delta-seconds or an HTTP date; -1 when absent or malformed.
int64_t parseRetryAfter(const std::string& value, int64_t nowMs);

// GETs a URL from the administrator's configuration (an identity provider's JWKS), http or https with the
// system's CAs, no redirects, at most maxBytes. No egress guard: such URLs often point at internal hosts,
// and no tenant can choose them. Throws std::runtime_error naming the URL and what went wrong.
std::string fetchConfiguredUrl(const std::string& url, std::chrono::milliseconds timeout, size_t maxBytes);

}  // namespace pulse::net
