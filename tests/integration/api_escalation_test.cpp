// /api/v1/escalation-policies and /api/v1/users/{id}/contact-methods: saved whole and read back with their
// targets' names, bad input answered by a problem naming the field, deletes refused while a rule names the
// policy, another tenant's ids refused like unknown ones, changes audited, and a user's contact methods
// theirs and their admins' to change.
#include "api_fixture.h"

#include <gtest/gtest.h>

using namespace pulse::test;

namespace {

class ApiEscalation : public ApiTest {};

std::string policyBody(const std::string& name, const std::string& levels, const std::string& extra = "") {
    return "{\"name\":\"" + name + "\",\"levels\":" + levels + extra + "}";
}

std::string channelLevel(const std::string& channel, int delay = 300) {
    return "{\"delay_s\":" + std::to_string(delay) + ",\"targets\":[{\"type\":\"channel\",\"id\":\"" +
           channel + "\"}]}";
}

}  // namespace

TEST_F(ApiEscalation, PoliciesAreSavedWholeCheckedAndAudited) {
    auto admin = login(a_.admin);
    std::string levels = "[" + channelLevel(a_.channelId, 120) +
                         ",{\"delay_s\":600,\"targets\":[{\"type\":\"user\",\"id\":\"" + a_.adminId +
                         "\"},{\"type\":\"channel\",\"id\":\"" + a_.channelId + "\"}]}]";
    auto created = call("POST", "/api/v1/escalation-policies",
                        policyBody("night", levels, ",\"repeat\":2,\"default\":true"), with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    auto p = json(created.body);
    std::string id = p->getValue<std::string>("id");
    EXPECT_EQ(p->getValue<int>("repeat"), 2);
    EXPECT_TRUE(p->getValue<bool>("default"));
    auto second = p->getArray("levels")->getObject(1);
    EXPECT_EQ(second->getValue<int>("delay_s"), 600);
    EXPECT_EQ(second->getArray("targets")->getObject(0)->getValue<std::string>("type"), "user");
    EXPECT_FALSE(second->getArray("targets")->getObject(1)->getValue<std::string>("name").empty());
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'escalation_policy.create' AND target = "
               "$1",
               {id}),
        "1");

    // A second default takes the default from the first.
    auto other =
        call("POST", "/api/v1/escalation-policies",
             policyBody("day", "[" + channelLevel(a_.channelId) + "]", ",\"default\":true"), with(admin));
    ASSERT_EQ(other.status, 201) << other.body;
    EXPECT_FALSE(json(call("GET", "/api/v1/escalation-policies/" + id, "", with(admin)).body)
                     ->getValue<bool>("default"));

    struct Bad {
        std::string body;
        int status;
        std::string field;
    };
    std::string six = "[";
    for (int i = 0; i < 6; ++i) six += (i ? "," : "") + channelLevel(a_.channelId);
    six += "]";
    std::vector<Bad> bad = {
        {policyBody("six", six), 422, "levels[5]"},
        {policyBody("none", "[]"), 422, "levels"},
        {policyBody("slow", "[" + channelLevel(a_.channelId, 86401) + "]"), 422, "levels[0].delay_s"},
        {policyBody("nobody", "[{\"targets\":[]}]"), 422, "levels[0].targets"},
        {policyBody("kind", "[{\"targets\":[{\"type\":\"team\",\"id\":\"" + a_.adminId + "\"}]}]"), 422,
         "levels[0].targets[0].type"},
        {policyBody("twice", "[{\"targets\":[{\"type\":\"channel\",\"id\":\"" + a_.channelId +
                                 "\"},{\"type\":\"channel\",\"id\":\"" + a_.channelId + "\"}]}]"),
         422, "levels[0].targets[1]"},
        // Another tenant's channel is refused like an unknown one.
        {policyBody("theirs", "[" + channelLevel(a_.channelId) + "," + channelLevel(b_.channelId) + "]"), 422,
         "levels[1].targets[0].id"},
        {policyBody("many", "[" + channelLevel(a_.channelId) + "]", ",\"repeat\":10"), 422, "repeat"},
        {policyBody("night", "[" + channelLevel(a_.channelId) + "]"), 409, "name"},
    };
    for (const auto& b : bad) {
        auto r = call("POST", "/api/v1/escalation-policies", b.body, with(admin));
        EXPECT_EQ(r.status, b.status) << b.body << ": " << r.body;
        EXPECT_EQ(json(r.body)->optValue<std::string>("field", ""), b.field) << r.body;
    }

    // Replaced whole; a rule naming it keeps it from being deleted.
    auto replaced = call("PUT", "/api/v1/escalation-policies/" + id,
                         policyBody("night", "[" + channelLevel(a_.channelId, 60) + "]"), with(admin));
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_EQ(json(replaced.body)->getArray("levels")->size(), 1u);
    auto rule =
        call("POST", "/api/v1/rules",
             "{\"name\":\"esc-rule\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":"
             "\"GT\",\"threshold\":1},\"escalation_policy_id\":\"" +
                 id + "\"}",
             with(admin));
    ASSERT_EQ(rule.status, 201) << rule.body;
    EXPECT_EQ(json(rule.body)->getValue<std::string>("escalation_policy_id"), id);
    auto unknownPolicy = call("POST", "/api/v1/rules",
                              "{\"name\":\"esc-rule-2\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\","
                              "\"operator\":\"GT\",\"threshold\":1},\"escalation_policy_id\":\"" +
                                  std::string("00000000-0000-4000-8000-000000000000") + "\"}",
                              with(admin));
    EXPECT_EQ(unknownPolicy.status, 422);
    EXPECT_EQ(json(unknownPolicy.body)->optValue<std::string>("field", ""), "escalation_policy_id");
    EXPECT_EQ(call("DELETE", "/api/v1/escalation-policies/" + id, "", with(admin)).status, 409);
    std::string ruleId = json(rule.body)->getValue<std::string>("id");
    ASSERT_EQ(call("DELETE", "/api/v1/rules/" + ruleId, "", with(admin)).status, 204);
    EXPECT_EQ(call("DELETE", "/api/v1/escalation-policies/" + id, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/escalation-policies/" + id, "", with(admin)).status, 404);
    // Audited (S10): the replacement, the refused deletion (in use) and the deletion.
    EXPECT_EQ(scalar("SELECT string_agg(action || ':' || result, ',' ORDER BY id) FROM pulse.audit_log WHERE "
                     "action IN ('escalation_policy.update', 'escalation_policy.delete') AND target = $1",
                     {id}),
              "escalation_policy.update:ok,escalation_policy.delete:failed,escalation_policy.delete:ok");

    // Customers read policies but do not change them.
    auto customer = login(a_.customer);
    EXPECT_EQ(call("GET", "/api/v1/escalation-policies", "", with(customer)).status, 200);
    EXPECT_EQ(call("POST", "/api/v1/escalation-policies",
                   policyBody("mine", "[" + channelLevel(a_.channelId) + "]"), with(customer))
                  .status,
              403);
}

TEST_F(ApiEscalation, ContactMethodsAreTheUsersAndTheirAdminsToChange) {
    auto admin = login(a_.admin);
    std::string base = "/api/v1/users/" + a_.adminId + "/contact-methods";
    auto viaChannel = call(
        "POST", base, "{\"kind\":\"channel\",\"channel_id\":\"" + a_.channelId + "\",\"label\":\"hook\"}",
        with(admin));
    ASSERT_EQ(viaChannel.status, 201) << viaChannel.body;
    std::string methodId = json(viaChannel.body)->getValue<std::string>("id");
    EXPECT_EQ(json(viaChannel.body)->getObject("channel")->getValue<std::string>("id"), a_.channelId);
    // An e-mail address goes through an e-mail channel; a webhook channel is not one.
    auto viaWebhook =
        call("POST", base,
             "{\"kind\":\"email\",\"address\":\"a@example.com\",\"channel_id\":\"" + a_.channelId + "\"}",
             with(admin));
    EXPECT_EQ(viaWebhook.status, 422) << viaWebhook.body;
    EXPECT_EQ(json(viaWebhook.body)->optValue<std::string>("field", ""), "channel_id");
    auto badAddress = call(
        "POST", base,
        "{\"kind\":\"email\",\"address\":\"a@b\\r\\nBcc: x@y.z\",\"channel_id\":\"" + a_.channelId + "\"}",
        with(admin));
    EXPECT_EQ(badAddress.status, 422);
    EXPECT_EQ(json(badAddress.body)->optValue<std::string>("field", ""), "address");
    auto theirs =
        call("POST", base, "{\"kind\":\"channel\",\"channel_id\":\"" + b_.channelId + "\"}", with(admin));
    EXPECT_EQ(theirs.status, 422);

    auto list = call("GET", base, "", with(admin));
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(json(list.body)->getArray("items")->size(), 1u);
    // A customer may not read or change someone else's.
    auto customer = login(a_.customer);
    EXPECT_EQ(call("GET", base, "", with(customer)).status, 403);
    EXPECT_EQ(call("DELETE", base + "/" + methodId, "", with(customer)).status, 403);
    EXPECT_EQ(call("DELETE", base + "/" + methodId, "", with(admin)).status, 204);
    EXPECT_EQ(call("DELETE", base + "/" + methodId, "", with(admin)).status, 404);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.audit_log WHERE action IN ('contact_method.create', "
                     "'contact_method.delete') AND target = $1",
                     {methodId}),
              "2");
}
