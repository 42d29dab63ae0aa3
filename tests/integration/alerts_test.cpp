// Rules to alerts to signed webhooks: the alert lifecycle and its outbox, the partial unique index,
// flapping, the retry rules (R7), a crash between the receiver's 2xx and marking done (R8), competing
// and dying dispatchers (R9), a slow tenant among healthy ones (R6), a throwing sender (R14), the egress
// guard (S8) and secrets at rest (S9). The endpoint is the strict Standard Webhooks receiver stand-in.
#include "alert_env.h"
#include "storage/PgConnection.h"

#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

using namespace pulse;
using namespace pulse::test;

namespace {

std::vector<std::string> eventKinds(int64_t alertId) {
    storage::PgConnection conn(ownerUri());
    std::vector<std::string> out;
    for (const auto& r :
         conn.query("SELECT kind FROM pulse.alert_events WHERE alert_id = $1::bigint ORDER BY id",
                    {std::to_string(alertId)})
             .rows)
        out.push_back(*r[0]);
    return out;
}

// Inserts n deliveries straight into the outbox (what the alert writer does per event), each of its own
// alert: one alert's deliveries to a channel go out in order, one at a time (sql/010), and these tests are
// about deliveries that may go at once.
void enqueue(AlertFixture& f, const std::string& channelId, int n, int maxAttempts = 3) {
    static int batches = 0;
    std::string rule = f.ruleId("bulk-" + std::to_string(++batches), "threshold",
                                R"({"metric":"t","operator":"GT","threshold":1})");
    storage::PgConnection conn(ownerUri());
    conn.query(
        "WITH a AS (INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, triggered_at, status, "
        "closed_at) SELECT $1::uuid, $2::uuid, $3::bigint, 'LOW', now(), 'CLOSED', now() "
        "FROM generate_series(1, $5::int) RETURNING id), "
        "e AS (INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) SELECT $1::uuid, a.id, 'OPENED' "
        "FROM a "
        "RETURNING id, alert_id) "
        "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, payload, max_attempts) "
        "SELECT $1::uuid, e.alert_id, e.id, $4::uuid, '{\"n\":' || e.alert_id || '}', $6::int FROM e",
        {f.tenantId, rule, std::to_string(f.deviceId), channelId, std::to_string(n),
         std::to_string(maxAttempts)});
}

std::string deliveryField(const std::string& channelId, const std::string& column) {
    return scalarAsOwner(
        "SELECT " + column + "::text FROM pulse.deliveries WHERE channel_id = $1::uuid ORDER BY id LIMIT 1",
        {channelId});
}

}  // namespace

TEST(Alerts, OneAlertPerDeviceAndRuleWithItsHistoryAndSignedNotifications) {
    AlertFixture f("lifecycle");
    std::string rule =
        f.ruleId("hot", "threshold", R"({"metric":"temperature","operator":"GT","threshold":80})");
    std::string channel = f.webhookChannel("hooks", "/ok");
    f.routeAll(channel);
    auto d = f.dispatcher(fastDispatch());
    d->start();

    for (double v : {81.0, 85.0, 90.0}) f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, v));
    f.alerts->drain();
    ASSERT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}), "1");
    int64_t alertId =
        std::stoll(scalarAsOwner("SELECT id FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
    ASSERT_EQ(f.receiver.waitFor(1, "/ok"), 1u);

    ASSERT_TRUE(f.alerts->acknowledge(f.tenantId, alertId, "alice@example.com"));
    EXPECT_FALSE(f.alerts->acknowledge(f.tenantId, alertId, "again"));  // only an OPEN alert is acknowledged
    EXPECT_FALSE(f.alerts->acknowledge("00000000-0000-0000-0000-000000000000", alertId, "other tenant"));
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 70));
    f.alerts->drain();
    ASSERT_EQ(f.receiver.waitFor(3, "/ok"), 3u);
    ASSERT_TRUE(f.settled());
    d->stop();

    EXPECT_EQ(scalarAsOwner("SELECT status || '/' || close_reason FROM pulse.alerts WHERE id = $1::bigint",
                            {std::to_string(alertId)}),
              "CLOSED/recovered");
    auto kinds = eventKinds(alertId);
    std::vector<std::string> lifecycle;
    for (const auto& k : kinds)
        if (k != "NOTIFIED") lifecycle.push_back(k);
    EXPECT_EQ(lifecycle, (std::vector<std::string>{"OPENED", "ACKNOWLEDGED", "CLOSED"}));
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "NOTIFIED"), 3);

    auto requests = f.receiver.requests();
    std::vector<std::string> types;
    std::set<std::string> ids;
    for (size_t i = 0; i < requests->size(); ++i) {
        auto r = requests->getObject(static_cast<unsigned>(i));
        EXPECT_TRUE(r->getValue<bool>("valid")) << "signature rejected by the receiver";
        types.push_back(r->getObject("body")->getValue<std::string>("type"));
        ids.insert(r->getValue<std::string>("id"));
        EXPECT_EQ(
            r->getObject("body")->getObject("alert")->getObject("device")->getValue<std::string>("name"),
            "dev-1");
    }
    EXPECT_EQ(types, (std::vector<std::string>{"alert.opened", "alert.acknowledged", "alert.closed"}));
    EXPECT_EQ(ids.size(), 3u);  // one webhook-id per event and channel
    EXPECT_EQ(scalarAsOwner("SELECT string_agg(idempotency_key, ',' ORDER BY id) FROM pulse.deliveries WHERE "
                            "alert_id = $1::bigint",
                            {std::to_string(alertId)})
                  .size(),
              3 * 36u + 2);

    // A new breach after the close opens a new alert.
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 95));
    f.alerts->drain();
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}), "2");
}

TEST(Alerts, TheDatabaseAllowsOneOpenAlertPerDeviceAndRule) {
    AlertFixture f("unique");
    std::string rule = f.ruleId("u", "threshold", R"({"metric":"t","operator":"GT","threshold":1})");
    storage::PgConnection conn(ownerUri());
    std::string insert =
        "INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, triggered_at) "
        "VALUES ($1::uuid, $2::uuid, $3::bigint, 'LOW', now())";
    conn.query(insert, {f.tenantId, rule, std::to_string(f.deviceId)});
    try {
        conn.query(insert, {f.tenantId, rule, std::to_string(f.deviceId)});
        ADD_FAILURE() << "a second open alert was accepted";
    } catch (const storage::DatabaseError& e) {
        EXPECT_EQ(e.sqlState(), "23505");
    }
    conn.query("UPDATE pulse.alerts SET status = 'CLOSED', closed_at = now() WHERE rule_id = $1::uuid",
               {rule});
    conn.query(insert, {f.tenantId, rule, std::to_string(f.deviceId)});  // closed ones do not count
}

TEST(Alerts, AFlappingAlertIsHeldOpenWithoutPagingAndClosesOnceStable) {
    AlertFixture f("flapping");
    std::string rule = f.ruleId("flappy", "threshold", R"({"metric":"t","operator":"GT","threshold":1})",
                                "HIGH", ", flap_threshold, flap_window_s", ", 2, 1");
    std::string channel = f.webhookChannel("hooks", "/ok");
    f.routeAll(channel);
    for (int i = 0; i < 6; ++i) {
        f.alerts->submit(f.transition(rule, i % 2 ? PULSE_TRANSITION_CLEARED : PULSE_TRANSITION_FIRING, i,
                                      "HIGH", true, 2, 1));
        f.alerts->drain();
    }
    // Opens 1 and 2 were ordinary (opened, closed); at the third clear it flaps: held open, no page.
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}), "3");
    EXPECT_EQ(scalarAsOwner("SELECT status || '/' || flapping FROM pulse.alerts WHERE rule_id = $1::uuid AND "
                            "status <> 'CLOSED'",
                            {rule}),
              "OPEN/true");
    std::string deliveriesWhileFlapping =
        scalarAsOwner("SELECT count(*) FROM pulse.deliveries WHERE channel_id = $1::uuid", {channel});
    EXPECT_EQ(deliveriesWhileFlapping, "5");  // opened+closed twice, opened once more; none after flapping
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_FIRING, 9, "HIGH", true, 2, 1));
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 0, "HIGH", true, 2, 1));
    f.alerts->drain();
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.deliveries WHERE channel_id = $1::uuid", {channel}),
              "5");
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    f.alerts->sweepFlapping();  // stable for the window: released, and closed since the condition cleared
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.alerts WHERE rule_id = $1::uuid AND status <> 'CLOSED'",
                      {rule}),
        "0");
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.deliveries WHERE channel_id = $1::uuid", {channel}),
              "6");
    int64_t last =
        std::stoll(scalarAsOwner("SELECT max(id) FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
    auto kinds = eventKinds(last);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "FLAPPING"), kinds.end());
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "STABLE"), kinds.end());
    EXPECT_EQ(kinds.back(), "CLOSED");
}

TEST(Alerts, RetryRulesFollowTheReceiversAnswers) {
    AlertFixture f("retry");
    struct Case {
        std::string path;
        std::string status;
        int attempts;
    };
    std::vector<Case> cases = {{"/seq/429:2,200", "DONE", 2}, {"/seq/500,503,200", "DONE", 3},
                               {"/status/400", "DEAD", 1},    {"/status/410", "DEAD", 1},
                               {"/reset", "DEAD", 3},         {"/seq/302,200", "DEAD", 1}};
    std::vector<std::string> ids;
    for (size_t i = 0; i < cases.size(); ++i) {
        ids.push_back(f.webhookChannel("c" + std::to_string(i), cases[i].path));
        enqueue(f, ids.back(), 1, 3);
    }
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_TRUE(f.settled(30000));
    d->stop();
    for (size_t i = 0; i < cases.size(); ++i) {
        SCOPED_TRACE(cases[i].path);
        EXPECT_EQ(deliveryField(ids[i], "status"), cases[i].status);
        EXPECT_EQ(deliveryField(ids[i], "attempts"), std::to_string(cases[i].attempts));
        EXPECT_EQ(
            scalarAsOwner("SELECT count(*) FROM pulse.delivery_attempts a JOIN pulse.deliveries d ON d.id = "
                          "a.delivery_id WHERE d.channel_id = $1::uuid",
                          {ids[i]}),
            std::to_string(cases[i].attempts));
    }
    // Never before Retry-After: the second attempt of the 429 came at least 2 s after the first.
    auto requests = f.receiver.requests();
    std::vector<int64_t> at;
    for (size_t i = 0; i < requests->size(); ++i) {
        auto r = requests->getObject(static_cast<unsigned>(i));
        if (r->getValue<std::string>("path") == "/seq/429:2,200")
            at.push_back(r->getValue<int64_t>("arrived_ms"));
    }
    ASSERT_EQ(at.size(), 2u);
    EXPECT_GE(at[1] - at[0], 2000);
    std::printf("[ figure ] 429 Retry-After 2 s: second attempt %lld ms after the first\n",
                static_cast<long long>(at[1] - at[0]));
    // 410 disables the channel; a dead delivery keeps its reason and an event on its alert.
    EXPECT_EQ(scalarAsOwner("SELECT enabled::text FROM pulse.channels WHERE id = $1::uuid", {ids[3]}),
              "false");
    EXPECT_NE(deliveryField(ids[4], "last_error").find("last of 3 attempts"), std::string::npos);
    EXPECT_NE(deliveryField(ids[5], "last_error").find("redirects are not followed"), std::string::npos);
}

TEST(Alerts, ACrashAfterTheReceiversAnswerRedeliversWithTheSameKey) {
    AlertFixture f("crash");
    std::string channel = f.webhookChannel("hooks", "/ok");
    enqueue(f, channel, 1);
    auto s = fastDispatch(1);
    s.lease = std::chrono::seconds(2);
    s.attemptTimeout = std::chrono::milliseconds(1000);
    auto crashing = f.dispatcher(s);
    crashing->afterDeliver = [](int64_t) { return false; };  // dies before recording the 2xx
    crashing->start();
    ASSERT_EQ(f.receiver.waitFor(1), 1u);
    crashing->stop();
    auto survivor = f.dispatcher(s);
    survivor->start();
    ASSERT_TRUE(f.settled(15000));
    survivor->stop();
    auto requests = f.receiver.requests();
    ASSERT_EQ(requests->size(), 2u);
    std::string key = deliveryField(channel, "idempotency_key");
    EXPECT_EQ(requests->getObject(0)->getValue<std::string>("id"), key);
    EXPECT_EQ(requests->getObject(1)->getValue<std::string>("id"), key);
    EXPECT_EQ(deliveryField(channel, "status"), "DONE");
    EXPECT_EQ(deliveryField(channel, "attempts"), "2");
}

TEST(Alerts, CompetingDispatchersNeverHoldOneDeliveryTwiceAndTakeOverADeadOnesClaims) {
    AlertFixture f("competing");
    int n = std::getenv("PULSE_R9_DELIVERIES") ? std::atoi(std::getenv("PULSE_R9_DELIVERIES")) : 600;
    std::string channel = f.webhookChannel("hooks", "/ok", 64);
    enqueue(f, channel, n);
    auto s = fastDispatch(4);
    s.lease = std::chrono::seconds(2);
    s.attemptTimeout = std::chrono::milliseconds(1000);
    auto a = f.dispatcher(s);
    auto b = f.dispatcher(s);
    std::atomic<int> aDone{0};
    std::atomic<bool> aDead{false};
    a->afterDeliver = [&](int64_t) { return !aDead && ++aDone < n / 6; };  // then it "dies" holding claims
    auto started = std::chrono::steady_clock::now();
    a->start();
    b->start();
    while (aDone < n / 6 && std::chrono::steady_clock::now() - started < std::chrono::seconds(30))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    aDead = true;
    a->stop();
    ASSERT_TRUE(f.settled(60000));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    b->stop();
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.deliveries WHERE channel_id = $1::uuid AND status = 'DONE'",
                      {channel}),
        std::to_string(n));
    auto requests = f.receiver.requests();
    std::set<std::string> ids;
    int maxSameId = 0;
    for (size_t i = 0; i < requests->size(); ++i) {
        auto r = requests->getObject(static_cast<unsigned>(i));
        ids.insert(r->getValue<std::string>("id"));
        maxSameId = std::max(maxSameId, r->getValue<int>("concurrent_same_id"));
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(n));
    EXPECT_EQ(maxSameId, 1) << "one delivery was being processed by two dispatchers at once";
    std::printf(
        "[ figure ] R9: %d deliveries, 2 dispatchers x 4 workers, one killed after %d: all done in %.1f s, "
        "%zu requests (%zu redelivered after the lease), max concurrent per id %d\n",
        n, n / 6, seconds, requests->size(), requests->size() - ids.size(), maxSameId);
}

TEST(Alerts, ASlowTenantHoldsNoMoreThanItsCapAndHealthyTenantsAreNotDelayed) {
    AlertFixture f("slow");
    auto s = fastDispatch(8);
    // Longer than the healthy deliveries can take, even in a sanitizer build on a busy machine.
    s.attemptTimeout = std::chrono::milliseconds(3000);
    s.breakerFailures = 3;
    s.breakerOpen = std::chrono::seconds(30);
    // Baseline: healthy channels alone.
    std::vector<std::string> healthy;
    for (int i = 0; i < 20; ++i) healthy.push_back(f.webhookChannel("ok" + std::to_string(i), "/ok"));
    auto latencies = [&](const std::vector<std::string>& channels) {
        std::vector<double> ms;
        storage::PgConnection conn(ownerUri());
        for (const auto& c : channels)
            for (const auto& r :
                 conn.query("SELECT extract(epoch FROM completed_at - created_at) * 1000 FROM "
                            "pulse.deliveries WHERE channel_id = $1::uuid AND status = 'DONE'",
                            {c})
                     .rows)
                ms.push_back(std::stod(*r[0]));
        std::sort(ms.begin(), ms.end());
        return ms;
    };
    auto p99 = [](const std::vector<double>& v) {
        return v.empty() ? 0.0 : v[std::min(v.size() - 1, v.size() * 99 / 100)];
    };
    // Both runs queue everything before their dispatcher starts, so both latencies count the same queue.
    for (const auto& c : healthy) enqueue(f, c, 5);
    auto d = f.dispatcher(s);
    d->start();
    ASSERT_TRUE(f.settled(30000));
    auto baseline = latencies(healthy);
    storage::PgConnection(ownerUri())
        .query("DELETE FROM pulse.delivery_attempts WHERE tenant_id = $1::uuid", {f.tenantId});
    storage::PgConnection(ownerUri())
        .query("DELETE FROM pulse.deliveries WHERE tenant_id = $1::uuid", {f.tenantId});

    // The hanging endpoint's first attempts and the healthy deliveries begin together (queueing alone
    // can take longer than a timeout under ASan).
    d->stop();
    std::string slow = f.webhookChannel("slow", "/hang/30", 2, 3000);
    enqueue(f, slow, 20, 10);
    for (const auto& c : healthy) enqueue(f, c, 5);
    d = f.dispatcher(s);
    d->start();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string healthyPending = "1";
    while (healthyPending != "0" && std::chrono::steady_clock::now() < deadline) {
        healthyPending = scalarAsOwner(
            "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid AND status = "
            "'PENDING' AND channel_id <> $2::uuid",
            {f.tenantId, slow});
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(healthyPending, "0");
    // The healthy deliveries were done while the first attempts at the hanging endpoint still waited.
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.delivery_attempts a JOIN pulse.deliveries d ON d.id = "
                      "a.delivery_id WHERE d.channel_id = $1::uuid",
                      {slow}),
        "0");
    for (int i = 0; i < 400 && !d->breakerOpen(slow); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(d->breakerOpen(slow));
    d->stop();
    auto withSlow = latencies(healthy);
    int maxSlow = f.receiver.log()->getObject("max_concurrency_per_path")->optValue<int>("/hang/30", 0);
    EXPECT_LE(maxSlow, 2) << "the per-channel cap did not hold";
    EXPECT_EQ(deliveryField(slow, "status"), "PENDING");  // held by the breaker, not dead
    std::printf(
        "[ figure ] R6: healthy p99 %.1f ms alone, %.1f ms beside a hanging endpoint (ratio %.2f); "
        "hanging endpoint concurrency %d (cap 2), breaker open after 3 failures\n",
        p99(baseline), p99(withSlow), p99(baseline) > 0 ? p99(withSlow) / p99(baseline) : 0.0, maxSlow);
}

TEST(Alerts, AThrowingSenderFailsOnlyItsDelivery) {
    AlertFixture f("throwing");
    storage::PgConnection conn(ownerUri());
    std::string bad = *conn.query(
                               "INSERT INTO pulse.channels (tenant_id, name, type) VALUES ($1::uuid, 'bad', "
                               "'throwing') RETURNING id::text",
                               {f.tenantId})
                           .rows[0][0];
    std::string good = f.webhookChannel("good", "/ok");
    enqueue(f, bad, 1);
    conn.query("UPDATE pulse.deliveries SET payload = 'boom' WHERE channel_id = $1::uuid", {bad});
    enqueue(f, good, 3);
    auto d = f.dispatcher(fastDispatch());
    d->start();
    ASSERT_TRUE(f.settled());
    d->stop();
    EXPECT_EQ(deliveryField(bad, "status"), "DEAD");
    EXPECT_EQ(deliveryField(bad, "attempts"), "1");
    EXPECT_EQ(
        scalarAsOwner("SELECT count(*) FROM pulse.deliveries WHERE channel_id = $1::uuid AND status = 'DONE'",
                      {good}),
        "3");
}

TEST(Alerts, TenantChosenTargetsCannotReachInternalAddresses) {
    AlertFixture f("ssrf");
    for (std::string url :
         {"http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data", "http://127.0.0.2/",
          "http://[::1]/", "http://167772161/", "http://012.0.0.1/", "ftp://example.com/",
          "http://192.168.1.1/", "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/"}) {
        SCOPED_TRACE(url);
        EXPECT_THROW(
            f.channels->create(
                f.tenantId,
                services::ChannelSpec{"x", "webhook",
                                      "{\"url\":\"" + url + "\",\"secret\":\"" + kWebhookSecret + "\"}", 4}),
            std::invalid_argument);
    }
    // Stored anyway (say, before the guard): refused again when dialled, by a host without an allow-list.
    std::string channel = f.webhookChannel("hooks", "/ok");
    enqueue(f, channel, 1);
    net::OutboundHttp strict;
    plugins::PluginManager pm(nullptr, plugins::HostServices{nullptr, nullptr, &strict});
    auto settings = config::defaults();
    settings.pluginConfigDir = f.dir + "/plugins.d";
    settings.pluginPaths = {PULSE_PLUGIN_DIR, PULSE_TEST_PLUGIN_DIR};
    pm.load(settings, plugins::PluginManager::Mode::Serve);
    services::ChannelService strictChannels(f.pool, pm, f.box, strict.guard());
    workers::NotificationDispatcher d(f.pool, fastDispatch(1), workers::channelsOf(strictChannels), f.wake,
                                      nullptr);
    d.start();
    ASSERT_TRUE(f.settled());
    d.stop();
    EXPECT_EQ(deliveryField(channel, "status"), "DEAD");
    EXPECT_NE(deliveryField(channel, "last_error").find("egress.allow"), std::string::npos)
        << deliveryField(channel, "last_error");
    EXPECT_EQ(f.receiver.requests()->size(), 0u);
}

TEST(Alerts, ChannelSecretsAreSealedMaskedAndKeptWhenSentBackMasked) {
    AlertFixture f("secrets");
    std::string channel = f.webhookChannel("hooks", "/ok");
    std::string masked = f.channels->maskedConfig(f.tenantId, channel);
    EXPECT_NE(masked.find("\"secret\":\"***\""), std::string::npos) << masked;
    EXPECT_EQ(masked.find("MfKQ9r8"), std::string::npos);
    EXPECT_EQ(scalarAsOwner("SELECT config::text FROM pulse.channels WHERE id = $1::uuid", {channel})
                  .find("whsec_"),
              std::string::npos);
    EXPECT_EQ(scalarAsOwner(
                  "SELECT position(convert_to('whsec_', 'UTF8') IN secrets) FROM pulse.channels WHERE id = "
                  "$1::uuid",
                  {channel}),
              "0");
    // The masked document sent back (with a new timeout) keeps the stored secret: signatures still verify.
    std::string back = masked;
    back.replace(back.find("10000"), 5, "5000");
    f.channels->updateConfig(f.tenantId, channel, back);
    EXPECT_NE(
        scalarAsOwner("SELECT config::text FROM pulse.channels WHERE id = $1::uuid", {channel}).find("5000"),
        std::string::npos);
    enqueue(f, channel, 1);
    auto d = f.dispatcher(fastDispatch(1));
    d->start();
    ASSERT_TRUE(f.settled());
    d->stop();
    ASSERT_EQ(f.receiver.requests()->size(), 1u);
    EXPECT_TRUE(f.receiver.requests()->getObject(0)->getValue<bool>("valid"));
    EXPECT_THROW(
        f.channels->updateConfig(f.tenantId, channel, R"({"url":"http://127.0.0.1:1/","secret":"short"})"),
        std::invalid_argument);
}

// The whole path in a running pulsed: a reading over HTTP crosses a THRESHOLD rule and a signed webhook
// reaches the receiver; the recovery closes the alert; a device that falls silent opens a NO_HEARTBEAT
// alert through the rule tick. Rules and channels are picked up from the database while pulsed runs.
TEST(Alerts, PulsedTurnsABreachingReadingIntoOneSignedWebhook) {
    AlertFixture f("pulsed");
    auto [config, env] = pulsedBeside(f,
                                      "rules.reload_ms = 200\nrules.tick_ms = 200\nnotify.poll_ms = 100\n"
                                      "telemetry.flush_ms = 20\n");
    std::string token = createDevice(config, f.slug + "/sensor-1");
    ASSERT_FALSE(token.empty());
    std::string quiet = scalarAsOwner(
        "INSERT INTO pulse.devices (tenant_id, name, last_seen_at) VALUES ($1::uuid, 'quiet-1', now()) "
        "RETURNING id",
        {f.tenantId});

    // Channel and routes through the service, sealed with the key pulsed reads.
    services::SecretBox box = services::SecretBox::fromHex(kPulsedSecretsKey);
    services::ChannelService channels(f.pool, *f.plugins, box, f.http.guard());
    std::string channel =
        channels.create(f.tenantId, services::ChannelSpec{"ops", "webhook",
                                                          "{\"url\":\"" + f.receiver.url("/ok") +
                                                              "\",\"secret\":\"" + kWebhookSecret + "\"}",
                                                          4});
    services::RouteSpec route;
    route.channelId = channel;
    route.severities = {"CRITICAL", "HIGH"};
    channels.createRoute(f.tenantId, route);
    f.ruleId("too hot", "threshold",
             R"({"metric":"temperature","operator":"GT","threshold":80,"clear_threshold":75})", "CRITICAL");
    f.ruleId("too cold", "threshold", R"({"metric":"temperature","operator":"LT","threshold":-40})", "LOW");

    Pulsed pulsed(config, env);
    ASSERT_TRUE(pulsed.started());
    auto send = [&](double value) {
        return sendReading(pulsed.port(), token, "{\"temperature\":" + std::to_string(value) + "}");
    };
    ASSERT_EQ(send(20), 200);
    auto sent = std::chrono::steady_clock::now();
    ASSERT_EQ(send(91), 200);
    ASSERT_EQ(send(95), 200);  // still firing: no second alert
    ASSERT_EQ(f.receiver.waitFor(1, "/ok"), 1u);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count();
    ASSERT_EQ(send(70), 200);
    ASSERT_EQ(f.receiver.waitFor(2, "/ok"), 2u);
    auto requests = f.receiver.requests();
    auto first = requests->getObject(0);
    EXPECT_TRUE(first->getValue<bool>("valid"));
    EXPECT_EQ(first->getObject("body")->getValue<std::string>("type"), "alert.opened");
    EXPECT_EQ(first->getObject("body")->getObject("alert")->getValue<std::string>("severity"), "CRITICAL");
    EXPECT_EQ(
        first->getObject("body")->getObject("alert")->getObject("device")->getValue<std::string>("name"),
        "sensor-1");
    EXPECT_EQ(requests->getObject(1)->getObject("body")->getValue<std::string>("type"), "alert.closed");
    EXPECT_EQ(scalarAsOwner("SELECT count(*) FROM pulse.alerts WHERE tenant_id = $1::uuid", {f.tenantId}),
              "1");
    std::printf(
        "[ figure ] HTTP reading to signed webhook at the receiver: %.1f ms (one sample, idle server)\n", ms);

    // A rule added while pulsed runs, scoped to one device: NO_HEARTBEAT through the tick.
    f.ruleId("silent", "heartbeat", R"({"window_s":1})", "HIGH", ", scope_kind, scope_device_id",
             ", 'device', " + quiet);
    ASSERT_EQ(f.receiver.waitFor(3, "/ok", 15000), 3u);
    auto third = f.receiver.requests()->getObject(2)->getObject("body");
    EXPECT_EQ(third->getObject("alert")->getObject("rule")->getValue<std::string>("type"), "heartbeat");
    EXPECT_EQ(third->getObject("alert")->getObject("device")->getValue<std::string>("name"), "quiet-1");
    EXPECT_TRUE(f.settled());
}

// Routing rules, one filter each: severity, rule type, site, device tag, and a throttle that keeps a second
// opening of the same rule on the same device within its window from that route (while its closing, and
// routes without a throttle, still get theirs). Routing happens when the alert writer commits the event.
TEST(Alerts, RoutingRulesMatchEachFilterAndTheThrottle) {
    AlertFixture f("routing-filters");
    std::string site = scalarAsOwner(
        "INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, 'Plant 1') RETURNING id::text",
        {f.tenantId});
    scalarAsOwner(
        "UPDATE pulse.devices SET site_id = $2::uuid, tags = '{boiler,floor-1}' WHERE id = $1::bigint "
        "RETURNING id",
        {std::to_string(f.deviceId), site});
    auto route = [&](const std::string& name, const std::function<void(services::RouteSpec&)>& filter) {
        std::string channel = f.webhookChannel(name, "/" + name);
        services::RouteSpec r;
        r.channelId = channel;
        r.name = name;
        filter(r);
        f.channels->createRoute(f.tenantId, r);
        return channel;
    };
    std::string critical = route("critical", [](auto& r) { r.severities = {"CRITICAL"}; });
    std::string heartbeats = route("heartbeats", [](auto& r) { r.ruleTypes = {"heartbeat"}; });
    std::string plant = route("plant", [&](auto& r) { r.siteId = site; });
    std::string boilers = route("boilers", [](auto& r) { r.tag = "boiler"; });
    std::string throttled = route("throttled", [](auto& r) { r.throttleS = 3600; });

    std::string hot =
        f.ruleId("hot", "threshold", R"({"metric":"t","operator":"GT","threshold":80})", "CRITICAL");
    std::string warm =
        f.ruleId("warm", "threshold", R"({"metric":"t","operator":"GT","threshold":30})", "LOW");
    std::string silent = f.ruleId("silent", "heartbeat", R"({"window_s":60})", "HIGH");
    auto fire = [&](const std::string& rule, pulse_transition kind, const std::string& severity) {
        f.alerts->submit(f.transition(rule, kind, 91, severity));
        f.alerts->drain();
    };
    // Which alerts (by rule name) and events reached a channel, in order: "hot:OPENED,warm:OPENED".
    auto got = [&](const std::string& channel) {
        return scalarAsOwner(
            "SELECT coalesce(string_agg(r.name || ':' || e.kind, ',' ORDER BY d.id), '') FROM "
            "pulse.deliveries d "
            "JOIN pulse.alerts a ON a.id = d.alert_id JOIN pulse.rules r ON r.id = a.rule_id "
            "JOIN pulse.alert_events e ON e.id = d.event_id WHERE d.channel_id = $1::uuid",
            {channel});
    };

    fire(hot, PULSE_TRANSITION_FIRING, "CRITICAL");   // CRITICAL, threshold, at Plant 1, tagged boiler
    fire(warm, PULSE_TRANSITION_FIRING, "LOW");       // LOW
    fire(silent, PULSE_TRANSITION_FIRING, "HIGH");    // a heartbeat rule
    fire(hot, PULSE_TRANSITION_CLEARED, "CRITICAL");  // closes hot's alert
    fire(hot, PULSE_TRANSITION_FIRING, "CRITICAL");   // hot again, within the throttle's hour
    scalarAsOwner("UPDATE pulse.devices SET site_id = NULL, tags = '{}' WHERE id = $1::bigint RETURNING id",
                  {std::to_string(f.deviceId)});
    fire(warm, PULSE_TRANSITION_CLEARED, "LOW");  // closing follows the opening's routes
    std::string cold =
        f.ruleId("cold", "threshold", R"({"metric":"t","operator":"LT","threshold":0})", "CRITICAL");
    fire(cold, PULSE_TRANSITION_FIRING, "CRITICAL");  // no site, no tags now

    EXPECT_EQ(got(critical), "hot:OPENED,hot:CLOSED,hot:OPENED,cold:OPENED");
    EXPECT_EQ(got(heartbeats), "silent:OPENED");
    EXPECT_EQ(got(plant), "hot:OPENED,warm:OPENED,silent:OPENED,hot:CLOSED,hot:OPENED,warm:CLOSED");
    EXPECT_EQ(got(boilers), "hot:OPENED,warm:OPENED,silent:OPENED,hot:CLOSED,hot:OPENED,warm:CLOSED");
    // The throttle: hot's second opening is not sent to this route; everything else is.
    EXPECT_EQ(got(throttled), "hot:OPENED,warm:OPENED,silent:OPENED,hot:CLOSED,warm:CLOSED,cold:OPENED");
}
