// sender_smtp through the outbox and the dispatcher, against a real SMTP server (Debian's aiosmtpd, run by
// tests/standins/smtp_server.py): STARTTLS required, AUTH required after TLS, implicit TLS, plaintext; an
// alert's three mails as one thread; the reply classes (421, 452 retried, 550 permanent, a connection dropped
// after DATA retried under the same Message-ID); TLS and credential failures permanent; the password
// write-only; private relays refused when saved and when dialled.
#include "alert_env.h"
#include "storage/PgConnection.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <sstream>

using namespace pulse;
using namespace pulse::test;

namespace {

constexpr const char* kRelayUser = "pulse";
constexpr const char* kRelayPassword = "s3cret-relay-pass";

// The aiosmtpd server and what it tells about itself.
struct MailServer {
    StandIn server{"smtp_server.py", {"--user", kRelayUser, "--password", kRelayPassword}};
    Poco::JSON::Object::Ptr info = server.get("/_info");
    int port(const std::string& listener) const { return info->getObject("ports")->getValue<int>(listener); }
    std::string caPem() const { return info->getValue<std::string>("ca_pem"); }
    // Every transaction logged, in order.
    std::vector<Poco::JSON::Object::Ptr> mails() {
        std::vector<Poco::JSON::Object::Ptr> out;
        auto all = server.requests();
        for (size_t i = 0; i < all->size(); ++i) out.push_back(at(all, i));
        return out;
    }
    std::vector<Poco::JSON::Object::Ptr> mailsTo(const std::string& rcpt) {
        std::vector<Poco::JSON::Object::Ptr> out;
        for (auto& m : mails())
            if (m->getArray("rcpt_tos")->size() &&
                m->getArray("rcpt_tos")->getElement<std::string>(0) == rcpt)
                out.push_back(m);
        return out;
    }
    int connections() { return server.get("/_log")->getValue<int>("connections"); }
};

// A channel config for the server's listener; fields overridden by extra ({"tls": "none"}).
std::string mailConfig(MailServer& s, const std::string& listener, const std::string& to,
                       const std::string& extraJson = "{}") {
    Poco::JSON::Object c;
    c.set("host", "127.0.0.1");
    c.set("port", s.port(listener));
    c.set("from", "alerts@pulse.example.com");
    Poco::JSON::Array rcpt;
    rcpt.add(to);
    c.set("to", rcpt);
    if (listener != "plain") {
        c.set("username", kRelayUser);
        c.set("password", kRelayPassword);
        c.set("ca_certificate", s.caPem());
    }
    if (listener == "smtps") c.set("tls", "implicit");
    return withOverrides(c, extraJson);
}

std::string header(const Poco::JSON::Object::Ptr& mail, const std::string& name) {
    auto h = mail->getObject("headers");
    return h->has(name) ? h->getValue<std::string>(name) : "";
}

std::string part(const Poco::JSON::Object::Ptr& mail, const std::string& type) {
    auto parts = mail->getArray("parts");
    for (size_t i = 0; i < parts->size(); ++i)
        if (at(parts, i)->getValue<std::string>("content_type") == type)
            return at(parts, i)->getValue<std::string>("text");
    return "";
}

}  // namespace

TEST(MailSender, EachEventIsAMailOfOneThreadOverStartTlsWithAuthOnOneConnection) {
    AlertFixture f("smtp");
    MailServer s;
    std::string channel = f.channel("mail", "smtp", mailConfig(s, "submission", "oncall@example.com"));
    int64_t alertId = walkRoutedAlert(f, channel, "temperature 91 > 80 <b>ü</b>");
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE,DONE,DONE") << deliveriesOf(channel, "last_error");

    auto mails = s.mails();
    ASSERT_EQ(mails.size(), 3u);
    std::vector<std::string> subjects;
    for (size_t i = 0; i < mails.size(); ++i) {
        SCOPED_TRACE(i);
        auto m = mails[i];
        EXPECT_TRUE(m->getValue<bool>("valid")) << m->get("problems").toString();
        EXPECT_EQ(m->getValue<int>("status"), 250);
        EXPECT_TRUE(m->getValue<bool>("tls"));
        EXPECT_EQ(m->getValue<std::string>("auth_login"), kRelayUser);
        EXPECT_EQ(m->getValue<std::string>("mail_from"), "alerts@pulse.example.com");
        EXPECT_EQ(header(m, "from"), "Pulse <alerts@pulse.example.com>");
        EXPECT_EQ(header(m, "to"), "oncall@example.com");
        EXPECT_EQ(header(m, "auto-submitted"), "auto-generated");
        subjects.push_back(header(m, "subject"));
        // Tenant text: decoded back to what was written, and escaped in the HTML part.
        EXPECT_NE(part(m, "text/plain").find("temperature 91 > 80 <b>ü</b>"), std::string::npos);
        std::string html = part(m, "text/html");
        EXPECT_NE(html.find("temperature 91 &gt; 80 &lt;b&gt;ü&lt;/b&gt;"), std::string::npos) << html;
        EXPECT_EQ(html.find("<b>ü"), std::string::npos);
        EXPECT_NE(html.find(std::string("href=\"") + AlertFixture::kConsoleUrl +
                            "/alerts?status=&amp;open=" + std::to_string(alertId)),
                  std::string::npos)
            << html;
        EXPECT_NE(part(m, "text/plain").find("Device:          dev-1"), std::string::npos)
            << part(m, "text/plain");
    }
    EXPECT_EQ(subjects[0], "[Pulse] CRITICAL alert opened: too hot: temperature 91 > 80 <b>ü</b> (dev-1)");
    EXPECT_EQ(subjects[1].rfind("[Pulse] Acknowledged: too hot", 0), 0u) << subjects[1];
    EXPECT_EQ(subjects[2].rfind("[Pulse] Closed: too hot", 0), 0u) << subjects[2];
    EXPECT_NE(part(mails[1], "text/plain").find("Acknowledged by: alice@example.com"), std::string::npos);
    // One thread: the opening's Message-ID is what the acknowledgement and the closing answer.
    std::string thread = header(mails[0], "message-id");
    EXPECT_EQ(thread, "<alert-" + std::to_string(alertId) + "." + f.tenantId + ".pulse@pulse.example.com>");
    for (size_t i = 1; i < 3; ++i) {
        EXPECT_EQ(header(mails[i], "in-reply-to"), thread);
        EXPECT_EQ(header(mails[i], "references"), thread);
        EXPECT_NE(header(mails[i], "message-id"), thread);
    }
    // The three mails went through one connection: the worker's handle kept it.
    EXPECT_EQ(s.connections(), 1);
}

TEST(MailSender, RepliesAreDoneRetriedOrPermanentAndARetryKeepsItsMessageId) {
    AlertFixture f("smtp-answers");
    MailServer s;
    struct Case {
        std::string name;
        std::string listener;
        std::string extra;
        std::vector<std::string> script;  // for the case's recipient
        std::string status;
        int attempts;
        std::string error;  // in last_error
    };
    std::vector<Case> cases = {
        {"421", "submission", "{}", {"421"}, "DONE", 2, ""},
        {"452", "submission", "{}", {"452"}, "DONE", 2, ""},
        {"dropped", "submission", "{}", {"reset"}, "DONE", 2, ""},
        {"550", "submission", "{}", {"550"}, "DEAD", 1, "refused the mail"},
        {"badpass", "submission", R"({"password":"wrong-password"})", {}, "DEAD", 1, "credentials"},
        {"notls", "plain", R"({"username":"","tls":"starttls"})", {}, "DEAD", 1, "STARTTLS"},
        {"untrusted", "submission", R"({"ca_certificate":""})", {}, "DEAD", 1, "not trusted"},
        {"implicit", "smtps", "{}", {}, "DONE", 1, ""},
        {"plaintext", "plain", R"({"tls":"none"})", {}, "DONE", 1, ""},
    };
    std::vector<std::string> ids;
    for (const auto& c : cases) {
        std::string rcpt = c.name + "@example.com";
        if (!c.script.empty()) s.server.script(rcpt, c.script);
        ids.push_back(f.channel("m-" + c.name, "smtp", mailConfig(s, c.listener, rcpt, c.extra)));
        enqueueNotice(f, ids.back(), "r-" + c.name);
    }
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_TRUE(f.settled(40000));
    d->stop();
    for (size_t i = 0; i < cases.size(); ++i) {
        SCOPED_TRACE(cases[i].name);
        EXPECT_EQ(deliveriesOf(ids[i], "status"), cases[i].status) << deliveriesOf(ids[i], "last_error");
        EXPECT_EQ(deliveriesOf(ids[i], "attempts"), std::to_string(cases[i].attempts));
        std::string error = deliveriesOf(ids[i], "last_error");
        if (!cases[i].error.empty()) {
            EXPECT_NE(error.find(cases[i].error), std::string::npos) << error;
        }
        EXPECT_EQ(error.find(kRelayPassword), std::string::npos);
        EXPECT_EQ(error.find("wrong-password"), std::string::npos);
    }
    // The mail dropped after DATA arrived twice, recognisably the same: one Message-ID.
    auto dropped = s.mailsTo("dropped@example.com");
    ASSERT_EQ(dropped.size(), 2u);
    EXPECT_EQ(header(dropped[0], "message-id"), header(dropped[1], "message-id"));
    EXPECT_EQ(dropped[0]->getValue<int>("status"), 0);
    EXPECT_EQ(dropped[1]->getValue<int>("status"), 250);
    // Retried 4xx: the second transaction was accepted; 550 was refused at RCPT, before any content.
    EXPECT_EQ(s.mailsTo("421@example.com").back()->getValue<int>("status"), 250);
    EXPECT_EQ(s.mailsTo("452@example.com").back()->getValue<int>("status"), 250);
    EXPECT_EQ(s.mailsTo("550@example.com").size(), 1u);
    auto implicit = s.mailsTo("implicit@example.com");
    ASSERT_EQ(implicit.size(), 1u);
    EXPECT_TRUE(implicit[0]->getValue<bool>("tls"));
    EXPECT_EQ(implicit[0]->getValue<std::string>("listener"), "smtps");
    auto plain = s.mailsTo("plaintext@example.com");
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_FALSE(plain[0]->getValue<bool>("tls"));
    // Nothing reached the server from the refused TLS and credential cases.
    EXPECT_TRUE(s.mailsTo("badpass@example.com").empty());
    EXPECT_TRUE(s.mailsTo("untrusted@example.com").empty());
    EXPECT_TRUE(s.mailsTo("notls@example.com").empty());
}

TEST(MailSender, ThePasswordIsWriteOnlyAndPrivateRelaysAreRefusedWhenSavedAndWhenDialled) {
    AlertFixture f("smtp-guard");
    MailServer s;
    std::string id = f.channel("mail", "smtp", mailConfig(s, "submission", "ops@example.com"));
    std::string masked = f.channels->maskedConfig(f.tenantId, id);
    EXPECT_EQ(masked.find(kRelayPassword), std::string::npos) << masked;
    EXPECT_NE(masked.find(R"("password":"***")"), std::string::npos) << masked;
    EXPECT_EQ(scalarAsOwner("SELECT config::text FROM pulse.channels WHERE id = $1::uuid", {id})
                  .find(kRelayPassword),
              std::string::npos);

    // Saved: every internal form of a relay host is refused, with one answer for all of them.
    for (const char* host : {"10.1.2.3", "169.254.169.254", "::1", "012.1.2.3", "127.0.0.2", "relay:25"}) {
        SCOPED_TRACE(host);
        try {
            f.channel(
                std::string("bad-") + host, "smtp",
                mailConfig(s, "submission", "ops@example.com", std::string(R"({"host":")") + host + "\"}"));
            ADD_FAILURE() << "saved";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("host"), std::string::npos) << e.what();
        }
    }
    // A password is never sent in the clear: plaintext with credentials is refused when saved.
    for (const char* credentials :
         {R"({"tls":"none","password":"x"})", R"({"tls":"none","username":"bob"})"}) {
        SCOPED_TRACE(credentials);
        try {
            f.channel("clear", "smtp", mailConfig(s, "plain", "ops@example.com", credentials));
            ADD_FAILURE() << "saved";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("not sent over plaintext"), std::string::npos) << e.what();
        }
    }

    // Dialled: a channel whose host became internal (written past the API here) is refused by the guard at
    // delivery, permanently, and nothing is sent.
    std::string stale = f.channel("stale", "smtp", mailConfig(s, "submission", "stale@example.com"));
    scalarAsOwner(
        "UPDATE pulse.channels SET config = jsonb_set(config, '{host}', '\"10.20.30.40\"') WHERE id = "
        "$1::uuid RETURNING 1",
        {stale});
    enqueueNotice(f, stale, "r-stale");
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_TRUE(f.settled());
    d->stop();
    EXPECT_EQ(deliveriesOf(stale, "status"), "DEAD");
    EXPECT_NE(deliveriesOf(stale, "last_error").find("10.20.30.40"), std::string::npos)
        << deliveriesOf(stale, "last_error");
    EXPECT_TRUE(s.mailsTo("stale@example.com").empty());
}

// R8: the relay took the mail, pulsed died before recording it; the mail sent again is the same mail.
TEST(MailSender, ACrashAfterTheRelayAcceptedResendsTheSameMessageId) {
    AlertFixture f("smtp-crash");
    MailServer s;
    std::string channel = f.channel("mail", "smtp", mailConfig(s, "submission", "crash@example.com"));
    enqueueNotice(f, channel, "r-crash");
    crashAfterDeliveryThenRedeliver(f, [&] { return s.mailsTo("crash@example.com").size(); });
    auto mails = s.mailsTo("crash@example.com");
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_EQ(header(mails[0], "message-id"), header(mails[1], "message-id"));
    EXPECT_FALSE(header(mails[0], "message-id").empty());
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE");
}
