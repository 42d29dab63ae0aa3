// libFuzzer target: the SDK's JSON reader (pulse/json.hpp) on any bytes, and what the Slack, PagerDuty and
// Teams senders build from whatever notice it reads: that output must always be JSON the reader accepts.
#include "AdaptiveCard.h"
#include "PagerDutyEvent.h"
#include "SlackMessage.h"

#include <pulse/json.hpp>
#include <pulse/notice.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    pulse::AlertNotice n;
    try {
        auto v = pulse::json::parse(text);
        (void)v.find("/alert/device/name");
        (void)v.integer("/alert/id");
        (void)v.string("/0/a~1b");
        n = pulse::AlertNotice::parse(text);
    } catch (const pulse::json::ParseError&) {
        // Not JSON: build from the bytes as text instead, so the builders still see hostile strings; but only
        // UTF-8 text, as every string of a host's notice is (it comes from PostgreSQL's jsonb).
        try {
            (void)pulse::json::parse(pulse::json::Writer().value(text).str());
        } catch (const pulse::json::ParseError&) {
            return 0;
        }
        n.kind = static_cast<pulse::NoticeKind>(size % 4);
        n.summary = text;
        n.device_name = pulse::notice::truncate_utf8(text, 40);
        n.severity = size % 2 ? "CRITICAL" : pulse::notice::truncate_utf8(text, 8);
    }
    for (const std::string& out : {pulse::slack::message(n, "<!here>"), pulse::teams::message(n),
                                   pulse::pagerduty::event(n, "R0123456789ABCDEF0123456789ABCDE", "msg_1")}) {
        if (out.empty()) continue;
        try {
            (void)pulse::json::parse(out);
        } catch (const pulse::json::ParseError&) {
            __builtin_trap();  // a sender built a body that is not JSON
        }
    }
    return 0;
}
