// /api/v1/rules: the tenant's alert rules. The config is validated against the rule plugin's JSON Schema,
// the scope's site or device must be the tenant's; a running pulsed picks changes up within rules.reload_ms.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "plugins/PluginManager.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kColumns =
    "r.id::text, r.name, r.type, r.config::text, r.severity, r.scope_kind, r.scope_site_id::text, "
    "r.scope_tag, "
    "r.scope_device_id::text, r.auto_close::text, r.flap_threshold::text, r.flap_window_s::text, "
    "r.enabled::text, " +
    storage::isoTime("r.created_at") + ", " + storage::isoTime("r.updated_at");

Poco::JSON::Object::Ptr describe(const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", *r[0]);
    o->set("name", *r[1]);
    o->set("type", *r[2]);
    o->set("config", jsonValue(*r[3]));
    o->set("severity", *r[4]);
    Poco::JSON::Object::Ptr scope = new Poco::JSON::Object;
    scope->set("kind", *r[5]);
    if (r[6]) scope->set("site_id", *r[6]);
    if (r[7]) scope->set("tag", *r[7]);
    if (r[8]) scope->set("device_id", std::stoll(*r[8]));
    o->set("scope", scope);
    o->set("auto_close", *r[9] == "true");
    o->set("flap_threshold", std::stoi(*r[10]));
    o->set("flap_window_s", std::stoi(*r[11]));
    o->set("enabled", *r[12] == "true");
    o->set("created_at", *r[13]);
    o->set("updated_at", *r[14]);
    return o;
}

void sendRule(Call& call, const std::string& id, int status) {
    storage::PgRows rows;
    call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
        rows = conn.query(
            "SELECT " + kColumns + " FROM pulse.rules r WHERE r.id = $1::uuid AND r.deleted_at IS NULL",
            {id});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such rule");
    sendObject(call.ex, status, describe(rows.rows[0]));
}

// The schema check of the rule plugin, as a 422 naming what is wrong.
void validateConfig(Call& call, const std::string& type, const std::string& configJson) {
    const auto* plugins = call.api.services().plugins;
    if (!plugins || !plugins->findComponent("rule/" + type))
        throw ApiError(422, "Unprocessable Content", "no rule plugin of type '" + type + "' is loaded",
                       "type");
    std::string problems = plugins->validateConfig("rule/" + type, configJson);
    if (!problems.empty()) throw ApiError(422, "Unprocessable Content", problems, "config");
    // The schema cannot say everything a plugin checks (a clear threshold on the wrong side of the
    // threshold): the plugin itself is asked, by creating an instance that is stopped at once, so that no
    // rule is stored that would never run.
    try {
        plugins->createInstance("rule/" + type, "validate", configJson)->stop();
    } catch (const std::invalid_argument& e) {
        throw ApiError(422, "Unprocessable Content",
                       std::string("the rule plugin refuses the config: ") + e.what(), "config");
    }
}

// Foreign keys are checked without row-level security: a scope's site or device is looked up under the
// tenant first, so another tenant's id is refused like an unknown one.
void checkScope(storage::PgConnection& conn, const RuleBody& b) {
    if (b.scopeKind == "site" &&
        conn.query("SELECT 1 FROM pulse.sites WHERE id = $1::uuid", {b.scopeValue}).rows.empty())
        throw ApiError(422, "Unprocessable Content", "no such site", "scope.site_id");
    if (b.scopeKind == "device" &&
        conn.query("SELECT 1 FROM pulse.devices WHERE id = $1::bigint AND decommissioned_at IS NULL",
                   {b.scopeValue})
            .rows.empty())
        throw ApiError(422, "Unprocessable Content", "no such device", "scope.device_id");
}

// Inserts the rule (no id) or replaces the tenant's rule with that id; returns its id, or nullopt when
// there is no such rule. The same checks for both: the plugin's schema, the tenant's own scope, a free name.
std::optional<std::string> saveRule(Call& call, const std::optional<std::string>& id, const RuleBody& b) {
    validateConfig(call, b.type, b.configJson);
    // $1 is the rule's id when replacing, the tenant's when inserting; $7 the scope's site, tag or device.
    std::vector<std::optional<std::string>> params = {id ? *id : call.tenant(),
                                                      b.name,
                                                      b.type,
                                                      b.configJson,
                                                      b.severity,
                                                      b.scopeKind,
                                                      b.scopeValue,
                                                      b.autoClose ? "true" : "false",
                                                      std::to_string(b.flapThreshold),
                                                      std::to_string(b.flapWindowS),
                                                      b.enabled ? "true" : "false"};
    const char* columns =
        "name, type, config, severity, scope_kind, scope_site_id, scope_tag, scope_device_id, "
        "auto_close, flap_threshold, flap_window_s, enabled";
    const char* values =
        "$2, $3, $4::jsonb, $5, $6, CASE WHEN $6 = 'site' THEN ($7::text)::uuid END, "
        "CASE WHEN $6 = 'tag' THEN $7::text END, CASE WHEN $6 = 'device' THEN ($7::text)::bigint "
        "END, $8::boolean, $9::int, $10::int, $11::boolean";
    std::string sql =
        id ? std::string("UPDATE pulse.rules SET (") + columns + ", updated_at) = (" + values +
                 ", clock_timestamp()) WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id::text"
           : std::string("INSERT INTO pulse.rules (tenant_id, ") + columns + ") VALUES ($1::uuid, " + values +
                 ") RETURNING id::text";
    std::optional<std::string> saved;
    try {
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            checkScope(conn, b);
            auto rows = conn.query(sql, params);
            if (!rows.rows.empty()) saved = rows.rows[0][0];
        });
    } catch (const storage::DatabaseError& e) {
        call.audit(id ? "rule.update" : "rule.create", id ? *id : b.name, "failed");
        if (e.sqlState() == "23505")
            throw ApiError(409, "Conflict", "a rule named '" + b.name + "' exists", "name");
        if (e.sqlState().rfind("23", 0) == 0 || e.sqlState() == "22P02") {
            // The database's own words stay in the log: they name tables and constraints, not the request.
            logging::get("api")->info("rule refused by the database: {}", e.what());
            throw ApiError(422, "Unprocessable Content",
                           "a value of the rule is out of range or of the wrong form");
        }
        throw;
    }
    return saved;
}

}  // namespace

void addRuleRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/rules", "api.rules.list", Access::Reader, [](Call& call) {
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query("SELECT " + kColumns +
                              " FROM pulse.rules r WHERE r.deleted_at IS NULL ORDER BY r.name LIMIT 1000");
        });
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows.rows) items->add(describe(r));
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });

    api.route(router, "GET", "/api/v1/rules/{id}", "api.rules.get", Access::Reader,
              [](Call& call) { sendRule(call, call.uuidId("rule"), 200); });

    api.route(router, "POST", "/api/v1/rules", "api.rules.create", Access::TenantAdmin, [](Call& call) {
        auto b = parseRule(call.bodyText());
        std::string id = *saveRule(call, std::nullopt, b);
        call.audit("rule.create", id, "ok", "{\"type\":\"" + logging::jsonEscape(b.type) + "\"}");
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

    api.route(
        router, "DELETE", "/api/v1/rules/{id}", "api.rules.delete", Access::TenantAdmin, [](Call& call) {
            std::string id = call.uuidId("rule");
            bool found = false;
            call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
                found = !conn.query(
                                 "UPDATE pulse.rules SET deleted_at = now(), enabled = false, updated_at = "
                                 "clock_timestamp() WHERE id = $1::uuid AND deleted_at IS NULL RETURNING id",
                                 {id})
                             .rows.empty();
            });
            if (!found) throw ApiError(404, "Not Found", "no such rule");
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
                    co->set("kind", c->kind == PULSE_KIND_INGEST   ? "ingest"
                                    : c->kind == PULSE_KIND_RULE   ? "rule"
                                    : c->kind == PULSE_KIND_SENDER ? "sender"
                                    : c->kind == PULSE_KIND_REPORT ? "report"
                                                                   : "action");
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
