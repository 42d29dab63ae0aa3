#pragma once

#include <Poco/Data/Session.h>
#include <Poco/Data/SessionPool.h>

#include <functional>
#include <memory>
#include <semaphore>
#include <string>
#include <vector>

namespace pulse::storage {

// The pool of application-role connections for ordinary queries (Poco Data, PostgreSQL connector):
// identity, the audit log, the device registry, broker accounts (docs/architecture.md "Pools and the
// connection budget"). The other pool, for what libpq does better, is PgPool.
class Database {
  public:
    Database(const std::string& conninfo, int poolMin, int poolMax);
    ~Database();

    // Runs fn with a pooled session. A connection that broke while idle in the pool (database restarted)
    // is discarded and fn retried once on a fresh one, so callers see an error only when the database is
    // really unreachable.
    void withSession(const std::function<void(Poco::Data::Session&)>& fn);

    // fn inside a transaction scoped to the tenant (row-level security; none named: no tenant, only what
    // the SECURITY DEFINER functions allow); committed when fn returns, rolled back when it throws.
    void withTenant(const std::string& tenantId, const std::function<void(Poco::Data::Session&)>& fn);

    // Round trip to the database; throws with the reason when it is not reachable.
    void ping();

    // Why the application role must not serve (superuser, BYPASSRLS, owns relations); empty when fine.
    std::vector<std::string> privilegeProblems();

    // The connection string, for work that needs its own libpq connection.
    const std::string& conninfo() const { return conninfo_; }

    int poolUsed() const;
    int poolIdle() const;
    int poolCapacity() const;

  private:
    std::string conninfo_;
    std::unique_ptr<Poco::Data::SessionPool> pool_;
    // Poco's pool throws at once when every session is out; callers wait for one instead (up to 5 s).
    std::unique_ptr<std::counting_semaphore<>> sessions_;
};

}  // namespace pulse::storage
