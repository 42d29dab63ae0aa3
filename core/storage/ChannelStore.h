#pragma once

#include <functional>
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
    std::string templatesJson = "{}";  // services::MessageTemplates
    std::string createdAt, updatedAt;  // RFC 3339 UTC
};

// Grouping (sql/018): by "rule" and/or "site" (none: a notice per alert), and its timers in seconds.
struct RouteGrouping {
    std::vector<std::string> by;
    int waitS = 30;       // from a group's first alert to its first notice
    int intervalS = 300;  // between notices while the group changes
    int repeatS = 14400;  // between repeats of an unchanged group with open alerts (0: never)
};

// Which alerts a channel is sent: empty lists match everything.
struct RoutingRuleRow {
    std::string id, channelId, name;
    std::string severitiesJson, ruleTypesJson;  // JSON arrays of strings
    std::optional<std::string> siteId, tag;
    int throttleS = 0;
    bool enabled = true;
    std::string createdAt;
    RouteGrouping grouping;
};

// A new channel as saved: the public part of its config, and the secret fields sealed (SecretBox) apart.
struct ChannelFields {
    std::string name, type;
    std::string publicConfigJson;
    std::optional<std::string> sealedSecretsHex;  // none: no secret fields
    int maxConcurrency = 4;
};

// What a channel's new config is made from: its type, and its sealed secrets (a "***" keeps a stored one).
struct StoredChannelSecrets {
    std::string type;
    std::optional<std::string> sealedSecretsHex;
};

// A channel's config as it replaces the stored one.
struct ChannelConfigUpdate {
    std::string publicConfigJson;
    std::optional<std::string> sealedSecretsHex;
};

// A new routing rule: which alerts (empty lists match all) go to which channel.
struct RoutingRuleFields {
    std::string channelId, name;
    std::vector<std::string> severities, ruleTypes;
    std::optional<std::string> siteId, tag;
    int throttleS = 0;
    RouteGrouping grouping;
};

// The tenant's channels and routing rules, each call in a transaction scoped to the tenant (row-level
// security). Saving them (secrets sealed, targets checked) goes through services::ChannelService.
class ChannelStore {
  public:
    explicit ChannelStore(PgPool& pool) : pool_(pool) {}

    // By name, the first 1000. Throws DatabaseError, like every method here.
    std::vector<ChannelRow> list(const std::string& tenantId);
    std::optional<ChannelRow> find(const std::string& tenantId, const std::string& id);
    // Oldest first, the first 1000.
    std::vector<RoutingRuleRow> routingRules(const std::string& tenantId);

    // Returns the new channel's id. A name taken is a DatabaseError with SQLSTATE 23505, a value out of range
    // 23514.
    std::string create(const std::string& tenantId, const ChannelFields& channel);
    // Replaces the channel's config with what update makes of the stored one (the row locked in between;
    // whatever update throws rolls back) and enables it again; false when the tenant has no such channel.
    bool replaceConfig(const std::string& tenantId, const std::string& channelId,
                       const std::function<ChannelConfigUpdate(const StoredChannelSecrets&)>& update);
    // Replaces the channel's message templates (a JSON object); false when the tenant has no such channel.
    bool replaceTemplates(const std::string& tenantId, const std::string& channelId,
                          const std::string& templatesJson);
    // The channel's message templates, "{}" when it has none (or is gone).
    std::string templatesOf(const std::string& tenantId, const std::string& channelId);
    // Returns the new routing rule's id; nullopt when the tenant has no such channel or site.
    std::optional<std::string> createRoutingRule(const std::string& tenantId, const RoutingRuleFields& rule);
    // Replaces the routing rule; nullopt when the tenant has no such rule, channel or site.
    std::optional<std::string> updateRoutingRule(const std::string& tenantId, const std::string& id,
                                                 const RoutingRuleFields& rule, bool enabled);
    // Deletes the routing rule (its deliveries stay, without it); false when the tenant has none such.
    bool deleteRoutingRule(const std::string& tenantId, const std::string& id);
    // Deletes the channel and its routing rules; its deliveries stay as history. False: no such channel.
    bool deleteChannel(const std::string& tenantId, const std::string& id);
    // The channel's type and sealed secrets, to make a sender of it; nullopt when there is none such.
    std::optional<StoredChannelSecrets> secrets(const std::string& tenantId, const std::string& id);

  private:
    PgPool& pool_;
};

}  // namespace pulse::storage
