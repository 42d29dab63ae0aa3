#pragma once

// The e-mail an alert notice becomes: RFC 5322 header lines and a plain-text and an HTML body. Every
// header value a tenant wrote (device, rule, summary) is stripped of line breaks, so it cannot add header
// lines, and encoded as RFC 2047 words when it is not ASCII; the HTML escapes every value.
#include <pulse/notice.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::mail {

struct Envelope {
    std::string from;             // alerts@example.com
    std::string from_name;        // display name, may be empty
    std::vector<std::string> to;  // recipients
    std::string idempotency_key;  // the delivery's key: the Message-ID, unchanged across retries
    int64_t now_ms = 0;           // the Date header
};

struct Mail {
    std::vector<std::string> headers;  // "Name: value", without line ends
    std::string text;
    std::string html;
};

Mail compose(const AlertNotice& n, const Envelope& e);

// "<local@domain>" of the delivery, and of the alert (In-Reply-To/References thread one alert's mails).
std::string message_id(const Envelope& e);
std::string thread_id(const AlertNotice& n, const Envelope& e);

// A header value: line breaks and other control characters become spaces; non-ASCII text becomes
// RFC 2047 encoded words (UTF-8, base64), each at most 75 characters, split between characters.
std::string header_text(std::string_view value);
// "Sun, 06 Nov 1994 08:49:37 +0000"
std::string rfc5322_date(int64_t ms);
std::string html_escape(std::string_view text);

}  // namespace pulse::mail
