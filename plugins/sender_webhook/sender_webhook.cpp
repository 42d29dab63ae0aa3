// sender_webhook: POSTs each notification as JSON to a tenant's endpoint, signed per Standard Webhooks v1
// (webhook-id = the delivery's idempotency key, the same across retries; webhook-timestamp = this
// attempt; webhook-signature = v1,<HMAC-SHA256>). Requests go through the host's egress guard
// (http_send), so a tenant cannot point it at internal addresses, and redirects are never followed.
#include "StandardWebhooks.h"

#include <pulse/plugin.hpp>

#include <algorithm>
#include <string>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Webhook channel, signed per Standard Webhooks",
  "type": "object",
  "properties": {
    "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048,
            "description": "the endpoint receiving POST requests"},
    "secret": {"type": "string", "writeOnly": true, "pattern": "^whsec_[A-Za-z0-9+/]{32,88}={0,2}$",
               "description": "signing secret: whsec_ followed by base64 of 24 to 64 random bytes"},
    "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 30000, "default": 10000,
                   "description": "time allowed for one attempt"}
  },
  "required": ["url", "secret"],
  "additionalProperties": false,
  "examples": [{"url": "https://hooks.example.com/pulse", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
})json";

class WebhookSender : public pulse::Sender {
  public:
    WebhookSender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          url_(host.config_string("/url")),
          secret_(host.config_string("/secret")),
          timeoutMs_(static_cast<int64_t>(host.config_number("/timeout_ms"))) {
        if (host.abi_minor() < 2)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.2 (http_send)");
        pulse::webhooks::sign(secret_, "msg_check", 0,
                              "");  // a malformed secret fails create(), not a delivery
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        int64_t nowMs = host_.now_ms();
        int64_t timestamp = nowMs / 1000;
        std::string id(d.idempotency_key);
        pulse::HttpCall call;
        call.method = "POST";
        call.url = url_;
        call.body = std::string(d.payload_json);
        call.timeout_ms = pulse::attempt_timeout_ms(d, nowMs, timeoutMs_);
        call.headers = {{"Content-Type", "application/json"},
                        {"User-Agent", "Pulse-Webhooks/1.0"},
                        {"webhook-id", id},
                        {"webhook-timestamp", std::to_string(timestamp)},
                        {"webhook-signature", pulse::webhooks::sign(secret_, id, timestamp, call.body)}};
        pulse::HttpReply r = host_.http_send(call);
        pulse::DeliveryOutcome out;
        if (pulse::outcome_without_answer(r, out))
            return out;  // no answer: retry; refused by the host: permanent
        if (r.status >= 200 && r.status < 300) {
            out.code = PULSE_OK;
            out.detail = "HTTP " + std::to_string(r.status);
        } else if (r.status == 408 || r.status == 429 || r.status >= 500) {
            out.code = PULSE_RETRY;
            out.detail = "HTTP " + std::to_string(r.status);
        } else {
            // 3xx (never followed), 410 (the host disables the channel) and other 4xx: permanent.
            out.code = PULSE_ERR_GENERIC;
            out.detail =
                "HTTP " + std::to_string(r.status) + (r.status < 400 ? " (redirects are not followed)" : "");
        }
        if (!r.body.empty() && out.code != PULSE_OK) out.detail += ": " + r.body.substr(0, 200);
        return out;
    }

  private:
    pulse::Host host_;
    std::string url_;
    std::string secret_;
    int64_t timeoutMs_;
};

}  // namespace

PULSE_PLUGIN("sender_webhook", "1.0.0", "Signed webhooks (Standard Webhooks v1)", "Apache-2.0",
             pulse::component<WebhookSender>("webhook", "POST a signed JSON notification to an endpoint",
                                             kConfigSchema, PULSE_THREADING_CONCURRENT))
