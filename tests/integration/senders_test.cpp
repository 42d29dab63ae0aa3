// The chat and paging senders (sender_slack, sender_pagerduty, sender_teams) through the outbox and the
// dispatcher, against strict stand-ins of the services (tests/standins/*_standin.py, built from
// ../shared/design/CONTRACTS.md): an alert's opening, acknowledgement and closing as each service wants them,
// every class of answer (done, retried never before Retry-After, permanent -> dead letter), the idempotency
// key unchanged across retries, secrets never shown, and tenant-chosen targets refused when saved. R6 for
// every sender (Slack, PagerDuty, Teams, e-mail, MQTT): one hanging service does not slow other channels. The
// e-mail and MQTT senders' own tests are mail_sender_test.cpp and mqtt_sender_test.cpp.
#include "alert_env.h"
#include "storage/PgConnection.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

using namespace pulse;
using namespace pulse::test;

namespace {

constexpr const char* kSlackPath = "/services/T0PULSE01/B0PULSE01/abcdefghijklmnopqrstuvwx";
constexpr const char* kRoutingKey = "R0123456789ABCDEF0123456789ABCDE";
constexpr const char* kTeamsPath = "/workflows/0123abcd/triggers/manual/paths/invoke";
constexpr const char* kTeamsQuery =
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s3cr3tSig";

}  // namespace

TEST(Senders, SlackGetsBlockKitMessagesForEachEventPacedOnePerSecondAndEscaped) {
    AlertFixture f("slack");
    StandIn slack("slack_standin.py");
    std::string channel =
        f.channel("slack", "slack", R"({"url":")" + slack.url(kSlackPath) + R"(","mention":"<!here>"})");
    int64_t alertId = walkRoutedAlert(f, channel, "temperature 91 > 80 <!channel> & *bold*");

    auto got = on(slack, kSlackPath);
    ASSERT_EQ(got.size(), 3u);
    std::vector<std::string> headers;
    for (size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE(i);
        auto r = got[i];
        EXPECT_TRUE(r->getValue<bool>("valid")) << r->get("problems").toString();
        EXPECT_EQ(r->getValue<int>("status"), 200);
        auto body = r->getObject("body");
        auto attachment = body->getArray("attachments")->getObject(0);
        auto blocks = attachment->getArray("blocks");
        headers.push_back(at(blocks, 0)->getObject("text")->getValue<std::string>("text"));
        // Tenant text is escaped: "<!channel>" in a summary mentions nobody.
        std::string section = at(blocks, 1)->getObject("text")->getValue<std::string>("text");
        EXPECT_NE(section.find("&lt;!channel&gt; &amp;"), std::string::npos) << section;
        EXPECT_EQ(section.find("<!channel>"), std::string::npos);
        EXPECT_EQ(attachment->getValue<std::string>("color"), i == 2 ? "#2E7D32" : "#D32F2F");
        // The button links back to the alert in the console.
        auto button = at(at(blocks, blocks->size() - 1)->getArray("elements"), 0);
        EXPECT_EQ(button->getValue<std::string>("url"),
                  std::string(AlertFixture::kConsoleUrl) + "/alerts?status=&open=" + std::to_string(alertId));
        std::string text = body->getValue<std::string>("text");
        EXPECT_EQ(text.rfind("<!here> ", 0) == 0, i == 0) << text;  // the mention: CRITICAL openings only
        EXPECT_NE(text.find("dev-1"), std::string::npos);
    }
    EXPECT_EQ(headers, (std::vector<std::string>{"CRITICAL alert opened: too hot", "Acknowledged: too hot",
                                                 "Closed: too hot"}));
    EXPECT_NE(at(got[1]->getObject("body")->getArray("attachments")->getObject(0)->getArray("blocks"), 1)
                  ->getObject("text")
                  ->getValue<std::string>("text")
                  .find("Acknowledged by alice@example.com"),
              std::string::npos);
    // One message per second per webhook: the three events came at once, Slack saw them a second apart, and
    // never answered 429. The pacing left no attempt of its own in the log.
    for (size_t i = 1; i < got.size(); ++i)
        EXPECT_GE(got[i]->getValue<double>("at_ms") - got[i - 1]->getValue<double>("at_ms"), 900.0);
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE,DONE,DONE");
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.delivery_attempts a JOIN pulse.deliveries d ON d.id = "
                      "a.delivery_id WHERE d.channel_id = $1::uuid",
                      {channel}),
        "3");
    std::printf("[ figure ] Slack: 3 events at once delivered %.0f ms and %.0f ms apart\n",
                got[1]->getValue<double>("at_ms") - got[0]->getValue<double>("at_ms"),
                got[2]->getValue<double>("at_ms") - got[1]->getValue<double>("at_ms"));
}

// The channel's templates shape each event's message, rendered by the dispatcher, escaped by the sender.
TEST(Senders, ChannelTemplatesShapeWhatEachEventSays) {
    AlertFixture f("slack-templates");
    StandIn slack("slack_standin.py");
    std::string channel = f.channel("slack", "slack", R"({"url":")" + slack.url(kSlackPath) + R"("})");
    f.channels->updateTemplates(
        f.tenantId, channel,
        {"{{alert.severity}} {{event.kind}} on {{alert.device.name}}",
         "{{alert.summary}} (rule {{alert.rule.name}}){{#event.actor}} by {{.}}{{/event.actor}}"});
    walkRoutedAlert(f, channel, "temperature 91 > 80 <!channel>");
    auto got = on(slack, kSlackPath);
    ASSERT_EQ(got.size(), 3u);
    const char* kinds[] = {"OPENED", "ACKNOWLEDGED", "CLOSED"};
    for (size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_TRUE(got[i]->getValue<bool>("valid")) << got[i]->get("problems").toString();
        auto blocks = got[i]->getObject("body")->getArray("attachments")->getObject(0)->getArray("blocks");
        EXPECT_EQ(at(blocks, 0)->getObject("text")->getValue<std::string>("text"),
                  std::string("CRITICAL ") + kinds[i] + " on dev-1");
        std::string section = at(blocks, 1)->getObject("text")->getValue<std::string>("text");
        EXPECT_EQ(section.rfind("*temperature 91 &gt; 80 &lt;!channel&gt; (rule too hot)", 0), 0u) << section;
    }
}

TEST(Senders, SlackAnswersAreDoneRetriedOrPermanentAsDocumented) {
    AlertFixture f("slack-answers");
    StandIn slack("slack_standin.py");
    struct Case {
        std::vector<std::string> answers;
        std::string status;
        int attempts;
    };
    std::vector<Case> cases = {{{"429:2"}, "DONE", 2},
                               {{"500:rollup_error"}, "DONE", 2},
                               {{"reset"}, "DONE", 2},
                               {{"400:invalid_payload"}, "DEAD", 1},
                               {{"403:action_prohibited"}, "DEAD", 1},
                               {{"404:channel_not_found"}, "DEAD", 1},
                               {{"410:channel_is_archived"}, "DEAD", 1}};
    std::vector<std::string> ids, paths;
    for (size_t i = 0; i < cases.size(); ++i) {
        // A webhook per case (Slack paces per webhook): T and B differ, the secret is 24 characters.
        paths.push_back("/services/T0CASE" + std::to_string(i) + "/B0CASE" + std::to_string(i) +
                        "/abcdefghijklmnopqrstuvwx");
        slack.script(paths.back(), cases[i].answers);
        ids.push_back(
            f.channel("c" + std::to_string(i), "slack", R"({"url":")" + slack.url(paths.back()) + R"("})"));
        enqueueNotice(f, ids.back(), "r" + std::to_string(i));
    }
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_TRUE(f.settled(30000));
    d->stop();
    for (size_t i = 0; i < cases.size(); ++i) {
        SCOPED_TRACE(cases[i].answers[0]);
        EXPECT_EQ(deliveriesOf(ids[i], "status"), cases[i].status) << deliveriesOf(ids[i], "last_error");
        EXPECT_EQ(deliveriesOf(ids[i], "attempts"), std::to_string(cases[i].attempts));
    }
    // Never before Retry-After; the retry carries the same message.
    auto limited = on(slack, paths[0]);
    ASSERT_EQ(limited.size(), 2u);
    EXPECT_GE(limited[1]->getValue<double>("at_ms") - limited[0]->getValue<double>("at_ms"), 2000.0);
    EXPECT_EQ(limited[0]->getObject("body")->getValue<std::string>("text"),
              limited[1]->getObject("body")->getValue<std::string>("text"));
    EXPECT_NE(deliveriesOf(ids[5], "last_error").find("channel_not_found"), std::string::npos);
    // 410: the channel is disabled until someone saves it again.
    EXPECT_EQ(scalarAsOwner("SELECT enabled::text FROM pulse.channels WHERE id = $1::uuid", {ids[6]}),
              "false");
    // A dead letter is an event on its alert.
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.alert_events e JOIN pulse.deliveries d ON d.alert_id = "
                      "e.alert_id WHERE d.channel_id = $1::uuid AND e.kind = 'NOTIFY_FAILED'",
                      {ids[3]}),
        "1");
}

TEST(Senders, PagerDutyTriggersAcknowledgesAndResolvesOneAlertUnderOneDedupKey) {
    AlertFixture f("pagerduty");
    StandIn pd("pagerduty_standin.py");
    std::string channel = f.channel(
        "pd", "pagerduty",
        R"({"routing_key":")" + std::string(kRoutingKey) + R"(","url":")" + pd.url("/v2/enqueue") + R"("})");
    pd.script(kRoutingKey, {"500"});  // the trigger's first attempt fails: its retry has the same dedup_key
    // One worker: the events reach PagerDuty in order.
    int64_t alertId = walkRoutedAlert(f, channel, "temperature 91 > 80", 1);

    auto got = on(pd, "/v2/enqueue");
    ASSERT_EQ(got.size(), 4u);
    std::string dedup = "pulse/" + f.tenantId + "/alert/" + std::to_string(alertId);
    std::vector<std::string> actions;
    for (const auto& r : got) {
        EXPECT_TRUE(r->getValue<bool>("valid")) << r->get("problems").toString();
        EXPECT_EQ(r->getObject("body")->getValue<std::string>("dedup_key"), dedup);
        actions.push_back(r->getObject("body")->getValue<std::string>("event_action"));
    }
    EXPECT_EQ(actions, (std::vector<std::string>{"trigger", "trigger", "acknowledge", "resolve"}));
    auto trigger = got[1]->getObject("body");
    auto payload = trigger->getObject("payload");
    EXPECT_EQ(payload->getValue<std::string>("severity"), "critical");
    EXPECT_EQ(payload->getValue<std::string>("source"), "dev-1");
    EXPECT_EQ(payload->getValue<std::string>("summary"), "temperature 91 > 80 on dev-1");
    EXPECT_EQ(trigger->getArray("links")->getObject(0)->getValue<std::string>("href"),
              std::string(AlertFixture::kConsoleUrl) + "/alerts?status=&open=" + std::to_string(alertId));
    auto incident = pd.get("/_alerts")->getArray("alerts")->getObject(0);
    EXPECT_EQ(incident->getValue<std::string>("status"), "resolved");
    EXPECT_EQ(incident->getValue<int>("incidents"), 1);
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE,DONE,DONE");
}

TEST(Senders, PagerDutyRefusalsAreDeadAndItsRateLimitWaitsHalfAMinute) {
    AlertFixture f("pagerduty-answers");
    StandIn pd("pagerduty_standin.py");
    // A routing key must be 32 characters: checked when the channel is saved.
    EXPECT_THROW(f.channel("short", "pagerduty",
                           R"({"routing_key":"R0123456789ABCDEF","url":")" + pd.url("/v2/enqueue") + R"("})"),
                 std::invalid_argument);
    std::string refusedKey = "Z0123456789ABCDEF0123456789ABCDE",
                limitedKey = "Y0123456789ABCDEF0123456789ABCDE";
    std::string refused =
        f.channel("refused", "pagerduty",
                  R"({"routing_key":")" + refusedKey + R"(","url":")" + pd.url("/v2/enqueue") + R"("})");
    std::string limited =
        f.channel("limited", "pagerduty",
                  R"({"routing_key":")" + limitedKey + R"(","url":")" + pd.url("/v2/enqueue") + R"("})");
    pd.script(refusedKey, {"400"});
    pd.script(limitedKey, {"429"});
    enqueueNotice(f, refused, "a");
    enqueueNotice(f, limited, "b");
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_EQ(pd.waitFor(2, "/v2/enqueue"), 2u);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (deliveriesOf(refused, "status") != "DEAD" && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    while (deliveriesOf(limited, "attempts") != "1" && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    d->stop();
    EXPECT_EQ(deliveriesOf(refused, "status"), "DEAD");
    EXPECT_NE(deliveriesOf(refused, "last_error").find("invalid event"), std::string::npos)
        << deliveriesOf(refused, "last_error");
    // 429 without Retry-After: PagerDuty's guide says retry about 30 s later, not after the usual backoff.
    EXPECT_EQ(deliveriesOf(limited, "status"), "PENDING");
    double waitS =
        std::stod(scalarAsOwner("SELECT extract(epoch FROM next_attempt_at - now()) FROM pulse.deliveries "
                                "WHERE channel_id = $1::uuid",
                                {limited}));
    EXPECT_GT(waitS, 25.0);
}

TEST(Senders, TeamsGetsValidAdaptiveCardsAndItsAnswersAreMapped) {
    AlertFixture f("teams");
    StandIn teams("teams_standin.py", {"--sig", "s3cr3tSig"});
    // The retired Office 365 connector URLs are refused when saved.
    EXPECT_THROW(
        f.channel("legacy", "teams",
                  R"({"url":"https://acme.webhook.office.com/webhookb2/0123@abcd/IncomingWebhook/x/y"})"),
        std::invalid_argument);
    std::string channel = f.channel(
        "teams", "teams", R"({"url":")" + teams.url(std::string(kTeamsPath) + kTeamsQuery) + R"("})");
    teams.script(kTeamsPath, {"429:1", "500"});  // the opening is retried twice, never before Retry-After
    int64_t alertId = walkRoutedAlert(f, channel, "temperature 91 > 80 [x](http://evil.example)", 1);
    auto got = on(teams, kTeamsPath);
    ASSERT_EQ(got.size(), 5u);
    EXPECT_GE(got[1]->getValue<double>("at_ms") - got[0]->getValue<double>("at_ms"), 1000.0);
    std::vector<std::string> titles;
    for (size_t i = 2; i < got.size(); ++i) {
        auto r = got[i];
        EXPECT_EQ(r->getValue<int>("status"), 202);
        EXPECT_TRUE(r->getValue<bool>("valid")) << r->get("problems").toString();
        auto card = r->getObject("body")->getArray("attachments")->getObject(0)->getObject("content");
        auto container = card->getArray("body")->getObject(0);
        titles.push_back(container->getArray("items")->getObject(0)->getValue<std::string>("text"));
        std::string sentence = container->getArray("items")->getObject(1)->getValue<std::string>("text");
        EXPECT_NE(sentence.find("\\[x\\](http://evil.example)"), std::string::npos) << sentence;
        EXPECT_EQ(card->getArray("actions")->getObject(0)->getValue<std::string>("url"),
                  std::string(AlertFixture::kConsoleUrl) + "/alerts?status=&open=" + std::to_string(alertId));
    }
    EXPECT_EQ(titles, (std::vector<std::string>{"CRITICAL alert opened: too hot", "Acknowledged: too hot",
                                                "Closed: too hot"}));
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE,DONE,DONE");
    EXPECT_EQ(deliveriesOf(channel, "attempts"), "3,1,1");

    // A wrong sig (the flow's URL was regenerated) is permanent.
    std::string wrong =
        f.channel("wrong-sig", "teams",
                  R"({"url":")" +
                      teams.url(std::string(kTeamsPath) +
                                "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=old") +
                      R"("})");
    enqueueNotice(f, wrong, "w");
    auto d2 = f.dispatcher(fastDispatch(1));
    d2->start();
    ASSERT_TRUE(f.settled());
    d2->stop();
    EXPECT_EQ(deliveriesOf(wrong, "status"), "DEAD");
    EXPECT_EQ(deliveriesOf(wrong, "attempts"), "1");
}

TEST(Senders, CredentialsAreWriteOnlyAndPrivateTargetsAreRefusedWhenSaved) {
    AlertFixture f("sender-secrets");
    StandIn slack("slack_standin.py");
    std::string slackId = f.channel("slack", "slack", R"({"url":")" + slack.url(kSlackPath) + R"("})");
    std::string pdId = f.channel(
        "pd", "pagerduty",
        R"({"routing_key":")" + std::string(kRoutingKey) + R"(","url":"http://127.0.0.1:1/v2/enqueue"})");
    for (const auto& [id, secret] : {std::pair{slackId, std::string("abcdefghijklmnopqrstuvwx")},
                                     std::pair{pdId, std::string(kRoutingKey)}}) {
        std::string masked = f.channels->maskedConfig(f.tenantId, id);
        EXPECT_EQ(masked.find(secret), std::string::npos) << masked;
        EXPECT_NE(masked.find("\"***\""), std::string::npos) << masked;
        EXPECT_EQ(
            scalarAsOwner("SELECT config::text FROM pulse.channels WHERE id = $1::uuid", {id}).find(secret),
            std::string::npos);
    }
    // Private, loopback (outside the allow-list), link-local and metadata targets: refused when saved,
    // without saying what the name resolved to.
    for (std::string host :
         {"10.0.0.1", "169.254.169.254", "127.0.0.2", "[::ffff:127.0.0.1]", "192.168.1.1"}) {
        SCOPED_TRACE(host);
        try {
            f.channel("x", "slack", R"({"url":"http://)" + host + std::string(kSlackPath) + R"("})");
            ADD_FAILURE() << "saved";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("not allowed"), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).find("abcdefghijklmnopqrstuvwx"), std::string::npos) << e.what();
        }
        EXPECT_THROW(
            f.channel("y", "teams", R"({"url":"http://)" + host + kTeamsPath + kTeamsQuery + R"("})"),
            std::invalid_argument);
        EXPECT_THROW(f.channel("z", "pagerduty",
                               R"({"routing_key":")" + std::string(kRoutingKey) + R"(","url":"http://)" +
                                   host + R"(/v2/enqueue"})"),
                     std::invalid_argument);
    }
}

namespace {

// One delivery to each channel, each of its own alert (an alert's deliveries to a channel go one at a time).
void feedRound(AlertFixture& f, const std::string& rule, const std::vector<std::string>& channels) {
    storage::PgConnection conn(ownerUri());
    for (const auto& c : channels)
        conn.query(
            "WITH a AS (INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, triggered_at, "
            "status, "
            "closed_at) VALUES ($1::uuid, $2::uuid, $3::bigint, 'LOW', now(), 'CLOSED', now()) RETURNING "
            "id), "
            "e AS (INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) SELECT $1::uuid, a.id, "
            "'OPENED' "
            "FROM a RETURNING id, alert_id) "
            "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, payload, max_attempts) "
            "SELECT $1::uuid, e.alert_id, e.id, $4::uuid, '{\"type\":\"alert.opened\"}', 3 FROM e",
            {f.tenantId, rule, std::to_string(f.deviceId), c});
}

// p99 of queued -> done of the deliveries to these channels with an id above `after`, in ms.
double p99Since(const std::vector<std::string>& channels, const std::string& after) {
    std::string list;
    for (const auto& c : channels) list += (list.empty() ? "" : ",") + c;
    return std::stod(scalarAsOwner(
        "SELECT coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - "
        "created_at) * 1000), 0) FROM pulse.deliveries WHERE status = 'DONE' AND id > $2::bigint AND "
        "channel_id = ANY (string_to_array($1, ',')::uuid[])",
        {list, after}));
}

}  // namespace

// R6 for every sender: a service that hangs (Slack, PagerDuty and Teams in turn) holds no more of the
// dispatcher's workers than its channel's cap, so the deliveries to other channels keep their latency. The
// healthy deliveries come at a steady pace, as notices do: a burst would measure queueing, which fewer free
// workers lengthen by design. Asserted: their p99 beside the hanging service within 20 % of their p99 alone
// (plus 20 ms, the dispatcher's poll interval and timer noise, which dominate latencies this small).
TEST(Senders, AHangingServiceDoesNotDelayOtherChannelsDeliveries) {
    AlertFixture f("r6-senders");
    std::string rule = f.ruleId("feed", "threshold", R"({"metric":"t","operator":"GT","threshold":1})");
    std::vector<std::string> healthy;
    for (int i = 0; i < 6; ++i) healthy.push_back(f.webhookChannel("ok" + std::to_string(i), "/ok"));
    auto s = fastDispatch(8);
    s.attemptTimeout = std::chrono::milliseconds(4000);
    s.breakerFailures = 3;
    s.breakerOpen = std::chrono::seconds(30);
    auto d = f.dispatcher(s);
    d->start();
    auto phase = [&](const char* label) {
        std::string mark = scalarAsOwner("SELECT coalesce(max(id), 0) FROM pulse.deliveries");
        for (int round = 0; round < 25; ++round) {
            feedRound(f, rule, healthy);
            std::this_thread::sleep_for(std::chrono::milliseconds(60));
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline &&
               scalarAsOwner(
                   "SELECT count(*) FROM pulse.deliveries WHERE id > $1::bigint AND status = 'PENDING' "
                   "AND channel_id = ANY (string_to_array($2, ',')::uuid[])",
                   {mark, [&] {
                        std::string l;
                        for (const auto& c : healthy) l += (l.empty() ? "" : ",") + c;
                        return l;
                    }()}) != "0")
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        double p99 = p99Since(healthy, mark);
        std::printf("[ figure ] R6 %s: healthy deliveries p99 %.1f ms\n", label, p99);
        return p99;
    };
    double alone = phase("alone");

    StandIn slack("slack_standin.py"), pd("pagerduty_standin.py"), teams("teams_standin.py");
    StandIn smtp("smtp_server.py");
    int smtpPort = smtp.get("/_info")->getObject("ports")->getValue<int>("plain");
    // A broker that takes the connection and never answers CONNECT: the kernel accepts into the backlog.
    Poco::Net::ServerSocket silentBroker(Poco::Net::SocketAddress("127.0.0.1", 0), 64);
    struct Slow {
        std::string type, config;
        std::function<void()> hang;  // makes the service hang from now on
    };
    auto scripted = [](StandIn& st, const std::string& key) {
        return [&st, key] { st.script(key, std::vector<std::string>(20, "hang:30")); };
    };
    std::vector<Slow> slow = {
        {"slack", R"({"timeout_ms":3000,"url":")" + slack.url(kSlackPath) + R"("})",
         scripted(slack, kSlackPath)},
        {"pagerduty",
         R"({"timeout_ms":3000,"routing_key":")" + std::string(kRoutingKey) + R"(","url":")" +
             pd.url("/v2/enqueue") + R"("})",
         scripted(pd, kRoutingKey)},
        {"teams",
         R"({"timeout_ms":3000,"url":")" + teams.url(std::string(kTeamsPath) + kTeamsQuery) + R"("})",
         scripted(teams, kTeamsPath)},
        {"smtp",
         R"({"timeout_ms":3000,"host":"127.0.0.1","port":)" + std::to_string(smtpPort) +
             R"(,"tls":"none","from":"alerts@example.com","to":["slow@example.com"]})",
         scripted(smtp, "slow@example.com")},
        {"mqtt",
         R"({"timeout_ms":3000,"host":"127.0.0.1","tls":false,"port":)" +
             std::to_string(silentBroker.address().port()) + "}",
         [] {}}};
    for (const auto& x : slow) {
        SCOPED_TRACE(x.type);
        x.hang();
        std::string channel = f.channel("slow-" + x.type, x.type, x.config, 2);
        for (int i = 0; i < 10; ++i) enqueueNotice(f, channel, "slow-" + x.type + std::to_string(i));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the hanging attempts have begun
        double beside = phase(("beside a hanging " + x.type).c_str());
        if (beside > alone * 1.2 + 20) {
            // One more look before calling it: a p99 of 150 samples is the second slowest, and one stall of
            // the machine decides it. The hanging attempts are still in flight.
            beside = std::min(beside, phase(("again beside a hanging " + x.type).c_str()));
        }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
        // Under the sanitizers the slowdown is uneven (instrumented code, shadow memory): printed only.
        (void)beside;
#else
        EXPECT_LE(beside, alone * 1.2 + 20)
            << "healthy p99 " << beside << " ms beside a hanging " << x.type << ", " << alone << " ms alone";
#endif
        scalarAsOwner(
            "UPDATE pulse.deliveries SET status = 'DEAD', completed_at = now() WHERE channel_id = $1::uuid "
            "AND status = 'PENDING' RETURNING id",
            {channel});
    }
    d->stop();
}

// R8: PagerDuty accepted the event, pulsed died before recording it; the event sent again has the same
// dedup_key, so PagerDuty folds it into the same incident.
TEST(Senders, PagerDutyGetsTheSameDedupKeyAfterACrash) {
    AlertFixture f("pd-crash");
    StandIn pd("pagerduty_standin.py");
    std::string channel = f.channel(
        "pd", "pagerduty",
        R"({"routing_key":")" + std::string(kRoutingKey) + R"(","url":")" + pd.url("/v2/enqueue") + R"("})");
    enqueueNotice(f, channel, "r-crash");
    crashAfterDeliveryThenRedeliver(f, [&] { return on(pd, "/v2/enqueue").size(); });
    auto got = on(pd, "/v2/enqueue");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0]->getObject("body")->getValue<std::string>("dedup_key"),
              got[1]->getObject("body")->getValue<std::string>("dedup_key"));
    EXPECT_EQ(deliveriesOf(channel, "status"), "DONE");
}
