#include "PagerDutyEvent.h"

#include <pulse/json.hpp>

namespace pulse::pagerduty {
namespace {
constexpr size_t kSummaryChars = 1024;  // PagerDuty refuses a longer payload.summary
constexpr size_t kFieldChars = 255;
}  // namespace

std::string dedupKey(const AlertNotice& n, std::string_view idempotencyKey) {
    if (n.test || n.alert_id == 0) return "pulse/" + n.tenant_id + "/test/" + std::string(idempotencyKey);
    // A group is one incident: its every notice (trigger, acknowledge, resolve, repeats) under one key.
    if (n.group_id != 0) return "pulse/" + n.tenant_id + "/group/" + std::to_string(n.group_id);
    return "pulse/" + n.tenant_id + "/alert/" + std::to_string(n.alert_id);
}

const char* severity(const std::string& s) {
    switch (notice::severity_rank(s)) {
        case 5:
            return "critical";
        case 4:
            return "error";
        case 3:
            return "warning";
        default:
            return "info";
    }
}

std::string event(const AlertNotice& n, const std::string& routingKey, std::string_view idempotencyKey) {
    const char* action = n.kind == NoticeKind::Opened         ? "trigger"
                         : n.kind == NoticeKind::Acknowledged ? "acknowledge"
                         : n.kind == NoticeKind::Closed       ? "resolve"
                                                              : nullptr;
    // A group's incident is not acknowledged from Pulse: a trigger for an alert joining an acknowledged
    // incident would page nobody (PagerDuty folds it in silently). Whoever answers acknowledges it in
    // PagerDuty; Pulse triggers again on a change and resolves it when every alert closed.
    if (!action || (n.group_id != 0 && n.kind == NoticeKind::Acknowledged)) return "";
    json::Writer w;
    w.beginObject().member("routing_key", routingKey).member("event_action", action);
    w.member("dedup_key", dedupKey(n, idempotencyKey));
    if (n.kind != NoticeKind::Opened)
        return w.endObject().str();  // acknowledge and resolve carry nothing else

    std::string source = n.device_name.empty() ? "pulse" : n.device_name;
    // The channel's text template, when it has one, is the whole summary (it says which device if it wants).
    std::string own =
        n.group_id != 0 ? n.group_summary : n.summary + (n.device_name.empty() ? "" : " on " + n.device_name);
    std::string summary = (n.test ? "[test] " : "") + (n.message_text.empty() ? own : n.message_text);
    w.key("payload").beginObject();
    w.member("summary", notice::truncate_chars(summary, kSummaryChars));
    w.member("source", notice::truncate_chars(source, kFieldChars));
    w.member("severity", severity(n.severity));
    if (!n.triggered_at.empty()) w.member("timestamp", n.triggered_at);
    if (!n.device_name.empty()) w.member("component", notice::truncate_chars(n.device_name, kFieldChars));
    if (!n.site_name.empty()) w.member("group", notice::truncate_chars(n.site_name, kFieldChars));
    if (!n.rule_type.empty()) w.member("class", n.rule_type);
    w.key("custom_details").beginObject();
    w.member("alert_id", n.alert_id).member("pulse_severity", n.severity).member("rule", n.rule_name);
    w.member("tenant", n.tenant_slug);
    if (n.group_id != 0) {
        w.member("group_id", n.group_id).member("alerts", n.group_text);
        w.member("open", n.group_open).member("acknowledged", n.group_acknowledged);
        w.member("closed", n.group_closed);
    }
    if (n.has_value) w.member("value", n.value);
    w.key("tags").beginArray();
    for (const auto& t : n.device_tags) w.value(t);
    w.endArray().endObject().endObject();
    w.member("client", "Pulse");
    if (!n.link.empty()) {
        w.member("client_url", n.link);
        w.key("links").beginArray().beginObject().member("href", n.link).member("text", "Open in Pulse");
        w.endObject().endArray();
    }
    return w.endObject().str();
}

}  // namespace pulse::pagerduty
