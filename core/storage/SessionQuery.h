#pragma once

#include "storage/Database.h"
#include "storage/PgConnection.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <string>

namespace pulse::storage {

// Statements of the stores on the Database pool (Poco Data): their rows come back as PgRows, so that these
// stores too read columns by name through ResultRow and fill their structs like the stores on PgPool.

// Executes a statement whose parameters are bound (no into()) and returns its rows as text: NULL stays
// nullopt, booleans read "true" or "false" (ResultRow::flag takes both spellings).
PgRows executeForRows(Poco::Data::Statement& statement);

// A statement on the session (in whatever transaction it has open), each parameter bound by copy.
template <class... Params>
Poco::Data::Statement statementOf(Poco::Data::Session& session, const std::string& sql,
                                  const Params&... params) {
    Poco::Data::Statement statement(session);
    statement << sql;
    ((statement, Poco::Data::Keywords::bind(params)), ...);
    return statement;
}

// One statement on the session, and its rows.
template <class... Params>
PgRows queryIn(Poco::Data::Session& session, const std::string& sql, const Params&... params) {
    auto statement = statementOf(session, sql, params...);
    return executeForRows(statement);
}

// One statement on the session that returns no rows.
template <class... Params>
void executeIn(Poco::Data::Session& session, const std::string& sql, const Params&... params) {
    statementOf(session, sql, params...).execute();
}

// One statement outside any tenant's scope: no transaction, only what the SECURITY DEFINER functions allow.
template <class... Params>
PgRows queryWithoutTenant(Database& db, const std::string& sql, const Params&... params) {
    PgRows rows;
    db.withSession([&](Poco::Data::Session& session) { rows = queryIn(session, sql, params...); });
    return rows;
}

// One statement in a transaction scoped to the tenant (Database::withTenant; empty: none named).
template <class... Params>
PgRows queryAsTenant(Database& db, const std::string& tenantId, const std::string& sql,
                     const Params&... params) {
    PgRows rows;
    db.withTenant(tenantId, [&](Poco::Data::Session& session) { rows = queryIn(session, sql, params...); });
    return rows;
}

}  // namespace pulse::storage
