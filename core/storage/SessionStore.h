#pragma once

#include <optional>
#include <string>

namespace pulse::storage {

class Database;

// A user as signing in finds them by e-mail address (the only read of the password hash).
struct SignInRow {
    std::string userId;
    std::string tenantId;  // empty for operators
    std::string email, role, passwordHash;
    bool disabled = false;
};

// What a new browser session is opened with; tokens only as their SHA-256 digests (hex).
struct SessionOpening {
    std::string userId;
    std::string verifiedHash;  // the password hash the password was checked against
    std::string tokenSha256, csrfToken, address, userAgent;
    int ttlS = 0;
};

// The signed-in user a live session belongs to.
struct SessionPrincipalRow {
    std::string userId;
    std::string tenantId;  // empty for operators
    std::string email, role, csrfToken;
};

// Signing in and browser sessions (pulse.sessions, sql/005). Every statement runs before any tenant is
// known, through SECURITY DEFINER functions on the Database pool.
class SessionStore {
  public:
    explicit SessionStore(Database& db) : db_(db) {}

    std::optional<SignInRow> userForLogin(const std::string& email);
    // False when the user was disabled or their password changed since it was verified.
    bool open(const SessionOpening& session);
    // nullopt unless the session is live (not expired, revoked, nor its user disabled).
    std::optional<SessionPrincipalRow> principal(const std::string& tokenSha256);
    // False when there was no live session with the token.
    bool revoke(const std::string& tokenSha256);

  private:
    Database& db_;
};

}  // namespace pulse::storage
