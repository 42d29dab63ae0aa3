// A channel's message templates (services/MessageTemplates): what is refused when saved, and what a
// notice renders to. Rendering inserts values as they are; the senders escape for their formats
// (sender_messages_test.cpp checks that a rendered "<!channel>" stays text in Slack).
#include "services/MessageTemplates.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

using namespace pulse::services;

namespace {

std::string problem(const std::string& title, const std::string& text) {
    return templateProblem({title, text}).value_or("");
}

}  // namespace

TEST(MessageTemplates, RefusesWhatCannotRenderAsWritten) {
    EXPECT_EQ(
        problem("{{alert.severity}} on {{alert.device.name}}", "{{#alert.site}}at {{name}}{{/alert.site}}"),
        "");
    EXPECT_NE(problem("{{alert.severity", "").find("title: "), std::string::npos);  // unclosed tag
    EXPECT_NE(problem("", "{{#alert.site}}x").find("text: "), std::string::npos);   // unclosed section
    EXPECT_NE(problem("", "{{alert.sumary}}").find("{{alert.sumary}} is not a field of the alert notice"),
              std::string::npos);
    EXPECT_NE(problem("{{> header}}", "").find("partials"), std::string::npos);
    EXPECT_NE(problem("", "{{=<% %>=}}<% alert.id %>").find("delimiters"), std::string::npos);
    EXPECT_NE(problem(std::string(kMaxTemplateChars + 1, 'x'), "").find("at most"), std::string::npos);
    EXPECT_EQ(problem("{{! a comment }}{{{alert.summary}}} {{&alert.summary}}", ""), "");
}

TEST(MessageTemplates, RendersTheNoticeAsItIsAndLeavesEscapingToTheSender) {
    MessageTemplates t{
        "[{{alert.severity}}] {{alert.rule.name}} on {{alert.device.name}}",
        "{{alert.summary}}{{#alert.site}} at {{alert.site.name}}{{/alert.site}}"
        "{{^alert.site}} (no site){{/alert.site}}; tags:{{#alert.device.tags}} {{.}}{{/alert.device.tags}}"};
    auto out = render(kSampleNotice, t);
    EXPECT_EQ(out.title, "[CRITICAL] too hot on boiler-2");
    EXPECT_EQ(out.text, "temperature 91 > 80 at Plant 1; tags: boiler floor-1");  // ">" not &gt;

    auto doc = Poco::JSON::Parser().parse(kSampleNotice).extract<Poco::JSON::Object::Ptr>();
    doc->getObject("alert")->set("site", Poco::Dynamic::Var());  // null: the section is skipped
    doc->getObject("alert")->getObject("device")->set("name", "<!channel> & <b>");
    std::ostringstream noSite;
    doc->stringify(noSite);
    out = render(noSite.str(), t);
    EXPECT_EQ(out.title, "[CRITICAL] too hot on <!channel> & <b>");
    EXPECT_EQ(out.text, "temperature 91 > 80 (no site); tags: boiler floor-1");

    // Long output is cut at a character boundary.
    out = render(kSampleNotice, {std::string(300, 'x') + "é", ""});
    EXPECT_LE(out.title.size(), 250u);
}

TEST(MessageTemplates, WithMessageAddsTheRenderedPairOrLeavesTheNoticeAlone) {
    EXPECT_EQ(withMessage(kSampleNotice, {}), kSampleNotice);
    auto doc = Poco::JSON::Parser()
                   .parse(withMessage(kSampleNotice, {"", "{{alert.summary}}!"}))
                   .extract<Poco::JSON::Object::Ptr>();
    auto message = doc->getObject("message");
    ASSERT_TRUE(message);
    EXPECT_FALSE(message->has("title"));  // empty: the sender's own headline
    EXPECT_EQ(message->getValue<std::string>("text"), "temperature 91 > 80!");
    EXPECT_EQ(doc->getObject("alert")->getValue<int>("id"), 97);  // the rest as it was
    EXPECT_EQ(withMessage("not json", {"x", ""}), "not json");

    auto stored = MessageTemplates::fromJson(MessageTemplates{"a {{alert.id}}", ""}.toJson());
    EXPECT_EQ(stored.title, "a {{alert.id}}");
    EXPECT_EQ(stored.text, "");
    EXPECT_TRUE(MessageTemplates::fromJson("{}").empty());
}
