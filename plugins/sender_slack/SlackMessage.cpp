#include "SlackMessage.h"

#include <pulse/json.hpp>

namespace pulse::slack {
namespace {

constexpr size_t kHeaderChars = 150;
constexpr size_t kSectionChars = 3000;
constexpr size_t kFieldChars = 2000;
constexpr size_t kFallbackChars = 3000;  // the notification text; Slack would cut at 40,000

// The sentence under the title: the summary, and who did what for follow-ups.
std::string sentence(const AlertNotice& n) {
    std::string s = "*" + escape(n.text()) + "*";
    if (n.kind == NoticeKind::Acknowledged)
        s += "\nAcknowledged by " + escape(n.actor.empty() ? n.acknowledged_by : n.actor);
    if (n.kind == NoticeKind::Closed) {
        s += "\nClosed";
        if (!n.close_reason.empty()) s += " (" + escape(n.close_reason) + ")";
        if (!n.actor.empty() && n.actor != "system") s += " by " + escape(n.actor);
    }
    return s;
}

void field(json::Writer& w, std::string_view name, const std::string& value) {
    if (value.empty()) return;
    w.beginObject().member("type", "mrkdwn");
    w.member("text", notice::truncate_chars("*" + std::string(name) + "*\n" + escape(value), kFieldChars));
    w.endObject();
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else
            out += c;
    }
    return out;
}

std::string message(const AlertNotice& n, const std::string& mention) {
    std::string colour =
        n.kind == NoticeKind::Closed ? notice::kClosedColour : notice::severity_colour(n.severity);
    std::string head = n.title();
    std::string fallback = "[" + n.severity + "] " + head + ": " + n.text() +
                           (n.device_name.empty() ? "" : " (" + n.device_name + ")");
    fallback = notice::truncate_chars(escape(fallback), kFallbackChars);
    // The message's own text shows above the coloured attachment, and a mention notifies only from there.
    bool loud = n.kind == NoticeKind::Opened && !n.test && notice::severity_rank(n.severity) >= 4;
    std::string text =
        loud && !mention.empty() ? mention + " " + fallback : fallback;  // a mention: the schema says so

    json::Writer w;
    w.beginObject().member("text", text);
    w.key("attachments").beginArray().beginObject().member("color", colour).member("fallback", fallback);
    w.key("blocks").beginArray();

    w.beginObject().member("type", "header");
    w.key("text")
        .beginObject()
        .member("type", "plain_text")
        .member("text", notice::truncate_chars(head, kHeaderChars));
    w.member("emoji", false).endObject().endObject();

    w.beginObject().member("type", "section");
    w.key("text").beginObject().member("type", "mrkdwn");
    w.member("text", notice::truncate_chars(sentence(n), kSectionChars)).endObject();
    w.endObject();

    w.beginObject().member("type", "section").key("fields").beginArray();
    field(w, "Device", n.device_name);
    field(w, "Site", n.site_name);
    field(w, "Severity", n.severity);
    field(w, "Status", n.status);
    field(w, "Rule", n.rule_name);
    field(w, "Tenant", n.tenant_name.empty() ? n.tenant_slug : n.tenant_name);
    w.endArray().endObject();

    std::string when = n.event_at.empty() ? n.triggered_at : n.event_at;
    std::string context = "Pulse · alert " + std::to_string(n.alert_id) + (when.empty() ? "" : " · " + when);
    w.beginObject().member("type", "context").key("elements").beginArray();
    w.beginObject()
        .member("type", "mrkdwn")
        .member("text", notice::truncate_chars(escape(context), kSectionChars));
    w.endObject().endArray().endObject();

    if (!n.link.empty() || !n.acknowledge_link.empty()) {
        w.beginObject().member("type", "actions").key("elements").beginArray();
        if (!n.link.empty()) {
            w.beginObject().member("type", "button").member("action_id", "open_alert").member("url", n.link);
            w.key("text")
                .beginObject()
                .member("type", "plain_text")
                .member("text", "Open in Pulse")
                .endObject();
            w.endObject();
        }
        if (!n.acknowledge_link.empty()) {
            // A link button: Slack opens the URL (the confirmation page), no interactivity endpoint needed.
            w.beginObject()
                .member("type", "button")
                .member("action_id", "acknowledge_alert")
                .member("style", "primary")
                .member("url", n.acknowledge_link);
            w.key("text")
                .beginObject()
                .member("type", "plain_text")
                .member("text", "Acknowledge")
                .endObject();
            w.endObject();
        }
        w.endArray().endObject();
    }

    w.endArray().endObject().endArray().endObject();
    return w.str();
}

}  // namespace pulse::slack
