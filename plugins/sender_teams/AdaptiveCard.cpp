#include "AdaptiveCard.h"

#include <pulse/json.hpp>

namespace pulse::teams {
namespace {

constexpr size_t kSummaryChars = 2000;
constexpr size_t kFactChars = 300;

// The card's colour words: attention (red), warning (amber), good (green), accent (blue), default.
const char* colour(const AlertNotice& n) {
    if (n.kind == NoticeKind::Closed) return "good";
    switch (notice::severity_rank(n.severity)) {
        case 5:
        case 4:
            return "attention";
        case 3:
            return "warning";
        case 2:
            return "accent";
        default:
            return "default";
    }
}

void textBlock(json::Writer& w, const std::string& text, const char* size, const char* weight,
               const char* colour, bool subtle = false) {
    w.beginObject().member("type", "TextBlock").member("text", text).member("wrap", true);
    if (size) w.member("size", size);
    if (weight) w.member("weight", weight);
    if (colour) w.member("color", colour);
    if (subtle) w.member("isSubtle", true);
    w.endObject();
}

void fact(json::Writer& w, const char* name, const std::string& value) {
    if (value.empty()) return;
    w.beginObject().member("title", name).member("value", notice::truncate_chars(escape(value), kFactChars));
    w.endObject();
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\' || c == '*' || c == '_' || c == '[' || c == ']' || c == '`' || c == '~') out += '\\';
        out += c;
    }
    return out;
}

std::string message(const AlertNotice& n) {
    std::string sentence = notice::truncate_chars(escape(n.text()), kSummaryChars);
    if (n.kind == NoticeKind::Acknowledged)
        sentence += "\n\nAcknowledged by " + escape(n.actor.empty() ? n.acknowledged_by : n.actor);
    if (n.kind == NoticeKind::Closed) {
        sentence += "\n\nClosed";
        if (!n.close_reason.empty()) sentence += " (" + escape(n.close_reason) + ")";
        if (!n.actor.empty() && n.actor != "system") sentence += " by " + escape(n.actor);
    }
    std::string when = n.event_at.empty() ? n.triggered_at : n.event_at;

    json::Writer w;
    w.beginObject().member("type", "message").key("attachments").beginArray().beginObject();
    w.member("contentType", "application/vnd.microsoft.card.adaptive").key("contentUrl").null();
    w.key("content").beginObject();
    w.member("$schema", "http://adaptivecards.io/schemas/adaptive-card.json").member("type", "AdaptiveCard");
    w.member("version", "1.4");
    w.key("msteams").beginObject().member("width", "Full").endObject();
    w.key("body").beginArray();
    w.beginObject().member("type", "Container").member("style", colour(n)).member("bleed", true);
    w.key("items").beginArray();
    textBlock(w, escape(n.title()), "Large", "Bolder", colour(n));
    textBlock(w, sentence, nullptr, nullptr, nullptr);
    w.endArray().endObject();
    w.beginObject().member("type", "FactSet").key("facts").beginArray();
    fact(w, "Device", n.device_name);
    fact(w, "Site", n.site_name);
    fact(w, "Severity", n.severity);
    fact(w, "Status", n.status);
    fact(w, "Rule", n.rule_name);
    fact(w, "Tenant", n.tenant_name.empty() ? n.tenant_slug : n.tenant_name);
    w.endArray().endObject();
    textBlock(w, escape("Pulse · alert " + std::to_string(n.alert_id) + (when.empty() ? "" : " · " + when)),
              "Small", nullptr, nullptr, true);
    w.endArray();
    if (!n.link.empty() || !n.acknowledge_link.empty()) {
        w.key("actions").beginArray();
        if (!n.link.empty())
            w.beginObject()
                .member("type", "Action.OpenUrl")
                .member("title", "Open in Pulse")
                .member("url", n.link)
                .endObject();
        if (!n.acknowledge_link.empty())
            w.beginObject()
                .member("type", "Action.OpenUrl")
                .member("title", "Acknowledge")
                .member("url", n.acknowledge_link)
                .endObject();
        w.endArray();
    }
    w.endObject().endObject().endArray().endObject();
    return w.str();
}

}  // namespace pulse::teams
