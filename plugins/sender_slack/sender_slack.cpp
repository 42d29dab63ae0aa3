// sender_slack: posts alert notices to a Slack incoming webhook as Block Kit messages. The webhook URL is the
// credential (it is write-only in the channel's config). Incoming webhooks cannot edit or thread a message,
// so each event is its own message: the opening in the severity's colour, then "acknowledged by ..." and
// "closed" follow-ups naming the same alert. Slack allows one message per second per webhook: the instance
// (one per channel in each pulsed) paces itself, and a message that would come early is deferred, not sent to
// get a 429; several pulsed instances, or two channels on one URL, may together exceed it, and Slack's 429
// then makes the host wait its Retry-After. Every answer Slack documents is mapped to done, retry or
// permanent in outcomeOf().
#include "SlackMessage.h"

#include <pulse/notice.hpp>
#include <pulse/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Slack incoming webhook",
  "type": "object",
  "properties": {
    "url": {"type": "string", "format": "uri", "writeOnly": true, "maxLength": 512,
            "pattern": "^https?://[^/]+/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{24}$",
            "description": "the webhook URL of a Slack app (https://hooks.slack.com/services/T.../B.../...): it is the credential"},
    "mention": {"type": "string", "maxLength": 100, "default": "",
                "pattern": "^(|<!here>|<!channel>|<@[UW][A-Z0-9]+>|<!subteam\\^[A-Z0-9]+>)$",
                "description": "who is mentioned when a CRITICAL or HIGH alert opens: <!here>, <!channel>, <@U123> or <!subteam^S123>; empty: nobody"},
    "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 30000, "default": 10000,
                   "description": "time allowed for one attempt"}
  },
  "required": ["url"],
  "additionalProperties": false,
  "examples": [{"url": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"}]
})json";

constexpr int64_t kSlotMs = 1000;           // Slack: "1 per second" per webhook
constexpr int64_t kSleepBelowMs = 100;      // a wait this short is slept; longer ones are deferred
constexpr int64_t kForgetAfterMs = 600000;  // a reserved slot nobody came back for

// Slack's documented answers (CONTRACTS.md §1). The body is plain text: `ok` or an error string.
pulse::DeliveryOutcome outcomeOf(const pulse::HttpReply& r) {
    pulse::DeliveryOutcome out;
    if (pulse::outcome_without_answer(r, out)) return out;
    std::string body = r.body.substr(0, 200);
    if (r.status == 200) {
        out.code = PULSE_OK;
        out.detail = body == "ok" ? "HTTP 200 ok" : "HTTP 200 " + body;
    } else if (r.status == 429) {
        out.code = PULSE_RETRY;  // the host waits at least Retry-After
        out.detail = "HTTP 429 rate limited by Slack";
    } else if (r.status >= 500) {
        out.code = PULSE_RETRY;  // rollup_error and other server trouble
        out.detail = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
    } else {
        // 400 invalid_payload/no_text/invalid_blocks, 403 action_prohibited/invalid_token, 404
        // channel_not_found/ no_service (hook removed), 410 channel_is_archived (the host then disables the
        // channel), 3xx (redirects are not followed): sending the same message again cannot succeed.
        out.code = PULSE_ERR_GENERIC;
        out.detail = "HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
        if (r.status == 404) out.detail += " (the webhook was removed or its channel deleted)";
        if (r.status == 410) out.detail += " (the channel is archived)";
    }
    return out;
}

class SlackSender : public pulse::Sender {
  public:
    SlackSender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          url_(host.config_string("/url")),
          mention_(host.config_string("/mention")),
          timeoutMs_(static_cast<int64_t>(host.config_number("/timeout_ms", 10000))) {
        if (host.abi_minor() < 2)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.2 (http_send)");
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        pulse::AlertNotice notice;
        if (auto unreadable = pulse::AlertNotice::read(d, notice)) return *unreadable;
        int64_t nowMs = host_.now_ms();
        if (int64_t waitMs = paceFor(std::string(d.idempotency_key), nowMs); waitMs > 0) {
            pulse::DeliveryOutcome later;
            later.code = PULSE_DEFER;
            later.retry_after_ms = waitMs;
            later.detail = "paced: Slack takes one message per second per webhook";
            return later;
        }
        return outcomeOf(host_.http_send(pulse::json_post(
            url_, pulse::slack::message(notice, mention_), "Pulse-Slack/1.0",
            pulse::attempt_timeout_ms(d, nowMs, timeoutMs_), "application/json; charset=utf-8")));
    }

  private:
    // 0 when this message may go now (a short wait is slept here); otherwise how long to defer it. A deferred
    // message keeps the slot it was given, so a burst goes out in order at one per second instead of all
    // coming back at once.
    int64_t paceFor(const std::string& key, int64_t nowMs) {
        int64_t sleepMs = 0;
        {
            std::lock_guard lock(mutex_);
            for (auto it = reserved_.begin(); it != reserved_.end();)
                it = it->second < nowMs - kForgetAfterMs ? reserved_.erase(it) : std::next(it);
            int64_t slot;
            if (auto it = reserved_.find(key); it != reserved_.end()) {
                slot = it->second;
                reserved_.erase(it);
                // Back late: its slot passed, and the next free one moves past the moment it really goes.
                nextFreeMs_ = std::max(nextFreeMs_, std::max(slot, nowMs) + kSlotMs);
            } else {
                slot = std::max(nowMs, nextFreeMs_);
                nextFreeMs_ = slot + kSlotMs;
            }
            if (slot - nowMs > kSleepBelowMs) {
                reserved_[key] = slot;
                return slot - nowMs;
            }
            sleepMs = slot - nowMs;
        }
        if (sleepMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleepMs));
        return 0;
    }

    pulse::Host host_;
    std::string url_;
    std::string mention_;
    int64_t timeoutMs_;
    std::mutex mutex_;
    int64_t nextFreeMs_ = 0;
    std::map<std::string, int64_t> reserved_;  // deferred messages' slots, by idempotency key
};

}  // namespace

PULSE_PLUGIN("sender_slack", "1.0.0", "Slack incoming webhooks (Block Kit)", "Apache-2.0",
             pulse::component<SlackSender>(
                 "slack", "Post alert notices to a Slack channel through an incoming webhook", kConfigSchema,
                 PULSE_THREADING_CONCURRENT))
