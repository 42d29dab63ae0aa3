#include "services/DemoSeed.h"

#include "services/PasswordHasher.h"
#include "storage/Database.h"
#include "storage/TenantScope.h"

#include <Poco/Data/Session.h>

using namespace Poco::Data::Keywords;

namespace pulse::services {

DemoLogin seedDemo(storage::Database& db, const std::string& email, const std::string& password) {
    std::string hash = hashPassword(password);
    std::string slug = "demo", name = "Demo Fleet", role = "tenant-admin", display = "Demo Admin";
    std::string mail = email;
    db.withSession([&](Poco::Data::Session& s) {
        s.begin();
        std::string tenantId;
        s << "SELECT pulse.ensure_tenant($1, $2)::text", use(slug), use(name), into(tenantId), now;
        storage::scopeToTenants(s, {tenantId});
        s << "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash) "
             "SELECT id, $1, $2, $3, $4 FROM pulse.tenants WHERE slug = $5 "
             "ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled = false",
            use(mail), use(display), use(role), use(hash), use(slug), now;
        // Rules and a channel so that the demo fleet raises alerts out of the box: readings above 80
        // degrees, and devices silent for 5 minutes, notify the log channel (visible in pulsed's log).
        s << "INSERT INTO pulse.rules (tenant_id, name, type, config, severity) "
             "SELECT t.id, v.name, v.type, v.config::jsonb, v.severity FROM pulse.tenants t, (VALUES "
             "('High temperature', 'threshold', "
             "'{\"metric\":\"temperature\",\"operator\":\"GT\",\"threshold\":80,\"clear_threshold\":75}', "
             "'HIGH'), "
             "('Device silent', 'heartbeat', '{\"window_s\":300}', 'MEDIUM')) AS v(name, type, config, "
             "severity) "
             "WHERE t.slug = $1 AND NOT EXISTS (SELECT 1 FROM pulse.rules r WHERE r.tenant_id = t.id AND "
             "r.name = v.name AND r.deleted_at IS NULL)",
            use(slug), now;
        s << "INSERT INTO pulse.channels (tenant_id, name, type, config) SELECT id, 'Server log', 'log', "
             "'{\"level\":\"warn\"}' FROM pulse.tenants WHERE slug = $1 ON CONFLICT (tenant_id, name) DO "
             "NOTHING",
            use(slug), now;
        s << "INSERT INTO pulse.routing_rules (tenant_id, channel_id, name) SELECT c.tenant_id, c.id, "
             "'Everything' "
             "FROM pulse.channels c JOIN pulse.tenants t ON t.id = c.tenant_id WHERE t.slug = $1 AND c.name "
             "= "
             "'Server log' AND NOT EXISTS (SELECT 1 FROM pulse.routing_rules r WHERE r.channel_id = c.id)",
            use(slug), now;
        s.commit();
    });
    return {slug, email};
}

}  // namespace pulse::services
