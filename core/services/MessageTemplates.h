#pragma once

#include <optional>
#include <string>

namespace pulse::services {

// A channel's message templates: what a person reads, instead of the sender's own wording. Mustache
// (kainjow, logic-less: no code runs), over the alert notice document ({{alert.severity}},
// {{alert.device.name}}, {{#alert.site}}...{{/alert.site}}). Values are inserted as they are; each sender
// escapes the rendered text for its format (mrkdwn, HTML, markdown), so a device named "<!channel>" stays
// text. Empty: the sender's default.
struct MessageTemplates {
    std::string title;  // a chat message's header, a mail's subject
    std::string text;   // the body's main sentence, in place of the alert's summary

    bool empty() const { return title.empty() && text.empty(); }
    static MessageTemplates fromJson(const std::string& json);  // {"title": ..., "text": ...}; {} when none
    std::string toJson() const;
};

// What is wrong with a template ("text: {{alert.sumary}} is not a notice field"), nothing when it is fine:
// a syntax error, a partial or a delimiter change, a name the notice does not have, or more than
// kMaxTemplateChars.
constexpr size_t kMaxTemplateChars = 2000;
std::optional<std::string> templateProblem(const MessageTemplates& templates);

// The notice with "message": {"title", "text"} rendered from the templates (an empty template renders
// nothing, and the sender keeps its own). Title at most 250 bytes, text 3000, cut at a character boundary.
std::string withMessage(const std::string& noticeJson, const MessageTemplates& templates);

// A notice as a real alert's looks (an opening, CRITICAL, with a site and tags), to preview templates on.
extern const char* const kSampleNotice;
// The same as a grouping routing rule's first notice of a group of two: the lead's notice with "group".
const std::string& sampleGroupNotice();

// The rendered pair for a notice, as withMessage() adds it.
MessageTemplates render(const std::string& noticeJson, const MessageTemplates& templates);

}  // namespace pulse::services
