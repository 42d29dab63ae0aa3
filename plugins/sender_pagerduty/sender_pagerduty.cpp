// sender_pagerduty: PagerDuty Events API v2. An alert's opening triggers, its acknowledgement acknowledges
// and its closing resolves one PagerDuty alert, all under the same dedup_key (PagerDutyEvent.h), so retries
// and duplicates never open a second incident. The routing key (a service's integration key, 32 characters)
// is the credential: write-only, and checked by the schema when the channel is saved. Every answer PagerDuty
// documents is mapped to done, retry or permanent in outcomeOf().
#include "PagerDutyEvent.h"

#include <pulse/notice.hpp>
#include <pulse/plugin.hpp>

#include <algorithm>
#include <string>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "PagerDuty Events API v2",
  "type": "object",
  "properties": {
    "routing_key": {"type": "string", "writeOnly": true, "pattern": "^[A-Za-z0-9]{32}$",
                    "description": "the integration key of an Events API v2 integration on a PagerDuty service (32 characters)"},
    "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 512,
            "default": "https://events.pagerduty.com/v2/enqueue",
            "description": "the events endpoint: https://events.eu.pagerduty.com/v2/enqueue for an EU account"},
    "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 30000, "default": 10000,
                   "description": "time allowed for one attempt"}
  },
  "required": ["routing_key"],
  "additionalProperties": false,
  "examples": [{"routing_key": "R0123456789ABCDEF0123456789ABCDE"}]
})json";

// Over ~120 events a minute per key PagerDuty answers 429 without a Retry-After; its guide suggests
// retries 30 s apart.
constexpr int64_t kRateLimitedRetryMs = 30000;

pulse::DeliveryOutcome outcomeOf(const pulse::HttpReply& r) {
    pulse::DeliveryOutcome out;
    if (pulse::outcome_without_answer(r, out)) return out;
    std::string body = r.body.substr(0, 300);
    if (r.status == 202 || (r.status >= 200 && r.status < 300)) {
        out.code = PULSE_OK;
        out.detail = "HTTP " + std::to_string(r.status) + " event processed";
    } else if (r.status == 429) {
        out.code = PULSE_RETRY;
        if (out.retry_after_ms < 0) out.retry_after_ms = kRateLimitedRetryMs;
        out.detail = "HTTP 429 PagerDuty rate limit (about 120 events a minute per routing key)";
    } else if (r.status >= 500 || r.status == 408) {
        out.code = PULSE_RETRY;
        out.detail = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    } else {
        // 400 invalid event (a wrong routing key's length, a field PagerDuty refuses), other 4xx, 3xx: the
        // same event would be refused again.
        out.code = PULSE_ERR_GENERIC;
        out.detail = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    }
    return out;
}

class PagerDutySender : public pulse::Sender {
  public:
    PagerDutySender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          routingKey_(host.config_string("/routing_key")),
          url_(host.config_string("/url", "https://events.pagerduty.com/v2/enqueue")),
          timeoutMs_(static_cast<int64_t>(host.config_number("/timeout_ms", 10000))) {
        if (host.abi_minor() < 2)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.2 (http_send)");
        if (routingKey_.size() != 32)
            throw pulse::Error(PULSE_ERR_CONFIG, "routing_key must be 32 characters");
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        pulse::AlertNotice notice;
        if (auto unreadable = pulse::AlertNotice::read(d, notice)) return *unreadable;
        std::string body = pulse::pagerduty::event(notice, routingKey_, d.idempotency_key);
        if (body.empty()) return {PULSE_OK, 0, -1, "nothing to send to PagerDuty for " + notice.type};
        int64_t nowMs = host_.now_ms();
        pulse::HttpCall call = pulse::json_post(url_, std::move(body), "Pulse-PagerDuty/1.0",
                                                pulse::attempt_timeout_ms(d, nowMs, timeoutMs_));
        pulse::DeliveryOutcome out = outcomeOf(host_.http_send(call));
        if (notice.test && out.code == PULSE_OK) {
            // A test pages whoever is on call (PagerDuty's own test does too), and is resolved at once so
            // that no incident stays open for it.
            pulse::AlertNotice resolved = notice;
            resolved.kind = pulse::NoticeKind::Closed;
            call.body = pulse::pagerduty::event(resolved, routingKey_, d.idempotency_key);
            pulse::DeliveryOutcome closing = outcomeOf(host_.http_send(call));
            if (closing.code != PULSE_OK)
                out.detail += "; resolving the test incident failed: " + closing.detail;
        }
        return out;
    }

  private:
    pulse::Host host_;
    std::string routingKey_;
    std::string url_;
    int64_t timeoutMs_;
};

}  // namespace

PULSE_PLUGIN("sender_pagerduty", "1.0.0", "PagerDuty Events API v2", "Apache-2.0",
             pulse::component<PagerDutySender>(
                 "pagerduty", "Trigger, acknowledge and resolve PagerDuty alerts with the alert",
                 kConfigSchema, PULSE_THREADING_CONCURRENT))
