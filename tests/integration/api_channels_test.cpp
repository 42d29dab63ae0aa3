// Notification channels and routing rules: secrets stay sealed, internal targets are refused.
#include "api_fixture.h"

#include <Poco/File.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

using namespace pulse::test;

namespace {
class ApiChannels : public ApiTest {};

// The strict Standard Webhooks receiver (tests/standins/webhook_receiver.py) as a child, stopped with it.
struct WebhookReceiverProcess {
    std::string dir;
    std::unique_ptr<Child> child;
    int port = 0;
    explicit WebhookReceiverProcess(const std::string& name) : dir(tempDir(name)) {
        std::string portFile = dir + "/port";
        child = std::make_unique<Child>(
            std::vector<std::string>{"/usr/bin/python3",
                                     PULSE_SOURCE_DIR "/tests/standins/webhook_receiver.py", "--secret",
                                     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--port-file", portFile},
            std::map<std::string, std::string>{}, dir + "/receiver.log");
        for (int i = 0; i < 100 && !Poco::File(portFile).exists(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (Poco::File(portFile).exists())
            port = std::stoi(readFile(portFile));
        else
            ADD_FAILURE() << "webhook_receiver.py did not start: " << child->output();
    }
    ~WebhookReceiverProcess() {
        child->signal(SIGTERM);
        child->wait(5000);
    }
};
}  // namespace

// S9 and S8 through the API: secrets never come back, a masked value sent back keeps the secret, and a
// tenant-chosen target on an internal address is refused when saved.
TEST_F(ApiChannels, ChannelSecretsNeverLeaveAndInternalTargetsAreRefused) {
    auto admin = login(a_.admin);
    std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    auto internal =
        call("POST", "/api/v1/channels",
             "{\"name\":\"inside\",\"type\":\"webhook\",\"config\":{\"url\":\"http://169.254.169.254/x\","
             "\"secret\":\"" +
                 secret + "\"}}",
             with(admin));
    EXPECT_EQ(internal.status, 422) << internal.body;
    auto created = call("POST", "/api/v1/channels",
                        "{\"name\":\"ops\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:9/p\","
                        "\"secret\":\"" +
                            secret + "\"}}",
                        with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.body.find(secret), std::string::npos);
    auto channel = json(created.body);
    EXPECT_EQ(channel->getObject("config")->getValue<std::string>("secret"), "***");
    std::string id = channel->getValue<std::string>("id");
    std::string sealed =
        scalar("SELECT encode(secrets, 'hex') FROM pulse.channels WHERE id = $1::uuid", {id});
    ASSERT_FALSE(sealed.empty());
    // The masked value sent back with another change keeps the stored secret.
    auto updated = call("PUT", "/api/v1/channels/" + id + "/config",
                        "{\"url\":\"http://127.0.0.1:9/q\",\"secret\":\"***\"}", with(admin));
    EXPECT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(json(updated.body)->getObject("config")->getValue<std::string>("url"), "http://127.0.0.1:9/q");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.channels WHERE id = $1::uuid AND secrets IS NOT NULL", {id}),
              "1");
    for (const auto& path : {std::string("/api/v1/channels"), "/api/v1/channels/" + id,
                             std::string("/api/v1/audit-log?limit=200")}) {
        auto r = call("GET", path, "", with(admin, false));
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.body.find(secret), std::string::npos) << path;
    }
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE detail::text LIKE '%' || $1 || '%'", {secret}),
        "0");
    // Routing to a channel of another tenant is refused.
    auto adminB = login(b_.admin);
    auto route = call("POST", "/api/v1/routing-rules", "{\"channel_id\":\"" + id + "\"}", with(adminB));
    EXPECT_EQ(route.status, 422) << route.body;
    EXPECT_EQ(call("POST", "/api/v1/routing-rules",
                   "{\"channel_id\":\"" + id + "\",\"severities\":[\"HIGH\"]}", with(admin))
                  .status,
              201);
    EXPECT_EQ(call("GET", "/api/v1/channels/" + id, "", with(adminB, false)).status, 404);
    EXPECT_NE(call("GET", "/api/v1/routing-rules", "", with(admin, false)).body.find(id), std::string::npos);
}

// Routing rules are replaced and deleted; a deleted channel takes its routing rules with it, keeps its
// row for the deliveries' history, and gives its name up.
TEST_F(ApiChannels, RoutingRulesChangeAndGoAndADeletedChannelKeepsItsHistory) {
    auto admin = login(a_.admin);
    auto channel =
        call("POST", "/api/v1/channels",
             "{\"name\":\"pager\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:9/p\","
             "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
             with(admin));
    ASSERT_EQ(channel.status, 201) << channel.body;
    std::string channelId = json(channel.body)->getValue<std::string>("id");
    auto route = call("POST", "/api/v1/routing-rules",
                      "{\"channel_id\":\"" + channelId + "\",\"name\":\"all\"}", with(admin));
    ASSERT_EQ(route.status, 201) << route.body;
    std::string routeId = json(route.body)->getValue<std::string>("id");

    auto replaced = call("PUT", "/api/v1/routing-rules/" + routeId,
                         "{\"channel_id\":\"" + channelId +
                             "\",\"name\":\"critical only\",\"severities\":[\"CRITICAL\"],\"throttle_s\":300,"
                             "\"enabled\":false}",
                         with(admin));
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    auto r = json(replaced.body);
    EXPECT_EQ(r->getValue<std::string>("name"), "critical only");
    EXPECT_EQ(r->getValue<int>("throttle_s"), 300);
    EXPECT_FALSE(r->getValue<bool>("enabled"));
    EXPECT_EQ(r->getArray("severities")->getElement<std::string>(0), "CRITICAL");
    // Refusals: an unknown severity, another tenant's channel, no such rule, another tenant, a customer.
    EXPECT_EQ(call("PUT", "/api/v1/routing-rules/" + routeId,
                   "{\"channel_id\":\"" + channelId + "\",\"severities\":[\"LOUD\"]}", with(admin))
                  .status,
              422);
    auto foreignChannel = call("PUT", "/api/v1/routing-rules/" + routeId,
                               "{\"channel_id\":\"" + b_.channelId + "\"}", with(admin));
    EXPECT_EQ(foreignChannel.status, 422) << foreignChannel.body;
    EXPECT_EQ(json(foreignChannel.body)->getValue<std::string>("field"), "channel_id");
    EXPECT_EQ(call("PUT", "/api/v1/routing-rules/00000000-0000-4000-8000-000000000000",
                   "{\"channel_id\":\"" + channelId + "\"}", with(admin))
                  .status,
              404);
    auto adminB = login(b_.admin);
    EXPECT_EQ(call("PUT", "/api/v1/routing-rules/" + routeId, "{\"channel_id\":\"" + channelId + "\"}",
                   with(adminB))
                  .status,
              404);
    EXPECT_EQ(call("DELETE", "/api/v1/routing-rules/" + routeId, "", with(adminB)).status, 404);
    auto customer = login(a_.customer);
    EXPECT_EQ(call("DELETE", "/api/v1/routing-rules/" + routeId, "", with(customer)).status, 403);
    EXPECT_EQ(call("DELETE", "/api/v1/routing-rules/" + routeId, "", with(admin)).status, 204);
    EXPECT_EQ(call("DELETE", "/api/v1/routing-rules/" + routeId, "", with(admin)).status, 404);
    // Audited (S10): made, replaced, the three refused replacements of it (a bad severity, another tenant's
    // channel, another tenant's admin), deleted.
    EXPECT_EQ(scalar("SELECT string_agg(action || ':' || result, ',' ORDER BY id) FROM pulse.audit_log WHERE "
                     "action LIKE 'routing_rule.%' AND target = $1",
                     {routeId}),
              "routing_rule.create:ok,routing_rule.update:ok,routing_rule.update:failed,routing_rule.update:"
              "failed,routing_rule.update:failed,routing_rule.delete:ok");

    // A delivery made through a routing rule of the channel (as the alert writer makes them).
    auto second =
        call("POST", "/api/v1/routing-rules", "{\"channel_id\":\"" + channelId + "\"}", with(admin));
    ASSERT_EQ(second.status, 201);
    std::string secondId = json(second.body)->getValue<std::string>("id");
    std::string eventId = scalar(
        "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) VALUES ($1::uuid, $2::bigint, 'OPENED') "
        "RETURNING id",
        {a_.id, a_.alertId});
    scalar(
        "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, routing_rule_id, payload, "
        "max_attempts) VALUES ($1::uuid, $2::bigint, $3::bigint, $4::uuid, $5::uuid, '{}', 3) RETURNING id",
        {a_.id, a_.alertId, eventId, channelId, secondId});
    EXPECT_EQ(call("DELETE", "/api/v1/channels/" + channelId, "", with(adminB)).status, 404);
    EXPECT_EQ(call("DELETE", "/api/v1/channels/" + channelId, "", with(customer)).status, 403);
    EXPECT_EQ(call("DELETE", "/api/v1/channels/" + channelId, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/channels/" + channelId, "", with(admin, false)).status, 404);
    EXPECT_EQ(call("GET", "/api/v1/routing-rules", "", with(admin, false)).body.find(channelId),
              std::string::npos);
    EXPECT_EQ(
        scalar(
            "SELECT count(*) FROM pulse.deliveries WHERE channel_id = $1::uuid AND routing_rule_id IS NULL",
            {channelId}),
        "1");
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.channels WHERE id = $1::uuid AND deleted_at IS NOT NULL AND NOT "
               "enabled AND secrets IS NULL",
               {channelId}),
        "1");
    EXPECT_EQ(call("DELETE", "/api/v1/channels/" + channelId, "", with(admin)).status, 404);
    EXPECT_EQ(call("POST", "/api/v1/channels",
                   "{\"name\":\"pager\",\"type\":\"webhook\",\"config\":{\"url\":"
                   "\"http://127.0.0.1:9/p\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
                   with(admin))
                  .status,
              201);
}

// A routing rule's grouping (by rule and/or site, its three timers) is kept as given, defaults to
// Alertmanager's, and each bad setting is refused naming its field.
TEST_F(ApiChannels, RoutingRulesTakeGroupingSettingsAndRefuseBadOnesByField) {
    auto admin = login(a_.admin);
    auto channel =
        call("POST", "/api/v1/channels",
             "{\"name\":\"grouped\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:9/g\","
             "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
             with(admin));
    ASSERT_EQ(channel.status, 201) << channel.body;
    std::string channelId = json(channel.body)->getValue<std::string>("id");
    auto route = call("POST", "/api/v1/routing-rules",
                      "{\"channel_id\":\"" + channelId +
                          "\",\"group_by\":[\"rule\",\"site\"],\"group_wait_s\":10,\"group_interval_s\":60,"
                          "\"repeat_interval_s\":0}",
                      with(admin));
    ASSERT_EQ(route.status, 201) << route.body;
    std::string routeId = json(route.body)->getValue<std::string>("id");
    auto listed = json(call("GET", "/api/v1/routing-rules", "", with(admin)).body)->getArray("items");
    Poco::JSON::Object::Ptr found;
    for (size_t i = 0; i < listed->size(); ++i)
        if (listed->getObject(static_cast<unsigned>(i))->getValue<std::string>("id") == routeId)
            found = listed->getObject(static_cast<unsigned>(i));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->getArray("group_by")->size(), 2u);
    EXPECT_EQ(found->getValue<int>("group_wait_s"), 10);
    EXPECT_EQ(found->getValue<int>("group_interval_s"), 60);
    EXPECT_EQ(found->getValue<int>("repeat_interval_s"), 0);
    // Left out, the timers take Alertmanager's defaults (30 s, 5 min, 4 h) and nothing is grouped.
    auto plain = call("PUT", "/api/v1/routing-rules/" + routeId, "{\"channel_id\":\"" + channelId + "\"}",
                      with(admin));
    ASSERT_EQ(plain.status, 200) << plain.body;
    EXPECT_EQ(json(plain.body)->getArray("group_by")->size(), 0u);
    EXPECT_EQ(json(plain.body)->getValue<int>("repeat_interval_s"), 14400);
    // Each refusal names its field, and nothing is kept.
    for (auto [body, field] :
         {std::pair{"\"group_by\":[\"device\"]", "group_by"},
          std::pair{"\"group_by\":[\"rule\",\"rule\"]", "group_by"},
          std::pair{"\"group_by\":\"rule\"", "group_by"}, std::pair{"\"group_wait_s\":3601", "group_wait_s"},
          std::pair{"\"group_interval_s\":0", "group_interval_s"},
          std::pair{"\"repeat_interval_s\":-1", "repeat_interval_s"}}) {
        SCOPED_TRACE(body);
        auto refused = call("PUT", "/api/v1/routing-rules/" + routeId,
                            "{\"channel_id\":\"" + channelId + "\"," + body + "}", with(admin));
        EXPECT_EQ(refused.status, 422) << refused.body;
        EXPECT_EQ(json(refused.body)->getValue<std::string>("field"), field);
    }
    listed = json(call("GET", "/api/v1/routing-rules", "", with(admin)).body)->getArray("items");
    for (size_t i = 0; i < listed->size(); ++i)
        if (listed->getObject(static_cast<unsigned>(i))->getValue<std::string>("id") == routeId)
            found = listed->getObject(static_cast<unsigned>(i));
    EXPECT_EQ(found->getArray("group_by")->size(), 0u);
    EXPECT_EQ(found->getValue<int>("group_wait_s"), 30);
    EXPECT_EQ(found->getValue<int>("group_interval_s"), 300);
    EXPECT_EQ(found->getValue<int>("repeat_interval_s"), 14400);
    // The groups list: none yet; its filter is checked.
    auto groups = call("GET", "/api/v1/notification-groups?status=all", "", with(admin));
    ASSERT_EQ(groups.status, 200) << groups.body;
    EXPECT_EQ(call("GET", "/api/v1/notification-groups?status=maybe", "", with(admin)).status, 400);
}

// A test notification goes out at once through the channel's sender, and its answer is the dispatcher's
// reading of the other side: delivered, permanent, retry.
TEST_F(ApiChannels, ATestNotificationSaysWhatTheOtherSideAnswered) {
    WebhookReceiverProcess receiver("test-notification");
    ASSERT_GT(receiver.port, 0);
    int port = receiver.port;
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    auto admin = login(a_.admin);
    auto channelTo = [&](const std::string& name, const std::string& url) {
        auto c = call("POST", "/api/v1/channels",
                      "{\"name\":\"" + name + "\",\"type\":\"webhook\",\"config\":{\"url\":\"" + url +
                          "\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
                      with(admin));
        EXPECT_EQ(c.status, 201) << c.body;
        return json(c.body)->getValue<std::string>("id");
    };
    auto test = [&](const std::string& id) {
        return call("POST", "/api/v1/channels/" + id + "/test", "", with(admin));
    };

    auto ok = test(channelTo("test-ok", base + "/ok"));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(json(ok.body)->getValue<std::string>("outcome"), "delivered") << ok.body;
    EXPECT_EQ(json(ok.body)->getValue<int>("status_code"), 200);
    auto log = httpGet(port, "/_log").body;
    EXPECT_NE(log.find("\"valid\": true"), std::string::npos) << log;  // signed as a real delivery is

    auto gone = test(channelTo("test-gone", base + "/status/410"));
    EXPECT_EQ(json(gone.body)->getValue<std::string>("outcome"), "permanent") << gone.body;
    EXPECT_EQ(json(gone.body)->getValue<int>("status_code"), 410);
    auto refused = test(channelTo("test-refused", "http://127.0.0.1:9/nobody"));
    EXPECT_EQ(json(refused.body)->getValue<std::string>("outcome"), "retry") << refused.body;

    // Nothing was queued; the attempt is audited; a customer may not send one; another tenant sees no
    // channel.
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.deliveries WHERE payload LIKE '%alert.test%'"), "0");
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'channel.test' AND tenant_id = $1::uuid",
               {a_.id}),
        "3");
    auto customer = login(a_.customer);
    EXPECT_EQ(call("POST", "/api/v1/channels/" + a_.channelId + "/test", "", with(customer)).status, 403);
    auto adminB = login(b_.admin);
    EXPECT_EQ(call("POST", "/api/v1/channels/" + a_.channelId + "/test", "", with(adminB)).status, 404);
}

// Message templates: previewed on a sample alert, refused with the field when wrong, saved on the channel
// and applied to what its sender sends (the test notification renders them too); tenant-admins only.
TEST_F(ApiChannels, MessageTemplatesArePreviewedCheckedSavedAndSent) {
    WebhookReceiverProcess receiver("templates");
    ASSERT_GT(receiver.port, 0);
    int port = receiver.port;
    auto admin = login(a_.admin);
    std::string templates =
        R"({"title":"[{{alert.severity}}] {{alert.rule.name}}","text":"{{alert.summary}} on {{alert.device.name}}{{#alert.site}} at {{name}}{{/alert.site}}"})";

    auto preview = call("POST", "/api/v1/message-templates/preview", templates, with(admin));
    ASSERT_EQ(preview.status, 200) << preview.body;
    EXPECT_EQ(json(preview.body)->getValue<std::string>("title"), "[CRITICAL] too hot");
    EXPECT_EQ(json(preview.body)->getValue<std::string>("text"),
              "temperature 91 > 80 on boiler-2 at Plant 1");
    // A group's notice may be worded too: its summary and the alerts it lists.
    auto grouped = call("POST", "/api/v1/message-templates/preview",
                        R"({"title":"{{#group}}{{summary}}{{/group}}{{^group}}{{alert.summary}}{{/group}}",)"
                        R"("text":"{{#group.alerts}}{{device.name}}: {{severity}}; {{/group.alerts}}"})",
                        with(admin));
    ASSERT_EQ(grouped.status, 200) << grouped.body;
    EXPECT_EQ(json(grouped.body)->getValue<std::string>("title"), "temperature 91 > 80");
    EXPECT_EQ(json(grouped.body)->getValue<std::string>("text"), "");
    auto group = json(grouped.body)->getObject("group");
    EXPECT_EQ(group->getValue<std::string>("title"), "2 alerts (2 open) of too hot");
    EXPECT_EQ(group->getValue<std::string>("text"), "boiler-2: CRITICAL; boiler-3: HIGH; ");
    EXPECT_EQ(group->getObject("notice")->getObject("group")->getArray("alerts")->size(), 2u);
    EXPECT_EQ(call("POST", "/api/v1/message-templates/preview",
                   R"({"text":"{{#group.alerts}}{{device.nam}}{{/group.alerts}}"})", with(admin))
                  .status,
              422);
    auto wrong =
        call("POST", "/api/v1/message-templates/preview", R"({"text":"{{alert.sumary}}"})", with(admin));
    EXPECT_EQ(wrong.status, 422) << wrong.body;
    EXPECT_NE(wrong.body.find("is not a field of the alert notice"), std::string::npos) << wrong.body;
    EXPECT_NE(wrong.body.find("\"field\":\"text\""), std::string::npos) << wrong.body;
    EXPECT_EQ(call("POST", "/api/v1/message-templates/preview", R"({"body":"x"})", with(admin)).status, 422);

    auto created =
        call("POST", "/api/v1/channels",
             "{\"name\":\"templated\",\"type\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:" +
                 std::to_string(port) + "/t\",\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}}",
             with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = json(created.body)->getValue<std::string>("id");
    EXPECT_EQ(json(created.body)->getObject("templates")->size(), 0u);
    EXPECT_EQ(
        call("PUT", "/api/v1/channels/" + id + "/templates", R"({"title":"{{> x}}"})", with(admin)).status,
        422);
    auto saved = call("PUT", "/api/v1/channels/" + id + "/templates", templates, with(admin));
    ASSERT_EQ(saved.status, 200) << saved.body;
    EXPECT_EQ(json(saved.body)->getObject("templates")->getValue<std::string>("title"),
              "[{{alert.severity}}] {{alert.rule.name}}");
    auto sent = call("POST", "/api/v1/channels/" + id + "/test", "", with(admin));
    ASSERT_EQ(sent.status, 200) << sent.body;
    auto log = httpGet(port, "/_log").body;
    EXPECT_NE(log.find("[INFO] Test"), std::string::npos) << log;  // the test notice, rendered
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'channel.templates' AND tenant_id = "
               "$1::uuid",
               {a_.id}),
        "2");  // the refused one and the saved one

    auto customer = login(a_.customer);
    EXPECT_EQ(call("PUT", "/api/v1/channels/" + id + "/templates", templates, with(customer)).status, 403);
    auto adminB = login(b_.admin);
    EXPECT_EQ(call("PUT", "/api/v1/channels/" + id + "/templates", templates, with(adminB)).status, 404);
}
