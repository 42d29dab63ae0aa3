#include "MailMessage.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace pulse::mail {
namespace {

constexpr size_t kSubjectChars = 200;

std::string domainOf(const std::string& address) {
    size_t at = address.rfind('@');
    return at == std::string::npos ? "pulse.invalid" : address.substr(at + 1);
}

// Only what a Message-ID's left side may hold (RFC 5322 dot-atom text).
std::string atom(std::string_view text) {
    std::string out;
    for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '.';
    return out;
}

std::string base64(std::string_view in) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
    }
    if (i + 1 == in.size()) {
        uint32_t v = uint8_t(in[i]) << 16;
        out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
    }
    return out;
}

// One line of the plain-text facts table; nothing for an empty value.
void fact(std::string& text, std::string& html, const char* name, const std::string& value) {
    if (value.empty()) return;
    std::string label = std::string(name) + ":";
    if (label.size() < 17) label.resize(17, ' ');
    text += label + value + "\n";
    html += "<tr><th align=\"left\" style=\"padding:2px 12px 2px 0;color:#555\">" + std::string(name) +
            "</th><td style=\"padding:2px 0\">" + html_escape(value) + "</td></tr>\n";
}

}  // namespace

std::string header_text(std::string_view value) {
    std::string clean;
    bool ascii = true;
    for (char c : value) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            clean += ' ';
            continue;
        }
        ascii = ascii && u < 0x80;
        clean += c;
    }
    if (ascii) return clean;
    // Encoded words of at most 75 characters: "=?UTF-8?B?" + base64 + "?=" leaves room for 45 bytes.
    std::string out;
    size_t i = 0;
    while (i < clean.size()) {
        size_t end = std::min(clean.size(), i + 45);
        while (end < clean.size() && end > i && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80)
            --end;
        if (!out.empty()) out += " ";  // the space between two encoded words is not part of the text
        out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

std::string rfc5322_date(int64_t ms) {
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string html_escape(std::string_view text) {
    return notice::html_escape(text);
}

std::string message_id(const Envelope& e) {
    return "<" + atom(e.idempotency_key) + ".pulse@" + domainOf(e.from) + ">";
}

std::string thread_id(const AlertNotice& n, const Envelope& e) {
    if (n.test || n.alert_id == 0) return message_id(e);
    // A group's notices are one thread, whichever alert leads it at the time.
    if (n.group_id != 0)
        return "<group-" + std::to_string(n.group_id) + "." + atom(n.tenant_id) + ".pulse@" +
               domainOf(e.from) + ">";
    return "<alert-" + std::to_string(n.alert_id) + "." + atom(n.tenant_id) + ".pulse@" + domainOf(e.from) +
           ">";
}

Mail compose(const AlertNotice& n, const Envelope& e) {
    Mail m;
    std::string head = n.title();
    // A title template is the whole subject; without one, the headline, the summary and the device.
    std::string subject = !n.message_title.empty()
                              ? n.message_title
                              : "[Pulse] " + head + (n.summary.empty() ? "" : ": " + n.summary) +
                                    (n.device_name.empty() ? "" : " (" + n.device_name + ")");
    std::string to;
    for (const auto& r : e.to) to += (to.empty() ? "" : ", ") + r;
    std::string from = e.from_name.empty() ? e.from : "\"" + header_text(e.from_name) + "\" <" + e.from + ">";
    // The opening's mail starts the thread; escalations, the acknowledgement and the closing answer it. A
    // group's first notice starts its thread and every later one (repeats, a joining alert) answers it.
    std::string thread = thread_id(n, e);
    bool starts =
        n.group_id != 0 ? n.group_notification <= 1 : n.kind == NoticeKind::Opened && !n.escalation_level;
    m.headers = {"Date: " + rfc5322_date(e.now_ms),
                 "From: " + from,
                 "To: " + to,
                 "Subject: " + header_text(notice::truncate_chars(subject, kSubjectChars)),
                 "Message-ID: " + (starts ? thread : message_id(e)),
                 "Auto-Submitted: auto-generated",  // RFC 3834: no vacation replies to an alert
                 "X-Pulse-Event: " + header_text(n.type)};
    if (!starts) {
        m.headers.push_back("In-Reply-To: " + thread);
        m.headers.push_back("References: " + thread);
    }
    if (n.alert_id) m.headers.push_back("X-Pulse-Alert: " + std::to_string(n.alert_id));

    std::string colour =
        n.kind == NoticeKind::Closed ? notice::kClosedColour : notice::severity_colour(n.severity);
    m.text = head + "\n\n" + n.text() + "\n\n";
    std::string rows;
    if (n.kind == NoticeKind::Acknowledged)
        fact(m.text, rows, "Acknowledged by", n.actor.empty() ? n.acknowledged_by : n.actor);
    if (n.kind == NoticeKind::Closed) {
        fact(m.text, rows, "Closed", n.close_reason.empty() ? "yes" : n.close_reason);
        if (!n.actor.empty() && n.actor != "system") fact(m.text, rows, "Closed by", n.actor);
    }
    fact(m.text, rows, "Device", n.device_name);
    fact(m.text, rows, "Site", n.site_name);
    fact(m.text, rows, "Severity", n.severity);
    fact(m.text, rows, "Status", n.status);
    fact(m.text, rows, "Rule", n.rule_name.empty() ? n.rule_type : n.rule_name);
    fact(m.text, rows, "Tenant", n.tenant_name.empty() ? n.tenant_slug : n.tenant_name);
    fact(m.text, rows, "Opened", n.opened_at);
    if (n.alert_id) fact(m.text, rows, "Alert", std::to_string(n.alert_id));
    if (!n.link.empty()) m.text += "\nOpen in Pulse: " + n.link + "\n";
    if (!n.acknowledge_link.empty())
        m.text += "Acknowledge (no sign-in needed): " + n.acknowledge_link + "\n";
    m.text += "\n-- \nSent by Pulse. This address does not read replies.\n";

    m.html =
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif;font-size:14px;color:#222\">\n"
        "<div style=\"border-left:6px solid " +
        std::string(colour) + ";padding:4px 12px\">\n<h2 style=\"margin:0 0 8px\">" + html_escape(head) +
        "</h2>\n<p style=\"font-size:16px;margin:0 0 12px\"><strong>" + html_escape(n.text()) +
        "</strong></p>\n<table cellspacing=\"0\" cellpadding=\"0\">\n" + rows + "</table>\n";
    // The link comes from the host (the console's address), not from tenant text; it is escaped anyway.
    if (!n.link.empty())
        m.html +=
            "<p><a href=\"" + html_escape(n.link) + "\" style=\"color:#1565C0\">Open in Pulse</a></p>\n";
    if (!n.acknowledge_link.empty())
        m.html +=
            "<p><a href=\"" + html_escape(n.acknowledge_link) +
            "\" style=\"color:#1565C0;font-weight:bold\">Acknowledge</a> (no sign-in needed; once, until it "
            "expires)</p>\n";
    m.html +=
        "</div>\n<p style=\"color:#777;font-size:12px\">Sent by Pulse. This address does not read "
        "replies.</p>\n</body></html>\n";
    return m;
}

}  // namespace pulse::mail
