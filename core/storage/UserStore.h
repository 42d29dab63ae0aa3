#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

struct UserRow {
    std::string id, email, displayName, role;
    bool disabled = false;
    std::string createdAt;  // RFC 3339 UTC
};

struct NewUser {
    std::string email, displayName, role;
    std::string passwordHash;  // Argon2id (services::hashPassword)
};

// What a change sets; nullopt leaves the member as it is.
struct UserChange {
    std::optional<std::string> role;
    std::optional<bool> disabled;
    std::optional<std::string> displayName;
};

// What decides a user's access, before and after a change (the audit log records both).
struct UserAccess {
    std::string role;
    bool disabled = false;
};

struct UserUpdate {
    UserAccess before, after;
};

// A tenant's users (pulse.users), each in a transaction scoped to the tenant. Signing in and sessions are
// services::IdentityService's (through SECURITY DEFINER functions: no tenant is known yet).
class UserStore {
  public:
    explicit UserStore(PgPool& pool) : pool_(pool) {}

    std::vector<UserRow> list(const std::string& tenantId);  // by e-mail, at most 5000
    std::optional<UserRow> find(const std::string& tenantId, const std::string& id);
    // The new user's id; throws services::Conflict when the e-mail address is in use (in any tenant).
    std::string create(const std::string& tenantId, const NewUser& user);
    // nullopt when there is no such user.
    std::optional<UserUpdate> update(const std::string& tenantId, const std::string& id,
                                     const UserChange& change);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
