// Tenant isolation in the database (docs/reliability.md S2, S3), against the real PostgreSQL in a scratch
// database: the audit pulsed runs before it serves, and row-level security at run time as the application
// role: nothing without a tenant, nothing carried over by a pooled connection, no cross-tenant write.
#include "storage/Database.h"
#include "storage/MigrationRunner.h"
#include "storage/TenantScope.h"
#include "test_env.h"

#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

#include <functional>

using namespace pulse;
using namespace pulse::storage;
using namespace Poco::Data::Keywords;

namespace {

// One row in every tenant-scoped table for the tenant with this slug; returns the tenant id.
std::string seedTenant(PgConnection& owner, const std::string& slug) {
    auto id =
        owner.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text", {slug});
    std::string t = *id.rows.at(0).at(0);
    owner.query(R"SQL(
WITH s AS (INSERT INTO pulse.sites (tenant_id, name) VALUES ($1::uuid, 'hq') RETURNING id),
d AS (INSERT INTO pulse.devices (tenant_id, name, site_id) SELECT $1::uuid, 'dev-1', id FROM s RETURNING id),
c AS (INSERT INTO pulse.device_credentials (tenant_id, device_id, token_sha256, token_prefix, mqtt_hash)
      SELECT $1::uuid, id, sha256(convert_to($2 || '-token', 'UTF8')), 'pt_', 'x' FROM d RETURNING 1),
m AS (INSERT INTO pulse.metrics (tenant_id, name) VALUES ($1::uuid, 'temperature') RETURNING id),
r AS (INSERT INTO pulse.telemetry (tenant_id, device_id, metric_id, ts, value)
      SELECT $1::uuid, d.id, m.id, now(), 21.5 FROM d, m RETURNING 1),
h AS (INSERT INTO pulse.telemetry_hourly (tenant_id, device_id, metric_id, hour, min, max, sum, count)
      SELECT $1::uuid, d.id, m.id, date_trunc('hour', now()), 1, 1, 1, 1 FROM d, m RETURNING 1),
hist AS (INSERT INTO pulse.device_status_history (tenant_id, device_id, from_status, to_status, at)
         SELECT $1::uuid, id, 'OFFLINE', 'ONLINE', now() FROM d RETURNING 1),
u AS (INSERT INTO pulse.users (tenant_id, email, role, password_hash)
      VALUES ($1::uuid, $2 || '@example.test', 'customer', '$argon2id$x') RETURNING id),
ru AS (INSERT INTO pulse.rules (tenant_id, name, type, severity) VALUES ($1::uuid, 'hot', 'threshold', 'HIGH')
       RETURNING id),
a AS (INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, triggered_at)
      SELECT $1::uuid, ru.id, d.id, 'HIGH', now() FROM ru, d RETURNING id),
e AS (INSERT INTO pulse.alert_events (tenant_id, alert_id, kind) SELECT $1::uuid, id, 'OPENED' FROM a
      RETURNING id, alert_id),
ch AS (INSERT INTO pulse.channels (tenant_id, name, type) VALUES ($1::uuid, 'hook', 'webhook') RETURNING id),
rr AS (INSERT INTO pulse.routing_rules (tenant_id, channel_id) SELECT $1::uuid, id FROM ch RETURNING id),
dl AS (INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, routing_rule_id, payload,
                                     max_attempts)
       SELECT $1::uuid, e.alert_id, e.id, ch.id, rr.id, '{}', 3 FROM e, ch, rr RETURNING id),
da AS (INSERT INTO pulse.delivery_attempts (tenant_id, delivery_id, attempt, started_at, duration_ms, outcome,
                                          worker)
       SELECT $1::uuid, id, 1, now(), 5, 'DELIVERED', 'test' FROM dl RETURNING 1),
se AS (INSERT INTO pulse.sessions (token_sha256, user_id, tenant_id, csrf_token, expires_at)
       SELECT sha256(convert_to($2 || '-session', 'UTF8')), u.id, $1::uuid, repeat('c', 32), now() + interval '1 hour'
       FROM u RETURNING 1),
k AS (INSERT INTO pulse.api_keys (tenant_id, name, role, token_sha256, token_prefix)
      VALUES ($1::uuid, 'key', 'customer', sha256(convert_to($2 || '-key', 'UTF8')), 'pk_') RETURNING 1),
ep AS (INSERT INTO pulse.escalation_policies (tenant_id, name) VALUES ($1::uuid, 'night') RETURNING id),
el AS (INSERT INTO pulse.escalation_levels (tenant_id, policy_id, level, delay_s)
       SELECT $1::uuid, id, 1, 300 FROM ep RETURNING policy_id, level),
et AS (INSERT INTO pulse.escalation_targets (tenant_id, policy_id, level, channel_id)
       SELECT $1::uuid, el.policy_id, el.level, ch.id FROM el, ch RETURNING 1),
cm AS (INSERT INTO pulse.user_contact_methods (tenant_id, user_id, kind, channel_id)
       SELECT $1::uuid, u.id, 'channel', ch.id FROM u, ch RETURNING 1),
sc AS (INSERT INTO pulse.schedules (tenant_id, name, time_zone) VALUES ($1::uuid, 'rota', 'UTC') RETURNING id),
sl AS (INSERT INTO pulse.schedule_layers (tenant_id, schedule_id, layer, rotation, handoff_time, start_date)
       SELECT $1::uuid, id, 1, 'weekly', '09:00', '2027-01-04' FROM sc RETURNING schedule_id, layer),
sm AS (INSERT INTO pulse.schedule_layer_members (tenant_id, schedule_id, layer, position, user_id)
       SELECT $1::uuid, sl.schedule_id, sl.layer, 0, u.id FROM sl, u RETURNING 1),
so AS (INSERT INTO pulse.schedule_overrides (tenant_id, schedule_id, user_id, starts_at, ends_at)
       SELECT $1::uuid, sc.id, u.id, now(), now() + interval '1 hour' FROM sc, u RETURNING 1),
mw AS (INSERT INTO pulse.maintenance_windows (tenant_id, name, time_zone, recurrence, start_time, duration_minutes,
                                            valid_from, scope)
       VALUES ($1::uuid, 'nightly', 'UTC', 'daily', '02:00', 60, '2027-01-01', 'tenant') RETURNING 1),
rs AS (INSERT INTO pulse.rule_state (tenant_id, rule_id, device_id, state, saved_by)
       SELECT $1::uuid, ru.id, d.id, '{"firing":true}', 'test' FROM ru, d RETURNING 1),
ng AS (INSERT INTO pulse.notification_groups (tenant_id, routing_rule_id, group_key)
       SELECT $1::uuid, id, 'rule:x' FROM rr RETURNING id),
nga AS (INSERT INTO pulse.notification_group_alerts (tenant_id, group_id, alert_id)
        SELECT $1::uuid, ng.id, a.id FROM ng, a RETURNING 1)
INSERT INTO pulse.audit_log (actor, tenant_id, action, result) VALUES ('test', $1::uuid, 'seed', 'ok')
)SQL",
                {t, slug});
    return t;
}

std::vector<std::string> tenantTables(PgConnection& conn) {
    auto rows = conn.query(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
        "WHERE n.nspname = 'pulse' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1");
    std::vector<std::string> out;
    for (const auto& r : rows.rows) out.push_back(*r[0]);
    return out;
}

long countRows(PgConnection& conn, const std::string& table, const std::string& tenantId = "") {
    std::string where = tenantId.empty() ? "" : " WHERE tenant_id = '" + tenantId + "'";
    return std::stol(*conn.query("SELECT count(*) FROM " + table + where).rows.at(0).at(0));
}

std::string sqlStateOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const DatabaseError& e) {
        return e.sqlState();
    }
    return "";
}

class TenantIsolation : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        db_ = new test::ScratchDatabase("rls");
        PgConnection owner(db_->ownerUri());
        MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
        a_ = seedTenant(owner, "tenant-a");
        b_ = seedTenant(owner, "tenant-b");
    }
    static void TearDownTestSuite() {
        delete db_;
        db_ = nullptr;
    }
    static test::ScratchDatabase* db_;
    static std::string a_, b_;
};
test::ScratchDatabase* TenantIsolation::db_ = nullptr;
std::string TenantIsolation::a_, TenantIsolation::b_;

}  // namespace

// S2: the audit pulsed runs before serving finds nothing wrong with the migrated schema and its role...
TEST_F(TenantIsolation, AuditPassesForTheApplicationRole) {
    Database app(db_->appUri(), 1, 1);
    EXPECT_EQ(app.privilegeProblems(), std::vector<std::string>{});
    PgConnection owner(db_->ownerUri());
    EXPECT_GE(tenantTables(owner).size(), 14u);  // every tenant-scoped table of sql/ is covered
}

// ...and names each way a table can escape it: no RLS, RLS not forced, no USING + WITH CHECK tenant
// policy, a permissive policy that widens access.
TEST_F(TenantIsolation, AuditNamesEveryTableThatEscapes) {
    test::ScratchDatabase scratch("rls_audit");
    PgConnection owner(scratch.ownerUri());
    MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
    owner.exec(R"SQL(
CREATE TABLE pulse.no_rls (tenant_id uuid);
CREATE TABLE pulse.not_forced (tenant_id uuid);
ALTER TABLE pulse.not_forced ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON pulse.not_forced USING (tenant_id = ANY ((SELECT pulse.current_tenants())::uuid[]));
CREATE TABLE pulse.read_only_policy (tenant_id uuid);
ALTER TABLE pulse.read_only_policy ENABLE ROW LEVEL SECURITY;
ALTER TABLE pulse.read_only_policy FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON pulse.read_only_policy FOR SELECT USING (tenant_id = ANY ((SELECT pulse.current_tenants())::uuid[]));
CREATE TABLE pulse.widened (tenant_id uuid);
SELECT pulse_meta.isolate_tenant_table('pulse.widened');
CREATE POLICY everyone ON pulse.widened FOR SELECT USING (true);
CREATE TABLE pulse.fine (tenant_id uuid);
SELECT pulse_meta.isolate_tenant_table('pulse.fine');
)SQL");
    Database app(scratch.appUri(), 1, 1);
    auto problems = app.privilegeProblems();
    auto mentions = [&](const std::string& table, const std::string& what) {
        for (const auto& p : problems)
            if (p.find("table pulse." + table + " ") == 0 && p.find(what) != std::string::npos) return true;
        return false;
    };
    EXPECT_TRUE(mentions("no_rls", "not enabled"));
    EXPECT_TRUE(mentions("not_forced", "not forced"));
    EXPECT_TRUE(mentions("no_rls", "no policy limiting reads and writes"));
    EXPECT_TRUE(mentions("read_only_policy", "no policy limiting reads and writes"));
    EXPECT_TRUE(mentions("widened", "policy everyone"));
    for (const auto& p : problems) EXPECT_EQ(p.find("pulse.fine "), std::string::npos) << p;
    EXPECT_EQ(problems.size(), 6u) << ::testing::PrintToString(problems);
}

// S3: with no tenant set the application role sees no row of any tenant-scoped table (each holds rows).
TEST_F(TenantIsolation, NoTenantSetSeesNothing) {
    PgConnection owner(db_->ownerUri()), app(db_->appUri());
    for (const auto& table : tenantTables(owner)) {
        EXPECT_GE(countRows(owner, table, a_), 1) << table;
        EXPECT_GE(countRows(owner, table, b_), 1) << table;
        EXPECT_EQ(countRows(app, table), 0) << table;
    }
}

// S3: inside a transaction scoped to A, every table shows A's rows and none of B's.
TEST_F(TenantIsolation, ScopedTransactionSeesOnlyItsTenant) {
    PgConnection owner(db_->ownerUri()), app(db_->appUri());
    TenantTransaction tx(app, a_);
    for (const auto& table : tenantTables(owner)) {
        EXPECT_EQ(countRows(app, table), countRows(owner, table, a_)) << table;
        EXPECT_EQ(countRows(app, table, b_), 0) << table;
    }
    tx.commit();
    for (const auto& table : tenantTables(owner)) EXPECT_EQ(countRows(app, table), 0) << table;
}

// S3: a pooled connection used for tenant A shows nothing to its next user.
TEST_F(TenantIsolation, PooledConnectionCarriesNoTenantIntoItsNextUse) {
    Database pool(db_->appUri(), 1, 1);  // one connection: the second use gets the first one's
    int first = -1, second = -1, afterRollback = -1;
    pool.withSession([&](Poco::Data::Session& s) {
        s.begin();
        scopeToTenants(s, {a_});
        s << "SELECT count(*)::integer FROM pulse.devices", into(first), now;
        s.commit();
    });
    pool.withSession([&](Poco::Data::Session& s) {
        s << "SELECT count(*)::integer FROM pulse.devices", into(second), now;
    });
    pool.withSession([&](Poco::Data::Session& s) {
        s.begin();
        scopeToTenants(s, {a_});
        s.rollback();
        s << "SELECT count(*)::integer FROM pulse.devices", into(afterRollback), now;
    });
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 0);
    EXPECT_EQ(afterRollback, 0);
}

// S3: WITH CHECK refuses every cross-tenant write; USING hides B's rows from A's updates and deletes.
TEST_F(TenantIsolation, CrossTenantWritesAreRefusedOrTouchNothing) {
    PgConnection owner(db_->ownerUri()), app(db_->appUri());
    auto devicesOf = [&](const std::string& t) { return countRows(owner, "pulse.devices", t); };
    long beforeA = devicesOf(a_), beforeB = devicesOf(b_);
    auto asA = [&](const std::string& sql) {
        return sqlStateOf([&] {
            TenantTransaction tx(app, a_);
            app.query(sql);
            tx.commit();
        });
    };
    // Insert a row for B while scoped to A: refused.
    EXPECT_EQ(asA("INSERT INTO pulse.devices (tenant_id, name) VALUES ('" + b_ + "', 'smuggled')"), "42501");
    EXPECT_EQ(asA("INSERT INTO pulse.sites (tenant_id, name) VALUES ('" + b_ + "', 'smuggled')"), "42501");
    // Move A's row to B: refused.
    EXPECT_EQ(asA("UPDATE pulse.devices SET tenant_id = '" + b_ + "'"), "42501");
    EXPECT_EQ(asA("UPDATE pulse.channels SET tenant_id = '" + b_ + "'"), "42501");
    // Change or delete B's rows while scoped to A: nothing happens.
    EXPECT_EQ(asA("UPDATE pulse.devices SET name = 'renamed' WHERE tenant_id = '" + b_ + "'"), "");
    EXPECT_EQ(asA("DELETE FROM pulse.delivery_attempts WHERE tenant_id = '" + b_ + "'"), "");
    // Without any tenant: every write is refused.
    EXPECT_EQ(sqlStateOf([&] {
                  app.query("INSERT INTO pulse.devices (tenant_id, name) VALUES ('" + a_ + "', 'x')");
              }),
              "42501");
    EXPECT_EQ(devicesOf(a_), beforeA);
    EXPECT_EQ(devicesOf(b_), beforeB);
    EXPECT_EQ(*owner.query("SELECT count(*) FROM pulse.devices WHERE name = 'renamed'").rows[0][0], "0");
    EXPECT_EQ(countRows(owner, "pulse.delivery_attempts", b_), 1);
}

// The application role cannot lift the policies, name a malformed tenant, or use the owner's helper.
TEST_F(TenantIsolation, ApplicationRoleCannotLiftIsolation) {
    PgConnection app(db_->appUri());
    EXPECT_EQ(sqlStateOf([&] { app.exec("ALTER TABLE pulse.devices DISABLE ROW LEVEL SECURITY"); }), "42501");
    EXPECT_EQ(sqlStateOf([&] { app.exec("ALTER TABLE pulse.devices NO FORCE ROW LEVEL SECURITY"); }),
              "42501");
    EXPECT_EQ(sqlStateOf([&] { app.exec("DROP POLICY tenant_isolation ON pulse.devices"); }), "42501");
    EXPECT_EQ(sqlStateOf([&] { app.exec("SET ROLE pulse_owner"); }), "42501");
    // The audit log is append-only for the application role: it writes through pulse.write_audit only.
    EXPECT_EQ(sqlStateOf([&] { app.exec("UPDATE pulse.audit_log SET result = 'ok'"); }), "42501");
    EXPECT_EQ(sqlStateOf([&] { app.exec("DELETE FROM pulse.audit_log"); }), "42501");
    EXPECT_EQ(
        sqlStateOf([&] {
            app.exec("INSERT INTO pulse.audit_log (actor, action, result) VALUES ('x', 'forged', 'ok')");
        }),
        "42501");
    EXPECT_EQ(sqlStateOf([&] { app.query("SELECT pulse_meta.isolate_tenant_table('pulse.devices')"); }),
              "42501");
    // A malformed tenant setting fails the statement instead of widening it.
    EXPECT_EQ(sqlStateOf([&] {
                  app.exec("BEGIN; SELECT set_config('pulse.tenants', '{*}', true)");
                  app.query("SELECT count(*) FROM pulse.devices");
              }),
              "22P02");
    app.exec("ROLLBACK");
    EXPECT_THROW(TenantTransaction(app, "not-a-uuid"), std::invalid_argument);
}

// The SECURITY DEFINER doors span tenants for what needs it, and only that.
TEST_F(TenantIsolation, DefinerFunctionsServeDeviceAuthentication) {
    PgConnection app(db_->appUri());
    auto byToken = app.query(
        "SELECT tenant_id, device_name FROM pulse.device_by_token(sha256(convert_to('tenant-b-token', "
        "'UTF8')))");
    ASSERT_EQ(byToken.rows.size(), 1u);
    EXPECT_EQ(*byToken.rows[0][0], b_);
    auto accounts = app.query("SELECT username FROM pulse.broker_accounts()");
    EXPECT_EQ(accounts.rows.size(), 2u);
    // Still nothing readable directly.
    EXPECT_EQ(countRows(app, "pulse.device_credentials"), 0);
}
