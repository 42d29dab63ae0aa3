// The HTTP edge against a real pulsed, as an attacker or a clumsy client would meet it (issue 12):
// thousands of silent, slow and idle connections from one address and from many, header deadlines, the
// connection caps, idle keep-alive reclaimed when the server is full, request framing (RFC 9112 §6.3:
// every response consumes the body or closes; conflicting framing is a 400 and a close), cut-off chunked
// uploads, and metrics labels that no client can multiply.
//
// PULSE_TEST_EDGE_CONNECTIONS sets how many connections the exhaustion cases hold (default 10,000) and
// PULSE_TEST_EDGE_HOLD_S how long they are held while a well-behaved client is measured (default: one
// round of requests); the figures are printed, the test asserts that every request was answered.
#include "raw_http.h"
#include "services/PasswordHasher.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

using namespace pulse::test;
using pulse::storage::PgConnection;

namespace {

using Clock = std::chrono::steady_clock;
const std::string kPassword = "correct horse battery staple";

int envInt(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

std::map<std::string, std::string> with(std::map<std::string, std::string> env,
                                        const std::map<std::string, std::string>& more) {
    env.insert(more.begin(), more.end());
    return env;
}

std::string loopback(int i) {  // 127.0.0.2 .. 127.0.0.250
    return "127.0.0." + std::to_string(2 + i % 249);
}

struct Latencies {
    std::vector<double> ms;
    int failed = 0;
    double quantile(double q) const {
        if (ms.empty()) return 0;
        auto sorted = ms;
        std::sort(sorted.begin(), sorted.end());
        return sorted[std::min(sorted.size() - 1,
                               static_cast<size_t>(q * static_cast<double>(sorted.size())))];
    }
};

class HttpEdge : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        raiseDescriptorLimit();
        PgConnection owner(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(owner, "pulse_app");
        std::string slug = "edge-" + std::to_string(getpid());
        tenantId_ =
            *owner.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text", {slug})
                 .rows[0][0];
        email_ = "admin@" + slug + ".test";
        owner.query(
            "INSERT INTO pulse.users (tenant_id, email, role, password_hash) VALUES ($1::uuid, $2, "
            "'tenant-admin', "
            "$3)",
            {tenantId_, email_, pulse::services::hashPassword(kPassword)});
        dir_ = tempDir("http-edge");
        Poco::File(dir_ + "/plugins.d").createDirectories();
        // The big instance holds thousands of connections; its header deadline is long so that the held
        // ones stay for the measurement (the small instance tests the deadlines).
        Poco::File(dir_ + "/big").createDirectories();
        bigPort_ = freePort();
        // The edge settings go by environment, which a build without them ignores (PULSE_TEST_PULSED). The
        // measuring client makes hundreds of API calls: the API's own rate limits (tested in api_test) are
        // off.
        big_ = new Pulsed(
            writePulseConfig(dir_ + "/big", bigPort_, dir_ + "/plugins.d",
                             "ratelimit.ip_burst = 100000\nratelimit.ip_per_s = 100000\n"
                             "ratelimit.tenant_burst = 100000\nratelimit.tenant_per_s = 100000\n"),
            with(dbEnv(),
                 {{"PULSE_HTTP_HEADER_TIMEOUT_S", "60"}, {"PULSE_HTTP_ADDRESS_REQUESTS_PER_S", "0"}}));
        Poco::File(dir_ + "/small").createDirectories();
        smallPort_ = freePort();
        small_ = new Pulsed(writePulseConfig(dir_ + "/small", smallPort_, dir_ + "/plugins.d",
                                             "http.keep_alive_timeout_s = 60\nratelimit.ip_burst = 100000\n"),
                            with(dbEnv(), {{"PULSE_HTTP_HEADER_TIMEOUT_S", "2"},
                                           {"PULSE_HTTP_MAX_CONNECTIONS", "24"},
                                           {"PULSE_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "8"},
                                           {"PULSE_HTTP_ADDRESS_REQUESTS_PER_S", "5"},
                                           {"PULSE_HTTP_ADDRESS_BURST", "30"}}));
        // A session for the authenticated requests.
        auto r = httpSend(bigPort_, "POST", "/api/v1/session",
                          "{\"email\":\"" + email_ + "\",\"password\":\"" + kPassword + "\"}",
                          {{"Content-Type", "application/json"}});
        ASSERT_EQ(r.status, 201) << r.body;
        cookie_ = r.headers["Set-Cookie"].substr(0, r.headers["Set-Cookie"].find(';'));
        auto pos = r.body.find("\"csrf_token\":\"");
        ASSERT_NE(pos, std::string::npos);
        csrf_ = r.body.substr(pos + 14, r.body.find('"', pos + 14) - pos - 14);
    }
    static void TearDownTestSuite() {
        delete big_;
        delete small_;
        big_ = small_ = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(big_ && big_->started());
        ASSERT_TRUE(small_ && small_->started());
    }

    // The well-behaved client: /health/ready and an authenticated API GET, alternately, each on a new
    // connection from 127.0.0.1, for `rounds` requests or `holdS` seconds, whichever is longer.
    static Latencies measure(int rounds, int holdS) {
        Latencies l;
        auto until = Clock::now() + std::chrono::seconds(holdS);
        for (int i = 0; i < rounds || Clock::now() < until; ++i) {
            auto a = i % 2 == 0 ? timedGet(bigPort_, "/health/ready")
                                : timedGet(bigPort_, "/api/v1/devices", "Cookie: " + cookie_ + "\r\n");
            if (a.status != 200) {
                ++l.failed;
                if (l.failed <= 3)
                    ADD_FAILURE() << "request " << i << " answered " << a.status << ": " << a.text;
            }
            l.ms.push_back(a.elapsedMs);
        }
        return l;
    }
    static void report(const char* what, const Latencies& base, const Latencies& under) {
        std::printf(
            "[figures] %s: %zu requests, p50 %.2f ms, p99 %.2f ms (no attack: p50 %.2f ms, p99 %.2f ms; "
            "p99 ratio %.2f)\n",
            what, under.ms.size(), under.quantile(0.5), under.quantile(0.99), base.quantile(0.5),
            base.quantile(0.99), under.quantile(0.99) / std::max(base.quantile(0.99), 0.001));
    }
    // Waits (up to 10 s) until the instance reports at most `n` open connections besides the asking one.
    static void waitForConnectionsAtMost(int port, int n) {
        for (int i = 0; i < 100; ++i) {
            auto text = httpGet(port, "/metrics").body;
            auto pos = text.find("\npulse_http_connections ");
            if (pos != std::string::npos && std::atof(text.c_str() + pos + 24) <= n + 1) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ADD_FAILURE() << "the server still holds more than " << n << " connections";
    }
    static std::string request(const std::string& method, const std::string& path,
                               const std::string& extra = "") {
        return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
    }

    static inline Pulsed* big_ = nullptr;
    static inline Pulsed* small_ = nullptr;
    static inline int bigPort_ = 0, smallPort_ = 0;
    static inline std::string dir_, tenantId_, email_, cookie_, csrf_;
};

TEST_F(HttpEdge, TenThousandSilentSlowAndIdleConnectionsFromManyAddressesDoNotStopServing) {
    int n = envInt("PULSE_TEST_EDGE_CONNECTIONS", 10000);
    auto base = measure(200, 0);
    std::vector<RawConnection> held;
    held.reserve(static_cast<size_t>(n));
    std::vector<size_t> slow;
    for (int i = 0; i < n; ++i) {
        RawConnection c(bigPort_, loopback(i));
        ASSERT_TRUE(c.connected()) << "connection " << i;
        if (i % 3 == 1) {  // a header sent one line at a time
            c.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            slow.push_back(held.size());
        } else if (i % 3 == 2) {  // idle after a request, keep-alive
            c.send(request("GET", "/health/live"));
        }
        held.push_back(std::move(c));
    }
    std::atomic<bool> done{false};
    std::thread dribble([&] {  // one more header line per slow connection every second
        while (!done) {
            for (size_t i : slow) held[i].send("X-Slow: 1\r\n");
            for (int k = 0; k < 10 && !done; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    auto under = measure(200, envInt("PULSE_TEST_EDGE_HOLD_S", 0));
    done = true;
    dribble.join();
    report("10,000 held connections from 249 addresses", base, under);
    EXPECT_EQ(under.failed, 0);
    int idleAnswered = 0;
    for (int i = 2; i < n; i += 3) idleAnswered += statusOf(held[static_cast<size_t>(i)].read(1000)) == 200;
    EXPECT_EQ(idleAnswered, n / 3) << "the keep-alive clients were served";
    int stillOpen = 0;
    for (auto& c : held) stillOpen += c.closesWithin(0) ? 0 : 1;
    EXPECT_GT(stillOpen, n * 9 / 10) << "the held connections were accepted, not refused";
}

TEST_F(HttpEdge, OneAddressIsCappedAndEveryConnectionOverTheCapIsAnsweredAtOnce) {
    int n = envInt("PULSE_TEST_EDGE_CONNECTIONS", 10000);
    waitForConnectionsAtMost(bigPort_, 5);  // the previous case's connections are gone
    auto base = measure(200, 0);
    std::vector<RawConnection> held;
    held.reserve(static_cast<size_t>(n));
    int refused = 0, slowRefusals = 0;
    for (int i = 0; i < n; ++i) {
        RawConnection c(bigPort_, "127.0.0.2");
        ASSERT_TRUE(c.connected()) << "connection " << i;
        if (i >= 256) {  // over the default cap: a 429 at once, then the server closes
            auto started = Clock::now();
            auto text = c.read(1000);
            refused += statusOf(text) == 429 && text.find("Retry-After: 1") != std::string::npos;
            slowRefusals += Clock::now() - started > std::chrono::milliseconds(500);
            if (slowRefusals == 3) break;  // no cap answers: the rest would only wait as long
            continue;
        }
        held.push_back(std::move(c));
    }
    EXPECT_EQ(slowRefusals, 0);
    EXPECT_EQ(refused, n - 256);
    auto under = measure(200, envInt("PULSE_TEST_EDGE_HOLD_S", 0));
    report("10,000 connections from one address", base, under);
    EXPECT_EQ(under.failed, 0);
}

TEST_F(HttpEdge, AHeaderMustArriveWithinItsDeadline) {
    auto started = Clock::now();
    RawConnection silent(smallPort_, "127.0.0.3");
    RawConnection dribbling(smallPort_, "127.0.0.4");
    dribbling.send("GET /health/live HTTP/1.1\r\n");
    std::string answer;
    for (int i = 0; i < 8 && !dribbling.closed(); ++i) {
        dribbling.send("X-Line: " + std::to_string(i) + "\r\n");
        answer += dribbling.read(500, 1);
    }
    EXPECT_EQ(statusOf(answer), 408) << answer;
    EXPECT_TRUE(dribbling.closesWithin(3000));
    auto toSilent = silent.read(3000, 0);
    EXPECT_TRUE(silent.closed()) << "a silent connection outlived the header deadline";
    EXPECT_EQ(toSilent, "") << "a client that sent nothing gets nothing";
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(8)) << "the 2 s deadline was not applied";
}

TEST_F(HttpEdge, AFullServerReclaimsIdleKeepAliveConnectionsAndOtherwiseAnswers503) {
    // 24 connections fill the small instance (8 per address): keep-alive ones that made a request.
    std::vector<RawConnection> idle;
    for (int i = 0; i < 24; ++i) {
        RawConnection c(smallPort_, "127.0.0." + std::to_string(10 + i / 8));
        c.send(request("GET", "/health/live"));
        ASSERT_EQ(statusOf(c.read(3000)), 200);
        idle.push_back(std::move(c));
    }
    // A new client is served: the connection idle longest made room.
    RawConnection fresh(smallPort_, "127.0.0.20");
    fresh.send(request("GET", "/health/live"));
    EXPECT_EQ(statusOf(fresh.read(3000)), 200);
    EXPECT_TRUE(idle.front().closesWithin(2000)) << "the oldest idle connection was closed";
    idle.clear();
    fresh.shutdownWrite();
    // When nothing is idle (every connection is mid-header), a new one gets a 503 at once.
    waitForConnectionsAtMost(smallPort_, 2);
    std::vector<RawConnection> busy;
    for (int i = 0; i < 24; ++i) {
        RawConnection c(smallPort_, "127.0.0." + std::to_string(30 + i / 8));
        c.send("GET /health/live HTTP/1.1\r\n");
        busy.push_back(std::move(c));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    RawConnection over(smallPort_, "127.0.0.40");
    auto text = over.read(1000);
    EXPECT_EQ(statusOf(text), 503) << text;
}

TEST_F(HttpEdge, EveryRouteCountsAgainstItsAddressesRequestRate) {
    // The small instance allows 30 requests at once per address, then 5 a second: /health and static
    // files count like everything else.
    int ok = 0, limited = 0;
    std::string refusal;
    for (int i = 0; i < 45; ++i) {
        RawConnection c(smallPort_, "127.0.0.50");
        c.send(request("GET", i % 2 ? "/health/live" : "/index.html"));
        auto text = c.read(2000);
        int status = statusOf(text);
        if (status == 429) {
            ++limited;
            refusal = text;
        } else if (status == 200 || status == 404) {
            ++ok;
        }
    }
    EXPECT_GE(ok, 30);
    EXPECT_LE(ok, 35);
    EXPECT_GT(limited, 0);
    EXPECT_NE(refusal.find("Retry-After: 1"), std::string::npos) << refusal;
    // Another address is not affected.
    RawConnection other(smallPort_, "127.0.0.51");
    other.send(request("GET", "/health/live"));
    EXPECT_EQ(statusOf(other.read(2000)), 200);
}

TEST_F(HttpEdge, ConflictingOrInvalidFramingIsA400AndAClose) {
    struct Case {
        const char* what;
        std::string bytes;
        int status;
        bool closes = true;  // framing errors close; a well-framed request with a bad target does not
    };
    std::vector<Case> cases = {
        {"two different Content-Length",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
         400},
        {"two equal Content-Length",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
        {"negative Content-Length", "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
         400},
        {"Content-Length list", "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\nx",
         400},
        {"space before the colon",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
        {"Transfer-Encoding with Content-Length",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
         "chunked\r\n\r\n0\r\n\r\n",
         400},
        {"Transfer-Encoding not ending in chunked",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
        {"an unsupported coding before chunked",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
        {"Transfer-Encoding in HTTP/1.0",
         "POST /health/live HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"bare LF", "GET /health/live HTTP/1.1\nHost: x\n\n", 400},
        {"obs-fold", "GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
        {"NUL in a header", std::string("GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 44),
         400},
        {"no Host in HTTP/1.1", "GET /health/live HTTP/1.1\r\n\r\n", 400},
        {"two Hosts", "GET /health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"HTTP/2.0 on an HTTP/1 connection", "GET /health/live HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"HTTP/1.2", "GET /health/live HTTP/1.2\r\nHost: x\r\n\r\n", 505},
        {"an unknown expectation",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", 417},
        {"a bad chunk size",
         "POST /health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"a NUL in the path", "GET /index.html%00.js HTTP/1.1\r\nHost: x\r\n\r\n", 400, false},
    };
    for (const auto& c : cases) {
        RawConnection conn(bigPort_, "127.0.0.5");
        conn.send(c.bytes);
        auto text = conn.read(3000);
        EXPECT_EQ(statusOf(text), c.status) << c.what << ": " << text;
        EXPECT_NE(text.find("application/problem+json"), std::string::npos) << c.what;
        if (c.closes) {
            EXPECT_TRUE(conn.closesWithin(3000)) << c.what << ": the connection stayed open";
        }
    }
}

TEST_F(HttpEdge, AnUnreadBodyIsNeverTakenAsTheNextRequest) {
    std::string smuggled = request("GET", "/health/ready");
    std::string length = "Content-Length: " + std::to_string(smuggled.size()) + "\r\n";
    // A GET route, a 401 (no credentials), a static file and a 404: none reads the body.
    for (const std::string& head :
         {request("GET", "/health/live", length), request("POST", "/api/v1/devices", length),
          request("GET", "/index.html", length), request("GET", "/nowhere", length)}) {
        RawConnection conn(bigPort_, "127.0.0.6");
        conn.send(head + smuggled);
        auto text = conn.read(1500, 2);
        EXPECT_EQ(countResponses(text), 1) << head << "answered:\n" << text;
        // The body was consumed: the same connection serves a real next request.
        if (!conn.closed()) {
            conn.send(request("GET", "/health/live"));
            EXPECT_EQ(statusOf(conn.read(2000)), 200) << head;
        }
    }
}

TEST_F(HttpEdge, ACutOffChunkedUploadIsA400AndAppliesNothing) {
    std::string head = "POST /api/v1/devices/import HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie_ +
                       "\r\nX-CSRF-Token: " + csrf_ +
                       "\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string lines = "name\ncut-1\ncut-2\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", lines.size());
    for (const std::string& tail : {std::string(size) + lines + "\r\n",  // no last chunk
                                    std::string("40\r\n") + lines}) {    // a chunk shorter than announced
        RawConnection conn(bigPort_, "127.0.0.7");
        conn.send(head + tail);
        conn.shutdownWrite();
        auto text = conn.read(3000);
        EXPECT_EQ(statusOf(text), 400) << text;
    }
    PgConnection owner(ownerUri());
    EXPECT_EQ(
        *owner
             .query(
                 "SELECT count(*)::text FROM pulse.devices WHERE tenant_id = $1::uuid AND name LIKE 'cut-%'",
                 {tenantId_})
             .rows[0][0],
        "0");
    // The same upload whole imports both devices.
    RawConnection conn(bigPort_, "127.0.0.7");
    conn.send(head + size + lines + "\r\n0\r\n\r\n");
    auto text = conn.read(5000);
    EXPECT_EQ(statusOf(text), 201) << text;
}

TEST_F(HttpEdge, ExpectContinueIsAnsweredBeforeTheBody) {
    RawConnection conn(bigPort_, "127.0.0.8");
    std::string body = "{\"email\":\"" + email_ + "\",\"password\":\"wrong\"}";
    conn.send(
        "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    auto interim = conn.read(2000);
    EXPECT_EQ(statusOf(interim), 100) << interim;
    conn.send(body);
    EXPECT_EQ(statusOf(conn.read(5000)), 401);
}

TEST_F(HttpEdge, OddMethodsAndPathsAddNoMetricSeries) {
    int sent = 0;
    for (int batch = 0; batch < 20; ++batch) {
        RawConnection conn(bigPort_, "127.0.0.9");
        std::string pipelined;
        for (int i = 0; i < 500; ++i, ++sent)
            pipelined += request("Q" + std::to_string(sent), "/x" + std::to_string(sent));
        conn.send(pipelined);
        EXPECT_EQ(countResponses(conn.read(20000, 500)), 500);
    }
    auto metrics = httpGet(bigPort_, "/metrics");
    int series = 0;
    for (size_t pos = metrics.body.find("\npulse_http_requests_total{"); pos != std::string::npos;
         pos = metrics.body.find("\npulse_http_requests_total{", pos + 1))
        ++series;
    EXPECT_LT(series, 100) << "10,000 odd requests made " << series << " series";
    EXPECT_EQ(metrics.body.find("Q12"), std::string::npos);
}

}  // namespace
