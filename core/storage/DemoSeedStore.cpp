#include "storage/DemoSeedStore.h"

#include "storage/ResultRow.h"
#include "storage/SessionQuery.h"
#include "storage/TenantScope.h"

namespace pulse::storage {
namespace {

// The tenant by slug, created if new; its id scopes the rest of the transaction.
const char* kEnsureTenant = "SELECT pulse.ensure_tenant($1, $2)::text AS id";

// Seeding again sets the password the run script prints and enables the user.
const char* kUpsertUser =
    "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash) "
    "SELECT id, $1, $2, $3, $4 FROM pulse.tenants WHERE slug = $5 "
    "ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled = false";

// Readings above 80 degrees, and devices silent for 5 minutes, raise alerts; rules of those names that are
// not deleted are left as they are.
const char* kInsertRules =
    "INSERT INTO pulse.rules (tenant_id, name, type, config, severity) "
    "SELECT t.id, v.name, v.type, v.config::jsonb, v.severity FROM pulse.tenants t, (VALUES "
    "('High temperature', 'threshold', "
    "'{\"metric\":\"temperature\",\"operator\":\"GT\",\"threshold\":80,\"clear_threshold\":75}', 'HIGH'), "
    "('Device silent', 'heartbeat', '{\"window_s\":300}', 'MEDIUM')) AS v(name, type, config, severity) "
    "WHERE t.slug = $1 AND NOT EXISTS (SELECT 1 FROM pulse.rules r WHERE r.tenant_id = t.id AND "
    "r.name = v.name AND r.deleted_at IS NULL)";

// The alerts go to pulsed's own log, visible without any notification set up.
const char* kInsertLogChannel =
    "INSERT INTO pulse.channels (tenant_id, name, type, config) SELECT id, 'Server log', 'log', "
    "'{\"level\":\"warn\"}' FROM pulse.tenants WHERE slug = $1 "
    "ON CONFLICT (tenant_id, name) WHERE deleted_at IS NULL DO NOTHING";

// Every alert to the log channel, unless it is routed already.
const char* kInsertRouting =
    "INSERT INTO pulse.routing_rules (tenant_id, channel_id, name) SELECT c.tenant_id, c.id, 'Everything' "
    "FROM pulse.channels c JOIN pulse.tenants t ON t.id = c.tenant_id WHERE t.slug = $1 AND c.name = "
    "'Server log' AND NOT EXISTS (SELECT 1 FROM pulse.routing_rules r WHERE r.channel_id = c.id)";

// The catalog learns every metric a reading names: an empty one means no reading yet.
const char* kTenantHasReadings =
    "SELECT EXISTS (SELECT 1 FROM pulse.metrics WHERE tenant_id = $1::uuid) AS found";

// The demo's two sites; a site of that name already there is kept.
const char* kInsertSites =
    "INSERT INTO pulse.sites (tenant_id, name, time_zone) SELECT $1::uuid, v.name, v.zone FROM (VALUES "
    "('North plant', 'Europe/Berlin'), ('South depot', 'America/Chicago')) AS v(name, zone) WHERE NOT EXISTS "
    "(SELECT 1 FROM pulse.sites s WHERE s.tenant_id = $1::uuid AND s.name = v.name)";

// Boilers and the chiller at the plant, the meters at the depot; a device placed already stays.
const char* kPlaceDevices =
    "UPDATE pulse.devices d SET site_id = s.id FROM pulse.sites s WHERE s.tenant_id = $1::uuid AND "
    "d.tenant_id = $1::uuid AND d.site_id IS NULL AND s.name = CASE WHEN d.name LIKE 'meter-%' THEN 'South "
    "depot' ELSE 'North plant' END";

// An open alert on boiler-2 (the demo's threshold rule) and an acknowledged one on meter-2 (its heartbeat
// rule), each with the events it would have; only while the tenant has no alert at all.
const char* kSeedAlerts =
    "WITH t AS (SELECT $1::uuid AS id), "
    "fresh AS (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pulse.alerts a JOIN t ON a.tenant_id = t.id)), "
    "v(device, rule, severity, summary, value, opened_min, acked) AS (VALUES "
    "('boiler-2', 'High temperature', 'HIGH', 'temperature 86.4 > 80', 86.4::float8, 20, false), "
    "('meter-2', 'Device silent', 'MEDIUM', 'no reading for 300 s', NULL::float8, 110, true)), "
    "opened AS (INSERT INTO pulse.alerts (tenant_id, rule_id, device_id, severity, summary, last_value, "
    "triggered_at, opened_at, changed_at, status, acknowledged_at, acknowledged_by) "
    "SELECT t.id, r.id, d.id, v.severity, v.summary, v.value, now() - make_interval(mins => v.opened_min), "
    "now() - make_interval(mins => v.opened_min), now() - make_interval(mins => v.opened_min), "
    "CASE WHEN v.acked THEN 'ACKNOWLEDGED' ELSE 'OPEN' END, "
    "CASE WHEN v.acked THEN now() - make_interval(mins => v.opened_min - 5) END, CASE WHEN v.acked THEN $2 "
    "END "
    "FROM v, t, fresh, pulse.devices d, pulse.rules r WHERE d.tenant_id = t.id AND d.name = v.device AND "
    "r.tenant_id = t.id AND r.name = v.rule AND r.deleted_at IS NULL "
    "RETURNING id, tenant_id, opened_at, last_value, status, acknowledged_at, acknowledged_by) "
    "INSERT INTO pulse.alert_events (tenant_id, alert_id, kind, at, actor, value) "
    "SELECT tenant_id, id, 'OPENED', opened_at, 'system', last_value FROM opened UNION ALL "
    "SELECT tenant_id, id, 'ACKNOWLEDGED', acknowledged_at, acknowledged_by, NULL FROM opened "
    "WHERE status = 'ACKNOWLEDGED'";

}  // namespace

bool DemoSeedStore::hasReadings(const std::string& tenantId) {
    bool found = false;
    db_.withSession([&](Poco::Data::Session& s) {
        s.begin();
        scopeToTenants(s, {tenantId});
        found = ResultRow(queryIn(s, kTenantHasReadings, tenantId), 0).flag("found");
        s.commit();
    });
    return found;
}

void DemoSeedStore::placeFleet(const std::string& tenantId) {
    db_.withSession([&](Poco::Data::Session& s) {
        s.begin();
        scopeToTenants(s, {tenantId});
        executeIn(s, kInsertSites, tenantId);
        executeIn(s, kPlaceDevices, tenantId);
        s.commit();
    });
}

void DemoSeedStore::seedAlerts(const std::string& tenantId, const std::string& acknowledgedBy) {
    db_.withSession([&](Poco::Data::Session& s) {
        s.begin();
        scopeToTenants(s, {tenantId});
        executeIn(s, kSeedAlerts, tenantId, acknowledgedBy);
        s.commit();
    });
}

void DemoSeedStore::seed(const DemoFixture& f) {
    db_.withSession([&](Poco::Data::Session& s) {
        s.begin();
        auto tenant = queryIn(s, kEnsureTenant, f.tenantSlug, f.tenantName);
        scopeToTenants(s, {ResultRow(tenant, 0).text("id")});
        executeIn(s, kUpsertUser, f.email, f.displayName, f.role, f.passwordHash, f.tenantSlug);
        executeIn(s, kInsertRules, f.tenantSlug);
        executeIn(s, kInsertLogChannel, f.tenantSlug);
        executeIn(s, kInsertRouting, f.tenantSlug);
        s.commit();
    });
}

}  // namespace pulse::storage
