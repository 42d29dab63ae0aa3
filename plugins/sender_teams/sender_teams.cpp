// sender_teams: Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
// received"), an Adaptive Card per alert event: the opening in the severity's colour, then acknowledged and
// closed as follow-up cards naming the same alert (a flow cannot edit what it posted). The retired Office 365
// connector URLs (*.webhook.office.com) are refused by the schema. The URL's sig parameter is the credential,
// so the URL is write-only. Answers are mapped to done, retry or permanent in outcomeOf().
#include "AdaptiveCard.h"

#include <pulse/notice.hpp>
#include <pulse/plugin.hpp>

#include <algorithm>
#include <string>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Microsoft Teams (Workflows webhook)",
  "type": "object",
  "properties": {
    "url": {"type": "string", "format": "uri", "writeOnly": true, "maxLength": 2048,
            "pattern": "^https?://[^/]+(:[0-9]+)?(/powerautomate/automations/direct)?/workflows/[A-Za-z0-9]+/triggers/manual/paths/invoke\\?(.*&)?sig=[^&]+",
            "description": "the HTTP URL of a Teams workflow started by \"When a Teams webhook request is received\" (its sig parameter is the credential); Office 365 connector URLs are retired and refused"},
    "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 30000, "default": 10000,
                   "description": "time allowed for one attempt"}
  },
  "required": ["url"],
  "additionalProperties": false,
  "examples": [{"url": "https://prod-00.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=EXAMPLE"}]
})json";

constexpr size_t kMaxBodyBytes = 28 * 1024;  // Teams refuses a larger message

pulse::DeliveryOutcome outcomeOf(const pulse::HttpReply& r) {
    pulse::DeliveryOutcome out;
    if (pulse::outcome_without_answer(r, out)) return out;
    std::string body = r.body.substr(0, 300);
    if (r.status >= 200 && r.status < 300) {
        // 202: the flow run is queued. Teams checks the card inside the run, where Pulse cannot see it.
        out.code = PULSE_OK;
        out.detail = "HTTP " + std::to_string(r.status) + " accepted by the workflow";
    } else if (r.status == 429 || r.status == 408 || r.status >= 500) {
        out.code = PULSE_RETRY;
        out.detail = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    } else {
        // 400, 401 (a wrong or expired sig), 403, 404 (the flow was deleted or turned off), 3xx: permanent.
        out.code = PULSE_ERR_GENERIC;
        out.detail = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    }
    return out;
}

class TeamsSender : public pulse::Sender {
  public:
    TeamsSender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          url_(host.config_string("/url")),
          timeoutMs_(static_cast<int64_t>(host.config_number("/timeout_ms", 10000))) {
        if (host.abi_minor() < 2)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.2 (http_send)");
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        pulse::AlertNotice notice;
        if (auto unreadable = pulse::AlertNotice::read(d, notice)) return *unreadable;
        std::string body = pulse::teams::message(notice);
        if (body.size() > kMaxBodyBytes) {
            notice.summary = pulse::notice::truncate_utf8(notice.summary, 200);
            notice.message_text = pulse::notice::truncate_utf8(notice.message_text, 200);
            body = pulse::teams::message(notice);
        }
        int64_t nowMs = host_.now_ms();
        return outcomeOf(host_.http_send(pulse::json_post(url_, std::move(body), "Pulse-Teams/1.0",
                                                          pulse::attempt_timeout_ms(d, nowMs, timeoutMs_))));
    }

  private:
    pulse::Host host_;
    std::string url_;
    int64_t timeoutMs_;
};

}  // namespace

PULSE_PLUGIN("sender_teams", "1.0.0", "Microsoft Teams (Workflows webhooks, Adaptive Cards)", "Apache-2.0",
             pulse::component<TeamsSender>("teams",
                                           "Post alert cards to a Teams channel through a Workflows webhook",
                                           kConfigSchema, PULSE_THREADING_CONCURRENT))
