#include "storage/TenantScope.h"

#include <Poco/Data/Binding.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <cctype>
#include <stdexcept>

namespace pulse::storage {
std::string tenantSetting(const std::vector<std::string>& tenantIds) {
    std::string out = "{";
    for (const auto& id : tenantIds) {
        if (!isUuid(id)) throw std::invalid_argument("not a tenant id: '" + id + "'");
        if (out.size() > 1) out += ',';
        out += id;
    }
    return out + "}";
}

std::string beginScopedTo(const std::vector<std::string>& tenantIds) {
    return "BEGIN; SELECT set_config('pulse.tenants', '" + tenantSetting(tenantIds) + "', true)";
}

void scopeToTenants(PgConnection& conn, const std::vector<std::string>& tenantIds) {
    conn.query("SELECT set_config('pulse.tenants', $1, true)", {tenantSetting(tenantIds)});
}

void scopeToTenants(Poco::Data::Session& session, const std::vector<std::string>& tenantIds) {
    std::string setting = tenantSetting(tenantIds);
    session << "SELECT set_config('pulse.tenants', $1, true)", Poco::Data::Keywords::use(setting),
        Poco::Data::Keywords::now;
}

TenantTransaction::TenantTransaction(PgConnection& conn, const std::vector<std::string>& tenantIds)
    : conn_(conn) {
    std::string begin = beginScopedTo(tenantIds);  // before BEGIN: a bad id leaves no transaction open
    try {
        conn_.exec(begin);
    } catch (...) {
        open_ = false;
        try {
            conn_.exec("ROLLBACK");
        } catch (const DatabaseError&) {
        }
        throw;
    }
}

TenantTransaction::~TenantTransaction() {
    if (!open_) return;
    try {
        conn_.exec("ROLLBACK");
    } catch (const DatabaseError&) {
        // the connection broke; its owner replaces it
    }
}

void TenantTransaction::commit() {
    open_ = false;
    // COMMIT of a failed transaction rolls back without an error: say so instead.
    if (PQtransactionStatus(conn_.native()) == PQTRANS_INERROR) {
        conn_.exec("ROLLBACK");
        throw DatabaseError("the transaction failed earlier and was rolled back");
    }
    conn_.exec("COMMIT");
}

}  // namespace pulse::storage
