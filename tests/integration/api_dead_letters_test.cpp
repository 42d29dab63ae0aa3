// Dead letters through the API: the tenant's failed-for-good notifications listed newest first (and only its
// own), and requeued by a tenant-admin, once, with an event on the alert and an audit entry.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <string>

using namespace pulse::test;

namespace {
class ApiDeadLetters : public ApiTest {
  protected:
    // A dead delivery of the tenant's alert to its channel, as the dispatcher leaves one.
    std::string deadLetter(const TenantFixture& t, const std::string& error,
                           const std::string& channelId = "") {
        return scalar(
            "WITH e AS (INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) VALUES ($1::uuid, "
            "$2::bigint, "
            "'OPENED') RETURNING id) "
            "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, payload, status, "
            "attempts, "
            "max_attempts, last_status_code, last_error, completed_at) SELECT $1::uuid, $2::bigint, e.id, "
            "$3::uuid, "
            "'{}', 'DEAD', 1, 10, 404, $4, now() FROM e RETURNING id::text",
            {t.id, t.alertId, channelId.empty() ? t.channelId : channelId, error});
    }
};
}  // namespace

TEST_F(ApiDeadLetters, AreListedPerTenantAndRequeuedOnceByATenantAdmin) {
    std::string first = deadLetter(a_, "HTTP 404: channel_not_found");
    std::string second = deadLetter(a_, "HTTP 400: invalid_payload");
    deadLetter(b_, "tenant b's");

    auto customer = login(a_.customer);
    auto list = call("GET", "/api/v1/dead-letters?limit=1", "", with(customer));
    ASSERT_EQ(list.status, 200) << list.body;
    auto page = json(list.body);
    auto items = page->getArray("items");
    ASSERT_EQ(items->size(), 1u);
    auto newest = items->getObject(0);
    EXPECT_EQ(std::to_string(newest->getValue<long long>("id")), second);  // newest first
    EXPECT_EQ(newest->getValue<std::string>("last_error"), "HTTP 400: invalid_payload");
    EXPECT_EQ(newest->getValue<int>("last_status_code"), 404);
    EXPECT_EQ(newest->getObject("alert")->getValue<std::string>("summary"), "too hot");
    EXPECT_EQ(newest->getObject("channel")->getValue<std::string>("id"), a_.channelId);
    EXPECT_EQ(newest->getValue<std::string>("event_kind"), "OPENED");
    std::string cursor = page->getValue<std::string>("next_cursor");
    auto rest = json(call("GET", "/api/v1/dead-letters?cursor=" + cursor, "", with(customer)).body);
    ASSERT_EQ(rest->getArray("items")->size(), 1u);  // tenant b's is not a's
    EXPECT_EQ(std::to_string(rest->getArray("items")->getObject(0)->getValue<long long>("id")), first);
    EXPECT_TRUE(rest->get("next_cursor").isEmpty());
    EXPECT_EQ(call("GET", "/api/v1/dead-letters?channel_id=nope", "", with(customer)).status, 422);
    EXPECT_EQ(json(call("GET", "/api/v1/dead-letters?channel_id=00000000-0000-0000-0000-000000000000", "",
                        with(customer))
                       .body)
                  ->getArray("items")
                  ->size(),
              0u);

    // A customer may not requeue; another tenant's admin finds nothing; a's admin requeues it, once.
    EXPECT_EQ(call("POST", "/api/v1/dead-letters/" + first + "/requeue", "", with(customer)).status, 403);
    auto adminB = login(b_.admin);
    EXPECT_EQ(call("POST", "/api/v1/dead-letters/" + first + "/requeue", "", with(adminB)).status, 404);
    auto admin = login(a_.admin);
    auto requeued = call("POST", "/api/v1/dead-letters/" + first + "/requeue", "", with(admin));
    ASSERT_EQ(requeued.status, 202) << requeued.body;
    EXPECT_EQ(json(requeued.body)->getValue<int>("attempts_added"), 3);
    EXPECT_EQ(
        scalar("SELECT status || '/' || max_attempts FROM pulse.deliveries WHERE id = $1::bigint", {first})
            .rfind("DEAD", 0),
        std::string::npos);  // PENDING, or already attempted again by this pulsed
    EXPECT_EQ(scalar("SELECT max_attempts FROM pulse.deliveries WHERE id = $1::bigint", {first}), "4");
    EXPECT_EQ(call("POST", "/api/v1/dead-letters/" + first + "/requeue", "", with(admin)).status, 409);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.alert_events WHERE alert_id = $1::bigint AND kind = 'REQUEUED'",
               {a_.alertId}),
        "1");
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'dead_letter.requeue' AND target = $1",
               {first}),
        "1");
    EXPECT_EQ(call("POST", "/api/v1/dead-letters/999999999/requeue", "", with(admin)).status, 404);

    // A disabled channel's letters wait until the channel is saved again.
    scalar("UPDATE pulse.channels SET enabled = false WHERE id = $1::uuid", {a_.channelId});
    auto disabled = call("POST", "/api/v1/dead-letters/" + second + "/requeue", "", with(admin));
    EXPECT_EQ(disabled.status, 409) << disabled.body;
    EXPECT_NE(disabled.body.find("disabled"), std::string::npos);

    // Once a later notice of the alert went to the channel, an earlier one sent now would arrive after it
    // (a trigger after its resolve): refused.
    scalar("UPDATE pulse.channels SET enabled = true WHERE id = $1::uuid", {a_.channelId});
    std::string later = deadLetter(a_, "later");
    scalar("UPDATE pulse.deliveries SET status = 'DONE' WHERE id = $1::bigint RETURNING id", {later});
    auto outOfOrder = call("POST", "/api/v1/dead-letters/" + second + "/requeue", "", with(admin));
    EXPECT_EQ(outOfOrder.status, 409) << outOfOrder.body;
    EXPECT_NE(outOfOrder.body.find("out of order"), std::string::npos) << outOfOrder.body;
}
