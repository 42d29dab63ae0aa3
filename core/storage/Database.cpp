#include "storage/Database.h"

#include "storage/PgConnection.h"
#include "storage/TenantScope.h"

#include <libpq-fe.h>

#include <Poco/Data/PostgreSQL/Connector.h>

#include <mutex>

using namespace Poco::Data::Keywords;

namespace pulse::storage {
namespace {

// The messages libpq gives for a connection that died while it sat idle in the pool.
bool brokenConnection(const std::string& message) {
    return message.find("server closed the connection") != std::string::npos ||
           message.find("no connection to the server") != std::string::npos ||
           message.find("terminating connection") != std::string::npos;
}

}  // namespace

Database::Database(const std::string& conninfo, int poolMin, int poolMax) : conninfo_(conninfo) {
    static std::once_flag registered;
    std::call_once(registered, [] { Poco::Data::PostgreSQL::Connector::registerConnector(); });
    pool_ = std::make_unique<Poco::Data::SessionPool>(Poco::Data::PostgreSQL::Connector::KEY, conninfo,
                                                      poolMin, poolMax, 60);
    sessions_ = std::make_unique<std::counting_semaphore<>>(poolMax);
}

Database::~Database() {
    if (pool_) pool_->shutdown();
}

void Database::withSession(const std::function<void(Poco::Data::Session&)>& fn) {
    if (!sessions_->try_acquire_for(std::chrono::seconds(5)))
        throw DatabaseError("no database session became free within 5000 ms (db.pool_max " +
                            std::to_string(pool_->capacity()) + ")");
    struct Slot {
        std::counting_semaphore<>& s;
        ~Slot() { s.release(); }
    } slot{*sessions_};
    for (int attempt = 0;; ++attempt) {
        // Poco 1.11 leaks the PGconn (~35 KB) of every failed connection attempt, so a new connection
        // is only attempted once libpq's PQping (which cleans up) says the server accepts connections.
        // During an outage readiness polls keep failing here, leak-free.
        if (pool_->idle() == 0) {
            PGPing state = PQping(conninfo_.c_str());
            if (state != PQPING_OK)
                throw DatabaseError(
                    state == PQPING_REJECT
                        ? "the database server rejects connections (starting up or shutting down)"
                    : state == PQPING_NO_RESPONSE
                        ? "cannot connect to PostgreSQL: no response from the server"
                        : "invalid connection parameters");
        }
        try {
            Poco::Data::Session session(pool_->get());
            fn(session);
            return;
        } catch (const Poco::Exception& e) {
            // A pooled connection whose server went away fails its first statement; retry once on a
            // fresh connection (the pool drops the dead one when it is returned).
            if (attempt > 0 || !brokenConnection(e.message())) throw;
        }
    }
}

void Database::withTenant(const std::string& tenantId, const std::function<void(Poco::Data::Session&)>& fn) {
    withSession([&](Poco::Data::Session& s) {
        s.begin();
        try {
            if (!tenantId.empty()) scopeToTenants(s, {tenantId});
            fn(s);
            s.commit();
        } catch (...) {
            s.rollback();
            throw;
        }
    });
}

void Database::ping() {
    try {
        withSession([](Poco::Data::Session& s) {
            int one = 0;
            s << "SELECT 1", into(one), now;
        });
    } catch (const Poco::Exception& e) {
        throw DatabaseError(e.displayText());
    }
}

namespace {

// Tables with a tenant_id column that the current role could read or write beyond its tenants, with why.
constexpr const char* kRlsAudit = R"SQL(
WITH tables AS (
    SELECT c.oid, c.oid::regclass::text AS name, c.relrowsecurity, c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'),
mine AS (  -- the permissive policies that apply to the current role
    SELECT p.polrelid, p.polname, p.polcmd, pg_get_expr(p.polqual, p.polrelid) AS qual,
           pg_get_expr(p.polwithcheck, p.polrelid) AS wcheck
    FROM pg_policy p
    WHERE p.polpermissive AND (0 = ANY (p.polroles)
          OR EXISTS (SELECT 1 FROM unnest(p.polroles) r WHERE pg_has_role(current_user, r, 'MEMBER'))))
SELECT c.oid::regclass::text, 'is written only through SECURITY DEFINER functions, but this role may write it'
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'pulse' AND obj_description(c.oid, 'pg_class') LIKE 'pulse:no-direct-writes%'
  AND has_table_privilege(current_user, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
UNION ALL
SELECT name, 'has tenant_id but row-level security is not enabled' FROM tables WHERE NOT relrowsecurity
UNION ALL
SELECT name, 'has tenant_id but row-level security is not forced' FROM tables WHERE NOT relforcerowsecurity
UNION ALL
SELECT t.name, 'has no policy limiting reads and writes (USING and WITH CHECK) to the current tenants'
FROM tables t WHERE NOT EXISTS (SELECT 1 FROM mine m WHERE m.polrelid = t.oid AND m.polcmd = '*'
    AND m.qual LIKE '%current_tenants()%' AND coalesce(m.wcheck, m.qual) LIKE '%current_tenants()%')
UNION ALL
SELECT t.name, 'has policy ' || m.polname || ' that does not limit this role to the current tenants'
FROM tables t JOIN mine m ON m.polrelid = t.oid
WHERE (m.polcmd <> 'a' AND coalesce(m.qual, '') NOT LIKE '%current_tenants()%') OR (m.polcmd IN ('*', 'a', 'w')
    AND coalesce(m.wcheck, m.qual, '') NOT LIKE '%current_tenants()%')
ORDER BY 1, 2
)SQL";

}  // namespace

std::vector<std::string> Database::privilegeProblems() {
    std::vector<std::string> problems;
    withSession([&](Poco::Data::Session& s) {
        std::string role;
        bool super = false, bypass = false;
        int owned = 0;
        s << "SELECT current_user::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            into(role), into(super), into(bypass), now;
        s << "SELECT count(*)::integer FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE pg_get_userbyid(c.relowner) = current_user AND n.nspname NOT IN ('pg_catalog', "
             "'information_schema') "
             "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
            into(owned), now;
        if (super) problems.push_back("role " + role + " is a superuser");
        if (bypass) problems.push_back("role " + role + " has BYPASSRLS");
        if (owned > 0) problems.push_back("role " + role + " owns " + std::to_string(owned) + " relation(s)");
        // Row-level security (sql/004): every table with tenant_id must be forced to a tenant policy with
        // USING and WITH CHECK, and no other permissive policy may widen what this role sees.
        std::vector<std::string> tables, why;
        s << kRlsAudit, into(tables), into(why), now;
        for (size_t i = 0; i < tables.size(); ++i) problems.push_back("table " + tables[i] + " " + why[i]);
    });
    return problems;
}

int Database::poolUsed() const {
    return pool_->used();
}
int Database::poolIdle() const {
    return pool_->idle();
}
int Database::poolCapacity() const {
    return pool_->capacity();
}

}  // namespace pulse::storage
