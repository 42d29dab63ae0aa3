// Devices: token rotation, revocation and decommissioning at ingest, sites, tags and thresholds, and CSV
// import within the subscription's device limit.
#include "api_fixture.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace pulse::test;

namespace {
class ApiDevices : public ApiTest {};
}  // namespace

// Device lifecycle: every change takes effect at ingest at once (the registry's cache is dropped), and each
// one is in the audit log.
TEST_F(ApiDevices, DeviceTokensRotateRevokeAndDecommissionWithEffectAtIngest) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"life-1\",\"tags\":[\"t1\"]}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(json(created.body)->getValue<long long>("id"));
    std::string first = json(created.body)->getValue<std::string>("token");
    EXPECT_EQ(ingest(first, "{\"temp\":20}"), 200);

    auto rotated = call("POST", "/api/v1/devices/" + id + "/rotate-token", "", with(admin));
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    std::string second = json(rotated.body)->getValue<std::string>("token");
    EXPECT_NE(second, first);
    EXPECT_EQ(ingest(first, "{\"temp\":21}"), 401);
    EXPECT_EQ(ingest(second, "{\"temp\":21}"), 200);

    EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/revoke", "", with(admin)).status, 200);
    EXPECT_EQ(ingest(second, "{\"temp\":22}"), 401);

    std::string third = json(call("POST", "/api/v1/devices/" + id + "/rotate-token", "", with(admin)).body)
                            ->optValue<std::string>("token", "");
    EXPECT_EQ(ingest(third, "{\"temp\":23}"), 200);
    auto gone = call("POST", "/api/v1/devices/" + id + "/decommission", "", with(admin));
    ASSERT_EQ(gone.status, 200) << gone.body;
    EXPECT_FALSE(json(gone.body)->isNull("decommissioned_at"));
    EXPECT_EQ(ingest(third, "{\"temp\":24}"), 401);
    EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/decommission", "", with(admin)).status, 409);
    EXPECT_EQ(call("POST", "/api/v1/devices/" + id + "/rotate-token", "", with(admin)).status, 404);
    // No live credential is left, and the broker's password file no longer has the account.
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.device_credentials WHERE device_id = $1::bigint AND revoked_at "
               "IS NULL",
               {id}),
        "0");
    EXPECT_EQ(scalar("SELECT string_agg(action, ',' ORDER BY id) FROM pulse.audit_log WHERE target = $1 AND "
                     "action LIKE 'device.%' AND tenant_id = $2::uuid",
                     {id, a_.id}),
              "device.create,device.rotate_token,device.revoke,device.rotate_token,device.decommission,"
              "device.decommission,device.rotate_token");
    // Customers change none of it.
    auto customer = login(a_.customer);
    EXPECT_EQ(call("POST", "/api/v1/devices/" + a_.deviceId + "/rotate-token", "", with(customer)).status,
              403);
}

TEST_F(ApiDevices, DevicesMoveBetweenSitesAndTakeTagsAndThresholds) {
    auto admin = login(a_.admin);
    auto site = call("POST", "/api/v1/sites", "{\"name\":\"Plant North\",\"time_zone\":\"Europe/Berlin\"}",
                     with(admin));
    ASSERT_EQ(site.status, 201) << site.body;
    std::string siteId = json(site.body)->getValue<std::string>("id");
    EXPECT_EQ(call("POST", "/api/v1/sites", "{\"name\":\"Plant North\"}", with(admin)).status, 409);
    auto badZone =
        call("POST", "/api/v1/sites", "{\"name\":\"Nowhere\",\"time_zone\":\"Mars/Olympus\"}", with(admin));
    EXPECT_EQ(badZone.status, 422);
    EXPECT_EQ(json(badZone.body)->getValue<std::string>("field"), "time_zone");

    auto moved =
        call("PATCH", "/api/v1/devices/" + a_.deviceId,
             "{\"site_id\":\"" + siteId + "\",\"tags\":[\"boiler\",\"north\"],\"stale_after_s\":120}",
             with(admin));
    ASSERT_EQ(moved.status, 200) << moved.body;
    auto d = json(moved.body);
    EXPECT_EQ(d->getValue<std::string>("site_id"), siteId);
    EXPECT_EQ(d->getArray("tags")->size(), 2u);
    EXPECT_EQ(d->getValue<int>("stale_after_s"), 120);
    EXPECT_EQ(
        json(call("GET", "/api/v1/sites/" + siteId, "", with(admin, false)).body)->getValue<int>("devices"),
        1);
    // A site with devices stays; moved away, it can go.
    EXPECT_EQ(call("DELETE", "/api/v1/sites/" + siteId, "", with(admin)).status, 409);
    EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"site_id\":null,\"stale_after_s\":null}",
                   with(admin))
                  .status,
              200);
    EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{}", with(admin)).status, 422);
    EXPECT_EQ(call("PATCH", "/api/v1/devices/" + a_.deviceId, "{\"tags\":[\"a,b\"]}", with(admin)).status,
              422);
    EXPECT_EQ(call("DELETE", "/api/v1/sites/" + siteId, "", with(admin)).status, 204);
    EXPECT_EQ(call("GET", "/api/v1/sites/" + siteId, "", with(admin, false)).status, 404);
}

TEST_F(ApiDevices, CsvImportIsAllOrNothingWithEveryProblemByLine) {
    auto admin = login(a_.admin);
    ASSERT_EQ(call("POST", "/api/v1/sites", "{\"name\":\"Import Site\"}", with(admin)).status, 201);
    std::string bad =
        "name,tags,site\n"
        "imp-1,heating;north,Import Site\n"
        "bad name,,\n"
        "imp-1,,\n"
        "imp-3,,No Such Site\n"
        "dev-1,,\n";
    auto refused =
        call("POST", "/api/v1/devices/import", bad,
             {{"Cookie", with(admin)["Cookie"]}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    ASSERT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(refused.headers["Content-Type"], "application/problem+json");
    auto errors = json(refused.body)->getArray("errors");
    std::set<int> lines;
    for (size_t i = 0; i < errors->size(); ++i)
        lines.insert(errors->getObject(static_cast<unsigned>(i))->getValue<int>("line"));
    // The file's own problems (lines 3 and 4) are reported before the tenant is asked about the rest.
    EXPECT_EQ(lines, (std::set<int>{3, 4})) << refused.body;
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.devices WHERE name LIKE 'imp-%' AND tenant_id = $1::uuid",
                     {a_.id}),
              "0");

    auto refused2 =
        call("POST", "/api/v1/devices/import", "name,site\nimp-1,Import Site\nimp-3,No Such Site\ndev-1,\n",
             {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    ASSERT_EQ(refused2.status, 422) << refused2.body;
    EXPECT_NE(refused2.body.find("No Such Site"), std::string::npos);
    EXPECT_NE(refused2.body.find("'dev-1' exists"), std::string::npos);
    EXPECT_EQ(scalar("SELECT count(*) FROM pulse.devices WHERE name LIKE 'imp-%' AND tenant_id = $1::uuid",
                     {a_.id}),
              "0");

    EXPECT_EQ(call("POST", "/api/v1/devices/import", "name\nimp-9\n", with(admin)).status, 415);  // JSON type

    auto ok = call("POST", "/api/v1/devices/import",
                   "\xEF\xBB\xBFname,tags,site\r\nimp-1,heating;north,Import Site\r\n\"imp-2\",,\r\n",
                   {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    ASSERT_EQ(ok.status, 201) << ok.body;
    auto items = json(ok.body)->getArray("items");
    ASSERT_EQ(items->size(), 2u);
    std::string token = items->getObject(0)->getValue<std::string>("token");
    EXPECT_EQ(ingest(token, "{\"temp\":1}"), 200);
    EXPECT_EQ(
        scalar("SELECT array_to_string(d.tags, ';') || '@' || s.name FROM pulse.devices d JOIN pulse.sites s "
               "ON s.id = d.site_id WHERE d.name = 'imp-1' AND d.tenant_id = $1::uuid",
               {a_.id}),
        "heating;north@Import Site");

    // The subscription's device limit (set by an operator-admin) holds for imports and single devices.
    auto ops = login(operatorAdmin_);
    int inUse = json(call("GET", "/api/v1/tenants/" + a_.id, "", with(ops, false)).body)
                    ->getValue<int>("devices_in_use");
    auto limited = call("PATCH", "/api/v1/tenants/" + a_.id,
                        "{\"device_limit\":" + std::to_string(inUse + 1) + "}", with(ops));
    ASSERT_EQ(limited.status, 200) << limited.body;
    auto over = call("POST", "/api/v1/devices/import", "name\nimp-10\nimp-11\n",
                     {{"Cookie", admin.cookie}, {"X-CSRF-Token", admin.csrf}, {"Content-Type", "text/csv"}});
    EXPECT_EQ(over.status, 409) << over.body;
    EXPECT_EQ(
        scalar(
            "SELECT count(*) FROM pulse.devices WHERE name IN ('imp-10', 'imp-11') AND tenant_id = $1::uuid",
            {a_.id}),
        "0");
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"imp-10\"}", with(admin)).status, 201);
    auto full = call("POST", "/api/v1/devices", "{\"name\":\"imp-11\"}", with(admin));
    EXPECT_EQ(full.status, 409) << full.body;
    EXPECT_NE(full.body.find("subscription allows"), std::string::npos);
    auto own = json(call("GET", "/api/v1/tenants/" + a_.id, "", with(admin, false)).body);
    EXPECT_EQ(own->getValue<int>("device_limit"), inUse + 1);
    EXPECT_EQ(call("PATCH", "/api/v1/tenants/" + a_.id, "{\"device_limit\":null}", with(admin)).status, 403);
    ASSERT_EQ(call("PATCH", "/api/v1/tenants/" + a_.id, "{\"device_limit\":null}", with(ops)).status, 200);
    EXPECT_EQ(call("POST", "/api/v1/devices", "{\"name\":\"imp-11\"}", with(admin)).status, 201);
}

// The fleet list sorts by name either way and by when devices were last seen, and pages keep the order.
TEST_F(ApiDevices, TheFleetListSortsAndPagesInThatOrder) {
    auto admin = login(a_.admin);
    for (const char* name : {"sort-c", "sort-a", "sort-d", "sort-b"})
        ASSERT_EQ(
            call("POST", "/api/v1/devices", std::string("{\"name\":\"") + name + "\"}", with(admin)).status,
            201);
    scalar(
        "UPDATE pulse.devices SET last_seen_at = now() - make_interval(mins => ascii(right(name, 1)) - 96) "
        "WHERE tenant_id = $1::uuid AND name LIKE 'sort-%' AND name <> 'sort-d' RETURNING 1",
        {a_.id});
    auto names = [&](const std::string& sort) {
        std::vector<std::string> out;
        std::string cursor;
        for (int page = 0; page < 10; ++page) {
            auto r = call(
                "GET",
                "/api/v1/devices?q=sort-&limit=2&sort=" + sort + (cursor.empty() ? "" : "&cursor=" + cursor),
                "", with(admin, false));
            EXPECT_EQ(r.status, 200) << r.body;
            auto body = json(r.body);
            auto items = body->getArray("items");
            for (size_t i = 0; i < items->size(); ++i)
                out.push_back(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("name"));
            if (!body->has("next_cursor") || body->isNull("next_cursor")) break;
            cursor = body->getValue<std::string>("next_cursor");
        }
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(names("name"), (V{"sort-a", "sort-b", "sort-c", "sort-d"}));
    EXPECT_EQ(names("-name"), (V{"sort-d", "sort-c", "sort-b", "sort-a"}));
    // a seen 1 minute ago, b 2, c 3; d never (last either way round).
    EXPECT_EQ(names("-last_seen"), (V{"sort-a", "sort-b", "sort-c", "sort-d"}));
    EXPECT_EQ(names("last_seen"), (V{"sort-d", "sort-c", "sort-b", "sort-a"}));
    EXPECT_EQ(call("GET", "/api/v1/devices?sort=colour", "", with(admin, false)).status, 422);
}

// Device parents (a device depends on its gateway, sql/016): set, listed by parent, cleared; never the
// device itself, one below it (a cycle), another tenant's device or a chain of more than 10 parents, each
// answered by a problem naming parent_id.
TEST_F(ApiDevices, DevicesTakeAParentButNeverACycle) {
    auto admin = login(a_.admin);
    auto makeDevice = [&](const std::string& name) {
        return scalar("INSERT INTO pulse.devices (tenant_id, name) VALUES ($1::uuid, $2) RETURNING id::text",
                      {a_.id, name});
    };
    auto setParent = [&](const std::string& device, const std::string& parent) {
        return call("PATCH", "/api/v1/devices/" + device, "{\"parent_id\":" + parent + "}", with(admin));
    };
    auto expectParentProblem = [&](const HttpResult& r, const std::string& says) {
        EXPECT_EQ(r.status, 422) << r.body;
        EXPECT_EQ(json(r.body)->optValue<std::string>("field", ""), "parent_id") << r.body;
        EXPECT_NE(json(r.body)->optValue<std::string>("detail", "").find(says), std::string::npos) << r.body;
    };
    std::string gateway = makeDevice("gw-parents"), sensor = makeDevice("sensor-parents");
    auto set = setParent(sensor, gateway);
    ASSERT_EQ(set.status, 200) << set.body;
    EXPECT_EQ(std::to_string(json(set.body)->getValue<long long>("parent_id")), gateway);
    auto children = json(call("GET", "/api/v1/devices?parent_id=" + gateway, "", with(admin, false)).body);
    ASSERT_EQ(children->getArray("items")->size(), 1u);
    EXPECT_EQ(std::to_string(children->getArray("items")->getObject(0)->getValue<long long>("id")), sensor);

    expectParentProblem(setParent(gateway, gateway), "its own parent");
    expectParentProblem(setParent(gateway, sensor), "cycle");
    expectParentProblem(setParent(sensor, b_.deviceId), "no such device");  // another tenant's
    expectParentProblem(setParent(sensor, "\"gw\""), "integer");
    expectParentProblem(setParent(sensor, "0"), "parent_id must be from 1");
    EXPECT_EQ(call("GET", "/api/v1/devices?parent_id=gw", "", with(admin, false)).status, 422);
    // Nothing of a refused change was kept.
    EXPECT_EQ(scalar("SELECT parent_id::text FROM pulse.devices WHERE id = $1::bigint", {sensor}), gateway);
    EXPECT_EQ(scalar("SELECT coalesce(parent_id::text, 'none') FROM pulse.devices WHERE id = $1::bigint",
                     {gateway}),
              "none");

    // A chain: sensor under gateway under ten more; the eleventh parent above sensor is one too many.
    std::string top = gateway;
    for (int i = 0; i < 9; ++i) {
        std::string above = makeDevice("chain-" + std::to_string(i));
        ASSERT_EQ(setParent(top, above).status, 200);
        top = above;
    }
    expectParentProblem(setParent(top, makeDevice("chain-too-many")), "at most 10");
    ASSERT_EQ(setParent(sensor, "null").status, 200);
    EXPECT_TRUE(
        json(call("GET", "/api/v1/devices/" + sensor, "", with(admin, false)).body)->isNull("parent_id"));
    EXPECT_EQ(
        scalar("SELECT count(*) FROM pulse.audit_log WHERE action = 'device.update' AND target = $1 AND "
               "tenant_id = $2::uuid",
               {sensor, a_.id}),
        "2");
}
