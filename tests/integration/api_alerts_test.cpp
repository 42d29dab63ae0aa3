// Alerts: assignment, comments, bulk actions, deliveries with their attempts, and exports.
#include "api_fixture.h"
#include "storage/PgConnection.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace pulse::test;
using pulse::storage::PgConnection;

namespace {
class ApiAlerts : public ApiTest {};
}  // namespace

TEST_F(ApiAlerts, AlertsAreAssignedCommentedActedOnInBulkAndShowTheirDeliveries) {
    PgConnection owner(ownerUri());
    // Two more open alerts in A, on rules of their own (one open alert per rule and device).
    std::vector<std::string> ids;
    for (const char* rule : {"bulk-1", "bulk-2"})
        ids.push_back(
            *owner
                 .query(
                     "WITH r AS (INSERT INTO pulse.rules (tenant_id, name, type, severity) VALUES "
                     "($1::uuid, $3, 'threshold', 'LOW') RETURNING id) INSERT INTO pulse.alerts "
                     "(tenant_id, rule_id, device_id, severity, summary, triggered_at) SELECT $1::uuid, "
                     "r.id, $2::bigint, 'LOW', '=HYPERLINK(\"http://x\")', now() FROM r RETURNING id::text",
                     {a_.id, a_.deviceId, rule})
                 .rows[0][0]);
    auto event =
        *owner
             .query(
                 "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) VALUES ($1::uuid, $2::bigint, "
                 "'OPENED') RETURNING id::text",
                 {a_.id, ids[0]})
             .rows[0][0];
    // Delivered already (a pending one would be claimed by the dispatchers of the pulsed instances running).
    auto delivery = *owner
                         .query(
                             "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, "
                             "payload, max_attempts, "
                             "status, attempts, last_status_code, completed_at) VALUES ($1::uuid, "
                             "$2::bigint, $3::bigint, "
                             "$4::uuid, '{}', 5, 'DONE', 2, 204, now()) RETURNING id::text",
                             {a_.id, ids[0], event, a_.channelId})
                         .rows[0][0];
    owner.query(
        "INSERT INTO pulse.delivery_attempts (tenant_id, delivery_id, attempt, started_at, duration_ms, "
        "outcome, status_code, detail, worker) VALUES ($1::uuid, $2::bigint, 1, now(), 12, 'RETRY', 503, "
        "'busy', 'w1'), ($1::uuid, $2::bigint, 2, now(), 9, 'DELIVERED', 204, '', 'w1')",
        {a_.id, delivery});

    auto s = login(a_.customer);
    auto assigned = call("POST", "/api/v1/alerts/" + ids[0] + "/assign",
                         "{\"assignee_id\":\"" + a_.adminId + "\"}", with(s));
    ASSERT_EQ(assigned.status, 200) << assigned.body;
    EXPECT_EQ(json(assigned.body)->getValue<std::string>("assignee_id"), a_.adminId);
    auto commented =
        call("POST", "/api/v1/alerts/" + ids[0] + "/comments", "{\"text\":\"on my way\"}", with(s));
    ASSERT_EQ(commented.status, 201) << commented.body;
    EXPECT_EQ(call("POST", "/api/v1/alerts/" + ids[0] + "/comments", "{\"text\":\"  \"}", with(s)).status,
              422);
    auto detail = call("GET", "/api/v1/alerts/" + ids[0], "", with(s, false));
    EXPECT_NE(detail.body.find("\"ASSIGNED\""), std::string::npos);
    EXPECT_NE(detail.body.find("on my way"), std::string::npos);

    auto deliveries = call("GET", "/api/v1/alerts/" + ids[0] + "/deliveries", "", with(s, false));
    ASSERT_EQ(deliveries.status, 200) << deliveries.body;
    auto items = json(deliveries.body)->getArray("items");
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ(items->getObject(0)->getValue<std::string>("status"), "DONE");
    EXPECT_EQ(items->getObject(0)->getValue<int>("last_status_code"), 204);
    auto log = items->getObject(0)->getArray("attempt_log");
    ASSERT_EQ(log->size(), 2u);
    EXPECT_EQ(log->getObject(0)->getValue<int>("status_code"), 503);

    auto bulk =
        call("POST", "/api/v1/alerts/bulk",
             "{\"action\":\"acknowledge\",\"ids\":[" + ids[0] + "," + ids[1] + ",999999999]}", with(s));
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    EXPECT_EQ(json(bulk.body)->getValue<int>("changed"), 2) << bulk.body;
    EXPECT_EQ(scalar("SELECT string_agg(status, ',') FROM pulse.alerts WHERE id IN ($1::bigint, $2::bigint)",
                     {ids[0], ids[1]}),
              "ACKNOWLEDGED,ACKNOWLEDGED");
    // Re-opened by a person: open again, unacknowledged, an opening by them in its history, audited; an open
    // alert is not re-opened (409), nor another tenant's (404).
    auto reopened = call("POST", "/api/v1/alerts/" + ids[1] + "/reopen", "", with(s));
    ASSERT_EQ(reopened.status, 200) << reopened.body;
    EXPECT_EQ(json(reopened.body)->getValue<std::string>("status"), "OPEN");
    EXPECT_TRUE(json(reopened.body)->isNull("acknowledged_at")) << reopened.body;
    EXPECT_EQ(call("POST", "/api/v1/alerts/" + ids[1] + "/reopen", "", with(s)).status, 409);
    EXPECT_EQ(call("POST", "/api/v1/alerts/" + b_.alertId + "/reopen", "", with(s)).status, 404);
    EXPECT_EQ(scalar("SELECT actor || ' ' || (detail->>'was') FROM pulse.alert_events WHERE alert_id = "
                     "$1::bigint AND kind = 'OPENED' AND detail ? 'reopened'",
                     {ids[1]}),
              "user:" + a_.customer + " ACKNOWLEDGED");
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'alert.reopen' AND target = $1 AND "
                     "result = 'ok'",
                     {ids[1]}),
              "1");
    EXPECT_EQ(call("POST", "/api/v1/alerts/bulk", "{\"action\":\"close\",\"ids\":[]}", with(s)).status, 422);
    EXPECT_EQ(call("POST", "/api/v1/alerts/bulk", "{\"action\":\"delete\",\"ids\":[1]}", with(s)).status,
              422);

    // Exports: CSV with a formula-looking summary defused, JSON as an array.
    auto csv = call("GET", "/api/v1/alerts/export?format=csv&status=ALL", "", with(s, false));
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.headers["Content-Type"].rfind("text/csv", 0), 0u);
    EXPECT_EQ(csv.body.rfind("id,status,severity,", 0), 0u);
    EXPECT_NE(csv.body.find("\"'=HYPERLINK(\"\"http://x\"\")\""), std::string::npos) << csv.body;
    auto jsonExport = call("GET", "/api/v1/devices/export?format=json", "", with(s, false));
    ASSERT_EQ(jsonExport.status, 200);
    auto devices = Poco::JSON::Parser().parse(jsonExport.body).extract<Poco::JSON::Array::Ptr>();
    EXPECT_GE(devices->size(), 1u);
    EXPECT_EQ(call("GET", "/api/v1/devices/export?format=xml", "", with(s, false)).status, 422);
    EXPECT_GE(std::stoi(scalar("SELECT count(*) FROM pulse.audit_log WHERE action IN ('alert.export', "
                               "'device.export') AND tenant_id = $1::uuid",
                               {a_.id})),
              2);
}

// The inbox's rule and assignee filters.
TEST_F(ApiAlerts, TheInboxFiltersByRuleAndAssignee) {
    auto s = login(a_.admin);
    auto ids = [&](const std::string& query) {
        auto r = call("GET", "/api/v1/alerts?status=ALL&" + query, "", with(s, false));
        EXPECT_EQ(r.status, 200) << query << " " << r.body;
        std::vector<std::string> out;
        auto items = json(r.body)->getArray("items");
        for (size_t i = 0; items && i < items->size(); ++i)
            out.push_back(
                std::to_string(items->getObject(static_cast<unsigned>(i))->getValue<long long>("id")));
        return out;
    };
    auto has = [](const std::vector<std::string>& v, const std::string& id) {
        return std::find(v.begin(), v.end(), id) != v.end();
    };
    // An open alert of its own: other tests of the suite act on the fixture's.
    std::string device = scalar(
        "INSERT INTO pulse.devices (tenant_id, name) VALUES ($1::uuid, 'filtered') RETURNING id", {a_.id});
    std::string alert = scalar(
        "INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, summary, triggered_at) "
        "VALUES ($1::uuid, $2::uuid, $3::bigint, 'LOW', 'filtered', now()) RETURNING id",
        {a_.id, a_.ruleId, device});
    EXPECT_TRUE(has(ids("rule_id=" + a_.ruleId), alert));
    EXPECT_TRUE(ids("rule_id=00000000-0000-4000-8000-000000000000").empty());
    ASSERT_EQ(call("POST", "/api/v1/alerts/" + alert + "/assign", "{\"assignee_id\":null}", with(s)).status,
              200);
    EXPECT_TRUE(has(ids("assignee=none"), alert));
    EXPECT_FALSE(has(ids("assignee=" + a_.adminId), alert));
    ASSERT_EQ(call("POST", "/api/v1/alerts/" + alert + "/assign", "{\"assignee_id\":\"" + a_.adminId + "\"}",
                   with(s))
                  .status,
              200);
    EXPECT_TRUE(has(ids("assignee=" + a_.adminId), alert));
    EXPECT_FALSE(has(ids("assignee=none"), alert));
    EXPECT_EQ(call("GET", "/api/v1/alerts?rule_id=nope", "", with(s, false)).status, 422);
    EXPECT_EQ(call("GET", "/api/v1/alerts?assignee=someone", "", with(s, false)).status, 422);
    // Another tenant's rule id finds nothing of this tenant's.
    auto b = login(b_.admin);
    auto other = call("GET", "/api/v1/alerts?status=ALL&rule_id=" + a_.ruleId, "", with(b, false));
    EXPECT_EQ(json(other.body)->getArray("items")->size(), 0u);
}
