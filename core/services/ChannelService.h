#pragma once

#include "services/MessageTemplates.h"
#include "storage/ChannelStore.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pulse::net {
class EgressGuard;
}
namespace pulse::storage {
class PgPool;
}
namespace pulse::plugins {
class PluginManager;
class PluginInstance;
}  // namespace pulse::plugins

namespace pulse::services {

class SecretBox;

struct ChannelSpec {
    std::string name;
    std::string type;        // the sender component type: "webhook", "log"
    std::string configJson;  // the plugin config, secrets included
    int maxConcurrency = 4;
};

struct RouteSpec {
    std::string channelId;
    std::string name;
    std::vector<std::string> severities;  // empty: all
    std::vector<std::string> ruleTypes;   // empty: all
    std::optional<std::string> siteId;
    std::optional<std::string> tag;
    int throttleS = 0;
    bool enabled = true;
    storage::RouteGrouping grouping;
};

// What a test notification met at the other side, as the dispatcher would have taken it.
struct TestDelivery {
    std::string outcome;  // delivered, retry (a real delivery would be tried again), permanent
    int statusCode = 0;   // the other side's answer, 0 when there was none
    std::string detail;
    long long durationMs = 0;
};

// Channels (sender plugin instances configured per tenant) and routing rules. A channel's secrets are
// the config fields its schema marks "writeOnly": they are stored sealed (SecretBox) apart from the rest,
// read back as "***", and a "***" sent back on update keeps the stored value. Fields with
// "format": "uri" must pass the egress guard when saved (and are checked again when dialled).
// Invalid input throws std::invalid_argument with a message fit for a 422 problem.
class ChannelService {
  public:
    ChannelService(storage::PgPool& pool, const plugins::PluginManager& plugins, const SecretBox& box,
                   const net::EgressGuard& guard);
    ~ChannelService();

    std::string create(const std::string& tenantId, const ChannelSpec& spec);
    void updateConfig(const std::string& tenantId, const std::string& channelId,
                      const std::string& configJson);
    // The stored config with every secret as "***".
    std::string maskedConfig(const std::string& tenantId, const std::string& channelId) const;
    // A stored public config as it may be shown: every secret field of the type's schema as "***" when the
    // channel has secrets (the public part never holds any).
    std::string mask(const std::string& type, const std::string& storedConfigJson, bool hasSecrets) const;
    std::string createRoute(const std::string& tenantId, const RouteSpec& spec);
    // Throws NotFound for no such routing rule, std::invalid_argument for no such channel or site.
    void updateRoute(const std::string& tenantId, const std::string& routeId, const RouteSpec& spec);
    // Throws NotFound; deliveries already made stay.
    void deleteRoute(const std::string& tenantId, const std::string& routeId);
    void deleteChannel(const std::string& tenantId, const std::string& channelId);
    // Sends one notification now, through the channel's sender, with a payload shaped like an alert's
    // (type "alert.test", alert id 0), and answers what happened; nothing is queued or retried. Throws
    // NotFound. `deadlineMs`: how long the sender may take.
    TestDelivery sendTest(const std::string& tenantId, const std::string& tenantSlug,
                          const std::string& channelId, const std::string& actor, long long deadlineMs) const;

    // Replaces the channel's message templates after checking them (std::invalid_argument with the
    // problem); throws NotFound.
    void updateTemplates(const std::string& tenantId, const std::string& channelId,
                         const MessageTemplates& templates);
    MessageTemplates templatesOf(const std::string& tenantId, const std::string& channelId) const;
    // The templates rendered for kSampleNotice and for sampleGroupNotice(); std::invalid_argument when they
    // are wrong.
    struct TemplatePreview {
        MessageTemplates alert, group;
    };
    TemplatePreview preview(const MessageTemplates& templates) const;

    // The full plugin config of a stored channel (secrets opened), and an instance made from it.
    std::string fullConfig(const std::string& type, const std::string& configJson,
                           const std::optional<std::string>& sealedHex) const;
    std::shared_ptr<plugins::PluginInstance> instantiate(const std::string& name, const std::string& type,
                                                         const std::string& configJson,
                                                         const std::optional<std::string>& sealedHex) const;

    // Top-level properties the component's schema marks writeOnly.
    static std::vector<std::string> secretFields(const std::string& schemaText);

  private:
    struct Split {
        std::string publicJson;
        std::string secretsJson;  // "{}" when none
    };
    Split split(const std::string& type, const std::string& configJson,
                const std::string& storedSecretsJson) const;

    mutable storage::ChannelStore store_;
    const plugins::PluginManager& plugins_;
    const SecretBox& box_;
    const net::EgressGuard& guard_;
};

}  // namespace pulse::services
