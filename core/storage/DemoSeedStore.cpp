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
    "'{\"level\":\"warn\"}' FROM pulse.tenants WHERE slug = $1 ON CONFLICT (tenant_id, name) DO NOTHING";

// Every alert to the log channel, unless it is routed already.
const char* kInsertRouting =
    "INSERT INTO pulse.routing_rules (tenant_id, channel_id, name) SELECT c.tenant_id, c.id, 'Everything' "
    "FROM pulse.channels c JOIN pulse.tenants t ON t.id = c.tenant_id WHERE t.slug = $1 AND c.name = "
    "'Server log' AND NOT EXISTS (SELECT 1 FROM pulse.routing_rules r WHERE r.channel_id = c.id)";

}  // namespace

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
