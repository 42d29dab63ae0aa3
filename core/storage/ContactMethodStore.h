#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// How escalations page a user (pulse.user_contact_methods).
struct ContactMethodFields {
    std::string kind;                    // "email": address through an e-mail channel; "channel": the channel
    std::optional<std::string> address;  // the e-mail address (kind email)
    std::string channelId;
    std::string label;
};

struct ContactMethodRow : ContactMethodFields {
    std::string id, userId, channelName, channelType, createdAt;
};

struct ContactMethodSave {
    enum class Result {
        Saved,
        NoSuchUser,       // not the tenant's
        NoSuchChannel,    // not the tenant's, or deleted
        NotAMailChannel,  // kind email through a channel that does not send e-mail
        TooMany,          // the user has the most contact methods allowed
    } result = Result::Saved;
    std::string id;
};

// A user's contact methods, each call one transaction scoped to the tenant. Throws DatabaseError.
class ContactMethodStore {
  public:
    static constexpr int kMaxPerUser = 10;

    explicit ContactMethodStore(PgPool& pool) : pool_(pool) {}

    // nullopt when the tenant has no such user.
    std::optional<std::vector<ContactMethodRow>> list(const std::string& tenantId, const std::string& userId);
    ContactMethodSave create(const std::string& tenantId, const std::string& userId,
                             const ContactMethodFields& method);
    std::optional<ContactMethodRow> find(const std::string& tenantId, const std::string& userId,
                                         const std::string& id);
    // False when the user has no such contact method. Pages already queued through it are still sent.
    bool remove(const std::string& tenantId, const std::string& userId, const std::string& id);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
