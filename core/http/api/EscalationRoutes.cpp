// /api/v1/escalation-policies: who is paged when an alert stays unacknowledged, level by level (at most 5,
// each with its targets and a delay before the next), repeated up to 9 more times; rules name one, and a
// tenant's default serves the rest. /api/v1/users/{id}/contact-methods: how a user is paged (an e-mail
// address through one of the tenant's e-mail channels, or a channel of their own). Members change their own
// contact methods; tenant-admins anyone's and the policies.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "services/ServiceErrors.h"
#include "storage/ContactMethodStore.h"
#include "storage/EscalationPolicyStore.h"
#include "storage/Uuid.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const storage::EscalationPolicyRow& p) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", p.id);
    o->set("name", p.name);
    o->set("description", p.description);
    o->set("repeat", p.repeat);
    o->set("default", p.isDefault);
    Poco::JSON::Array::Ptr levels = new Poco::JSON::Array;
    for (const auto& l : p.levels) {
        Poco::JSON::Object::Ptr level = new Poco::JSON::Object;
        level->set("delay_s", l.delayS);
        Poco::JSON::Array::Ptr targets = new Poco::JSON::Array;
        for (const auto& t : l.targets) {
            Poco::JSON::Object::Ptr target = new Poco::JSON::Object;
            target->set("type", t.type);
            target->set("id", t.id);
            target->set("name", t.name);
            if (t.type == "schedule") target->set("next_on_repeat", t.nextOnRepeat);
            targets->add(target);
        }
        level->set("targets", targets);
        levels->add(level);
    }
    o->set("levels", levels);
    o->set("rules", p.rules);
    o->set("created_at", p.createdAt);
    o->set("updated_at", p.updatedAt);
    return o;
}

Poco::JSON::Object::Ptr describe(const storage::ContactMethodRow& m) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", m.id);
    o->set("user_id", m.userId);
    o->set("kind", m.kind);
    o->set("address", orNull(m.address));
    Poco::JSON::Object::Ptr channel = new Poco::JSON::Object;
    channel->set("id", m.channelId);
    channel->set("name", m.channelName);
    channel->set("type", m.channelType);
    o->set("channel", channel);
    o->set("label", m.label);
    o->set("created_at", m.createdAt);
    return o;
}

storage::EscalationPolicyStore policies(Call& call) {
    return storage::EscalationPolicyStore(*call.api.services().pool);
}

void sendPolicy(Call& call, const std::string& id, int status) {
    auto policy = policies(call).find(call.tenant(), id);
    if (!policy) throw ApiError(404, "Not Found", "no such escalation policy");
    sendObject(call.ex, status, describe(*policy));
}

// Saves (creates when id is empty) and answers 404, 409 or 422 naming the field, as the save ended.
std::string savePolicy(Call& call, const std::optional<std::string>& id) {
    auto body = parseEscalationPolicy(call.bodyText());
    storage::EscalationPolicySave saved;
    try {
        saved = policies(call).save(call.tenant(), id, body);
    } catch (const services::Conflict& e) {
        throw ApiError(409, "Conflict", e.what(), "name");
    }
    if (!saved.unknownTarget.empty())
        throw ApiError(
            422, "Unprocessable Content",
            "no such channel, user or schedule in the tenant (or a deleted channel, or a disabled user)",
            saved.unknownTarget);
    if (!saved.found) throw ApiError(404, "Not Found", "no such escalation policy");
    return saved.id;
}

// A user's contact methods are theirs to change, and their tenant-admins' (and operator-admins').
const std::string& contactOwner(Call& call, bool changing) {
    const std::string& userId = call.uuidId("user");
    const auto& p = *call.principal;
    bool admin = p.role == "tenant-admin" || p.role == "operator-admin";
    bool self = p.kind == services::Principal::Kind::Session && p.id == userId;
    bool reader = p.isOperator();  // operators read any tenant's (audited as such)
    if (!admin && !self && !(reader && !changing))
        throw ApiError(403, "Forbidden", "only the user and the tenant's administrators manage these");
    return userId;
}

}  // namespace

void addEscalationRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/escalation-policies", "api.escalation_policies.list", Access::Reader,
              [](Call& call) {
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& p : policies(call).list(call.tenant())) items->add(describe(p));
                  call.sendPage(items, std::nullopt);
              });

    api.route(router, "GET", "/api/v1/escalation-policies/{id}", "api.escalation_policies.get",
              Access::Reader, [](Call& call) { sendPolicy(call, call.uuidId("escalation policy"), 200); });

    api.route(router, "POST", "/api/v1/escalation-policies", "api.escalation_policies.create",
              Access::TenantAdmin, [](Call& call) {
                  std::string id = savePolicy(call, std::nullopt);
                  call.audit("escalation_policy.create", id);
                  call.ex.response.set("Location", "/api/v1/escalation-policies/" + id);
                  sendPolicy(call, id, 201);
              });

    api.route(router, "PUT", "/api/v1/escalation-policies/{id}", "api.escalation_policies.replace",
              Access::TenantAdmin, [](Call& call) {
                  std::string id = savePolicy(call, call.uuidId("escalation policy"));
                  call.audit("escalation_policy.update", id);
                  sendPolicy(call, id, 200);
              });

    api.route(router, "DELETE", "/api/v1/escalation-policies/{id}", "api.escalation_policies.delete",
              Access::TenantAdmin, [](Call& call) {
                  const std::string& id = call.uuidId("escalation policy");
                  auto removal = policies(call).remove(call.tenant(), id);
                  if (!removal.found) throw ApiError(404, "Not Found", "no such escalation policy");
                  if (removal.references != 0) {
                      call.audit("escalation_policy.delete", id, "failed", "{\"reason\":\"in use\"}");
                      throw ApiError(409, "Conflict",
                                     "the policy is named by " + std::to_string(removal.references) +
                                         " rule(s): point them elsewhere first");
                  }
                  call.audit("escalation_policy.delete", id);
                  call.sendNoContent();
              });

    api.route(router, "GET", "/api/v1/users/{id}/contact-methods", "api.contact_methods.list", Access::Reader,
              [](Call& call) {
                  const std::string& userId = contactOwner(call, false);
                  auto methods =
                      storage::ContactMethodStore(*call.api.services().pool).list(call.tenant(), userId);
                  if (!methods) throw ApiError(404, "Not Found", "no such user");
                  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
                  for (const auto& m : *methods) items->add(describe(m));
                  call.sendPage(items, std::nullopt);
              });

    api.route(router, "POST", "/api/v1/users/{id}/contact-methods", "api.contact_methods.create",
              Access::Member, [](Call& call) {
                  const std::string& userId = contactOwner(call, true);
                  auto body = parseContactMethod(call.bodyText());
                  storage::ContactMethodStore store(*call.api.services().pool);
                  auto saved = store.create(call.tenant(), userId, body);
                  using R = storage::ContactMethodSave::Result;
                  switch (saved.result) {
                      case R::NoSuchUser:
                          throw ApiError(404, "Not Found", "no such user");
                      case R::NoSuchChannel:
                          throw ApiError(422, "Unprocessable Content", "no such channel", "channel_id");
                      case R::NotAMailChannel:
                          throw ApiError(422, "Unprocessable Content",
                                         "an e-mail contact method goes through an e-mail (smtp) channel",
                                         "channel_id");
                      case R::TooMany:
                          throw ApiError(409, "Conflict",
                                         "a user has at most " +
                                             std::to_string(storage::ContactMethodStore::kMaxPerUser) +
                                             " contact methods");
                      case R::Saved:
                          break;
                  }
                  call.audit("contact_method.create", saved.id, "ok", "{\"user_id\":\"" + userId + "\"}");
                  call.ex.response.set("Location",
                                       "/api/v1/users/" + userId + "/contact-methods/" + saved.id);
                  auto method = store.find(call.tenant(), userId, saved.id);
                  if (!method) throw ApiError(404, "Not Found", "no such contact method");
                  sendObject(call.ex, 201, describe(*method));
              });

    api.route(
        router, "DELETE", "/api/v1/users/{id}/contact-methods/{method}", "api.contact_methods.delete",
        Access::Member, [](Call& call) {
            const std::string& userId = contactOwner(call, true);
            const std::string& id = call.uuidParam("method", "contact method");
            if (!storage::ContactMethodStore(*call.api.services().pool).remove(call.tenant(), userId, id))
                throw ApiError(404, "Not Found", "no such contact method");
            call.audit("contact_method.delete", id, "ok", "{\"user_id\":\"" + userId + "\"}");
            call.sendNoContent();
        });
}

}  // namespace pulse::http
