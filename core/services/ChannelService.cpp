#include "services/ChannelService.h"

#include "services/Severities.h"

#include "logging/Logging.h"

#include "json/JsonSchema.h"
#include "net/EgressGuard.h"
#include "plugins/PluginInstance.h"
#include "plugins/PluginManager.h"
#include "services/SecretBox.h"
#include "services/ServiceErrors.h"
#include "services/Tokens.h"
#include "storage/PgConnection.h"

#include <pulse/json.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace pulse::services {
namespace {

constexpr const char* kMask = "***";

Poco::JSON::Object::Ptr parseObject(const std::string& text, const char* what) {
    try {
        auto v = Poco::JSON::Parser().parse(text);
        auto obj = v.extract<Poco::JSON::Object::Ptr>();
        if (!obj) throw std::invalid_argument("not an object");
        return obj;
    } catch (const Poco::Exception& e) {
        throw std::invalid_argument(std::string(what) + " is not a JSON object: " + e.displayText());
    } catch (const std::bad_cast&) {
        throw std::invalid_argument(std::string(what) + " is not a JSON object");
    }
}

std::vector<std::string> fieldsWhere(const std::string& schemaText,
                                     const std::function<bool(const Poco::JSON::Object&)>& pred) {
    std::vector<std::string> out;
    auto schema = parseObject(schemaText, "the component's config schema");
    auto props = schema->getObject("properties");
    if (!props) return out;
    for (const auto& [name, value] : *props) {
        if (value.type() != typeid(Poco::JSON::Object::Ptr)) continue;
        auto p = value.extract<Poco::JSON::Object::Ptr>();
        if (p && pred(*p)) out.push_back(name);
    }
    return out;
}

std::string toHex(const std::string& bytes) {
    std::string hex(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(&hex[0], hex.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    hex.pop_back();
    return hex;
}

std::string fromHex(const std::string& hex) {
    std::string bin(hex.size() / 2, '\0');
    size_t len = 0;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(&bin[0]), bin.size(), hex.data(), hex.size(), nullptr,
                       &len, nullptr) != 0)
        throw std::runtime_error("stored secrets are not hex");
    bin.resize(len);
    return bin;
}

}  // namespace

ChannelService::ChannelService(storage::PgPool& pool, const plugins::PluginManager& plugins,
                               const SecretBox& box, const net::EgressGuard& guard)
    : store_(pool), plugins_(plugins), box_(box), guard_(guard) {}

ChannelService::~ChannelService() = default;

std::vector<std::string> ChannelService::secretFields(const std::string& schemaText) {
    return fieldsWhere(schemaText, [](const Poco::JSON::Object& p) {
        return p.has("writeOnly") && p.get("writeOnly").isBoolean() && p.getValue<bool>("writeOnly");
    });
}

ChannelService::Split ChannelService::split(const std::string& type, const std::string& configJson,
                                            const std::string& storedSecretsJson) const {
    auto component = plugins_.findComponent("sender/" + type);
    if (!component) throw std::invalid_argument("no loaded plugin provides the channel type '" + type + "'");
    auto config = parseObject(configJson, "config");
    auto stored = parseObject(storedSecretsJson, "stored secrets");
    auto secrets = Poco::JSON::Object::Ptr(new Poco::JSON::Object);
    for (const auto& field : secretFields(component->configSchemaText)) {
        if (!config->has(field)) continue;
        auto value = config->get(field);
        if (value.isString() && value.toString() == kMask) {
            if (!stored->has(field))
                throw std::invalid_argument(field + ": \"***\" given but no secret is stored");
            value = stored->get(field);
        }
        config->set(field, value);
        secrets->set(field, value);
    }
    // The whole config (secrets included) must satisfy the schema before anything is stored.
    std::string full = json::toJsonText(config);
    std::string violations = plugins_.validateConfig("sender/" + type, full);
    if (!violations.empty()) throw std::invalid_argument("config: " + violations);
    // Every target a tenant chose is checked now and again when dialled: URLs ("format": "uri", dialled by
    // http_send) and hosts a sender dials itself ("format": "hostname", through egress_resolve).
    auto formatted = [&](const char* format) {
        return fieldsWhere(component->configSchemaText, [format](const Poco::JSON::Object& p) {
            return p.has("format") && p.getValue<std::string>("format") == format;
        });
    };
    auto checkTarget = [&](const std::string& field, bool isUrl) {
        if (!config->has(field)) return;
        // One answer for every refused target: which names resolve, and to what internal address, is not for
        // a tenant to learn by saving channels (a name that does not resolve is only retried when dialled).
        // The reason goes to the log.
        auto refuse = [&](const std::exception& e) {
            logging::get("api")->info("channel target refused ({}): {}", field, e.what());
            throw std::invalid_argument(field +
                                        (isUrl ? ": the target is not allowed (it must be an http or "
                                                 "https URL whose host resolves to public addresses only)"
                                               : ": the target is not allowed (it must be a host that "
                                                 "resolves to public addresses only)"));
        };
        try {
            std::string value = config->getValue<std::string>(field);
            if (isUrl)
                guard_.check(value);
            else
                guard_.checkHost(value);
        } catch (const net::EgressUnresolved& e) {
            refuse(e);
        } catch (const net::EgressDenied& e) {
            refuse(e);
        } catch (const std::exception& e) {
            throw std::invalid_argument(field + ": " + e.what());
        }
    };
    for (const auto& field : formatted("uri")) checkTarget(field, true);
    for (const auto& field : formatted("hostname")) checkTarget(field, false);
    for (const auto& [name, value] : *secrets) config->remove(name);
    return Split{json::toJsonText(config), json::toJsonText(secrets)};
}

std::string ChannelService::create(const std::string& tenantId, const ChannelSpec& spec) {
    if (spec.maxConcurrency < 1 || spec.maxConcurrency > 64)
        throw std::invalid_argument("max_concurrency must be between 1 and 64");
    Split parts = split(spec.type, spec.configJson, "{}");
    std::optional<std::string> sealed;
    if (parts.secretsJson != "{}") sealed = toHex(box_.seal(parts.secretsJson));
    try {
        return store_.create(tenantId, {spec.name, spec.type, parts.publicJson, sealed, spec.maxConcurrency});
    } catch (const storage::DatabaseError& e) {
        if (e.sqlState() == "23505") throw Conflict("a channel named '" + spec.name + "' exists");
        // The database's own words stay in the log: they name tables and constraints, not the request.
        if (e.sqlState() == "23514" || e.sqlState() == "23503" || e.sqlState() == "22P02") {
            logging::get("api")->info("channel refused by the database: {}", e.what());
            throw std::invalid_argument(
                "the channel's settings are not acceptable (a value is out of range)");
        }
        throw;
    }
}

void ChannelService::updateConfig(const std::string& tenantId, const std::string& channelId,
                                  const std::string& configJson) {
    bool found = store_.replaceConfig(tenantId, channelId, [&](const storage::StoredChannelSecrets& stored) {
        Split parts = split(stored.type, configJson,
                            stored.sealedSecretsHex ? box_.open(fromHex(*stored.sealedSecretsHex)) : "{}");
        std::optional<std::string> sealed;
        if (parts.secretsJson != "{}") sealed = toHex(box_.seal(parts.secretsJson));
        return storage::ChannelConfigUpdate{parts.publicJson, sealed};
    });
    if (!found) throw NotFound("no such channel");
}

std::string ChannelService::maskedConfig(const std::string& tenantId, const std::string& channelId) const {
    auto channel = store_.find(tenantId, channelId);
    if (!channel) throw NotFound("no such channel");
    return mask(channel->type, channel->configJson, channel->hasSecrets);
}

std::string ChannelService::mask(const std::string& type, const std::string& storedConfigJson,
                                 bool hasSecrets) const {
    auto config = parseObject(storedConfigJson, "stored config");
    auto component = plugins_.findComponent("sender/" + type);
    if (component && hasSecrets) {
        // Which secrets are set is not itself secret; their values are.
        for (const auto& field : secretFields(component->configSchemaText)) config->set(field, kMask);
    }
    return json::toJsonText(config);
}

// What a routing rule must be, created or replaced.
static void checkRoute(const RouteSpec& spec) {
    for (const auto& s : spec.severities)
        if (!isSeverity(s)) throw std::invalid_argument("severities: unknown severity '" + s + "'");
    if (spec.throttleS < 0) throw std::invalid_argument("throttle_s must not be negative");
}

std::string ChannelService::createRoute(const std::string& tenantId, const RouteSpec& spec) {
    checkRoute(spec);
    try {
        auto id =
            store_.createRoutingRule(tenantId, {spec.channelId, spec.name, spec.severities, spec.ruleTypes,
                                                spec.siteId, spec.tag, spec.throttleS, spec.grouping});
        if (!id) throw NotFound("no such channel or site");
        return *id;
    } catch (const storage::DatabaseError& e) {
        if (e.sqlState() == "22P02" || e.sqlState() == "23503") {
            logging::get("api")->info("routing rule refused by the database: {}", e.what());
            throw NotFound("no such channel or site");
        }
        throw;
    }
}

void ChannelService::updateRoute(const std::string& tenantId, const std::string& routeId,
                                 const RouteSpec& spec) {
    checkRoute(spec);
    auto routes = store_.routingRules(tenantId);
    if (std::none_of(routes.begin(), routes.end(), [&](const auto& r) { return r.id == routeId; }))
        throw NotFound("no such routing rule");
    if (!store_.updateRoutingRule(tenantId, routeId,
                                  {spec.channelId, spec.name, spec.severities, spec.ruleTypes, spec.siteId,
                                   spec.tag, spec.throttleS, spec.grouping},
                                  spec.enabled))
        throw std::invalid_argument("no such channel or site");  // a 422: the rule itself is there
}

void ChannelService::deleteRoute(const std::string& tenantId, const std::string& routeId) {
    if (!store_.deleteRoutingRule(tenantId, routeId)) throw NotFound("no such routing rule");
}

void ChannelService::deleteChannel(const std::string& tenantId, const std::string& channelId) {
    if (!store_.deleteChannel(tenantId, channelId)) throw NotFound("no such channel");
}

namespace {

// The shape of a real alert's payload (storage/AlertStore.cpp kRouteAlertEvent), so that what the receiver
// does with it is what it will do with a real one; "test": true tells them apart.
std::string testNotice(const std::string& tenantId, const std::string& tenantSlug,
                       const std::string& channelName, const std::string& actor, long long nowMs) {
    json::Writer w;
    w.beginObject().member("type", "alert.test").member("test", true);
    w.key("event").beginObject().member("id", 0).member("kind", "TEST").member("at_ms", nowMs);
    w.member("actor", actor).endObject();
    w.key("tenant").beginObject().member("id", tenantId).member("slug", tenantSlug).endObject();
    w.key("links").beginObject().endObject();
    w.key("alert").beginObject().member("id", 0).member("status", "OPEN").member("condition", "TEST");
    w.member("severity", "INFO")
        .member("summary", "Test notification from Pulse: channel '" + channelName + "' works");
    w.key("value").null().member("flapping", false).member("triggered_at_ms", nowMs);
    w.key("rule").beginObject().member("id", "").member("name", "Test").member("type", "test").endObject();
    w.key("device").beginObject().member("id", 0).member("name", "pulse-test");
    w.key("tags").beginArray().endArray().endObject();
    w.key("site").null();
    w.endObject().endObject();
    return w.str();
}

}  // namespace

void ChannelService::updateTemplates(const std::string& tenantId, const std::string& channelId,
                                     const MessageTemplates& templates) {
    if (auto problem = templateProblem(templates)) throw std::invalid_argument(*problem);
    if (!store_.replaceTemplates(tenantId, channelId, templates.toJson())) throw NotFound("no such channel");
}

MessageTemplates ChannelService::templatesOf(const std::string& tenantId,
                                             const std::string& channelId) const {
    return MessageTemplates::fromJson(store_.templatesOf(tenantId, channelId));
}

ChannelService::TemplatePreview ChannelService::preview(const MessageTemplates& templates) const {
    if (auto problem = templateProblem(templates)) throw std::invalid_argument(*problem);
    return {render(kSampleNotice, templates), render(sampleGroupNotice(), templates)};
}

TestDelivery ChannelService::sendTest(const std::string& tenantId, const std::string& tenantSlug,
                                      const std::string& channelId, const std::string& actor,
                                      long long deadlineMs) const {
    auto channel = store_.find(tenantId, channelId);
    auto secrets = store_.secrets(tenantId, channelId);
    if (!channel || !secrets) throw NotFound("no such channel");
    auto started = std::chrono::steady_clock::now();
    auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    std::string payload = withMessage(testNotice(tenantId, tenantSlug, channel->name, actor, nowMs),
                                      MessageTemplates::fromJson(channel->templatesJson));
    std::string key = randomToken("test_");  // the idempotency key a receiver dedups by

    TestDelivery result;
    plugins::DeliveryOutcome outcome;
    try {
        auto sender = instantiate("test:" + channel->name, channel->type, channel->configJson,
                                  secrets->sealedSecretsHex);
        pulse_delivery d{};
        d.struct_size = sizeof d;
        d.idempotency_key = pulse_str{key.data(), key.size()};
        d.payload_json = pulse_str{payload.data(), payload.size()};
        d.attempt = 1;
        d.deadline_ms = nowMs + deadlineMs;
        outcome = sender->deliver(d);
        sender->stop();
    } catch (const std::exception& e) {
        outcome.code = PULSE_ERR_CONFIG;
        outcome.detail = std::string("channel unusable: ") + e.what();
    }
    // The dispatcher's mapping (workers/NotificationDispatcher.cpp): OK is done, RETRY and DEFER would be
    // tried again, anything else is permanent.
    result.outcome = outcome.code == PULSE_OK                                     ? "delivered"
                     : outcome.code == PULSE_RETRY || outcome.code == PULSE_DEFER ? "retry"
                                                                                  : "permanent";
    result.statusCode = outcome.statusCode;
    result.detail = outcome.detail;
    result.durationMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
    return result;
}

std::string ChannelService::fullConfig(const std::string& type, const std::string& configJson,
                                       const std::optional<std::string>& sealedHex) const {
    (void)type;
    auto config = parseObject(configJson, "stored config");
    if (sealedHex && !sealedHex->empty()) {
        auto secrets = parseObject(box_.open(fromHex(*sealedHex)), "stored secrets");
        for (const auto& [name, value] : *secrets) config->set(name, value);
    }
    return json::toJsonText(config);
}

std::shared_ptr<plugins::PluginInstance> ChannelService::instantiate(
    const std::string& name, const std::string& type, const std::string& configJson,
    const std::optional<std::string>& sealedHex) const {
    return plugins_.createInstance("sender/" + type, name, fullConfig(type, configJson, sealedHex));
}

}  // namespace pulse::services
