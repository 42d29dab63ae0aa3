// /api/v1/channels and /api/v1/routing-rules: where the tenant's alerts are sent (tenant-admins change them).
// Secrets never leave: configs come back with every secret field as "***", and a "***" sent back keeps the
// stored value (RELIABILITY.md S9). Targets are checked by the egress guard when saved (S8).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/ChannelService.h"
#include "services/ServiceErrors.h"
#include "storage/PgPool.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

const std::string kChannelColumns =
    "c.id::text, c.name, c.type, c.config::text, (c.secrets IS NOT NULL)::text, "
    "c.enabled::text, nullif(c.disabled_reason, ''), c.max_concurrency::text, " +
    storage::isoTime("c.created_at") + ", " + storage::isoTime("c.updated_at");

services::ChannelService& channels(Call& call) {
    if (!call.api.services().channels)
        throw ApiError(503, "Service Unavailable", "notifications are not running on this instance");
    return *call.api.services().channels;
}

Poco::JSON::Object::Ptr describeChannel(Call& call, const std::vector<std::optional<std::string>>& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", *r[0]);
    o->set("name", *r[1]);
    o->set("type", *r[2]);
    o->set("config", jsonValue(channels(call).mask(*r[2], *r[3], *r[4] == "true")));
    o->set("enabled", *r[5] == "true");
    o->set("disabled_reason", orNull(r[6]));
    o->set("max_concurrency", std::stoi(*r[7]));
    o->set("created_at", *r[8]);
    o->set("updated_at", *r[9]);
    return o;
}

void sendChannel(Call& call, const std::string& id, int status) {
    storage::PgRows rows;
    call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
        rows = conn.query("SELECT " + kChannelColumns + " FROM pulse.channels c WHERE c.id = $1::uuid", {id});
    });
    if (rows.rows.empty()) throw ApiError(404, "Not Found", "no such channel");
    sendObject(call.ex, status, describeChannel(call, rows.rows[0]));
}

}  // namespace

void addChannelRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/channels", "api.channels.list", Access::Reader, [](Call& call) {
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows =
                conn.query("SELECT " + kChannelColumns + " FROM pulse.channels c ORDER BY c.name LIMIT 1000");
        });
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows.rows) items->add(describeChannel(call, r));
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });

    api.route(router, "GET", "/api/v1/channels/{id}", "api.channels.get", Access::Reader,
              [](Call& call) { sendChannel(call, call.uuidId("channel"), 200); });

    api.route(router, "POST", "/api/v1/channels", "api.channels.create", Access::TenantAdmin, [](Call& call) {
        auto body = parseNewChannel(call.bodyText());
        std::string id;
        try {
            id = channels(call).create(
                call.tenant(),
                services::ChannelSpec{body.name, body.type, body.configJson, body.maxConcurrency});
        } catch (const std::invalid_argument& e) {
            call.audit("channel.create", body.name, "failed");
            if (dynamic_cast<const services::Conflict*>(&e))
                throw ApiError(409, "Conflict", e.what(), "name");
            throw ApiError(422, "Unprocessable Content", e.what(), "config");
        }
        call.audit("channel.create", id, "ok",
                   "{\"type\":\"" + logging::jsonEscape(body.type) + "\"}");  // never the config
        call.ex.response.set("Location", "/api/v1/channels/" + id);
        sendChannel(call, id, 201);
    });

    api.route(router, "PUT", "/api/v1/channels/{id}/config", "api.channels.config", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = call.uuidId("channel");
                  auto config = parseJsonObject(call.bodyText());
                  try {
                      channels(call).updateConfig(call.tenant(), id, toJson(config));
                  } catch (const std::invalid_argument& e) {
                      call.audit("channel.update", id, "failed");
                      if (dynamic_cast<const services::NotFound*>(&e))
                          throw ApiError(404, "Not Found", e.what());
                      throw ApiError(422, "Unprocessable Content", e.what(), "config");
                  }
                  // Which fields changed is recorded, never their values (secrets stay out of the audit log).
                  Poco::JSON::Array::Ptr fields = new Poco::JSON::Array;
                  for (const auto& [name, value] : *config) fields->add(name);
                  Poco::JSON::Object::Ptr detail = new Poco::JSON::Object;
                  detail->set("fields", fields);
                  call.audit("channel.update", id, "ok", toJson(detail));
                  sendChannel(call, id, 200);
              });

    api.route(router, "GET", "/api/v1/routing-rules", "api.routes.list", Access::Reader, [](Call& call) {
        storage::PgRows rows;
        call.api.services().pool->withTenant(call.tenant(), [&](storage::PgConnection& conn) {
            rows = conn.query(
                "SELECT r.id::text, r.channel_id::text, r.name, array_to_json(r.severities)::text, "
                "array_to_json(r.rule_types)::text, r.site_id::text, r.tag, r.throttle_s::text, "
                "r.enabled::text, " +
                storage::isoTime("r.created_at") +
                " FROM pulse.routing_rules r ORDER BY r.created_at, r.id LIMIT 1000");
        });
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : rows.rows) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("id", *r[0]);
            o->set("channel_id", *r[1]);
            o->set("name", *r[2]);
            o->set("severities", jsonValue(*r[3]));
            o->set("rule_types", jsonValue(*r[4]));
            o->set("site_id", orNull(r[5]));
            o->set("tag", orNull(r[6]));
            o->set("throttle_s", std::stoi(*r[7]));
            o->set("enabled", *r[8] == "true");
            o->set("created_at", *r[9]);
            items->add(o);
        }
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });

    api.route(router, "POST", "/api/v1/routing-rules", "api.routes.create", Access::TenantAdmin,
              [](Call& call) {
                  auto spec = parseNewRoute(call.bodyText());
                  std::string id;
                  try {
                      id = channels(call).createRoute(call.tenant(), spec);
                  } catch (const std::invalid_argument& e) {
                      call.audit("routing_rule.create", spec.name, "failed");
                      bool unknown = dynamic_cast<const services::NotFound*>(&e) != nullptr;
                      throw ApiError(422, "Unprocessable Content", e.what(), unknown ? "channel_id" : "");
                  }
                  call.audit("routing_rule.create", id);
                  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
                  out->set("id", id);
                  sendObject(call.ex, 201, out);
              });
}

}  // namespace pulse::http
