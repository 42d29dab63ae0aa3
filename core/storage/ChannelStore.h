#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

class PgPool;

// A channel as stored: its public config only (secrets stay sealed in the database; whether there are any
// is all that is read).
struct ChannelRow {
    std::string id, name, type;
    std::string configJson;  // without the secret fields
    bool hasSecrets = false;
    bool enabled = true;
    std::optional<std::string> disabledReason;  // why the dispatcher disabled it (a 410), if it did
    int maxConcurrency = 4;
    std::string createdAt, updatedAt;  // RFC 3339 UTC
};

// Which alerts a channel is sent: empty lists match everything.
struct RoutingRuleRow {
    std::string id, channelId, name;
    std::string severitiesJson, ruleTypesJson;  // JSON arrays of strings
    std::optional<std::string> siteId, tag;
    int throttleS = 0;
    bool enabled = true;
    std::string createdAt;
};

// What the API reads of the tenant's channels and routing rules, each in a transaction scoped to the tenant
// (row-level security). Saving them (secrets sealed, targets checked) is services::ChannelService's.
class ChannelStore {
  public:
    explicit ChannelStore(PgPool& pool) : pool_(pool) {}

    // By name, the first 1000. Throws DatabaseError, like every method here.
    std::vector<ChannelRow> list(const std::string& tenantId);
    std::optional<ChannelRow> find(const std::string& tenantId, const std::string& id);
    // Oldest first, the first 1000.
    std::vector<RoutingRuleRow> routingRules(const std::string& tenantId);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
