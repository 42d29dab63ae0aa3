// pulse/notice.hpp: the alert notice a sender receives (Delivery::payload_json), read into a struct, and the
// few things every chat or paging sender needs from it: a severity's colour and rank, text cut to a limit
// without splitting a UTF-8 character. Header-only C++17; the document's shape is in docs/plugin-guide.md.
#ifndef PULSE_NOTICE_HPP
#define PULSE_NOTICE_HPP

#include <pulse/json.hpp>
#include <pulse/plugin.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pulse {

// What happened to the alert: one notice per event. Test notices (a channel's "send a test") read as
// Opened with test set, so a sender formats them as a real opening.
enum class NoticeKind { Opened, Acknowledged, Closed, Other };

// One alert of a group's notice (Pulse 0.x hosts with grouping routing rules, sql/018).
struct GroupedAlert {
    int64_t id = 0;
    std::string status, severity, summary, device_name, link;
};

struct AlertNotice {
    std::string
        type;  // "alert.opened", "alert.escalated", "alert.acknowledged", "alert.closed", "alert.test"
    NoticeKind kind = NoticeKind::Other;
    bool test = false;
    std::string event_at;     // ISO 8601, when it happened (empty for a test)
    int64_t event_at_ms = 0;  // a test notice carries milliseconds instead
    std::string actor;        // who acknowledged or closed it ("system" for automatic changes)
    std::string tenant_id, tenant_slug, tenant_name;
    int64_t alert_id = 0;
    std::string status;    // OPEN, ACKNOWLEDGED, CLOSED
    std::string severity;  // CRITICAL, HIGH, MEDIUM, LOW, INFO
    std::string summary;   // "temperature 91 > 80"
    bool has_value = false;
    double value = 0;
    std::string triggered_at, opened_at, acknowledged_at, acknowledged_by, closed_at, close_reason;
    int64_t triggered_at_ms = 0;
    std::string rule_id, rule_name, rule_type;
    int64_t device_id = 0;
    std::string device_name;
    std::vector<std::string> device_tags;
    std::string site_id, site_name, site_timezone;  // empty when the device has no site
    std::string link;  // the alert in the console, when the host knows the console's address
    // Openings and pages only, when the host can sign: a link that acknowledges the alert without signing in
    // (it shows a confirmation button first, so link previewers acknowledge nothing). Expires; single use.
    std::string acknowledge_link;
    // The channel's message templates rendered by the host ("message" in the notice; empty: none set).
    std::string message_title, message_text;
    // An escalation's page (type "alert.escalated", read as an opening): its level (1..5; 0: not a page),
    // how many the policy has, the pass (0: the first) and the policy's name.
    int escalation_level = 0, escalation_levels = 0, escalation_repeat = 0;
    std::string escalation_policy;
    // Whom the page is for, when it reaches a user through a contact method (empty otherwise): a mail sender
    // sends to recipient_email alone.
    std::string recipient_user_id, recipient_name, recipient_email;
    // A group's notice (a routing rule that groups by rule and/or site): one notice for the group's alerts.
    // The alert members above are its lead (the most severe still open); kind says what the group is:
    // Opened while one is open, Acknowledged when all open ones are, Closed when all closed (resolved).
    // group_id is 0 for a notice of one alert. group_alerts holds at most 50, most urgent first.
    int64_t group_id = 0;
    int group_notification = 0;  // 1 for the group's first notice
    bool group_repeat = false;   // the same list as the last notice, sent again (repeat interval)
    std::string group_summary;   // "3 alerts (2 open, 1 closed) of Too hot at Plant A"
    int group_open = 0, group_acknowledged = 0, group_closed = 0, group_total = 0;
    std::vector<GroupedAlert> group_alerts;
    std::string group_text;  // the members as lines, for text(): "HIGH meter-1: temperature 91 > 80 (open)"

    // Reads a notice; throws json::ParseError when the payload is not JSON. Members missing from it (an
    // older or newer host) are left empty.
    static AlertNotice parse(std::string_view payload_json) {
        json::Value v = json::parse(payload_json);
        AlertNotice n;
        n.type = v.string("/type");
        n.test = v.boolean("/test") || n.type == "alert.test";
        n.kind = n.type == "alert.opened" || n.type == "alert.escalated" || n.test ? NoticeKind::Opened
                 : n.type == "alert.acknowledged"                                  ? NoticeKind::Acknowledged
                 : n.type == "alert.closed"                                        ? NoticeKind::Closed
                                                                                   : NoticeKind::Other;
        n.event_at = v.string("/event/at");
        n.event_at_ms = v.integer("/event/at_ms");
        n.actor = v.string("/event/actor");
        n.tenant_id = v.string("/tenant/id");
        n.tenant_slug = v.string("/tenant/slug");
        n.tenant_name = v.string("/tenant/name");
        n.alert_id = v.integer("/alert/id");
        n.status = v.string("/alert/status");
        n.severity = v.string("/alert/severity");
        n.summary = v.string("/alert/summary");
        if (const json::Value* value = v.find("/alert/value"); value && value->is_number()) {
            n.has_value = true;
            n.value = value->as_number();
        }
        n.triggered_at = v.string("/alert/triggered_at");
        n.triggered_at_ms = v.integer("/alert/triggered_at_ms");
        n.opened_at = v.string("/alert/opened_at");
        n.acknowledged_at = v.string("/alert/acknowledged_at");
        n.acknowledged_by = v.string("/alert/acknowledged_by");
        n.closed_at = v.string("/alert/closed_at");
        n.close_reason = v.string("/alert/close_reason");
        n.rule_id = v.string("/alert/rule/id");
        n.rule_name = v.string("/alert/rule/name");
        n.rule_type = v.string("/alert/rule/type");
        n.device_id = v.integer("/alert/device/id");
        n.device_name = v.string("/alert/device/name");
        if (const json::Value* tags = v.find("/alert/device/tags"); tags && tags->is_array())
            for (size_t i = 0; i < tags->size(); ++i)
                if (tags->item(i).is_string()) n.device_tags.push_back(tags->item(i).as_string());
        n.site_id = v.string("/alert/site/id");
        n.site_name = v.string("/alert/site/name");
        n.site_timezone = v.string("/alert/site/timezone");
        n.link = v.string("/links/alert");
        n.acknowledge_link = v.string("/links/acknowledge");
        n.message_title = v.string("/message/title");
        n.message_text = v.string("/message/text");
        n.escalation_level = static_cast<int>(v.integer("/escalation/level"));
        n.escalation_levels = static_cast<int>(v.integer("/escalation/levels"));
        n.escalation_repeat = static_cast<int>(v.integer("/escalation/repeat"));
        n.escalation_policy = v.string("/escalation/policy/name");
        n.recipient_user_id = v.string("/recipient/user_id");
        n.recipient_name = v.string("/recipient/name");
        n.recipient_email = v.string("/recipient/email");
        n.group_id = v.integer("/group/id");
        if (n.group_id != 0) {
            n.group_notification = static_cast<int>(v.integer("/group/notification"));
            n.group_repeat = v.boolean("/group/repeat");
            n.group_summary = v.string("/group/summary");
            n.group_open = static_cast<int>(v.integer("/group/counts/open"));
            n.group_acknowledged = static_cast<int>(v.integer("/group/counts/acknowledged"));
            n.group_closed = static_cast<int>(v.integer("/group/counts/closed"));
            n.group_total = static_cast<int>(v.integer("/group/counts/total"));
            if (const json::Value* alerts = v.find("/group/alerts"); alerts && alerts->is_array()) {
                for (size_t i = 0; i < alerts->size(); ++i) {
                    const json::Value& a = alerts->item(i);
                    GroupedAlert g;
                    g.id = a.integer("/id");
                    g.status = a.string("/status");
                    g.severity = a.string("/severity");
                    g.summary = a.string("/summary");
                    g.device_name = a.string("/device/name");
                    g.link = a.string("/link");
                    n.group_alerts.push_back(std::move(g));
                }
            }
            // Ten lines at most: a chat message or a page is read at a glance.
            constexpr size_t kLines = 10;
            for (size_t i = 0; i < n.group_alerts.size() && i < kLines; ++i) {
                const GroupedAlert& g = n.group_alerts[i];
                std::string status = g.status == "OPEN"           ? "open"
                                     : g.status == "ACKNOWLEDGED" ? "acknowledged"
                                                                  : "closed";
                if (!n.group_text.empty()) n.group_text += "\n";
                n.group_text += g.severity + " " + g.device_name + ": " + g.summary + " (" + status + ")";
            }
            int total = n.group_total > 0 ? n.group_total : static_cast<int>(n.group_alerts.size());
            if (total > static_cast<int>(kLines) && !n.group_alerts.empty())
                n.group_text +=
                    "\n\xE2\x80\xA6 and " +
                    std::to_string(total - static_cast<int>(std::min(kLines, n.group_alerts.size()))) +
                    " more";
        }
        return n;
    }

    // What every sender does first: the delivery's notice read into out. When it is not JSON, the permanent
    // outcome to return instead (sending it again cannot mend it).
    static std::optional<DeliveryOutcome> read(const Delivery& d, AlertNotice& out) {
        try {
            out = parse(d.payload_json);
            return std::nullopt;
        } catch (const json::ParseError& e) {
            return DeliveryOutcome{PULSE_ERR_INVALID, 0, -1,
                                   std::string("the notice is not JSON: ") + e.what()};
        }
    }

    // A headline for chat messages: "CRITICAL alert opened: too hot", "Acknowledged: too hot", "Closed: ...";
    // the channel's title template when it has one.
    std::string title() const {
        if (!message_title.empty()) return message_title;
        if (test) return "Test notification from Pulse";
        if (group_id != 0) {
            switch (kind) {
                case NoticeKind::Opened:
                    return severity + (group_repeat ? " group still open: " : " group open: ") +
                           group_summary;
                case NoticeKind::Acknowledged:
                    return "Acknowledged group: " + group_summary;
                case NoticeKind::Closed:
                    return "Resolved group: " + group_summary;
                default:
                    return "Group changed: " + group_summary;
            }
        }
        std::string rule = rule_name.empty() ? "alert " + std::to_string(alert_id) : rule_name;
        switch (kind) {
            case NoticeKind::Opened:
                if (escalation_level)
                    return "Escalation level " + std::to_string(escalation_level) + ": " + severity +
                           " alert open: " + rule;
                return severity + " alert opened: " + rule;
            case NoticeKind::Acknowledged:
                return "Acknowledged: " + rule;
            case NoticeKind::Closed:
                return "Closed: " + rule;
            default:
                return "Alert changed: " + rule;
        }
    }

    // The message's main sentence: the channel's text template when it has one, else the alert's summary.
    // A group's notice: its alerts, a line each.
    const std::string& text() const {
        if (!message_text.empty()) return message_text;
        return group_id != 0 && !group_text.empty() ? group_text : summary;
    }

    // "opened", "acknowledged", "closed": for a sentence ("Alert 97 acknowledged by ...").
    const char* verb() const {
        switch (kind) {
            case NoticeKind::Opened:
                return "opened";
            case NoticeKind::Acknowledged:
                return "acknowledged";
            case NoticeKind::Closed:
                return "closed";
            default:
                return "changed";
        }
    }
};

namespace notice {

// CRITICAL 5 ... INFO 1, unknown 0: for senders that map Pulse's five severities onto fewer.
inline int severity_rank(std::string_view severity) {
    if (severity == "CRITICAL") return 5;
    if (severity == "HIGH") return 4;
    if (severity == "MEDIUM") return 3;
    if (severity == "LOW") return 2;
    if (severity == "INFO") return 1;
    return 0;
}

// The console's colours for the severities (#RRGGBB), and green for a closed alert.
inline const char* severity_colour(std::string_view severity) {
    switch (severity_rank(severity)) {
        case 5:
            return "#D32F2F";
        case 4:
            return "#F57C00";
        case 3:
            return "#FBC02D";
        case 2:
            return "#1976D2";
        default:
            return "#757575";
    }
}
inline constexpr const char* kClosedColour = "#2E7D32";

// At most max_bytes of text, cut at a character boundary, with "…" in place of what was cut.
inline std::string truncate_utf8(std::string_view text, size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    const std::string_view ellipsis = "\xE2\x80\xA6";
    if (max_bytes < ellipsis.size()) return std::string();
    size_t end = max_bytes - ellipsis.size();
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return std::string(text.substr(0, end)) + std::string(ellipsis);
}

// At most max_chars characters (code points), for limits counted in characters rather than bytes.
inline std::string truncate_chars(std::string_view text, size_t max_chars) {
    if (max_chars == 0) return std::string();
    size_t chars = 0, i = 0;
    for (; i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++chars > max_chars) break;
    if (i >= text.size()) return std::string(text);
    // Cut one character earlier to make room for the ellipsis.
    size_t end = i;
    do {
        --end;
    } while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80);
    return std::string(text.substr(0, end)) + "\xE2\x80\xA6";
}

// Text for HTML element content and quoted attribute values: & < > " ' as entities.
inline std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace notice
}  // namespace pulse

#endif  // PULSE_NOTICE_HPP
