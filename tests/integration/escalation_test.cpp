// Escalation policies against real PostgreSQL and the real outbox: an unacknowledged alert walks its levels
// (time driven by a test clock), repeats the policy, stops when acknowledged or closed, waits out a silence,
// pages users through their contact methods, follows up acknowledgements where it paged, and two escalators
// never fire one level twice. R10, with real waiting: a pulsed killed (-9) mid-escalation and started again
// neither skips nor repeats a level.
#include "alert_env.h"
#include "storage/EscalationPolicyStore.h"
#include "storage/ScheduleStore.h"
#include "workers/Escalator.h"

#include "services/AcknowledgeLinks.h"
#include "services/LinkSigner.h"
#include "services/SecretBox.h"

#include <gtest/gtest.h>

#include <csignal>

#include <chrono>
#include <thread>

using namespace pulse;
using namespace pulse::test;

namespace {

long long dbNowMs() {
    return std::stoll(scalarAsOwner("SELECT (extract(epoch FROM now()) * 1000)::bigint"));
}

std::string policy(AlertFixture& f, const std::string& name, std::vector<storage::EscalationLevel> levels,
                   int repeat = 0, bool isDefault = false) {
    storage::EscalationPolicyFields p;
    p.name = name;
    p.repeat = repeat;
    p.isDefault = isDefault;
    p.levels = std::move(levels);
    auto saved = storage::EscalationPolicyStore(f.pool).save(f.tenantId, std::nullopt, p);
    EXPECT_TRUE(saved.unknownTarget.empty()) << saved.unknownTarget;
    return saved.id;
}

storage::EscalationLevel level(int delayS, std::vector<std::pair<std::string, std::string>> targets) {
    storage::EscalationLevel l;
    l.delayS = delayS;
    for (auto& [type, id] : targets) l.targets.push_back({type, id, ""});
    return l;
}

std::string ruleWithPolicy(AlertFixture& f, const std::string& name, const std::string& policyId) {
    return f.ruleId(name, "threshold", R"({"metric":"temperature","operator":"GT","threshold":80})",
                    "CRITICAL", ", escalation_policy_id", ", '" + policyId + "'::uuid");
}

int64_t openAlert(AlertFixture& f, const std::string& rule) {
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 95, "CRITICAL"));
    f.alerts->drain();
    return std::stoll(scalarAsOwner("SELECT id FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
}

// "level/pass" of each ESCALATED event of the alert, in order: "1/0,2/0".
std::string escalations(int64_t alertId) {
    return scalarAsOwner(
        "SELECT coalesce(string_agg((detail->>'level') || '/' || (detail->>'repeat'), ',' ORDER BY id), '') "
        "FROM pulse.alert_events WHERE alert_id = $1::bigint AND kind = 'ESCALATED'",
        {std::to_string(alertId)});
}

// The channels paged for the alert (escalation deliveries), in order, as names.
std::string pagedChannels(int64_t alertId) {
    return scalarAsOwner(
        "SELECT coalesce(string_agg(c.name, ',' ORDER BY d.id), '') FROM pulse.deliveries d JOIN "
        "pulse.channels c "
        "ON c.id = d.channel_id WHERE d.alert_id = $1::bigint AND d.escalation_level IS NOT NULL",
        {std::to_string(alertId)});
}

std::string userOf(AlertFixture& f, const std::string& email, bool disabled = false) {
    return scalarAsOwner(
        "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash, disabled) VALUES "
        "($1::uuid, $2::text, $2::text, 'customer', '$argon2id$x', $3::boolean) RETURNING id::text",
        {f.tenantId, email, disabled ? "true" : "false"});
}

void contactThrough(AlertFixture& f, const std::string& user, const std::string& channel) {
    scalarAsOwner(
        "INSERT INTO pulse.user_contact_methods (tenant_id, user_id, kind, channel_id) VALUES ($1::uuid, "
        "$2::uuid, 'channel', $3::uuid)",
        {f.tenantId, user, channel});
}

constexpr long long kMinute = 60000;

}  // namespace

TEST(Escalation, WalksItsLevelsOnTimeAndStopsWhenAcknowledged) {
    AlertFixture f("esc-walk");
    std::string first = f.webhookChannel("first", "/first"), second = f.webhookChannel("second", "/second"),
                third = f.webhookChannel("third", "/third");
    std::string p = policy(f, "night",
                           {level(5 * 60, {{"channel", first}}), level(10 * 60, {{"channel", second}}),
                            level(15 * 60, {{"channel", third}})});
    int64_t alert = openAlert(f, ruleWithPolicy(f, "hot", p));
    auto esc = escalator(f);
    long long t0 = dbNowMs();

    EXPECT_EQ(esc->fireDue(t0), 1);  // level 1 is due when the alert opens
    EXPECT_EQ(escalations(alert), "1/0");
    EXPECT_EQ(pagedChannels(alert), "first");
    EXPECT_EQ(esc->fireDue(t0 + 5 * kMinute - 1000), 0);  // not before its delay
    EXPECT_EQ(esc->fireDue(t0 + 5 * kMinute), 1);
    EXPECT_EQ(escalations(alert), "1/0,2/0");
    EXPECT_EQ(pagedChannels(alert), "first,second");
    // The page is an opening notice of the alert, with the level it is for, and an idempotency key per
    // alert, level, pass and target.
    EXPECT_EQ(
        scalarAsOwner("SELECT payload::jsonb->>'type' FROM pulse.deliveries WHERE alert_id = $1::bigint "
                      "AND escalation_level = 2",
                      {std::to_string(alert)}),
        "alert.escalated");
    EXPECT_EQ(scalarAsOwner("SELECT payload::jsonb#>>'{escalation,level}' || '/' || "
                            "(payload::jsonb#>>'{escalation,levels}') || ' ' || "
                            "(payload::jsonb#>>'{escalation,policy,name}') "
                            "FROM pulse.deliveries WHERE alert_id = $1::bigint AND escalation_level = 2",
                            {std::to_string(alert)}),
              "2/3 night");
    EXPECT_EQ(scalarAsOwner("SELECT idempotency_key FROM pulse.deliveries WHERE alert_id = $1::bigint AND "
                            "escalation_level = 2",
                            {std::to_string(alert)}),
              "esc_" + std::to_string(alert) + "_2_0_channel_" + second);

    ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, alert, "user:alice@example.com"));
    EXPECT_EQ(scalarAsOwner("SELECT coalesce(next_escalation_at::text, 'none') FROM pulse.alerts WHERE id = "
                            "$1::bigint",
                            {std::to_string(alert)}),
              "none");
    EXPECT_EQ(esc->fireDue(t0 + 24 * 60 * kMinute), 0);  // acknowledged: level 3 never fires
    EXPECT_EQ(escalations(alert), "1/0,2/0");
    // The acknowledgement reaches both channels the escalation paged (and nobody else).
    EXPECT_EQ(scalarAsOwner("SELECT string_agg(c.name, ',' ORDER BY c.name) FROM pulse.deliveries d JOIN "
                            "pulse.channels c ON c.id = d.channel_id JOIN pulse.alert_events e ON e.id = "
                            "d.event_id WHERE d.alert_id = $1::bigint AND e.kind = 'ACKNOWLEDGED'",
                            {std::to_string(alert)}),
              "first,second");
}

TEST(Escalation, RepeatsThePolicyThenStopsAndClosingStopsIt) {
    AlertFixture f("esc-repeat");
    std::string a = f.webhookChannel("a", "/a"), b = f.webhookChannel("b", "/b");
    std::string p = policy(f, "twice", {level(60, {{"channel", a}}), level(120, {{"channel", b}})}, 1);
    int64_t alert = openAlert(f, ruleWithPolicy(f, "hot", p));
    auto esc = escalator(f);
    long long t = dbNowMs();
    // 1, then 2 a minute later, then (after level 2's two minutes) the second pass: 1 and 2 again; then done.
    for (long long at : {t, t + kMinute, t + 3 * kMinute, t + 4 * kMinute}) EXPECT_EQ(esc->fireDue(at), 1);
    EXPECT_EQ(escalations(alert), "1/0,2/0,1/1,2/1");
    EXPECT_EQ(pagedChannels(alert), "a,b,a,b");
    EXPECT_EQ(esc->fireDue(t + 24 * 60 * kMinute), 0);
    EXPECT_EQ(scalarAsOwner("SELECT coalesce(next_escalation_at::text, 'none') FROM pulse.alerts WHERE id = "
                            "$1::bigint",
                            {std::to_string(alert)}),
              "none");

    // Closing stops another alert's walk at once.
    std::string rule2 = ruleWithPolicy(f, "cold", p);
    int64_t other = openAlert(f, rule2);
    long long t2 = dbNowMs();
    EXPECT_EQ(esc->fireDue(t2), 1);
    ASSERT_TRUE(f.alerts->close(f.tenantId, other, "user:bob@example.com", "fixed"));
    EXPECT_EQ(esc->fireDue(t2 + 60 * kMinute), 0);
    EXPECT_EQ(escalations(other), "1/0");
}

// Re-opening starts the escalation again (sql/020): level 1 in a new round, as new deliveries whose keys name
// the round, then the next levels on time; the re-opening is an opening by its actor, routed as one. An open
// alert is not re-opened, nor a closed one while another alert of its rule is open on the device.
TEST(Escalation, ReopeningAnAlertStartsItsEscalationAgainInANewRound) {
    AlertFixture f("esc-reopen");
    std::string first = f.webhookChannel("first", "/first"), second = f.webhookChannel("second", "/second");
    std::string each = f.webhookChannel("each", "/each");
    f.routeAll(each);
    std::string p =
        policy(f, "night", {level(5 * 60, {{"channel", first}}), level(10 * 60, {{"channel", second}})});
    std::string rule = ruleWithPolicy(f, "hot", p);
    int64_t alert = openAlert(f, rule);
    std::string id = std::to_string(alert);
    auto esc = escalator(f);
    EXPECT_EQ(esc->fireDue(dbNowMs()), 1);
    EXPECT_FALSE(f.alerts->reopen(f.tenantId, alert, "user:alice@example.com"));  // open: nothing to do
    ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, alert, "user:bob@example.com"));
    EXPECT_EQ(esc->fireDue(dbNowMs() + 60 * kMinute), 0);

    ASSERT_TRUE(f.alerts->reopen(f.tenantId, alert, "user:alice@example.com"));
    EXPECT_EQ(scalarAsOwner("SELECT status || ' ' || coalesce(acknowledged_by, 'nobody') || ' ' || "
                            "escalation_round FROM pulse.alerts WHERE id = $1::bigint",
                            {id}),
              "OPEN nobody 1");
    long long t1 = dbNowMs();
    EXPECT_EQ(esc->fireDue(t1), 1);  // level 1 again, at once
    EXPECT_EQ(escalations(alert), "1/0,1/0");
    EXPECT_EQ(esc->fireDue(t1 + 5 * kMinute - 1000), 0);
    EXPECT_EQ(esc->fireDue(t1 + 5 * kMinute), 1);
    EXPECT_EQ(escalations(alert), "1/0,1/0,2/0");
    EXPECT_EQ(pagedChannels(alert), "first,first,second");
    EXPECT_EQ(scalarAsOwner("SELECT string_agg(idempotency_key, ',' ORDER BY id) FROM pulse.deliveries WHERE "
                            "alert_id = $1::bigint AND escalation_level IS NOT NULL",
                            {id}),
              "esc_" + id + "_1_0_channel_" + first + ",esc_" + id + "r1_1_0_channel_" + first + ",esc_" +
                  id + "r1_2_0_channel_" + second);
    // An opening by its actor, saying what it was, routed as the first opening was.
    EXPECT_EQ(
        scalarAsOwner("SELECT string_agg(actor || ' ' || coalesce(detail->>'was', '-'), ',' ORDER BY id) "
                      "FROM pulse.alert_events WHERE alert_id = $1::bigint AND kind = 'OPENED'",
                      {id}),
        "system -,user:alice@example.com ACKNOWLEDGED");
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.deliveries d JOIN pulse.alert_events e ON e.id = "
                      "d.event_id WHERE d.alert_id = $1::bigint AND d.channel_id = $2::uuid AND e.kind = "
                      "'OPENED'",
                      {id, each}),
        "2");

    // Closed, then re-opened: a third round.
    ASSERT_TRUE(f.alerts->close(f.tenantId, alert, "user:bob@example.com", "fixed"));
    EXPECT_EQ(esc->fireDue(dbNowMs() + 60 * kMinute), 0);
    ASSERT_TRUE(f.alerts->reopen(f.tenantId, alert, "user:alice@example.com"));
    EXPECT_EQ(esc->fireDue(dbNowMs() + 60 * kMinute), 1);
    EXPECT_EQ(scalarAsOwner("SELECT detail->>'round' || ' ' || (detail->>'level') FROM pulse.alert_events "
                            "WHERE alert_id = $1::bigint AND kind = 'ESCALATED' ORDER BY id DESC LIMIT 1",
                            {id}),
              "2 1");

    // Closed again while the rule fires anew: the new alert is the one open, the old one stays closed.
    ASSERT_TRUE(f.alerts->close(f.tenantId, alert, "user:bob@example.com", "fixed"));
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 96, "CRITICAL"));
    f.alerts->drain();
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alerts WHERE rule_id = $1::uuid AND status = 'OPEN'",
                            {rule}),
              "1");
    EXPECT_FALSE(f.alerts->reopen(f.tenantId, alert, "user:alice@example.com"));
    // The escalator fires every tenant's levels: the new alert must not walk into the next tests' counts.
    ASSERT_TRUE(f.alerts->close(
        f.tenantId,
        std::stoll(scalarAsOwner("SELECT id FROM pulse.alerts WHERE rule_id = $1::uuid AND status = 'OPEN'",
                                 {rule})),
        "user:bob@example.com", "done"));
}

TEST(Escalation, ASilencedAlertWaitsForItsSilenceToEnd) {
    AlertFixture f("esc-silence");
    std::string a = f.webhookChannel("a", "/a"), b = f.webhookChannel("b", "/b");
    std::string p = policy(f, "p", {level(60, {{"channel", a}}), level(60, {{"channel", b}})});
    int64_t alert = openAlert(f, ruleWithPolicy(f, "hot", p));
    auto esc = escalator(f);
    long long t = dbNowMs();
    EXPECT_EQ(esc->fireDue(t), 1);
    ASSERT_TRUE(f.alerts->silence(f.tenantId, alert, t + 30 * kMinute, "user:alice@example.com"));
    EXPECT_EQ(esc->fireDue(t + 2 * kMinute), 0);  // due, but silenced: deferred to the silence's end
    EXPECT_EQ(escalations(alert), "1/0");
    EXPECT_EQ(esc->fireDue(t + 30 * kMinute + 1000), 1);
    EXPECT_EQ(escalations(alert), "1/0,2/0");
}

TEST(Escalation, UsersArePagedThroughTheirContactMethodsAndTheDefaultPolicyServesOtherRules) {
    AlertFixture f("esc-users");
    std::string mine = f.webhookChannel("alice-hook", "/ok"), bobs = f.webhookChannel("bob-log", "/bob-log");
    std::string alice = userOf(f, "alice-" + f.slug + "@example.com");
    std::string bob = userOf(f, "bob-" + f.slug + "@example.com", true);  // disabled: pages nobody
    contactThrough(f, alice, mine);
    contactThrough(f, bob, bobs);
    policy(f, "default", {level(300, {{"user", alice}})}, 0, true);
    // A disabled user cannot be named in a policy at all.
    storage::EscalationPolicyFields refused;
    refused.name = "bob's";
    refused.levels = {level(60, {{"user", bob}})};
    EXPECT_EQ(storage::EscalationPolicyStore(f.pool).save(f.tenantId, std::nullopt, refused).unknownTarget,
              "levels[0].targets[0].id");

    int64_t alert =
        openAlert(f, f.ruleId("plain", "threshold", R"({"metric":"t","operator":"GT","threshold":1})"));
    auto esc = escalator(f);
    auto d = f.dispatcher(fastDispatch());
    d->start();
    EXPECT_EQ(esc->fireDue(dbNowMs()), 1);
    ASSERT_EQ(f.receiver.waitFor(1, "/ok"), 1u);
    auto request = at(f.receiver.requests(), 0);
    auto body = request->getObject("body");
    ASSERT_TRUE(body) << "the page reached the webhook as JSON";
    EXPECT_EQ(body->getValue<std::string>("type"), "alert.escalated");
    EXPECT_EQ(body->getObject("recipient")->getValue<std::string>("user_id"), alice);
    EXPECT_EQ(body->getObject("alert")->getValue<int64_t>("id"), alert);
    EXPECT_EQ(pagedChannels(alert), "alice-hook");
    d->stop();
}

// A schedule target pages whoever is on call when the level fires; with next_on_repeat, each pass reaches
// the next person of the rotation. A user both named and on call is paged once.
TEST(Escalation, ASchedulePagesWhoeverIsOnCallAndTheNextPersonOnRepeat) {
    AlertFixture f("esc-oncall");
    std::string alice = userOf(f, "alice-" + f.slug + "@example.com");
    std::string bob = userOf(f, "bob-" + f.slug + "@example.com");
    contactThrough(f, alice, f.webhookChannel("alice-hook", "/alice"));
    contactThrough(f, bob, f.webhookChannel("bob-hook", "/bob"));
    long long t = dbNowMs();
    // Daily handoffs twelve hours from now, so none falls inside the test.
    int hour = static_cast<int>((t / 3600000 + 12) % 24);
    storage::ScheduleFields rota;
    rota.name = "rota";
    rota.timeZone = "UTC";
    storage::ScheduleLayer daily;
    daily.rotation = "daily";
    daily.handoff = (hour < 10 ? "0" : "") + std::to_string(hour) + ":00";
    daily.startDate = "2026-01-01";
    daily.members = {{alice, ""}, {bob, ""}};
    rota.layers = {daily};
    auto saved = storage::ScheduleStore(f.pool).save(f.tenantId, std::nullopt, rota);
    ASSERT_FALSE(saved.id.empty()) << saved.unknownUser;
    // Shift k (from 2026-01-01 at the handoff hour, a day each) is alice's for even k, bob's for odd.
    long long k = (t - (1767225600000LL + hour * 3600000LL)) / (24 * 3600000LL);
    std::string onCall = k % 2 == 0 ? alice : bob, next = k % 2 == 0 ? bob : alice;

    auto l = level(60, {{"schedule", saved.id}, {"user", alice}});
    l.targets[0].nextOnRepeat = true;
    int64_t alert = openAlert(f, ruleWithPolicy(f, "oncall", policy(f, "rota policy", {l}, 2)));
    auto esc = escalator(f);
    long long opened = dbNowMs();  // level 1 is due from the opening on
    for (int pass = 0; pass < 3; ++pass) EXPECT_EQ(esc->fireDue(opened + pass * kMinute), 1) << pass;
    EXPECT_EQ(escalations(alert), "1/0,1/1,1/2");
    auto paged = [&](int pass) {
        return scalarAsOwner(
            "SELECT string_agg(payload::jsonb#>>'{recipient,user_id}', ',' ORDER BY "
            "payload::jsonb#>>'{recipient,"
            "user_id}' = $3) FROM pulse.deliveries WHERE alert_id = $1::bigint AND escalation_repeat = "
            "$2::int",
            {std::to_string(alert), std::to_string(pass), alice});
    };
    // Pass 0 and 2: whoever is on call (and alice, named; once if she is the one on call); pass 1: the next.
    for (int pass : {0, 1, 2}) {
        std::string person = pass == 1 ? next : onCall;
        EXPECT_EQ(paged(pass), person == alice ? alice : bob + "," + alice) << "pass " << pass;
    }
    // The event records whom the schedule put on call.
    EXPECT_EQ(scalarAsOwner("SELECT detail#>>'{on_call,0,user_id}' FROM pulse.alert_events WHERE alert_id = "
                            "$1::bigint AND kind = 'ESCALATED' AND (detail->>'repeat')::int = 1",
                            {std::to_string(alert)}),
              next);
    EXPECT_EQ(
        scalarAsOwner("SELECT payload::jsonb#>>'{recipient,schedule,name}' FROM pulse.deliveries WHERE "
                      "alert_id = $1::bigint AND escalation_repeat = 1 AND payload::jsonb#>>'{recipient,"
                      "user_id}' = $2",
                      {std::to_string(alert), next}),
        next == alice ? "" : "rota");  // alice is named too: her page is the named one's
}

TEST(Escalation, TwoEscalatorsNeverFireALevelTwice) {
    AlertFixture f("esc-race");
    std::string a = f.webhookChannel("a", "/a");
    std::string p = policy(f, "p", {level(600, {{"channel", a}})});
    // 300 alerts due at once, each its own rule's.
    std::string rules = scalarAsOwner(
        "WITH r AS (INSERT INTO pulse.rules (tenant_id, name, type, config, severity, escalation_policy_id) "
        "SELECT $1::uuid, 'r' || g, 'threshold', '{}', 'LOW', $2::uuid FROM generate_series(1, 300) g "
        "RETURNING "
        "id), a AS (INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, triggered_at, "
        "escalation_policy_id, next_escalation_at) SELECT $1::uuid, r.id, $3::bigint, 'LOW', now(), "
        "$2::uuid, "
        "now() FROM r RETURNING id) SELECT count(*) FROM a",
        {f.tenantId, p, std::to_string(f.deviceId)});
    ASSERT_EQ(rules, "300");
    auto one = escalator(f), two = escalator(f);
    long long t = dbNowMs();
    int fired1 = 0, fired2 = 0;
    std::thread x([&] { fired1 = one->fireDue(t); });
    std::thread y([&] { fired2 = two->fireDue(t); });
    x.join();
    y.join();
    EXPECT_EQ(fired1 + fired2, 300);
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alert_events WHERE tenant_id = $1::uuid AND kind = "
                            "'ESCALATED'",
                            {f.tenantId}),
              "300");
    EXPECT_EQ(
        scalarAsOwner("SELECT count(DISTINCT alert_id) FROM pulse.deliveries WHERE tenant_id = $1::uuid "
                      "AND escalation_level = 1",
                      {f.tenantId}),
        "300");
}

// R10: an alert nobody acknowledges walks its three levels through a real pulsed; pulsed is killed (-9)
// after level 1 and stays down past level 2's time, and the pulsed started again fires level 2 (late) and
// level 3 (on time), each once, each page delivered once.
TEST(Escalation, AKilledPulsedNeitherSkipsNorRepeatsALevel) {
    AlertFixture f("esc-r10");
    auto [config, env] =
        pulsedBeside(f, "rules.reload_ms = 200\nnotify.poll_ms = 100\ntelemetry.flush_ms = 20\n");
    std::string token = createDevice(config, f.slug + "/sensor-1");

    services::SecretBox box = services::SecretBox::fromHex(kPulsedSecretsKey);
    services::ChannelService channels(f.pool, *f.plugins, box, f.http.guard());
    std::vector<std::pair<std::string, std::string>> targets;
    for (int level = 1; level <= 3; ++level) {
        std::string path = "/status/20" + std::to_string(level - 1);
        targets.push_back(
            {"channel", channels.create(f.tenantId,
                                        services::ChannelSpec{"level-" + std::to_string(level), "webhook",
                                                              "{\"url\":\"" + f.receiver.url(path) +
                                                                  "\",\"secret\":\"" + kWebhookSecret + "\"}",
                                                              4})});
    }
    std::string p =
        policy(f, "r10", {level(4, {targets[0]}), level(3, {targets[1]}), level(3, {targets[2]})});
    f.ruleId("too hot", "threshold", R"({"metric":"temperature","operator":"GT","threshold":80})", "CRITICAL",
             ", escalation_policy_id", ", '" + p + "'::uuid");

    int64_t alert = 0;
    {
        Pulsed pulsed(config, env);
        ASSERT_TRUE(pulsed.started());
        ASSERT_EQ(sendReading(pulsed.port(), token, "{\"temperature\":95}"), 200);
        ASSERT_EQ(f.receiver.waitFor(1, "/status/200"), 1u);  // level 1 pages when the alert opens
        alert =
            std::stoll(scalarAsOwner("SELECT id FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId}));
        EXPECT_EQ(escalations(alert), "1/0");
        pulsed.process().signal(SIGKILL);
        ASSERT_TRUE(pulsed.process().wait(10000));
    }
    // Down past level 2's time.
    std::string waitForLevel2 = scalarAsOwner(
        "SELECT greatest(0, extract(epoch FROM next_escalation_at - now()) * 1000 + 1000)::bigint FROM "
        "pulse.alerts WHERE id = $1::bigint",
        {std::to_string(alert)});
    ASSERT_FALSE(waitForLevel2.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(std::stoll(waitForLevel2)));
    EXPECT_EQ(escalations(alert), "1/0");
    {
        Pulsed pulsed(config, env);
        ASSERT_TRUE(pulsed.started());
        ASSERT_EQ(f.receiver.waitFor(1, "/status/201"), 1u);
        ASSERT_EQ(f.receiver.waitFor(1, "/status/202"), 1u);
        // Give a repeated level the time to show itself: the policy has no pass after the first.
        std::this_thread::sleep_for(std::chrono::milliseconds(3500));
        pulsed.process().signal(SIGTERM);
        pulsed.process().wait(20000);
    }
    EXPECT_EQ(escalations(alert), "1/0,2/0,3/0");
    EXPECT_EQ(scalarAsOwner("SELECT coalesce(next_escalation_at::text, 'none') FROM pulse.alerts WHERE id = "
                            "$1::bigint",
                            {std::to_string(alert)}),
              "none");
    auto requests = f.receiver.requests();
    std::map<std::string, int> perPath;
    for (size_t i = 0; i < requests->size(); ++i) {
        auto r = requests->getObject(static_cast<unsigned>(i));
        EXPECT_TRUE(r->getValue<bool>("valid"));
        ++perPath[r->getValue<std::string>("path")];
        EXPECT_EQ(r->getObject("body")->getValue<std::string>("type"), "alert.escalated");
    }
    EXPECT_EQ(perPath,
              (std::map<std::string, int>{{"/status/200", 1}, {"/status/201", 1}, {"/status/202", 1}}));
    // Level 3 was due its delay after level 2 fired (late), not after level 2 was due.
    EXPECT_EQ(
        scalarAsOwner("SELECT (e3.detail->>'due_at')::timestamptz > (e2.detail->>'due_at')::timestamptz + "
                      "interval '3.5 seconds' FROM pulse.alert_events e2, pulse.alert_events e3 WHERE "
                      "e2.alert_id = $1::bigint AND e3.alert_id = $1::bigint AND e2.kind = 'ESCALATED' AND "
                      "e3.kind = 'ESCALATED' AND e2.detail->>'level' = '2' AND e3.detail->>'level' = '3'",
                      {std::to_string(alert)}),
        "t");
}

// The acknowledge link in a page: GET shows the alert and a button (and acknowledges nothing, as a link
// previewer's fetch must not); POST acknowledges once, as the user the page reached, audited as them, and
// escalation stops; a second use, an altered token and an expired one are refused. Through a real pulsed,
// its dispatcher signing the links and its API answering them.
TEST(Escalation, TheAcknowledgeLinkWorksOnceAsItsRecipient) {
    AlertFixture f("esc-acklink");
    auto [config, env] = pulsedBeside(f,
                                      "rules.reload_ms = 200\nnotify.poll_ms = 100\ntelemetry.flush_ms = 20\n"
                                      "notify.console_url = https://pulse.example.com\n");
    std::string token = createDevice(config, f.slug + "/sensor-1");
    services::SecretBox box = services::SecretBox::fromHex(kPulsedSecretsKey);
    services::ChannelService channels(f.pool, *f.plugins, box, f.http.guard());
    auto hook = [&](const std::string& name, const std::string& path) {
        return channels.create(
            f.tenantId,
            services::ChannelSpec{
                name, "webhook",
                "{\"url\":\"" + f.receiver.url(path) + "\",\"secret\":\"" + kWebhookSecret + "\"}", 4});
    };
    std::string alice = userOf(f, "alice-" + f.slug + "@example.com");
    contactThrough(f, alice, hook("alice-hook", "/alice"));
    std::string ops = hook("ops", "/ops");
    std::string p =
        policy(f, "links", {level(600, {{"user", alice}, {"channel", ops}}), level(600, {{"channel", ops}})});
    f.ruleId("too hot", "threshold", R"({"metric":"temperature","operator":"GT","threshold":80})", "CRITICAL",
             ", escalation_policy_id", ", '" + p + "'::uuid");

    Pulsed pulsed(config, env);
    ASSERT_TRUE(pulsed.started());
    ASSERT_EQ(sendReading(pulsed.port(), token, "{\"temperature\":95}"), 200);
    ASSERT_EQ(f.receiver.waitFor(1, "/alice"), 1u);
    ASSERT_GE(f.receiver.waitFor(1, "/ops"), 1u);
    auto linkOf = [&](const std::string& path) {
        auto requests = f.receiver.requests();
        for (size_t i = 0; i < requests->size(); ++i) {
            auto r = requests->getObject(static_cast<unsigned>(i));
            auto body = r->getObject("body");
            if (r->getValue<std::string>("path") == path && body &&
                body->getValue<std::string>("type") == "alert.escalated")
                return body->getObject("links")->getValue<std::string>("acknowledge");
        }
        return std::string();
    };
    const std::string prefix = "https://pulse.example.com/api/v1/acknowledge/";
    std::string aliceLink = linkOf("/alice"), opsLink = linkOf("/ops");
    ASSERT_EQ(aliceLink.rfind(prefix, 0), 0u) << aliceLink;
    ASSERT_EQ(opsLink.rfind(prefix, 0), 0u) << opsLink;
    std::string alicePath = aliceLink.substr(prefix.size() - std::string("/api/v1/acknowledge/").size());
    std::string opsPath = opsLink.substr(prefix.size() - std::string("/api/v1/acknowledge/").size());
    std::string alert =
        scalarAsOwner("SELECT id::text FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId});

    // GET is a page with a button; the alert stays open.
    auto page = httpGet(pulsed.port(), alicePath);
    EXPECT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos) << page.body;
    EXPECT_EQ(page.headers["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(scalarAsOwner("SELECT status FROM pulse.alerts WHERE id = $1::bigint", {alert}), "OPEN");

    std::string altered = alicePath;
    altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
    EXPECT_EQ(httpSend(pulsed.port(), "POST", altered, "").status, 404);
    services::AcknowledgeClaim expired{f.tenantId, std::stoll(alert), 1, alice, 1000};
    EXPECT_EQ(
        httpSend(pulsed.port(), "POST",
                 "/api/v1/acknowledge/" + services::acknowledgeToken(services::LinkSigner(box), expired), "")
            .status,
        410);

    auto used = httpSend(pulsed.port(), "POST", alicePath, "", {{"Accept", "application/json"}});
    EXPECT_EQ(used.status, 200) << used.body;
    std::string actor = "user:alice-" + f.slug + "@example.com";
    EXPECT_EQ(
        scalarAsOwner("SELECT status || ' ' || acknowledged_by || ' ' || coalesce(next_escalation_at::text, "
                      "'stopped') FROM pulse.alerts WHERE id = $1::bigint",
                      {alert}),
        "ACKNOWLEDGED " + actor + " stopped");
    EXPECT_EQ(
        scalarAsOwner("SELECT actor || ' ' || actor_id || ' ' || result || ' ' || (detail->>'via') FROM "
                      "pulse.audit_log WHERE action = 'alert.acknowledge' AND target = $1",
                      {alert}),
        actor + " " + alice + " ok acknowledge_link");
    EXPECT_EQ(httpSend(pulsed.port(), "POST", alicePath, "").status, 410);  // single use
    auto again = httpGet(pulsed.port(), alicePath, "GET", {{"Accept", "text/html"}});
    EXPECT_EQ(again.status, 410);
    // The channel's link is its own; the alert is no longer open: nothing to do.
    EXPECT_EQ(httpSend(pulsed.port(), "POST", opsPath, "").status, 409);
    pulsed.process().signal(SIGTERM);
    pulsed.process().wait(20000);
}
