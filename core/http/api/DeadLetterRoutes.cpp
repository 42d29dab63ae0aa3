// /api/v1/dead-letters: the tenant's notifications that failed for good (a permanent answer, or every attempt
// used), newest first, each with its alert, channel and last answer; and requeue, which sends one again.
#include "http/api/Api.h"
#include "storage/DeadLetterStore.h"
#include "storage/Uuid.h"

#include <Poco/JSON/Array.h>

namespace pulse::http {
namespace {

// A requeued letter gets this many more attempts, with the usual backoff between them.
constexpr int kRequeueAttempts = 3;

Poco::JSON::Object::Ptr describe(const storage::DeadLetterRow& d) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", d.id);
    Poco::JSON::Object::Ptr alert = new Poco::JSON::Object;
    alert->set("id", d.alertId);
    alert->set("severity", d.alertSeverity);
    alert->set("summary", d.alertSummary);
    alert->set("status", d.alertStatus);
    alert->set("device_name", d.deviceName);
    o->set("alert", alert);
    Poco::JSON::Object::Ptr channel = new Poco::JSON::Object;
    channel->set("id", d.channelId);
    channel->set("name", d.channelName);
    channel->set("type", d.channelType);
    channel->set("enabled", d.channelEnabled);
    o->set("channel", channel);
    o->set("event_kind", d.eventKind);
    o->set("attempts", d.attempts);
    o->set("last_status_code",
           d.lastStatusCode ? Poco::Dynamic::Var(*d.lastStatusCode) : Poco::Dynamic::Var());
    o->set("last_error", d.lastError);
    o->set("created_at", d.createdAt);
    o->set("failed_at", d.completedAt);
    return o;
}

}  // namespace

void addDeadLetterRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/dead-letters", "api.dead_letters.list", Access::Reader, [](Call& call) {
        int limit = call.limit();
        auto cursor = call.idQuery("cursor", "cursor is not one this API returned");
        std::string channel = call.query("channel_id");
        if (!channel.empty() && !storage::isUuid(channel))
            throw ApiError(422, "Unprocessable Content", "channel_id must be a channel id", "channel_id");
        auto page =
            storage::DeadLetterStore(*call.api.services().pool)
                .page(call.tenant(), channel.empty() ? std::nullopt : std::optional<std::string>(channel),
                      cursor ? std::stoll(*cursor) : 0, limit);
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& d : page.rows) items->add(describe(d));
        call.sendPage(items, page.more ? std::optional<std::string>(std::to_string(page.rows.back().id))
                                       : std::nullopt);
    });

    api.route(router, "POST", "/api/v1/dead-letters/{id}/requeue", "api.dead_letters.requeue",
              Access::TenantAdmin, [](Call& call) {
                  long long id = call.numericId("dead letter");
                  auto result = storage::DeadLetterStore(*call.api.services().pool)
                                    .requeue(call.tenant(), id, kRequeueAttempts, call.principal->label);
                  switch (result) {
                      case storage::RequeueResult::NotFound:
                          throw ApiError(404, "Not Found", "no such dead letter");
                      case storage::RequeueResult::NotDead:
                          throw ApiError(409, "Conflict",
                                         "the delivery is not dead: it was delivered or is still "
                                         "being attempted");
                      case storage::RequeueResult::ChannelGone:
                          throw ApiError(409, "Conflict", "its channel was deleted");
                      case storage::RequeueResult::ChannelDisabled:
                          throw ApiError(
                              409, "Conflict",
                              "its channel is disabled: save the channel to enable it, then requeue");
                      case storage::RequeueResult::OutOfOrder:
                          throw ApiError(
                              409, "Conflict",
                              "a later notice of the same alert went to this channel after it: sent now, "
                              "it would arrive out of order");
                      case storage::RequeueResult::Requeued:
                          break;
                  }
                  call.audit("dead_letter.requeue", std::to_string(id));
                  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
                  out->set("id", id);
                  out->set("status", "PENDING");
                  out->set("attempts_added", kRequeueAttempts);
                  sendObject(call.ex, 202, out);
              });
}

}  // namespace pulse::http
