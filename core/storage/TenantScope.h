#pragma once

#include "storage/PgConnection.h"
#include "storage/Uuid.h"

#include <string>
#include <vector>

namespace Poco::Data {
class Session;
}

namespace pulse::storage {

// Row-level security (sql/004): every tenant-scoped row is visible and writable only to a transaction that
// named its tenant. set_config(..., true) ends with the transaction, so a pooled connection never carries a
// tenant into its next use; outside a transaction it would last one statement, hence the transaction types.

// "{id,id}" for the pulse.tenants setting; throws std::invalid_argument unless every id is a UUID.
std::string tenantSetting(const std::vector<std::string>& tenantIds);

// "BEGIN; SELECT set_config(...)": opening a scoped transaction in one round trip. The setting is inlined,
// which is safe because tenantSetting() admits nothing but UUIDs.
std::string beginScopedTo(const std::vector<std::string>& tenantIds);

// Names the tenants of the transaction already open on conn (BEGIN was sent).
void scopeToTenants(PgConnection& conn, const std::vector<std::string>& tenantIds);
void scopeToTenants(Poco::Data::Session& session, const std::vector<std::string>& tenantIds);

// BEGIN, then the tenants; rolled back unless commit() is called.
class TenantTransaction {
  public:
    TenantTransaction(PgConnection& conn, const std::vector<std::string>& tenantIds);
    TenantTransaction(PgConnection& conn, const std::string& tenantId)
        : TenantTransaction(conn, std::vector<std::string>{tenantId}) {}
    ~TenantTransaction();
    TenantTransaction(const TenantTransaction&) = delete;
    TenantTransaction& operator=(const TenantTransaction&) = delete;

    void commit();

  private:
    PgConnection& conn_;
    bool open_ = true;
};

}  // namespace pulse::storage
