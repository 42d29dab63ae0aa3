// What the Slack, PagerDuty and Teams senders build from a notice: within each service's limits, tenant text
// escaped for the target format, and valid JSON whatever the notice holds (the fuzz target tries the rest).
#include "AdaptiveCard.h"
#include "MailMessage.h"
#include "PagerDutyEvent.h"
#include "PulseMib.h"
#include "SlackMessage.h"

#include <pulse/json.hpp>

#include <algorithm>

#include <gtest/gtest.h>

namespace {

pulse::AlertNotice notice(pulse::NoticeKind kind, const std::string& summary) {
    pulse::AlertNotice n;
    n.kind = kind;
    n.type = kind == pulse::NoticeKind::Opened   ? "alert.opened"
             : kind == pulse::NoticeKind::Closed ? "alert.closed"
                                                 : "alert.acknowledged";
    n.tenant_id = "t-1";
    n.tenant_slug = "acme";
    n.alert_id = 97;
    n.severity = "HIGH";
    n.summary = summary;
    n.rule_name = "too hot";
    n.device_name = "sensor-1";
    n.actor = "bob";
    n.link = "https://p.example/alerts?status=&open=97";
    return n;
}

}  // namespace

TEST(SenderMessages, SlackStaysWithinBlockKitLimitsAndEscapesMrkdwn) {
    auto n = notice(pulse::NoticeKind::Opened, std::string(5000, 'x') + " <!channel> & <http://evil|click>");
    n.rule_name = std::string(300, 'r');
    auto v = pulse::json::parse(pulse::slack::message(n, "<!here>"));
    EXPECT_EQ(v.string("/text").rfind("<!here> [HIGH]", 0), 0u);
    std::string header = v.string("/attachments/0/blocks/0/text/text");
    EXPECT_LE(header.size(), 150u * 3);
    EXPECT_EQ(header.substr(header.size() - 3), "\xE2\x80\xA6");
    std::string section = v.string("/attachments/0/blocks/1/text/text");
    EXPECT_LE(section.size(), 3000u + 2);
    EXPECT_EQ(section.find('<'), std::string::npos);
    EXPECT_EQ(pulse::slack::escape("<a & b>"), "&lt;a &amp; b&gt;");
    EXPECT_EQ(v.string("/attachments/0/blocks/4/elements/0/url"), n.link);
    // A follow-up names who acknowledged; no mention outside CRITICAL and HIGH openings.
    auto ack =
        pulse::json::parse(pulse::slack::message(notice(pulse::NoticeKind::Acknowledged, "s"), "<!here>"));
    EXPECT_EQ(ack.string("/text").find("<!here>"), std::string::npos);
    EXPECT_NE(ack.string("/attachments/0/blocks/1/text/text").find("Acknowledged by bob"), std::string::npos);
}

TEST(SenderMessages, PagerDutyUsesOneDedupKeyPerAlertAndOnlyTheTriggerCarriesAPayload) {
    auto open = pulse::json::parse(
        pulse::pagerduty::event(notice(pulse::NoticeKind::Opened, std::string(2000, 's')), "K", "msg_1"));
    auto close =
        pulse::json::parse(pulse::pagerduty::event(notice(pulse::NoticeKind::Closed, "s"), "K", "msg_2"));
    EXPECT_EQ(open.string("/dedup_key"), "pulse/t-1/alert/97");
    EXPECT_EQ(close.string("/dedup_key"), "pulse/t-1/alert/97");
    EXPECT_EQ(open.string("/event_action"), "trigger");
    EXPECT_EQ(close.string("/event_action"), "resolve");
    EXPECT_EQ(close.find("/payload"), nullptr);
    EXPECT_EQ(open.string("/payload/severity"), "error");
    EXPECT_LE(open.string("/payload/summary").size(), 1024u + 2);
    EXPECT_STREQ(pulse::pagerduty::severity("LOW"), "info");
    EXPECT_STREQ(pulse::pagerduty::severity("CRITICAL"), "critical");
    auto test = notice(pulse::NoticeKind::Opened, "s");
    test.test = true;
    test.alert_id = 0;
    EXPECT_EQ(pulse::json::parse(pulse::pagerduty::event(test, "K", "test_abc")).string("/dedup_key"),
              "pulse/t-1/test/test_abc");
}

TEST(SenderMessages, TeamsCardsAreAdaptiveCards14WithOpenUrlOnly) {
    auto v =
        pulse::json::parse(pulse::teams::message(notice(pulse::NoticeKind::Closed, "[x](http://evil) *b*")));
    EXPECT_EQ(v.string("/type"), "message");
    EXPECT_EQ(v.string("/attachments/0/contentType"), "application/vnd.microsoft.card.adaptive");
    EXPECT_EQ(v.string("/attachments/0/content/type"), "AdaptiveCard");
    EXPECT_EQ(v.string("/attachments/0/content/version"), "1.4");
    EXPECT_EQ(v.string("/attachments/0/content/body/0/style"), "good");
    EXPECT_EQ(v.string("/attachments/0/content/actions/0/type"), "Action.OpenUrl");
    std::string sentence = v.string("/attachments/0/content/body/0/items/1/text");
    EXPECT_EQ(sentence.rfind("\\[x\\](http://evil) \\*b\\*", 0), 0u) << sentence;
    EXPECT_NE(sentence.find("Closed by bob"), std::string::npos);
}

// Tenant text in a mail header cannot add header lines, and non-ASCII is RFC 2047 encoded (within 75
// characters a word, split between characters, never inside one).
TEST(SenderMessages, MailHeadersCannotBeInjectedAndNonAsciiIsEncoded) {
    EXPECT_EQ(pulse::mail::header_text("hot\r\nBcc: victim@example.com"), "hot  Bcc: victim@example.com");
    EXPECT_EQ(pulse::mail::header_text("plain ascii"), "plain ascii");
    std::string encoded =
        pulse::mail::header_text("Temperatur über 80 °C in Halle Süd, " + std::string(40, 'x') + "ü");
    EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u) << encoded;
    size_t start = 0;
    while (start < encoded.size()) {
        size_t end = encoded.find(' ', start);
        if (end == std::string::npos) end = encoded.size();
        EXPECT_LE(end - start, 75u);
        EXPECT_EQ(encoded.substr(end - 2, 2), "?=");
        start = end + 1;
    }
    EXPECT_EQ(encoded.find_first_of("\r\n"), std::string::npos);
    EXPECT_EQ(pulse::mail::rfc5322_date(1'796'187'600'123), "Wed, 02 Dec 2026 05:00:00 +0000");
}

TEST(SenderMessages, MailHasOneThreadPerAlertAndAStableMessageIdPerDelivery) {
    pulse::mail::Envelope e;
    e.from = "alerts@pulse.example.com";
    e.to = {"a@example.com", "b@example.com"};
    e.idempotency_key = "msg_0123abcd";
    e.now_ms = 1'796'187'600'000;
    auto opened = pulse::mail::compose(notice(pulse::NoticeKind::Opened, "t <b>91</b>\r\nX-Evil: 1"), e);
    auto closed = pulse::mail::compose(notice(pulse::NoticeKind::Closed, "t 70"), e);
    auto find = [](const pulse::mail::Mail& m, const std::string& name) {
        for (const auto& h : m.headers)
            if (h.rfind(name + ": ", 0) == 0) return h.substr(name.size() + 2);
        return std::string();
    };
    EXPECT_EQ(find(opened, "Message-ID"), "<alert-97.t-1.pulse@pulse.example.com>");
    EXPECT_EQ(find(closed, "Message-ID"), "<msg_0123abcd.pulse@pulse.example.com>");
    EXPECT_EQ(find(closed, "In-Reply-To"), "<alert-97.t-1.pulse@pulse.example.com>");
    EXPECT_EQ(find(opened, "To"), "a@example.com, b@example.com");
    EXPECT_EQ(find(opened, "X-Evil"), "");
    for (const auto& h : opened.headers) EXPECT_EQ(h.find_first_of("\r\n"), std::string::npos) << h;
    EXPECT_NE(opened.html.find("t &lt;b&gt;91&lt;/b&gt;"), std::string::npos);
    EXPECT_EQ(opened.html.find("<b>91"), std::string::npos);
    EXPECT_NE(opened.text.find("Open in Pulse: https://p.example/alerts?status=&open=97"), std::string::npos);
    EXPECT_NE(opened.html.find("href=\"https://p.example/alerts?status=&amp;open=97\""), std::string::npos);
}

TEST(SenderMessages, SnmpNotificationsFollowPulseMib) {
    namespace mib = pulse::pulse_mib;
    auto n = notice(pulse::NoticeKind::Acknowledged, std::string(300, 'x') + "\xC3\xA9");
    n.tenant_name = "Acme";
    auto vb = mib::notification(n, 4294967296LL + 12);
    ASSERT_EQ(vb.size(), 10u);
    // RFC 3416 4.2.6: sysUpTime.0 first (TimeTicks wrap at 2^32), snmpTrapOID.0 second.
    EXPECT_EQ(mib::dotted(vb[0].name), "1.3.6.1.2.1.1.3.0");
    EXPECT_EQ(vb[0].syntax, mib::Syntax::TimeTicks);
    EXPECT_EQ(vb[0].number, 12);
    EXPECT_EQ(mib::dotted(vb[1].name), "1.3.6.1.6.3.1.1.4.1.0");
    EXPECT_EQ(mib::dotted(vb[1].oid), "1.3.6.1.4.1.32473.1.0.1");
    // pulseAlertId .. pulseAlertSummary, the notification's OBJECTS in order, as scalar instances.
    for (size_t i = 2; i < vb.size(); ++i)
        EXPECT_EQ(mib::dotted(vb[i].name), "1.3.6.1.4.1.32473.1.1." + std::to_string(i - 1) + ".0");
    EXPECT_EQ(vb[2].syntax, mib::Syntax::Unsigned32);
    EXPECT_EQ(vb[2].number, 97);
    EXPECT_EQ(vb[3].number, 2);  // acknowledged(2)
    EXPECT_EQ(vb[4].number, 2);  // high(2)
    EXPECT_EQ(vb[5].octets, "Acme");
    EXPECT_EQ(vb[6].octets, "sensor-1");
    EXPECT_EQ(vb[7].octets, "");
    EXPECT_EQ(vb[8].octets, "too hot");
    EXPECT_LE(vb[9].octets.size(), 255u);  // SIZE (0..255), cut at a character boundary
    EXPECT_EQ(vb[9].octets.substr(vb[9].octets.size() - 3), "\xE2\x80\xA6");

    n.alert_id = 5000000000LL;
    n.kind = pulse::NoticeKind::Closed;
    n.severity = "INFO";
    vb = mib::notification(n, 0);
    EXPECT_EQ(vb[2].number, 4294967295LL);  // Unsigned32 cannot hold more
    EXPECT_EQ(vb[3].number, 3);
    EXPECT_EQ(vb[4].number, 5);
}

TEST(SenderMessages, ChannelTemplatesReplaceTheWordingAndAreStillEscaped) {
    auto n = notice(pulse::NoticeKind::Opened, "temperature 91 > 80");
    n.message_title = "Boiler alarm <!channel>";
    n.message_text = "*hot* <@U123> & co";
    std::string slack = pulse::slack::message(n, "");
    EXPECT_NE(slack.find("Boiler alarm &lt;!channel&gt;"), std::string::npos) << slack;
    EXPECT_NE(slack.find("&lt;@U123&gt; &amp; co"), std::string::npos) << slack;
    // Raw only in the header, which is plain_text (Slack parses no mentions there).
    size_t raw = slack.find("<!channel>");
    EXPECT_EQ(slack.find("\"plain_text\",\"text\":\"Boiler alarm <!channel>\""), raw - 34) << slack;
    EXPECT_EQ(slack.find("<!channel>", raw + 1), std::string::npos);
    EXPECT_EQ(slack.find("temperature 91"), std::string::npos);  // the template replaced the summary

    std::string card = pulse::teams::message(n);
    EXPECT_NE(card.find("Boiler alarm"), std::string::npos);
    EXPECT_EQ(card.find("temperature 91"), std::string::npos);

    std::string event = pulse::pagerduty::event(n, "R0UTINGKEY0000000000000000000000", "key-1");
    EXPECT_NE(event.find(R"("summary":"*hot* <@U123> & co")"), std::string::npos) << event;

    auto mail = pulse::mail::compose(n, {"alerts@example.com", "Pulse", {"oncall@example.com"}, "key-1", 0});
    bool subject = false;
    for (const auto& h : mail.headers) subject = subject || h == "Subject: Boiler alarm <!channel>";
    EXPECT_TRUE(subject);
    EXPECT_NE(mail.html.find("*hot* &lt;@U123&gt; &amp; co"), std::string::npos);
    EXPECT_NE(mail.text.find("*hot* <@U123> & co"), std::string::npos);
}

// An opening's acknowledge link reaches Slack as a second link button, Teams as a second Action.OpenUrl, and
// mail in both parts; without one, nothing changes.
TEST(SenderMessages, TheAcknowledgeLinkIsAButtonInSlackAndTeamsAndALinkInMail) {
    auto n = notice(pulse::NoticeKind::Opened, "temperature 91 > 80");
    n.acknowledge_link = "https://p.example/api/v1/acknowledge/abc.def";
    auto slack = pulse::json::parse(pulse::slack::message(n, ""));
    std::string actions;
    for (size_t b = 0; b < 8; ++b)
        if (slack.string("/attachments/0/blocks/" + std::to_string(b) + "/type") == "actions")
            actions = "/attachments/0/blocks/" + std::to_string(b) + "/elements/";
    ASSERT_FALSE(actions.empty());
    EXPECT_EQ(slack.string(actions + "1/action_id"), "acknowledge_alert");
    EXPECT_EQ(slack.string(actions + "1/url"), n.acknowledge_link);
    EXPECT_EQ(slack.string(actions + "1/text/text"), "Acknowledge");
    auto teams = pulse::json::parse(pulse::teams::message(n));
    EXPECT_EQ(teams.string("/attachments/0/content/actions/1/type"), "Action.OpenUrl");
    EXPECT_EQ(teams.string("/attachments/0/content/actions/1/title"), "Acknowledge");
    EXPECT_EQ(teams.string("/attachments/0/content/actions/1/url"), n.acknowledge_link);
    pulse::mail::Envelope e;
    e.from = "alerts@pulse.example.com";
    e.to = {"a@example.com"};
    e.idempotency_key = "msg_0123abcd";
    e.now_ms = 1'796'187'600'000;
    auto mail = pulse::mail::compose(n, e);
    EXPECT_NE(mail.text.find("Acknowledge (no sign-in needed): " + n.acknowledge_link), std::string::npos);
    EXPECT_NE(mail.html.find("href=\"" + n.acknowledge_link + "\""), std::string::npos);

    n.acknowledge_link.clear();
    EXPECT_EQ(pulse::json::parse(pulse::teams::message(n)).string("/attachments/0/content/actions/1/type"),
              "");
    EXPECT_EQ(pulse::mail::compose(n, e).text.find("Acknowledge"), std::string::npos);
}

TEST(SenderMessages, AGroupNoticeReadsAsItsAlertsAndIsOnePagerDutyIncident) {
    std::string alerts;
    for (int i = 1; i <= 12; ++i)
        alerts += std::string(i > 1 ? "," : "") + R"({"id":)" + std::to_string(100 + i) +
                  R"(,"status":"OPEN","severity":"HIGH","summary":"t )" + std::to_string(80 + i) +
                  R"( > 80","device":{"id":1,"name":"m-)" + std::to_string(i) + R"("}})";
    auto n = pulse::AlertNotice::parse(
        R"({"type":"alert.opened","tenant":{"id":"t-1","slug":"acme"},"alert":{"id":101,"severity":"HIGH",)"
        R"("summary":"t 81 > 80","device":{"name":"m-1"}},"group":{"id":7,"notification":2,"repeat":false,)"
        R"("summary":"12 alerts (12 open) of hot","counts":{"open":12,"acknowledged":0,"closed":0,"total":12},)"
        R"("alerts":[)" +
        alerts + "]}}");
    EXPECT_EQ(n.group_id, 7);
    EXPECT_EQ(n.group_alerts.size(), 12u);
    EXPECT_EQ(n.title(), "HIGH group open: 12 alerts (12 open) of hot");
    // Ten lines, then how many more: every chat sender shows text().
    std::string text = n.text();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
    EXPECT_EQ(text.rfind("HIGH m-1: t 81 > 80 (open)", 0), 0u);
    EXPECT_NE(text.find("and 2 more"), std::string::npos) << text;
    auto v = pulse::json::parse(pulse::pagerduty::event(n, "R0123456789ABCDEF0123456789ABCDE", "grp_7_2"));
    EXPECT_EQ(v.string("/dedup_key"), "pulse/t-1/group/7");
    EXPECT_EQ(v.string("/payload/summary"), "12 alerts (12 open) of hot");
    EXPECT_EQ(v.integer("/payload/custom_details/group_id"), 7);
    // Pulse does not acknowledge a group's incident: an alert joining it later would page nobody.
    pulse::AlertNotice acked = n;
    acked.kind = pulse::NoticeKind::Acknowledged;
    EXPECT_EQ(pulse::pagerduty::event(acked, "R0123456789ABCDEF0123456789ABCDE", "grp_7_3"), "");
    pulse::AlertNotice resolved = n;
    resolved.kind = pulse::NoticeKind::Closed;
    EXPECT_EQ(
        pulse::json::parse(pulse::pagerduty::event(resolved, "R0123456789ABCDEF0123456789ABCDE", "grp_7_4"))
            .string("/event_action"),
        "resolve");

    // Mail threads a group by the group, whichever alert leads it: its first notice starts the thread, the
    // later ones (this is its second) answer it, each with a Message-ID of its own.
    auto header = [](const pulse::mail::Mail& m, const std::string& name) {
        for (const auto& h : m.headers)
            if (h.rfind(name + ": ", 0) == 0) return h.substr(name.size() + 2);
        return std::string();
    };
    pulse::mail::Envelope e;
    e.from = "alerts@example.com";
    e.to = {"ops@example.com"};
    e.idempotency_key = "grp_7_2";
    auto second = pulse::mail::compose(n, e);
    EXPECT_EQ(header(second, "In-Reply-To"), "<group-7.t-1.pulse@example.com>");
    EXPECT_EQ(header(second, "Message-ID"), "<grp_7_2.pulse@example.com>");
    pulse::AlertNotice firstNotice = n;
    firstNotice.group_notification = 1;
    firstNotice.alert_id = 105;  // another lead: the same thread
    e.idempotency_key = "grp_7_1";
    auto first = pulse::mail::compose(firstNotice, e);
    EXPECT_EQ(header(first, "Message-ID"), "<group-7.t-1.pulse@example.com>");
    EXPECT_EQ(header(first, "In-Reply-To"), "");

    // A notice of one alert is as before.
    auto single = notice(pulse::NoticeKind::Opened, "t 91 > 80");
    EXPECT_EQ(single.group_id, 0);
    EXPECT_EQ(single.text(), "t 91 > 80");
}
