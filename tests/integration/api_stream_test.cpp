// The console's live stream (GET /api/v1/stream): server-sent events of the principal's tenant only,
// resumable with Last-Event-ID, device status changes, the readings of the devices asked for, and bounded
// per principal.
#include "api_fixture.h"
#include "raw_http.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace pulse::test;

namespace {
class ApiStream : public ApiTest {};

// An open stream over a plain socket: everything it received so far, searched as text (each event is one
// chunk, so chunk sizes never split one).
struct Stream {
    std::unique_ptr<RawConnection> connection;
    std::string received;

    // Waits until `text` has arrived, up to ms; true when it did.
    bool waitFor(const std::string& text, int ms = 5000) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (received.find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() > deadline || connection->closed()) return false;
            received += connection->read(10, 0);  // short looks: many streams are waited for in turn
        }
        return true;
    }
};

Stream openStream(int port, const Session& s, const std::string& query = "", const std::string& extra = "") {
    Stream st{std::make_unique<RawConnection>(port), ""};
    st.connection->send("GET /api/v1/stream" + query +
                        " HTTP/1.1\r\nHost: pulse\r\nAccept: text/event-stream\r\nCookie: " + s.cookie +
                        "\r\n" + extra + "\r\n");
    return st;
}

// The id of the first event of that kind for that alert, from "id: N\nevent: alert\ndata: {...}".
long long eventId(const std::string& received, const std::string& data) {
    auto at = received.find(data);
    if (at == std::string::npos) return 0;
    auto id = received.rfind("id: ", at);
    return std::stoll(received.substr(id + 4, received.find('\n', id) - id - 4));
}
}  // namespace

TEST_F(ApiStream, AlertChangesReachTheTenantsStreamsOnlyAndResumeAfterLastEventId) {
    auto admin = login(a_.admin), other = login(b_.admin);
    auto mine = openStream(port_, admin), theirs = openStream(port_, other);
    ASSERT_TRUE(mine.waitFor("retry: 3000")) << mine.received;
    EXPECT_NE(mine.received.find("HTTP/1.1 200"), std::string::npos) << mine.received;
    EXPECT_NE(mine.received.find("Content-Type: text/event-stream"), std::string::npos);
    EXPECT_NE(mine.received.find("Transfer-Encoding: chunked"), std::string::npos);
    ASSERT_TRUE(theirs.waitFor("retry: 3000")) << theirs.received;

    ASSERT_EQ(call("POST", "/api/v1/alerts/" + a_.alertId + "/acknowledge", "", with(admin)).status, 200);
    std::string acked = "{\"alert_id\":" + a_.alertId + ",\"kind\":\"ACKNOWLEDGED\"}";
    ASSERT_TRUE(mine.waitFor("event: alert\ndata: " + acked)) << mine.received;
    ASSERT_EQ(call("POST", "/api/v1/alerts/" + a_.alertId + "/comments", "{\"text\":\"on it\"}", with(admin))
                  .status,
              201);
    std::string commented = "{\"alert_id\":" + a_.alertId + ",\"kind\":\"COMMENTED\"}";
    ASSERT_TRUE(mine.waitFor(commented)) << mine.received;
    // The other tenant's stream saw neither.
    theirs.waitFor("never sent", 500);
    EXPECT_EQ(theirs.received.find("event: alert"), std::string::npos) << theirs.received;

    // A client that reconnects after the acknowledgement gets what followed it, and only that.
    long long ackId = eventId(mine.received, acked);
    ASSERT_GT(ackId, 0);
    auto resumed = openStream(port_, admin, "", "Last-Event-ID: " + std::to_string(ackId) + "\r\n");
    ASSERT_TRUE(resumed.waitFor(commented)) << resumed.received;
    EXPECT_EQ(resumed.received.find(acked), std::string::npos) << resumed.received;
    // One from before everything kept (a restart: ids start at the time of start-up) is told to reload.
    auto stale = openStream(port_, admin, "?last_event_id=1");
    EXPECT_TRUE(stale.waitFor("event: reset")) << stale.received;
    EXPECT_EQ(stale.received.find(commented), std::string::npos) << stale.received;
}

TEST_F(ApiStream, AStreamCarriesTheReadingsOfTheDevicesItAsksFor) {
    auto admin = login(a_.admin);
    auto created = call("POST", "/api/v1/devices", "{\"name\":\"live-1\"}", with(admin));
    ASSERT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(json(created.body)->getValue<long long>("id"));
    auto watching = openStream(port_, admin, "?devices=" + id), notWatching = openStream(port_, admin);
    ASSERT_TRUE(watching.waitFor("retry: 3000"));
    ASSERT_TRUE(notWatching.waitFor("retry: 3000"));
    ASSERT_EQ(ingest(json(created.body)->getValue<std::string>("token"), "{\"flow\":12.5}"), 200);
    ASSERT_TRUE(watching.waitFor("event: telemetry\ndata: {\"device_id\":" + id + ",\"metric\":\"flow\""))
        << watching.received;
    EXPECT_NE(watching.received.find("\"value\":12.5}"), std::string::npos) << watching.received;
    // Its first reading brings it ONLINE: every stream of the tenant hears of that (status.flush_ms).
    std::string online = "event: device\ndata: {\"device_id\":" + id + ",\"status\":\"ONLINE\"}";
    EXPECT_TRUE(notWatching.waitFor(online)) << notWatching.received;
    EXPECT_EQ(notWatching.received.find("event: telemetry"), std::string::npos);

    auto bad = call("GET", "/api/v1/stream?devices=1,x", "", with(admin, false));
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(json(bad.body)->getValue<std::string>("field"), "devices");
}

TEST_F(ApiStream, APrincipalPastItsStreamsIsRefusedAndAClosedStreamFreesItsPlace) {
    auto customer = login(a_.customer, "198.51.100.77");
    std::vector<Stream> open;
    for (int i = 0; i < 8; ++i) {  // stream.max_per_principal
        open.push_back(openStream(port_, customer));
        ASSERT_TRUE(open.back().waitFor("retry: 3000")) << i << ": " << open.back().received;
    }
    auto refused = call("GET", "/api/v1/stream", "", with(customer, false));
    EXPECT_EQ(refused.status, 429) << refused.body;
    EXPECT_EQ(refused.headers["Retry-After"], "30");
    EXPECT_NE(json(refused.body)->getValue<std::string>("detail").find("8 live streams open already"),
              std::string::npos);
    // The same user's REST calls are not held up by the streams.
    EXPECT_EQ(call("GET", "/api/v1/alerts", "", with(customer, false)).status, 200);

    open.pop_back();  // the client goes away: its place is free once the server notices
    bool admitted = false;
    for (int i = 0; i < 50 && !admitted; ++i) {
        auto again = openStream(port_, customer);
        admitted = again.waitFor("retry: 3000", 200);
    }
    EXPECT_TRUE(admitted);
}

namespace {
double quantile(std::vector<double> ms, double q) {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? 0
                      : ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
}
}  // namespace

// Figures, printed and not asserted (docs/benchmarks.md): an API GET's latency with no stream open and with
// 200 open streams (25 keys, 8 each), measured in turns so that the machine's noise hits both alike.
TEST_F(ApiStream, TwoHundredOpenStreamsHoldNoWorkerAndTheApiAnswersAsBefore) {
    auto admin = login(a_.admin);
    std::string cookie = "Cookie: " + admin.cookie + "\r\n";
    std::vector<std::string> keys;
    for (int i = 0; i < 25; ++i) keys.push_back(newKey(admin, "customer"));
    auto measure = [&](int n) {
        std::vector<double> ms;
        for (int i = 0; i < n; ++i) {
            auto a = timedGet(port_, "/api/v1/alerts?limit=10", cookie);
            EXPECT_EQ(a.status, 200) << a.text;
            ms.push_back(a.elapsedMs);
        }
        return ms;
    };
    std::vector<double> without, withStreams;
    std::vector<Stream> streams;
    for (int turn = 0; turn < 3; ++turn) {
        streams.clear();
        auto w = measure(100);
        without.insert(without.end(), w.begin(), w.end());
        for (const auto& key : keys)
            for (int i = 0; i < 8; ++i) {
                Stream st{std::make_unique<RawConnection>(port_), ""};
                st.connection->send("GET /api/v1/stream HTTP/1.1\r\nHost: pulse\r\nAuthorization: Bearer " +
                                    key + "\r\n\r\n");
                streams.push_back(std::move(st));
            }
        for (auto& st : streams) ASSERT_TRUE(st.waitFor("retry: 3000")) << st.received;
        auto s = measure(100);
        withStreams.insert(withStreams.end(), s.begin(), s.end());
    }
    // The streams still hear what happens.
    ASSERT_EQ(
        call("POST", "/api/v1/alerts/" + a_.alertId + "/comments", "{\"text\":\"200 watching\"}", with(admin))
            .status,
        201);
    for (auto& st : streams) EXPECT_TRUE(st.waitFor("\"kind\":\"COMMENTED\"")) << st.received;
    std::printf(
        "[figures] API GET with 200 open streams: p50 %.2f ms, p99 %.2f ms (none open: p50 %.2f ms, p99 "
        "%.2f ms; p99 ratio %.2f)\n",
        quantile(withStreams, 0.5), quantile(withStreams, 0.99), quantile(without, 0.5),
        quantile(without, 0.99), quantile(withStreams, 0.99) / std::max(quantile(without, 0.99), 0.001));
}
