// /api/v1/rules: the tenant's alert rules. The config is validated against the rule plugin's JSON Schema,
// the scope's site or device must be the tenant's; a running pulsed picks changes up within rules.reload_ms.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "plugins/PluginManager.h"
#include "services/RulePreview.h"
#include "services/RuleService.h"
#include "services/ServiceErrors.h"
#include "storage/RuleStore.h"
#include "storage/TenantStore.h"

#include <pulse/json.hpp>

#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Array.h>
#include <Poco/Timestamp.h>

#include <chrono>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::RuleRow& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", r.id);
    o->set("name", r.name);
    o->set("type", r.type);
    o->set("config", jsonValue(r.configJson));
    o->set("severity", r.severity);
    Poco::JSON::Object::Ptr scope = new Poco::JSON::Object;
    scope->set("kind", r.scopeKind);
    if (r.scopeSiteId) scope->set("site_id", *r.scopeSiteId);
    if (r.scopeTag) scope->set("tag", *r.scopeTag);
    if (r.scopeDeviceId) scope->set("device_id", *r.scopeDeviceId);
    o->set("scope", scope);
    o->set("auto_close", r.autoClose);
    o->set("flap_threshold", r.flapThreshold);
    o->set("flap_window_s", r.flapWindowS);
    o->set("enabled", r.enabled);
    o->set("escalation_policy_id", orNull(r.escalationPolicyId));
    o->set("created_at", r.createdAt);
    o->set("updated_at", r.updatedAt);
    return o;
}

// RFC 3339 UTC with milliseconds, as the API writes times.
std::string isoMs(int64_t ms) {
    return Poco::DateTimeFormatter::format(Poco::Timestamp(ms * 1000), "%Y-%m-%dT%H:%M:%S.%iZ");
}

storage::RuleStore rules(Call& call) {
    return storage::RuleStore(*call.api.services().pool);
}

void sendRule(Call& call, const std::string& id, int status) {
    auto rule = rules(call).find(call.tenant(), id);
    if (!rule) throw ApiError(404, "Not Found", "no such rule");
    sendObject(call.ex, status, describe(*rule));
}

storage::RuleFields fieldsOf(const RuleBody& b) {
    return {b.name,      b.type,          b.configJson,  b.severity, b.scopeKind,         b.scopeValue,
            b.autoClose, b.flapThreshold, b.flapWindowS, b.enabled,  b.escalationPolicyId};
}

// Inserts the rule (no id) or replaces the tenant's rule with that id through the one save path
// (services::RuleService); returns its id, or nullopt when there is no such rule. A refusal is audited.
std::optional<std::string> saveRule(Call& call, const std::optional<std::string>& id, const RuleBody& b) {
    const std::string& tenant = call.tenant();
    storage::RuleFields rule = fieldsOf(b);
    auto refused = [&] { call.audit(id ? "rule.update" : "rule.create", id ? *id : b.name, "failed"); };
    try {
        return services::RuleService(*call.api.services().pool, call.api.services().plugins)
            .save(tenant, id, rule);
    } catch (const services::InvalidRule& e) {
        refused();
        throw ApiError(422, "Unprocessable Content", e.what(), e.field());
    } catch (const services::Conflict& e) {
        refused();
        throw ApiError(409, "Conflict", e.what(), "name");
    } catch (const storage::DatabaseError&) {
        refused();
        throw;
    }
}

}  // namespace

void addRuleRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/rules", "api.rules.list", Access::Reader, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rules(call).list(call.tenant())) items->add(describe(r));
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });

    api.route(router, "GET", "/api/v1/rules/{id}", "api.rules.get", Access::Reader,
              [](Call& call) { sendRule(call, call.uuidId("rule"), 200); });

    api.route(router, "POST", "/api/v1/rules", "api.rules.create", Access::TenantAdmin, [](Call& call) {
        auto b = parseRule(call.bodyText());
        std::string id = *saveRule(call, std::nullopt, b);
        call.audit("rule.create", id, "ok", json::objectOf({{"type", b.type}}));
        call.ex.response.set("Location", "/api/v1/rules/" + id);
        sendRule(call, id, 201);
    });

    // A whole rule, replaced (the same body as POST); its alerts stay, its evaluation state starts afresh.
    api.route(router, "PUT", "/api/v1/rules/{id}", "api.rules.replace", Access::TenantAdmin, [](Call& call) {
        std::string id = call.uuidId("rule");
        bool found = saveRule(call, id, parseRule(call.bodyText())).has_value();
        if (!found) throw ApiError(404, "Not Found", "no such rule");
        call.audit("rule.update", id);
        sendRule(call, id, 200);
    });

    // What the rule, as it would be saved (the same body as POST), would have done over the stored readings
    // of the last ?hours= (24): replayed by its own plugin (services::RulePreview); nothing is saved.
    api.route(router, "POST", "/api/v1/rules/preview", "api.rules.preview", Access::Member, [](Call& call) {
        auto b = parseRule(call.bodyText());
        int hours = 24;
        if (std::string h = call.query("hours"); !h.empty()) {
            try {
                size_t used = 0;
                hours = std::stoi(h, &used);
                if (used != h.size()) hours = 0;
            } catch (const std::exception&) {
                hours = 0;
            }
            if (hours < 1 || hours > 168)
                throw ApiError(422, "Unprocessable Content", "hours must be a whole number from 1 to 168",
                               "hours");
        }
        storage::RuleFields rule = fieldsOf(b);
        auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
        std::string slug = storage::TenantStore(*call.api.services().pool).slugOf(call.tenant()).value_or("");
        services::RulePreviewResult r;
        try {
            r = services::RulePreview(*call.api.services().pool, call.api.services().plugins)
                    .run(call.tenant(), slug, rule, nowMs - hours * 3600000LL, nowMs);
        } catch (const services::InvalidRule& e) {
            throw ApiError(422, "Unprocessable Content", e.what(), e.field());
        }
        Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
        out->set("from", isoMs(r.fromMs));
        out->set("to", isoMs(r.toMs));
        out->set("devices", r.devices);
        out->set("readings", r.readings);
        out->set("truncated", r.truncated);
        out->set("fired", r.fired);
        out->set("cleared", r.cleared);
        Poco::JSON::Array::Ptr firings = new Poco::JSON::Array;
        for (const auto& f : r.firings) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("device_id", f.deviceId);
            o->set("device_name", f.deviceName);
            o->set("at", isoMs(f.atMs));
            o->set("value", f.observed);
            o->set("summary", f.summary);
            firings->add(o);
        }
        out->set("firings", firings);
        sendObject(call.ex, 200, out);
    });

    api.route(router, "DELETE", "/api/v1/rules/{id}", "api.rules.delete", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = call.uuidId("rule");
                  if (!rules(call).remove(call.tenant(), id))
                      throw ApiError(404, "Not Found", "no such rule");
                  call.audit("rule.delete", id);
                  call.sendNoContent();
              });
}

void addPluginRoutes(Router& router, Api& api) {
    // What this instance can run: loaded plugins, their components and config schemas (rule and channel
    // types).
    api.route(router, "GET", "/api/v1/plugins", "api.plugins.list", Access::Reader, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        if (const auto* plugins = call.api.services().plugins) {
            for (const auto& p : plugins->report().loaded) {
                Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                o->set("name", p.name);
                o->set("version", p.version);
                o->set("description", p.description);
                o->set("license", p.license);
                o->set("abi", std::to_string(p.abiMajor) + "." + std::to_string(p.abiMinor));
                Poco::JSON::Array::Ptr components = new Poco::JSON::Array;
                for (const auto& c : p.components) {
                    Poco::JSON::Object::Ptr co = new Poco::JSON::Object;
                    co->set("kind", plugins::kindName(c->kind));
                    co->set("type", c->type);
                    co->set("description", c->description);
                    co->set("config_schema", c->configSchemaText.empty() ? Poco::Dynamic::Var()
                                                                         : jsonValue(c->configSchemaText));
                    components->add(co);
                }
                o->set("components", components);
                items->add(o);
            }
        }
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });
}

}  // namespace pulse::http
