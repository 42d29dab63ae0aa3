// /api/v1/stream: the console's live updates as server-sent events, for the principal's tenant: alert and
// device changes (what changed; the console reads it through the API, under row-level security) and the
// readings of the devices on screen (?devices=1,2,3). Resumable with Last-Event-ID; bounded per principal
// and in total (429 past either). The stream is held by the HTTP server's I/O thread, not a worker.
#include "http/BufferedExchange.h"
#include "http/api/Api.h"
#include "services/LiveEvents.h"

#include <Poco/NumberParser.h>
#include <Poco/StringTokenizer.h>

namespace pulse::http {
namespace {

constexpr size_t kMaxWatchedDevices = 100;

std::set<long long> watchedDevices(const std::string& list) {
    std::set<long long> devices;
    Poco::StringTokenizer parts(list, ",",
                                Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    for (const auto& part : parts) {
        Poco::Int64 id = 0;
        if (!Poco::NumberParser::tryParse64(part, id) || id < 1)
            throw ApiError(422, "Unprocessable Content", "devices must be device ids separated by commas",
                           "devices");
        devices.insert(id);
    }
    if (devices.size() > kMaxWatchedDevices)
        throw ApiError(422, "Unprocessable Content",
                       "at most " + std::to_string(kMaxWatchedDevices) + " devices per stream", "devices");
    return devices;
}

// Last-Event-ID (what EventSource sends when it reconnects), or last_event_id= for a client that
// reconnects itself.
std::optional<long long> lastEventId(Call& call) {
    std::string text = call.ex.request.get("Last-Event-ID", call.query("last_event_id"));
    if (text.empty()) return std::nullopt;
    Poco::Int64 id = 0;
    if (!Poco::NumberParser::tryParse64(text, id) || id < 0)
        throw ApiError(422, "Unprocessable Content", "Last-Event-ID is not one this stream sent",
                       "last_event_id");
    return id;
}

}  // namespace

void addStreamRoutes(Router& router, Api& api) {
    api.route(router, "GET", "/api/v1/stream", "api.stream", Access::Reader, [](Call& call) {
        auto* live = call.api.services().live;
        if (!live) throw ApiError(503, "Service Unavailable", "live updates are not running");
        services::LiveSubscription subscription{call.tenant(), call.principal->id,
                                                watchedDevices(call.query("devices")), nullptr};
        auto resume = lastEventId(call);
        switch (live->admission(subscription.principalId)) {
            case services::LiveEvents::Admission::PrincipalFull:
                call.ex.response.set("Retry-After", "30");
                throw ApiError(429, "Too Many Requests",
                               "this user has " + std::to_string(live->limits().perPrincipal) +
                                   " live streams open already; close one (another tab or screen)");
            case services::LiveEvents::Admission::ServerFull:
                call.ex.response.set("Retry-After", "30");
                throw ApiError(429, "Too Many Requests", "the server has as many live streams as it allows");
            case services::LiveEvents::Admission::Admitted:
                break;
        }
        auto* response = dynamic_cast<BufferedResponse*>(&call.ex.response);
        if (!response) throw ApiError(503, "Service Unavailable", "this server cannot hold a stream");
        response->startStream([live, subscription = std::move(subscription),
                               resume](std::shared_ptr<services::EventSink> sink) mutable {
            subscription.sink = sink;
            // "retry" tells EventSource how long to wait before it reconnects by itself.
            sink->send("retry: 3000\n\n");
            if (live->subscribe(std::move(subscription), resume) != services::LiveEvents::Admission::Admitted)
                sink->close();  // another stream took the last place meanwhile
        });
    });
}

}  // namespace pulse::http
