// /api/v1/rules: the tenant's alert rules. The config is validated against the rule plugin's JSON Schema,
// the scope's site or device must be the tenant's; a running pulsed picks changes up within rules.reload_ms.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "plugins/PluginManager.h"
#include "services/RuleService.h"
#include "services/ServiceErrors.h"
#include "storage/RuleStore.h"

#include <pulse/json.hpp>

#include <Poco/JSON/Array.h>

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
    o->set("created_at", r.createdAt);
    o->set("updated_at", r.updatedAt);
    return o;
}

storage::RuleStore rules(Call& call) {
    return storage::RuleStore(*call.api.services().pool);
}

void sendRule(Call& call, const std::string& id, int status) {
    auto rule = rules(call).find(call.tenant(), id);
    if (!rule) throw ApiError(404, "Not Found", "no such rule");
    sendObject(call.ex, status, describe(*rule));
}

// Inserts the rule (no id) or replaces the tenant's rule with that id through the one save path
// (services::RuleService); returns its id, or nullopt when there is no such rule. A refusal is audited.
std::optional<std::string> saveRule(Call& call, const std::optional<std::string>& id, const RuleBody& b) {
    const std::string& tenant = call.tenant();
    storage::RuleFields rule{b.name,       b.type,      b.configJson,    b.severity,    b.scopeKind,
                             b.scopeValue, b.autoClose, b.flapThreshold, b.flapWindowS, b.enabled};
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
