// Tenant isolation through the API: another tenant's ids on every resource and verb find and change nothing.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace pulse::test;

namespace {
class ApiTenantIsolation : public ApiTest {};
}  // namespace

// S1: tenant A's user and API key use tenant B's ids on every resource and verb: 404, no B data, no B change.
TEST_F(ApiTenantIsolation, CrossTenantMatrixFindsNothingAndChangesNothing) {
    auto adminB = login(b_.admin);
    std::string keyOfB = json(call("POST", "/api/v1/api-keys", "{\"name\":\"b\"}", with(adminB)).body)
                             ->optValue<std::string>("id", "");
    ASSERT_FALSE(keyOfB.empty());
    auto adminA = login(a_.admin);
    std::string keyA = newKey(adminA);
    // A dead letter of b's, which no list of a's may show and a's admin may not requeue.
    std::string bDead = scalar(
        "WITH e AS (INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) VALUES ($1::uuid, $2::bigint, "
        "'OPENED') RETURNING id) INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, "
        "payload, "
        "status, attempts, max_attempts, completed_at) SELECT $1::uuid, $2::bigint, e.id, $3::uuid, '{}', "
        "'DEAD', "
        "1, 1, now() FROM e RETURNING id::text",
        {b_.id, b_.alertId, b_.channelId});
    EXPECT_EQ(call("POST", "/api/v1/dead-letters/" + bDead + "/requeue", "", with(adminA)).status, 404);
    std::string bAlertBefore = scalar(
        "SELECT status || coalesce(silenced_until::text, '') FROM pulse.alerts WHERE "
        "id = $1::bigint",
        {b_.alertId});
    // An escalation policy and a contact method of b's.
    std::string bPolicy = scalar(
        "INSERT INTO pulse.escalation_policies (tenant_id, name) VALUES ($1::uuid, 'b-night') RETURNING "
        "id::text",
        {b_.id});
    std::string bMethod = scalar(
        "INSERT INTO pulse.user_contact_methods (tenant_id, user_id, kind, channel_id) VALUES ($1::uuid, "
        "$2::uuid, 'channel', $3::uuid) RETURNING id::text",
        {b_.id, b_.adminId, b_.channelId});
    // A schedule of b's (b's admin on call) with an override.
    std::string bSchedule = scalar(
        "WITH s AS (INSERT INTO pulse.schedules (tenant_id, name, time_zone) VALUES ($1::uuid, 'b-rota', "
        "'UTC') "
        "RETURNING id), l AS (INSERT INTO pulse.schedule_layers (tenant_id, schedule_id, layer, rotation, "
        "handoff_time, start_date) SELECT $1::uuid, id, 1, 'daily', '09:00', '2026-01-01' FROM s RETURNING "
        "schedule_id), m AS (INSERT INTO pulse.schedule_layer_members (tenant_id, schedule_id, layer, "
        "position, "
        "user_id) SELECT $1::uuid, schedule_id, 1, 0, $2::uuid FROM l RETURNING 1) SELECT id::text FROM s",
        {b_.id, b_.adminId});
    std::string bOverride = scalar(
        "INSERT INTO pulse.schedule_overrides (tenant_id, schedule_id, user_id, starts_at, ends_at) VALUES "
        "($1::uuid, $2::uuid, $3::uuid, now(), now() + interval '1 day') RETURNING id::text",
        {b_.id, bSchedule, b_.adminId});
    std::string scheduleChange =
        "{\"name\":\"x\",\"time_zone\":\"UTC\",\"layers\":[{\"rotation\":\"daily\","
        "\"handoff\":\"09:00\",\"start_date\":\"2027-01-01\",\"users\":[\"" +
        a_.adminId + "\"]}]}";
    std::string bWindow = scalar(
        "INSERT INTO pulse.maintenance_windows (tenant_id, name, time_zone, recurrence, starts_at, ends_at, "
        "scope) "
        "VALUES ($1::uuid, 'b-window', 'UTC', 'once', now(), now() + interval '1 day', 'tenant') RETURNING "
        "id::text",
        {b_.id});
    std::string windowChange =
        "{\"name\":\"x\",\"recurrence\":\"once\",\"starts_at\":\"2027-01-01T00:00:00Z\","
        "\"ends_at\":\"2027-01-02T00:00:00Z\",\"scope\":{\"type\":\"tenant\"}}";
    std::string policyChange = "{\"name\":\"x\",\"levels\":[{\"targets\":[{\"type\":\"channel\",\"id\":\"" +
                               b_.channelId + "\"}]}]}";
    // A grouping routing rule of b's with an open group holding b's alert, and a device of b's behind b's.
    std::string bRoute = scalar(
        "INSERT INTO pulse.routing_rules (tenant_id, channel_id, name, group_by) VALUES ($1::uuid, $2::uuid, "
        "'b-route', '{rule}') RETURNING id::text",
        {b_.id, b_.channelId});
    std::string bGroup = scalar(
        "WITH g AS (INSERT INTO pulse.notification_groups (tenant_id, routing_rule_id, channel_id, group_by, "
        "group_key, rule_id, next_flush_at) VALUES ($1::uuid, $2::uuid, $3::uuid, '{rule}', 'rule:' || $4, "
        "$4::uuid, now() + interval '1 hour') RETURNING id) INSERT INTO pulse.notification_group_alerts "
        "(group_id, alert_id, tenant_id) SELECT id, $5::bigint, $1::uuid FROM g RETURNING group_id::text",
        {b_.id, bRoute, b_.channelId, b_.ruleId, b_.alertId});
    std::string bChild = scalar(
        "INSERT INTO pulse.devices (tenant_id, name, parent_id) VALUES ($1::uuid, 'b-child', $2::bigint) "
        "RETURNING id::text",
        {b_.id, b_.deviceId});
    std::string routeChange = "{\"channel_id\":\"" + b_.channelId + "\",\"name\":\"x\"}";
    struct Case {
        std::string method, path, body;
    };
    std::vector<Case> cases = {
        {"GET", "/api/v1/devices/" + b_.deviceId, ""},
        {"GET", "/api/v1/alerts/" + b_.alertId, ""},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/acknowledge", ""},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/close", "{\"reason\":\"x\"}"},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/silence", "{\"minutes\":5}"},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/reopen", ""},
        {"PUT", "/api/v1/routing-rules/" + bRoute, routeChange},
        {"DELETE", "/api/v1/routing-rules/" + bRoute, ""},
        {"DELETE", "/api/v1/api-keys/" + keyOfB, ""},
        {"GET", "/api/v1/rules/" + b_.ruleId, ""},
        {"PUT", "/api/v1/rules/" + b_.ruleId,
         "{\"name\":\"x\",\"type\":\"threshold\",\"config\":{\"metric\":\"t\",\"operator\":\"GT\","
         "\"threshold\":1}}"},
        {"DELETE", "/api/v1/rules/" + b_.ruleId, ""},
        {"GET", "/api/v1/channels/" + b_.channelId, ""},
        {"PUT", "/api/v1/channels/" + b_.channelId + "/config", "{\"level\":\"error\"}"},
        {"PATCH", "/api/v1/devices/" + b_.deviceId, "{\"tags\":[\"stolen\"]}"},
        {"POST", "/api/v1/devices/" + b_.deviceId + "/rotate-token", ""},
        {"POST", "/api/v1/devices/" + b_.deviceId + "/revoke", ""},
        {"POST", "/api/v1/devices/" + b_.deviceId + "/decommission", ""},
        {"GET", "/api/v1/devices/" + b_.deviceId + "/telemetry?metric=fixture", ""},
        {"GET", "/api/v1/sites/" + b_.siteId, ""},
        {"PATCH", "/api/v1/sites/" + b_.siteId, "{\"name\":\"taken\"}"},
        {"DELETE", "/api/v1/sites/" + b_.siteId, ""},
        {"GET", "/api/v1/users/" + b_.adminId, ""},
        {"PATCH", "/api/v1/users/" + b_.adminId, "{\"disabled\":true}"},
        {"PATCH", "/api/v1/metrics/" + b_.metricId, "{\"unit\":\"x\"}"},
        {"GET", "/api/v1/alerts/" + b_.alertId + "/deliveries", ""},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/assign", "{\"assignee_id\":null}"},
        {"POST", "/api/v1/alerts/" + b_.alertId + "/comments", "{\"text\":\"hi\"}"},
        {"GET", "/api/v1/tenants/" + b_.id, ""},
        {"GET", "/api/v1/escalation-policies/" + bPolicy, ""},
        {"PUT", "/api/v1/escalation-policies/" + bPolicy, policyChange},
        {"DELETE", "/api/v1/escalation-policies/" + bPolicy, ""},
        {"GET", "/api/v1/users/" + b_.adminId + "/contact-methods", ""},
        {"POST", "/api/v1/users/" + b_.adminId + "/contact-methods",
         "{\"kind\":\"channel\",\"channel_id\":\"" + b_.channelId + "\"}"},
        {"DELETE", "/api/v1/users/" + b_.adminId + "/contact-methods/" + bMethod, ""},
        {"GET", "/api/v1/maintenance-windows/" + bWindow, ""},
        {"PUT", "/api/v1/maintenance-windows/" + bWindow, windowChange},
        {"DELETE", "/api/v1/maintenance-windows/" + bWindow, ""},
        {"GET", "/api/v1/schedules/" + bSchedule, ""},
        {"PUT", "/api/v1/schedules/" + bSchedule, scheduleChange},
        {"DELETE", "/api/v1/schedules/" + bSchedule, ""},
        {"GET", "/api/v1/schedules/" + bSchedule + "/timeline", ""},
        {"GET", "/api/v1/schedules/" + bSchedule + "/on-call", ""},
        {"GET", "/api/v1/schedules/" + bSchedule + "/overrides", ""},
        {"POST", "/api/v1/schedules/" + bSchedule + "/overrides",
         "{\"user_id\":\"" + a_.adminId +
             "\",\"starts_at\":\"2027-01-01T00:00:00Z\",\"ends_at\":\"2027-01-02T00:00:00Z\"}"},
        {"DELETE", "/api/v1/schedules/" + bSchedule + "/overrides/" + bOverride, ""},
        {"GET", "/api/v1/schedules/" + bSchedule + "/calendar-url", ""},
        {"POST", "/api/v1/schedules/" + bSchedule + "/calendar-url", ""},
        {"GET", "/api/v1/users/" + b_.adminId + "/on-call", ""},
        {"GET", "/api/v1/users/" + b_.adminId + "/calendar-url", ""},
        {"POST", "/api/v1/users/" + b_.adminId + "/calendar-url", ""},
    };
    std::vector<std::map<std::string, std::string>> principals = {with(adminA),
                                                                  {{"Authorization", "Bearer " + keyA}}};
    for (const auto& who : principals) {
        for (const auto& c : cases) {
            auto r = call(c.method, c.path, c.body, who);
            // A key changing a user is refused before any lookup (403 whatever the id: no oracle either).
            bool keyChangesUser =
                c.method == "PATCH" && c.path.rfind("/api/v1/users/", 0) == 0 && who.count("Authorization");
            EXPECT_EQ(r.status, keyChangesUser ? 403 : 404) << c.method << " " << c.path << ": " << r.body;
            EXPECT_EQ(r.body.find(b_.slug), std::string::npos);
            EXPECT_EQ(r.body.find("too hot"), std::string::npos);
        }
        // Lists show only A's rows, whatever filter names B's.
        auto devices = call("GET", "/api/v1/devices?limit=200", "", who);
        EXPECT_EQ(json(devices.body)->getArray("items")->size(), 1u) << devices.body;
        auto alerts = call("GET", "/api/v1/alerts?status=ALL&device_id=" + b_.deviceId, "", who);
        EXPECT_EQ(json(alerts.body)->getArray("items")->size(), 0u) << alerts.body;
        auto children = call("GET", "/api/v1/devices?parent_id=" + b_.deviceId, "", who);
        EXPECT_EQ(json(children.body)->getArray("items")->size(), 0u) << children.body;
        EXPECT_EQ(children.body.find("b-child"), std::string::npos);
        for (const char* groups : {"/api/v1/notification-groups", "/api/v1/notification-groups?status=all"}) {
            auto r = call("GET", groups, "", who);
            ASSERT_EQ(r.status, 200) << r.body;
            EXPECT_EQ(json(r.body)->getArray("items")->size(), 0u) << r.body;
        }
        // Routing A's alerts to B's channel: refused as an unknown channel.
        EXPECT_EQ(
            call("POST", "/api/v1/routing-rules", "{\"channel_id\":\"" + b_.channelId + "\"}", who).status,
            422);
        // A device in A cannot be put on B's site or behind B's device, nor an alert of A given to B's user.
        EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"site_id\":\"" + b_.siteId + "\"}", who)
                      .status,
                  422);
        EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"parent_id\":" + b_.deviceId + "}", who)
                      .status,
                  422);
        EXPECT_EQ(call("POST", "/api/v1/alerts/" + a_.alertId + "/assign",
                       "{\"assignee_id\":\"" + b_.adminId + "\"}", who)
                      .status,
                  422);
        auto bulk = call("POST", "/api/v1/alerts/bulk",
                         "{\"action\":\"silence\",\"minutes\":5,\"ids\":[" + b_.alertId + "]}", who);
        EXPECT_EQ(bulk.status, 200) << bulk.body;
        EXPECT_EQ(json(bulk.body)->getValue<int>("changed"), 0) << bulk.body;
        const std::string onCallOfA = "/api/v1/users/" + a_.adminId + "/on-call";
        for (const auto& list :
             {"/api/v1/rules", "/api/v1/channels", "/api/v1/routing-rules", "/api/v1/api-keys",
              "/api/v1/sites", "/api/v1/users", "/api/v1/metrics", "/api/v1/tenants",
              "/api/v1/devices/export?format=json", "/api/v1/alerts/export?format=json",
              "/api/v1/dead-letters", "/api/v1/escalation-policies", "/api/v1/schedules",
              "/api/v1/maintenance-windows", onCallOfA.c_str()}) {
            auto r = call("GET", list, "", who);
            EXPECT_EQ(r.body.find(bPolicy), std::string::npos) << list;
            EXPECT_EQ(r.body.find(bSchedule), std::string::npos) << list;
            EXPECT_EQ(r.body.find(bWindow), std::string::npos) << list;
            EXPECT_EQ(r.body.find(bRoute), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.ruleId), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.channelId), std::string::npos) << list;
            EXPECT_EQ(r.body.find(keyOfB), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.siteId), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.admin), std::string::npos) << list;
            EXPECT_EQ(r.body.find(b_.slug), std::string::npos) << list;
            // Alert ids are small integers other lists' ids (metrics, sites' rows) may equal: only alert
            // lists.
            if (std::string_view(list).find("alerts") != std::string_view::npos) {
                EXPECT_EQ(r.body.find("\"id\":" + b_.alertId + ","), std::string::npos) << list;
            }
        }
        // An operator-only way to name a tenant does nothing for a tenant user.
        auto named = call("GET", "/api/v1/devices?tenant=" + b_.id, "", who);
        auto namedItems = json(named.body)->getArray("items");
        ASSERT_EQ(namedItems->size(), 1u) << named.body;
        EXPECT_EQ(std::to_string(namedItems->getObject(0)->getValue<long long>("id")), a_.deviceId);
    }
    EXPECT_EQ(
        scalar("SELECT status || coalesce(silenced_until::text, '') FROM pulse.alerts WHERE id = $1::bigint",
               {b_.alertId}),
        bAlertBefore);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.api_keys WHERE id = $1::uuid AND revoked_at IS NULL", {keyOfB}),
        "1");
    EXPECT_EQ(
        scalar("SELECT name || (SELECT count(*) FROM pulse.escalation_levels WHERE policy_id = p.id) FROM "
               "pulse.escalation_policies p WHERE id = $1::uuid",
               {bPolicy}),
        "b-night0");
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.user_contact_methods WHERE user_id = $1::uuid", {b_.adminId}),
        "1");
    EXPECT_EQ(
        scalar("SELECT name || calendar_version || (SELECT count(*) FROM pulse.schedule_overrides o WHERE "
               "o.schedule_id = s.id) FROM pulse.schedules s WHERE id = $1::uuid",
               {bSchedule}),
        "b-rota11");
    EXPECT_EQ(scalar("SELECT name FROM pulse.maintenance_windows WHERE id = $1::uuid", {bWindow}),
              "b-window");
    EXPECT_EQ(scalar("SELECT name || enabled::text FROM pulse.routing_rules WHERE id = $1::uuid", {bRoute}),
              "b-routetrue");
    EXPECT_EQ(
        scalar("SELECT status || (SELECT count(*) FROM pulse.notification_group_alerts m WHERE m.group_id "
               "= g.id) FROM pulse.notification_groups g WHERE id = $1::bigint",
               {bGroup}),
        "OPEN1");
    EXPECT_EQ(scalar("SELECT parent_id::text FROM pulse.devices WHERE id = $1::bigint", {bChild}),
              b_.deviceId);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.alert_events WHERE alert_id = $1::bigint", {b_.alertId}),
              "1");  // the dead letter's OPENED, nothing since (no REQUEUED)
    EXPECT_EQ(
        scalar(
            "SELECT name || enabled::text || (deleted_at IS NULL)::text FROM pulse.rules WHERE id = $1::uuid",
            {b_.ruleId}),
        "hottruetrue");
    EXPECT_EQ(scalar("SELECT config::text FROM pulse.channels WHERE id = $1::uuid", {b_.channelId}), "{}");
    EXPECT_EQ(
        scalar("SELECT cardinality(tags)::text FROM pulse.devices WHERE id = $1::bigint", {b_.deviceId}),
        "0");
    EXPECT_EQ(scalar("SELECT (decommissioned_at IS NULL)::text FROM pulse.devices WHERE id = $1::bigint",
                     {b_.deviceId}),
              "true");
    EXPECT_EQ(scalar("SELECT name FROM pulse.sites WHERE id = $1::uuid", {b_.siteId}), "HQ");
    EXPECT_EQ(scalar("SELECT disabled::text FROM pulse.users WHERE id = $1::uuid", {b_.adminId}), "false");
    EXPECT_EQ(scalar("SELECT unit FROM pulse.metrics WHERE id = $1::int", {b_.metricId}), "");
    EXPECT_EQ(
        scalar("SELECT (assignee_id IS NULL)::text FROM pulse.alerts WHERE id = $1::bigint", {b_.alertId}),
        "true");
}
