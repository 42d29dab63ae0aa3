// /api/v1/channels and /api/v1/routing-rules: where the tenant's alerts are sent (tenant-admins change them).
// Secrets never leave: configs come back with every secret field as "***", and a "***" sent back keeps the
// stored value (docs/reliability.md S9). Targets are checked by the egress guard when saved (S8).
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "logging/Logging.h"
#include "services/ChannelService.h"
#include "services/ServiceErrors.h"
#include "storage/ChannelStore.h"
#include "storage/NotificationGroupStore.h"
#include "storage/TenantStore.h"

#include <pulse/json.hpp>

#include <Poco/JSON/Array.h>

#include <tuple>

namespace pulse::http {
namespace {

services::ChannelService& channels(Call& call) {
    if (!call.api.services().channels)
        throw ApiError(503, "Service Unavailable", "notifications are not running on this instance");
    return *call.api.services().channels;
}

Poco::JSON::Object::Ptr describeChannel(Call& call, const storage::ChannelRow& c) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", c.id);
    o->set("name", c.name);
    o->set("type", c.type);
    o->set("config", jsonValue(channels(call).mask(c.type, c.configJson, c.hasSecrets)));
    o->set("enabled", c.enabled);
    o->set("disabled_reason", orNull(c.disabledReason));
    o->set("max_concurrency", c.maxConcurrency);
    o->set("templates", jsonValue(c.templatesJson));
    o->set("created_at", c.createdAt);
    o->set("updated_at", c.updatedAt);
    return o;
}

Poco::JSON::Object::Ptr describeRoute(const storage::RoutingRuleRow& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", r.id);
    o->set("channel_id", r.channelId);
    o->set("name", r.name);
    o->set("severities", jsonValue(r.severitiesJson));
    o->set("rule_types", jsonValue(r.ruleTypesJson));
    o->set("site_id", orNull(r.siteId));
    o->set("tag", orNull(r.tag));
    o->set("throttle_s", r.throttleS);
    Poco::JSON::Array::Ptr by = new Poco::JSON::Array;
    for (const auto& b : r.grouping.by) by->add(b);
    o->set("group_by", by);
    o->set("group_wait_s", r.grouping.waitS);
    o->set("group_interval_s", r.grouping.intervalS);
    o->set("repeat_interval_s", r.grouping.repeatS);
    o->set("enabled", r.enabled);
    o->set("created_at", r.createdAt);
    return o;
}

// {"title": "...", "text": "..."}, each optional (absent or "": the sender's own wording).
services::MessageTemplates parseTemplates(const std::string& body) {
    auto o = parseJsonObject(body);
    services::MessageTemplates t;
    for (const auto& [name, value] : *o) {
        if (name != "title" && name != "text")
            throw ApiError(422, "Unprocessable Content", "unknown member '" + name + "' (title, text)", name);
        if (value.isEmpty()) continue;
        if (!value.isString()) throw ApiError(422, "Unprocessable Content", name + " must be a string", name);
        (name == "title" ? t.title : t.text) = value.extract<std::string>();
    }
    return t;
}

// A template's problem names its field first ("text: ..."): the pointer of the 422.
[[noreturn]] void templateRefused(const std::invalid_argument& e) {
    std::string what = e.what();
    throw ApiError(422, "Unprocessable Content", what, what.rfind("title", 0) == 0 ? "title" : "text");
}

void sendChannel(Call& call, const std::string& id, int status) {
    auto channel = storage::ChannelStore(*call.api.services().pool).find(call.tenant(), id);
    if (!channel) throw ApiError(404, "Not Found", "no such channel");
    sendObject(call.ex, status, describeChannel(call, *channel));
}

}  // namespace

void addChannelRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/channels", "api.channels.list", Access::Reader, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& c : storage::ChannelStore(*call.api.services().pool).list(call.tenant()))
            items->add(describeChannel(call, c));
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
        call.audit("channel.create", id, "ok", json::objectOf({{"type", body.type}}));  // never the config
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

    // The channel's message templates, replaced whole; dispatchers apply them from the next delivery on.
    api.route(router, "PUT", "/api/v1/channels/{id}/templates", "api.channels.templates", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = call.uuidId("channel");
                  auto templates = parseTemplates(call.bodyText());
                  try {
                      channels(call).updateTemplates(call.tenant(), id, templates);
                  } catch (const services::NotFound& e) {
                      throw ApiError(404, "Not Found", e.what());
                  } catch (const std::invalid_argument& e) {
                      call.audit("channel.templates", id, "failed");
                      templateRefused(e);
                  }
                  call.audit("channel.templates", id, "ok", templates.toJson());
                  sendChannel(call, id, 200);
              });

    // Templates rendered for a sample alert (services::kSampleNotice), and for a sample group's notice,
    // before they are saved.
    api.route(router, "POST", "/api/v1/message-templates/preview", "api.templates.preview",
              Access::TenantAdmin, [](Call& call) {
                  auto templates = parseTemplates(call.bodyText());
                  services::ChannelService::TemplatePreview rendered;
                  try {
                      rendered = channels(call).preview(templates);
                  } catch (const std::invalid_argument& e) {
                      templateRefused(e);
                  }
                  auto renderedOn = [](const services::MessageTemplates& t, const std::string& notice) {
                      Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
                      out->set("title", t.title);
                      out->set("text", t.text);
                      out->set("notice", jsonValue(notice));
                      return out;
                  };
                  auto out = renderedOn(rendered.alert, services::kSampleNotice);
                  out->set("group", renderedOn(rendered.group, services::sampleGroupNotice()));
                  sendObject(call.ex, 200, out);
              });

    api.route(router, "GET", "/api/v1/routing-rules", "api.routes.list", Access::Reader, [](Call& call) {
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& r : storage::ChannelStore(*call.api.services().pool).routingRules(call.tenant()))
            items->add(describeRoute(r));
        call.sendPage(items, std::nullopt);  // the whole list in one page
    });

    // The groups grouping routing rules formed (sql/018): open ones by default, newest first.
    api.route(router, "GET", "/api/v1/notification-groups", "api.groups.list", Access::Reader,
              [](Call& call) {
                  std::string status = call.query("status");
                  if (!status.empty() && status != "open" && status != "all")
                      throw ApiError(400, "Bad Request", "status must be open or all", "status");
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& g : storage::NotificationGroupStore(*call.api.services().pool)
                                           .list(call.tenant(), status != "all", 200)) {
                      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
                      o->set("id", g.id);
                      o->set("routing_rule_id", orNull(g.routingRuleId));
                      o->set("channel_id", orNull(g.channelId));
                      o->set("key", g.groupKey);
                      // What the group is of: its rule and its site, each when the routing rule groups by it.
                      for (auto [name, id, label] : {std::tuple{"rule", &g.ruleId, &g.ruleName},
                                                     std::tuple{"site", &g.siteId, &g.siteName}}) {
                          if (!*id) {
                              o->set(name, Poco::Dynamic::Var());
                              continue;
                          }
                          Poco::JSON::Object::Ptr part = new Poco::JSON::Object;
                          part->set("id", **id);
                          part->set("name", label->value_or(""));
                          o->set(name, part);
                      }
                      o->set("status", g.status);
                      o->set("notifications", g.notifications);
                      o->set("next_notice_at", orNull(g.nextNoticeAt));
                      o->set("last_notice_at", orNull(g.lastNoticeAt));
                      o->set("resolved_at", orNull(g.resolvedAt));
                      o->set("created_at", g.createdAt);
                      o->set("alert_count", g.alertCount);
                      o->set("alerts", jsonValue(g.alertsJson));
                      items->add(o);
                  }
                  call.sendPage(items, std::nullopt);  // at most 200, newest first
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

    // The whole rule is sent, as when created (what is left out takes its default).
    api.route(
        router, "PUT", "/api/v1/routing-rules/{id}", "api.routes.replace", Access::TenantAdmin,
        [](Call& call) {
            std::string id = call.uuidId("routing rule");
            auto spec = parseNewRoute(call.bodyText());
            try {
                channels(call).updateRoute(call.tenant(), id, spec);
            } catch (const services::NotFound& e) {
                call.audit("routing_rule.update", id, "failed");
                throw ApiError(404, "Not Found", e.what());
            } catch (const std::invalid_argument& e) {
                call.audit("routing_rule.update", id, "failed");
                throw ApiError(
                    422, "Unprocessable Content", e.what(),
                    std::string(e.what()).find("channel") != std::string::npos ? "channel_id" : "");
            }
            call.audit("routing_rule.update", id);
            for (const auto& r : storage::ChannelStore(*call.api.services().pool).routingRules(call.tenant()))
                if (r.id == id) return sendObject(call.ex, 200, describeRoute(r));
            throw ApiError(404, "Not Found", "no such routing rule");  // deleted meanwhile
        });

    api.route(router, "DELETE", "/api/v1/routing-rules/{id}", "api.routes.delete", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = call.uuidId("routing rule");
                  try {
                      channels(call).deleteRoute(call.tenant(), id);
                  } catch (const services::NotFound& e) {
                      throw ApiError(404, "Not Found", e.what());
                  }
                  call.audit("routing_rule.delete", id);
                  call.sendNoContent();
              });

    // Its routing rules go with it; its deliveries stay in the alerts' history.
    api.route(router, "DELETE", "/api/v1/channels/{id}", "api.channels.delete", Access::TenantAdmin,
              [](Call& call) {
                  std::string id = call.uuidId("channel");
                  try {
                      channels(call).deleteChannel(call.tenant(), id);
                  } catch (const services::NotFound& e) {
                      throw ApiError(404, "Not Found", e.what());
                  }
                  call.audit("channel.delete", id);
                  call.sendNoContent();
              });

    // One notification now, through the channel's sender, answered with what the other side said. The
    // request waits for it (up to kTestDeadlineMs): an administrator's action, limited like every request.
    api.route(router, "POST", "/api/v1/channels/{id}/test", "api.channels.test", Access::TenantAdmin,
              [](Call& call) {
                  constexpr long long kTestDeadlineMs = 10000;
                  std::string id = call.uuidId("channel");
                  std::string slug =
                      storage::TenantStore(*call.api.services().pool).slugOf(call.tenant()).value_or("");
                  services::TestDelivery sent;
                  try {
                      sent = channels(call).sendTest(call.tenant(), slug, id, call.principal->label,
                                                     kTestDeadlineMs);
                  } catch (const services::NotFound& e) {
                      throw ApiError(404, "Not Found", e.what());
                  }
                  logging::get("api")->info("test notification on channel {}: {} {} {}", id, sent.outcome,
                                            sent.statusCode, sent.detail);
                  call.audit("channel.test", id, sent.outcome == "delivered" ? "ok" : "failed",
                             json::objectOf({{"outcome", sent.outcome}}));
                  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
                  out->set("outcome", sent.outcome);
                  out->set("status_code",
                           sent.statusCode ? Poco::Dynamic::Var(sent.statusCode) : Poco::Dynamic::Var());
                  out->set("detail", sent.detail);
                  out->set("duration_ms", sent.durationMs);
                  sendObject(call.ex, 200, out);
              });
}

}  // namespace pulse::http
