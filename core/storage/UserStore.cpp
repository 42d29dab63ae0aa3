#include "storage/UserStore.h"

#include "services/ServiceErrors.h"
#include "storage/PgPool.h"
#include "storage/ResultRow.h"
#include "storage/SqlText.h"

namespace pulse::storage {
namespace {

// What a user is described by (never the password hash).
const std::string kColumns =
    "u.id, u.email, u.display_name, u.role, u.disabled, " + isoTime("u.created_at") + " AS created_at";

// The whole list in one page, in the order people look for a colleague.
const std::string kSelectAll = "SELECT " + kColumns + " FROM pulse.users u ORDER BY u.email LIMIT 5000";

// One user, as their page and the answers to changes show them.
const std::string kSelectOne = "SELECT " + kColumns + " FROM pulse.users u WHERE u.id = $1::uuid";

// E-mail addresses are unique across tenants (they sign in with it): one in use fails with 23505.
const char* kInsert =
    "INSERT INTO pulse.users (tenant_id, email, display_name, role, password_hash) "
    "VALUES ($1::uuid, $2, $3, $4, $5) RETURNING id";

// Locked: the access before a change is the one the change replaced, even with another change at once.
const char* kSelectAccessForUpdate = "SELECT role, disabled FROM pulse.users WHERE id = $1::uuid FOR UPDATE";

// NULL parameters leave the column as it is.
const char* kUpdate =
    "UPDATE pulse.users SET role = coalesce($2, role), disabled = coalesce($3::boolean, disabled), "
    "display_name = coalesce($4, display_name) WHERE id = $1::uuid RETURNING role, disabled";

UserRow userOf(const ResultRow& r) {
    return {r.text("id"),   r.text("email"),    r.text("display_name"),
            r.text("role"), r.flag("disabled"), r.text("created_at")};
}

UserAccess accessOf(const ResultRow& r) {
    return {r.text("role"), r.flag("disabled")};
}

}  // namespace

std::vector<UserRow> UserStore::list(const std::string& tenantId) {
    return rowsOf(pool_.queryAsTenant(tenantId, kSelectAll), userOf);
}

std::optional<UserRow> UserStore::find(const std::string& tenantId, const std::string& id) {
    return firstOf(pool_.queryAsTenant(tenantId, kSelectOne, {id}), userOf);
}

std::string UserStore::create(const std::string& tenantId, const NewUser& user) {
    PgRows rows;
    try {
        rows = pool_.queryAsTenant(tenantId, kInsert,
                                   {tenantId, user.email, user.displayName, user.role, user.passwordHash});
    } catch (const DatabaseError& e) {
        if (e.sqlState() != "23505") throw;
        throw services::Conflict("the e-mail address is in use");
    }
    return ResultRow(rows, 0).text("id");
}

std::optional<UserUpdate> UserStore::update(const std::string& tenantId, const std::string& id,
                                            const UserChange& change) {
    std::optional<UserUpdate> out;
    pool_.withTenant(tenantId, [&](PgConnection& conn) {
        auto before = conn.query(kSelectAccessForUpdate, {id});
        if (before.rows.empty()) return;
        auto after = conn.query(
            kUpdate,
            {id, change.role,
             change.disabled ? std::optional<std::string>(*change.disabled ? "true" : "false") : std::nullopt,
             change.displayName});
        out = UserUpdate{accessOf(ResultRow(before, 0)), accessOf(ResultRow(after, 0))};
    });
    return out;
}

}  // namespace pulse::storage
