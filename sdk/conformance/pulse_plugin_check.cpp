// pulse-plugin-check: the conformance runner plugin authors run before shipping.
//
//   pulse-plugin-check [--config kind/type=JSON]... [--params kind/type=JSON]... [--success-status N]
//                      [--allow-skips] plugin.so
//
// Loads the library exactly as pulsed does (same loader, same descriptor checks), then for every component:
// validates the config (the --config given for it, or the schema's first "examples" entry, or {}) against the
// component's schema, creates two instances, starts and stops them, and calls the kind's operations with
// fixtures: 60 samples and a tick for rules, health() for ingest channels, a report run, an action.
//
// Senders are checked against the runner's own HTTP receiver on 127.0.0.1 (an ephemeral port), never
// against the outside world: every config property whose schema says "format": "uri" (given in the config,
// or only as the schema's default) is pointed at the receiver (same path and query, http://127.0.0.1:PORT),
// and a "timeout_ms" property is set to 1000 so that a slow answer is quick to provoke. The instances'
// http_send goes through an egress guard that allows 127.0.0.1/32 and through a check that lets only the
// receiver be dialled: anything else is refused with PULSE_ERR_DENIED and reported as a failure. The
// receiver then answers each delivery (fresh idempotency key, a realistic alert notice, attempt 1, deadline
// 10 s ahead) with one scripted answer class and the runner checks the plugin's mapping:
//   2xx (200 "ok", or --success-status)      -> PULSE_OK
//   429 with Retry-After: 7                  -> PULSE_RETRY with retry_after_ms >= 6000
//   503, then the same key again (attempt 2) -> PULSE_RETRY, then PULSE_OK
//   400 with a body, 410                     -> a negative (permanent) code; status_code 410 for the 410
//   connection reset without an answer       -> PULSE_RETRY
//   no answer within timeout_ms (or, for a config without one, a deadline 1.5 s ahead) -> PULSE_RETRY
//   acknowledged and closed notices, 2xx     -> PULSE_OK
// A sender that answers PULSE_DEFER (it paces itself) is called again with the same key after its
// retry_after_ms (at most 5 s per wait), as the host does. The second instance gets one 2xx delivery, and a
// concurrent sender four at once. A sender without a "format": "uri" property is expected to make no HTTP
// call at all; the hosts it resolves to dial itself (egress_resolve, ABI 1.3: SMTP, SNMP, MQTT) are all
// refused with PULSE_ERR_DENIED, never dialled, and the sender must answer that with a permanent code.
//
// Prints one line per check (PASS, FAIL or SKIP) and "N passed, M failed, K skipped". Exits 1 when a check
// failed or was skipped (a skip is allowed with --allow-skips), 2 for a usage error, 0 otherwise. A --config
// that does not match the component's schema is a failure.
#include "json/JsonSchema.h"
#include "json/JsonText.h"
#include "logging/Logging.h"
#include "net/EgressGuard.h"
#include "net/OutboundHttp.h"
#include "plugins/HostApi.h"
#include "plugins/PluginInstance.h"
#include "plugins/PluginLibrary.h"

#include <pulse/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/dll/library_info.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

using namespace pulse;

namespace {

const char* kUsage =
    "usage: pulse-plugin-check [--config kind/type=JSON]... [--params kind/type=JSON]...\n"
    "                          [--success-status N] [--allow-skips] plugin.so\n"
    "  --config kind/type=JSON  the instance config of a component (default: its schema's first example)\n"
    "  --params kind/type=JSON  the run parameters of a report or action (default: the params schema's "
    "example)\n"
    "  --success-status N       the 2xx status the test receiver answers a successful delivery with (200)\n"
    "  --allow-skips            exit 0 even when checks were skipped\n"
    "Senders are pointed at a receiver on 127.0.0.1 (their \"format\": \"uri\" properties are rewritten) "
    "and\n"
    "may dial nothing else. Exit status: 0 all passed, 1 a check failed or was skipped, 2 usage error.\n";

std::atomic<int> g_passed{0}, g_failed{0}, g_skipped{0};
std::mutex g_printMutex;  // concurrent components are exercised from several threads

void check(bool ok, const std::string& what, const std::string& detail = "") {
    std::lock_guard lock(g_printMutex);
    (ok ? g_passed : g_failed)++;
    std::cout << (ok ? "  PASS " : "  FAIL ") << what << (detail.empty() ? "" : ": " + detail) << "\n";
}

void skip(const std::string& what, const std::string& why) {
    std::lock_guard lock(g_printMutex);
    g_skipped++;
    std::cout << "  SKIP " << what << ": " << why << "\n";
}

void info(const std::string& text) {
    std::lock_guard lock(g_printMutex);
    std::cout << "  INFO " << text << "\n";
}

int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::string> firstExample(const json::JsonSchema& schema) {
    auto examples = json::lookupPointer(schema.document(), "/examples/0");
    if (!examples) return std::nullopt;
    return json::toJsonText(*examples);
}

// Every code plugin.h defines: PULSE_ERR_DENIED (-7) through PULSE_PENDING (3).
bool knownCode(pulse_result rc) {
    return rc >= PULSE_ERR_DENIED && rc <= PULSE_PENDING;
}

std::string codeName(pulse_result rc) {
    switch (rc) {
        case PULSE_OK:
            return "OK";
        case PULSE_RETRY:
            return "RETRY";
        case PULSE_DEFER:
            return "DEFER";
        case PULSE_PENDING:
            return "PENDING";
        case PULSE_ERR_GENERIC:
            return "ERR_GENERIC";
        case PULSE_ERR_INVALID:
            return "ERR_INVALID";
        case PULSE_ERR_CONFIG:
            return "ERR_CONFIG";
        case PULSE_ERR_UNSUPPORTED:
            return "ERR_UNSUPPORTED";
        case PULSE_ERR_UNAVAILABLE:
            return "ERR_UNAVAILABLE";
        case PULSE_ERR_INTERNAL:
            return "ERR_INTERNAL";
        case PULSE_ERR_DENIED:
            return "ERR_DENIED";
        default:
            return "undefined code " + std::to_string(rc);
    }
}

struct Collected {
    std::string bytes;
    static pulse_result write(void* ctx, const void* data, size_t len) {
        static_cast<Collected*>(ctx)->bytes.append(static_cast<const char*>(data), len);
        return PULSE_OK;
    }
    pulse_writer writer() { return pulse_writer{sizeof(pulse_writer), this, &Collected::write}; }
};

pulse_sample sample(const char* metric, double value, int64_t ts) {
    pulse_sample s{};
    s.struct_size = sizeof s;
    s.tenant = {"conformance", 11};
    s.device = {"device-1", 8};
    s.metric = {metric, std::char_traits<char>::length(metric)};
    s.value = value;
    s.value_type = PULSE_VALUE_NUMBER;
    s.ts_ms = ts;
    return s;
}

// ---- the test receiver ------------------------------------------------------------------------------

// What the receiver does with the next requests.
struct Answer {
    enum class Mode { Respond, Reset, Slow } mode = Mode::Respond;
    int status = 200;
    std::string body = "ok";
    std::vector<std::pair<std::string, std::string>> headers;
    int64_t delayMs = 0;  // Slow: how long to keep quiet before answering 200
};

struct Received {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 410:
            return "Gone";
        case 429:
            return "Too Many Requests";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A minimal HTTP/1.1 server on 127.0.0.1 (ephemeral port), one thread per connection, one request per
// connection (the host's client never keeps connections alive). It answers as scripted with script().
class Receiver {
  public:
    Receiver() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0) {
            std::string why = std::strerror(errno);
            ::close(fd_);
            throw std::runtime_error("cannot listen on 127.0.0.1: " + why);
        }
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        acceptor_ = std::thread([this] { acceptLoop(); });
    }
    ~Receiver() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        acceptor_.join();
        for (auto& t : workers_) t.join();  // the acceptor has ended: nobody adds to workers_ any more
        ::close(fd_);
    }
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    uint16_t port() const { return port_; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

    void script(Answer answer) {
        std::lock_guard lock(mutex_);
        answer_ = std::move(answer);
    }
    // The requests received since the last call.
    std::vector<Received> take() {
        std::lock_guard lock(mutex_);
        std::vector<Received> out;
        out.swap(received_);
        return out;
    }

  private:
    void acceptLoop() {
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            std::lock_guard lock(mutex_);
            workers_.emplace_back([this, c] { serve(c); });
        }
    }

    static void sendAll(int c, const std::string& data) {
        size_t off = 0;
        while (off < data.size()) {
            ssize_t n = ::send(c, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return;
            off += static_cast<size_t>(n);
        }
    }

    void serve(int c) {
        timeval tv{5, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string data;
        char buf[8192];
        size_t headerEnd = std::string::npos;
        while ((headerEnd = data.find("\r\n\r\n")) == std::string::npos && data.size() < (1u << 20)) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            data.append(buf, static_cast<size_t>(n));
        }
        if (headerEnd == std::string::npos) {
            ::close(c);
            return;
        }
        Received r;
        std::string head = data.substr(0, headerEnd);
        std::string body = data.substr(headerEnd + 4);
        size_t lineEnd = head.find("\r\n");
        std::string requestLine = head.substr(0, lineEnd);
        size_t sp1 = requestLine.find(' '), sp2 = requestLine.rfind(' ');
        r.method = requestLine.substr(0, sp1);
        if (sp1 != std::string::npos && sp2 > sp1) r.target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
        size_t contentLength = 0;
        for (size_t at = lineEnd; at != std::string::npos && at < head.size();) {
            size_t start = at + 2;
            size_t end = head.find("\r\n", start);
            std::string line = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
            at = end;
            size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            if (lower(name) == "content-length") contentLength = std::strtoul(value.c_str(), nullptr, 10);
            r.headers.emplace_back(name, value);
        }
        while (body.size() < contentLength && body.size() < (16u << 20)) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            body.append(buf, static_cast<size_t>(n));
        }
        r.body = std::move(body);
        Answer a;
        {
            std::lock_guard lock(mutex_);
            received_.push_back(std::move(r));
            a = answer_;
        }
        if (a.mode == Answer::Mode::Reset) {
            linger l{1, 0};  // close with RST, no answer
            ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            ::close(c);
            return;
        }
        if (a.mode == Answer::Mode::Slow) {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::milliseconds(a.delayMs), [this] { return stopping_; });
        }
        std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) + "\r\n";
        out += "Content-Type: text/plain; charset=utf-8\r\n";
        out += "Content-Length: " + std::to_string(a.body.size()) + "\r\nConnection: close\r\n";
        for (const auto& [name, value] : a.headers) out += name + ": " + value + "\r\n";
        out += "\r\n" + a.body;
        sendAll(c, out);
        ::shutdown(c, SHUT_WR);
        timeval shortWait{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &shortWait, sizeof shortWait);
        while (::recv(c, buf, sizeof buf, 0) > 0) {
        }
        ::close(c);
    }

    int fd_ = -1;
    uint16_t port_ = 0;
    std::thread acceptor_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    Answer answer_;
    std::vector<Received> received_;
    std::vector<std::thread> workers_;
};

// ---- http_send as the runner lets plugins use it ----------------------------------------------------

// Every http_send of the instances under test: only the receiver may be dialled. The host's own guard
// (127.0.0.1/32 allowed) still applies to what passes; it alone would let public addresses through.
struct Dial {
    std::string url;
    bool toReceiver = false;
};
std::mutex g_dialMutex;
std::vector<Dial> g_dials;
std::string g_receiverBase;  // "http://127.0.0.1:PORT", empty while no receiver runs
decltype(pulse_component::create) g_realCreate = nullptr;

bool atReceiver(const std::string& url) {
    std::lock_guard lock(g_dialMutex);
    if (g_receiverBase.empty() || url.compare(0, g_receiverBase.size(), g_receiverBase) != 0) return false;
    return url.size() == g_receiverBase.size() || url[g_receiverBase.size()] == '/' ||
           url[g_receiverBase.size()] == '?';
}

void writeError(pulse_http_reply* reply, const std::string& text) {
    if (!reply->error || reply->error_cap == 0) return;
    size_t n = std::min(text.size(), reply->error_cap - 1);
    std::memcpy(reply->error, text.data(), n);
    reply->error[n] = '\0';
}

pulse_result checkedHttpSend(pulse_host* h, const pulse_http_call* call, pulse_http_reply* reply) noexcept {
    try {
        std::string url = call && call->url.data ? std::string(call->url.data, call->url.len) : "";
        bool ours = atReceiver(url);
        {
            std::lock_guard lock(g_dialMutex);
            g_dials.push_back(Dial{url, ours});
        }
        if (!ours && call && reply && reply->struct_size >= sizeof(pulse_http_reply)) {
            reply->status = 0;
            reply->retry_after_ms = -1;
            reply->body_len = 0;
            if (reply->body && reply->body_cap) reply->body[0] = '\0';
            writeError(reply,
                       "pulse-plugin-check: only the URL in the config (the runner's receiver) may be "
                       "dialled, not " +
                           url);
            return PULSE_ERR_DENIED;
        }
        return plugins::hostApi()->http_send(h, call, reply);
    } catch (...) {
        return PULSE_ERR_INTERNAL;
    }
}

// egress_resolve (ABI 1.3) of the instances under test: the hosts of senders that dial SMTP, SNMP or MQTT
// themselves are refused, so that a schema's example host is never dialled; the sender must map the refusal
// to a permanent outcome.
std::atomic<int> g_resolves{0};

pulse_result checkedEgressResolve(pulse_host*, const char* name, char* address, size_t addressCap,
                                  char* error, size_t errorCap) noexcept {
    ++g_resolves;
    if (!name || !address || addressCap < PULSE_ADDRESS_CAP) return PULSE_ERR_INVALID;
    address[0] = '\0';
    if (error && errorCap) {
        std::string text =
            std::string("pulse-plugin-check: hosts outside HTTP are not dialled (") + name + ")";
        size_t n = std::min(text.size(), errorCap - 1);
        std::memcpy(error, text.data(), n);
        error[n] = '\0';
    }
    return PULSE_ERR_DENIED;
}

const pulse_host_api* checkedApi() {
    static const pulse_host_api api = [] {
        pulse_host_api a = *plugins::hostApi();
        a.http_send = &checkedHttpSend;
        a.egress_resolve = &checkedEgressResolve;
        return a;
    }();
    return &api;
}

pulse_result checkedCreate(const pulse_host_api*, pulse_host* host, const char* config, size_t len,
                           void** instance, char* err, size_t cap) {
    return g_realCreate(checkedApi(), host, config, len, instance, err, cap);
}

std::vector<Dial> takeDials() {
    std::lock_guard lock(g_dialMutex);
    std::vector<Dial> out;
    out.swap(g_dials);
    return out;
}

// ---- sender configs ---------------------------------------------------------------------------------

// http://127.0.0.1:PORT with the URL's path and query.
std::string toReceiver(const std::string& url, const std::string& base) {
    size_t authority = url.find("://");
    size_t start = url.find_first_of("/?#", authority == std::string::npos ? 0 : authority + 3);
    std::string rest = start == std::string::npos ? "/" : url.substr(start);
    rest = rest.substr(0, rest.find('#'));
    if (rest.empty() || rest[0] != '/') rest = "/" + rest;
    return base + rest;
}

struct Rewrite {
    std::string base;
    std::vector<std::string> rewritten;  // "/url = http://127.0.0.1:PORT/..." per URL property rewritten
    int64_t timeoutMs = -1;              // what /timeout_ms was set to; -1 when the schema has none
};

bool isUri(const json::Value* schema) {
    return schema && schema->string("/format") == "uri";
}

// Writes v with every "format": "uri" string pointed at the receiver, the schema's URI defaults added
// (pointed at it too) where v leaves them out, and, at the top, timeout_ms set when the schema has one.
void writeRewritten(json::Writer& w, const json::Value& v, const json::Value* schema, const std::string& at,
                    Rewrite& rw) {
    if (isUri(schema) && v.is_string()) {
        std::string url = toReceiver(v.as_string(), rw.base);
        w.value(url);
        rw.rewritten.push_back(at + " = " + url);
        return;
    }
    if (v.is_array()) {
        const json::Value* items = schema ? schema->find("/items") : nullptr;
        w.beginArray();
        for (size_t i = 0; i < v.size(); ++i)
            writeRewritten(w, v.item(i), items, at + "/" + std::to_string(i), rw);
        w.endArray();
        return;
    }
    if (!v.is_object()) {
        json::write(w, v);
        return;
    }
    const json::Value* props = schema ? schema->member("properties") : nullptr;
    bool top = at.empty();
    w.beginObject();
    for (const auto& [name, member] : v.members()) {
        if (top && name == "timeout_ms" && rw.timeoutMs >= 0) continue;  // written below
        w.key(name);
        writeRewritten(w, member, props ? props->member(name) : nullptr, at + "/" + name, rw);
    }
    if (props && props->is_object()) {
        for (const auto& [name, prop] : props->members()) {
            if (v.member(name)) continue;
            const json::Value* def = prop.member("default");
            if (isUri(&prop) && def && def->is_string()) {
                std::string url = toReceiver(def->as_string(), rw.base);
                w.key(name).value(url);
                rw.rewritten.push_back(at + "/" + name + " = " + url + " (from the schema's default)");
            }
        }
    }
    if (top && rw.timeoutMs >= 0) w.key("timeout_ms").value(rw.timeoutMs);
    w.endObject();
}

// The config with its URLs pointed at the receiver.
std::string senderConfig(const std::string& config, const json::JsonSchema& schema, Rewrite& rw) {
    json::Value schemaDoc = json::parse(json::toJsonText(schema.document()));
    json::Value doc = json::parse(config);
    if (const json::Value* t = schemaDoc.find("/properties/timeout_ms");
        t && (t->string("/type") == "integer" || t->string("/type") == "number")) {
        int64_t ms = 1000;
        if (const json::Value* min = t->member("minimum"); min && min->is_number() && min->as_number() > ms)
            ms = static_cast<int64_t>(std::ceil(min->as_number()));
        if (const json::Value* max = t->member("maximum"); max && max->is_number() && max->as_number() < ms)
            ms = static_cast<int64_t>(max->as_number());
        rw.timeoutMs = ms;
    }
    json::Writer w;
    writeRewritten(w, doc, &schemaDoc, "", rw);
    return w.str();
}

// ---- notices ----------------------------------------------------------------------------------------

std::string iso(int64_t ms) {
    std::time_t s = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

// An alert event document shaped as the host sends it (docs/plugin-guide.md), for an alert opened a
// minute ago: "alert.opened", "alert.acknowledged" or "alert.closed".
std::string notice(const std::string& type, int64_t eventId) {
    int64_t now = wallMs();
    int64_t triggered = now - 60'000;
    bool acked = type != "alert.opened";
    bool closed = type == "alert.closed";
    json::Writer w;
    w.beginObject().member("type", type);
    w.key("event").beginObject().member("id", eventId);
    w.member("kind", closed ? "CLOSED" : acked ? "ACKNOWLEDGED" : "OPENED").member("at", iso(now));
    w.member("actor", type == "alert.acknowledged" ? "alice@example.com" : "system").endObject();
    w.key("tenant").beginObject().member("id", "5b0e6c9e-3f7a-4b61-9d59-2c7f0e1a9b42");
    w.member("slug", "acme").member("name", "Acme Cold Chain").endObject();
    w.key("links").beginObject().member("alert", "https://pulse.example.com/alerts/97").endObject();
    w.key("alert").beginObject().member("id", 97);
    w.member("status", closed ? "CLOSED" : acked ? "ACKNOWLEDGED" : "OPEN");
    w.member("condition", closed ? "CLEARED" : "FIRING").member("severity", "CRITICAL");
    w.member("summary", "temperature 91 > 80").member("value", 91).member("flapping", false);
    w.member("triggered_at", iso(triggered)).member("triggered_at_ms", triggered);
    w.member("opened_at", iso(triggered));
    if (acked)
        w.member("acknowledged_at", iso(now - 30'000)).member("acknowledged_by", "alice@example.com");
    else
        w.key("acknowledged_at").null().key("acknowledged_by").null();
    if (closed)
        w.member("closed_at", iso(now)).member("close_reason", "condition cleared");
    else
        w.key("closed_at").null().key("close_reason").null();
    w.key("rule").beginObject().member("id", "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f");
    w.member("name", "too hot").member("type", "threshold").endObject();
    w.key("device").beginObject().member("id", 42).member("name", "sensor-1");
    w.key("tags").beginArray().value("cold-room").value("floor-2").endArray().endObject();
    if (type == "alert.closed") {
        w.key("site").null();  // a device without a site
    } else {
        w.key("site").beginObject().member("id", "0f6c3a1e-8d2b-4e7a-9b1c-5d4e3f2a1b0c");
        w.member("name", "Warehouse 3").member("timezone", "Europe/Berlin").endObject();
    }
    w.endObject().endObject();
    return w.str();
}

std::string describe(const plugins::DeliveryOutcome& o) {
    std::string s = "code " + std::to_string(o.code) + " (" + codeName(o.code) + ")";
    if (o.statusCode) s += ", status_code " + std::to_string(o.statusCode);
    if (o.retryAfterMs >= 0) s += ", retry_after_ms " + std::to_string(o.retryAfterMs);
    if (!o.detail.empty()) s += ", '" + o.detail + "'";
    return s;
}

// ---- senders ----------------------------------------------------------------------------------------

struct SenderRun {
    Receiver* receiver = nullptr;  // null: the config has no URL, the sender is expected to dial nothing
    int successStatus = 200;
    int64_t timeoutMs = -1;  // the config's timeout_ms as set by the runner, -1 when none
};

struct Attempted {
    plugins::DeliveryOutcome out;
    int deferrals = 0;
    bool deferredTooLong = false;
    std::vector<Received> requests;
    std::vector<std::string> strayDials;  // URLs dialled that are not the receiver
    int64_t elapsedMs = 0;
    std::string text() const {
        std::string s = describe(out);
        if (deferrals)
            s += ", after " + std::to_string(deferrals) + " PULSE_DEFER" +
                 (deferredTooLong ? " (gave up)" : "");
        if (elapsedMs >= 1000) s += ", returned after " + std::to_string(elapsedMs) + " ms";
        return s;
    }
};

std::atomic<int> g_keySeq{0};
std::string freshKey() {
    return "pulse-check-" + std::to_string(::getpid()) + "-" + std::to_string(++g_keySeq);
}

// One delivery as the host makes it: called again with the same key after each PULSE_DEFER (its
// retry_after_ms, at most 5 s per wait, at most 15 s in all).
Attempted deliver(plugins::PluginInstance& inst, const std::string& key, const std::string& payload,
                  uint32_t attempt, int64_t deadlineInMs, Receiver* receiver) {
    Attempted a;
    int64_t start = wallMs();
    int64_t waited = 0;
    for (;;) {
        pulse_delivery d{};
        d.struct_size = sizeof d;
        d.idempotency_key = {key.data(), key.size()};
        d.payload_json = {payload.data(), payload.size()};
        d.attempt = attempt;
        d.deadline_ms = wallMs() + deadlineInMs;
        a.out = inst.deliver(d);
        if (a.out.code != PULSE_DEFER) break;
        int64_t wait = std::clamp<int64_t>(a.out.retryAfterMs < 0 ? 1000 : a.out.retryAfterMs, 0, 5000);
        if (waited + wait > 15'000) {
            a.deferredTooLong = true;
            break;
        }
        ++a.deferrals;
        waited += wait;
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    a.elapsedMs = wallMs() - start;
    if (receiver) a.requests = receiver->take();
    for (const auto& dial : takeDials())
        if (!dial.toReceiver) a.strayDials.push_back(dial.url);
    return a;
}

bool definedOutcome(const plugins::DeliveryOutcome& o) {
    return knownCode(o.code) && o.code != PULSE_ERR_INTERNAL &&
           (o.code != PULSE_RETRY || o.retryAfterMs >= -1);
}

// Where the idempotency key travels in a request, for the report ("" when it does not).
std::string keyCarrier(const Received& r, const std::string& key) {
    for (const auto& [name, value] : r.headers)
        if (value.find(key) != std::string::npos) return "header " + name;
    if (r.body.find(key) != std::string::npos) return "the body";
    return "";
}

struct SenderChecks {
    std::set<std::string> strayDials;
    void note(const Attempted& a) { strayDials.insert(a.strayDials.begin(), a.strayDials.end()); }
};

// The answer classes against the receiver, on one instance.
void senderAnswerClasses(plugins::PluginInstance& inst, const std::string& q, const SenderRun& run,
                         SenderChecks& sc) {
    Receiver& rx = *run.receiver;
    const std::string opened = notice("alert.opened", 812);
    auto reached = [](const Attempted& a) {
        return a.requests.empty() ? std::string(", but no request reached the receiver") : std::string();
    };
    auto mapped = [&](const std::string& what, const Answer& answer, const std::string& payload,
                      int64_t deadlineInMs, auto&& expect) {
        rx.script(answer);
        Attempted a = deliver(inst, freshKey(), payload, 1, deadlineInMs, &rx);
        sc.note(a);
        check(!a.requests.empty() && !a.deferredTooLong && definedOutcome(a.out) && expect(a.out),
              q + " " + what, a.text() + reached(a));
        return a;
    };

    Answer ok;
    ok.status = run.successStatus;
    ok.body = run.successStatus == 204 ? "" : "ok";
    mapped("answer " + std::to_string(run.successStatus) + " -> PULSE_OK", ok, opened, 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code == PULSE_OK; });

    Answer limited;
    limited.status = 429;
    limited.body = "rate limited";
    limited.headers = {{"Retry-After", "7"}};
    mapped("answer 429 with Retry-After: 7 -> PULSE_RETRY, retry_after_ms >= 6000", limited, opened, 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code == PULSE_RETRY && o.retryAfterMs >= 6000; });

    // 503, then the same delivery again (attempt 2) accepted: the retry reaches the receiver.
    Answer unavailable;
    unavailable.status = 503;
    unavailable.body = "service unavailable";
    rx.script(unavailable);
    std::string key = freshKey();
    Attempted first = deliver(inst, key, opened, 1, 10'000, &rx);
    sc.note(first);
    check(!first.requests.empty() && definedOutcome(first.out) && first.out.code == PULSE_RETRY,
          q + " answer 503 -> PULSE_RETRY", first.text() + reached(first));
    rx.script(ok);
    Attempted second = deliver(inst, key, opened, 2, 10'000, &rx);
    sc.note(second);
    std::string carrier = second.requests.empty() ? "" : keyCarrier(second.requests.front(), key);
    check(!second.requests.empty() && second.out.code == PULSE_OK,
          q + " the retry of that delivery (same key, attempt 2) reaches the receiver -> PULSE_OK",
          second.text() + reached(second) +
              (second.requests.empty() ? ""
               : carrier.empty() ? "; the idempotency key does not appear in the request (a receiver cannot "
                                   "deduplicate by it)"
                                 : "; the idempotency key is sent in " + carrier));

    Answer bad;
    bad.status = 400;
    bad.body = R"({"error":"invalid_payload","message":"the message was refused"})";
    mapped("answer 400 with a body -> a permanent (negative) code", bad, opened, 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code < 0; });

    Answer gone;
    gone.status = 410;
    gone.body = "channel_is_archived";
    mapped("answer 410 -> a permanent (negative) code with status_code 410", gone, opened, 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code < 0 && o.statusCode == 410; });

    Answer reset;
    reset.mode = Answer::Mode::Reset;
    mapped("connection reset without an answer -> PULSE_RETRY", reset, opened, 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code == PULSE_RETRY; });

    // No answer for longer than the config's timeout (or, without one, than the delivery's deadline).
    Answer slow;
    slow.mode = Answer::Mode::Slow;
    int64_t deadline = run.timeoutMs >= 0 ? 10'000 : 1'500;
    slow.delayMs = (run.timeoutMs >= 0 ? run.timeoutMs : deadline) + 2'000;
    mapped("no answer within " +
               (run.timeoutMs >= 0 ? "timeout_ms (" + std::to_string(run.timeoutMs) + ")"
                                   : "the deadline (" + std::to_string(deadline) + " ms)") +
               " -> PULSE_RETRY",
           slow, opened, deadline, [](const plugins::DeliveryOutcome& o) { return o.code == PULSE_RETRY; });

    mapped("an acknowledged notice, answer " + std::to_string(run.successStatus) + " -> PULSE_OK", ok,
           notice("alert.acknowledged", 813), 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code == PULSE_OK; });
    mapped("a closed notice (device without a site), answer " + std::to_string(run.successStatus) +
               " -> PULSE_OK",
           ok, notice("alert.closed", 814), 10'000,
           [](const plugins::DeliveryOutcome& o) { return o.code == PULSE_OK; });
}

void exerciseSender(plugins::PluginInstance& inst, const std::string& q, const SenderRun& run, bool full,
                    bool concurrent, SenderChecks& sc) {
    if (!run.receiver) {
        int resolvesBefore = g_resolves.load();
        Attempted a = deliver(inst, freshKey(), notice("alert.opened", 812), 1, 10'000, nullptr);
        sc.note(a);
        check(definedOutcome(a.out) && !a.deferredTooLong, q + " deliver() returns a defined outcome",
              a.text());
        if (g_resolves.load() > resolvesBefore)
            check(a.out.code < 0 && a.out.code != PULSE_ERR_INTERNAL,
                  q + " a host the egress guard refuses (egress_resolve DENIED) -> a permanent code",
                  a.text());
        return;
    }
    if (full) {
        senderAnswerClasses(inst, q, run, sc);
        return;
    }
    // Concurrent deliveries share the receiver: their requests are counted by the caller, not here.
    Answer ok;
    ok.status = run.successStatus;
    run.receiver->script(ok);
    Attempted a = deliver(inst, freshKey(), notice("alert.opened", 812), 1, 10'000,
                          concurrent ? nullptr : run.receiver);
    sc.note(a);
    check((concurrent || !a.requests.empty()) && a.out.code == PULSE_OK,
          q + " answer " + std::to_string(run.successStatus) + " -> PULSE_OK", a.text());
}

// ---- the other kinds --------------------------------------------------------------------------------

void exercise(plugins::PluginInstance& inst, const plugins::ComponentInfo& c, const std::string& params) {
    std::string q = c.qualifiedType();
    int64_t now = wallMs();
    switch (c.kind) {
        case PULSE_KIND_INGEST: {
            std::string status;
            pulse_result rc = inst.health(status);
            check(rc == PULSE_OK || rc == PULSE_ERR_UNAVAILABLE, q + " health() returns OK or UNAVAILABLE",
                  "code " + std::to_string(rc) + ", status '" + status + "'");
            break;
        }
        case PULSE_KIND_RULE: {
            bool codesOk = true, transitionsOk = true;
            for (int i = 0; i < 20; ++i) {
                plugins::RuleVerdict v;
                for (const char* metric : {"temperature", "humidity", "battery"}) {
                    pulse_result rc = inst.evaluate(sample(metric, i * 7.5 - 20, now - 20'000 + i * 1000), v);
                    codesOk = codesOk && rc == PULSE_OK;
                    transitionsOk = transitionsOk && v.transition <= PULSE_TRANSITION_CLEARED;
                }
            }
            check(codesOk, q + " evaluate() returns OK for 60 fixture samples");
            int emitted = 0;
            pulse_result rc = inst.tick(now + 3'600'000, [&](const plugins::RuleVerdict& v) {
                emitted++;
                transitionsOk = transitionsOk && v.transition <= PULSE_TRANSITION_CLEARED;
            });
            check(transitionsOk, q + " evaluate() and tick() report only NONE, FIRING or CLEARED");
            check(rc == PULSE_OK, q + " tick() returns OK", std::to_string(emitted) + " verdict(s) emitted");
            break;
        }
        case PULSE_KIND_REPORT: {
            Collected c2;
            auto w = c2.writer();
            std::string err;
            pulse_result rc = inst.generate(params, w, err);
            check(rc == PULSE_OK, q + " generate() succeeds with the example params", err);
            check(!c2.bytes.empty(), q + " generate() writes output",
                  std::to_string(c2.bytes.size()) + " bytes");
            break;
        }
        case PULSE_KIND_ACTION: {
            Collected c2;
            auto w = c2.writer();
            pulse_action_progress progress{sizeof(pulse_action_progress), nullptr,
                                           [](void*, uint32_t, const char*, size_t) {}};
            pulse_action_request r{};
            r.struct_size = sizeof r;
            r.job_id = {"job-1", 5};
            r.tenant = {"conformance", 11};
            r.device = {"device-1", 8};
            r.params_json = {params.data(), params.size()};
            std::string err;
            pulse_result rc = inst.execute(r, progress, w, err);
            check(knownCode(rc) && rc != PULSE_ERR_INTERNAL, q + " execute() returns a defined outcome",
                  "code " + std::to_string(rc) + (err.empty() ? "" : ", '" + err + "'"));
            break;
        }
        default:
            break;
    }
}

int usage(const std::string& problem) {
    if (!problem.empty()) std::cerr << "pulse-plugin-check: " << problem << "\n";
    std::cerr << kUsage;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    logging::setup("warn", "text", "");
    std::map<std::string, std::string> configs, params;
    std::string path;
    int successStatus = 200;
    bool allowSkips = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--config" || a == "--params") {
            if (i + 1 >= argc) return usage(a + " expects kind/type=JSON");
            std::string v = argv[++i];
            auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0)
                return usage(a + " expects kind/type=JSON, not '" + v + "'");
            (a == "--config" ? configs : params)[v.substr(0, eq)] = v.substr(eq + 1);
        } else if (a == "--success-status") {
            if (i + 1 >= argc) return usage("--success-status expects a 2xx status");
            std::string v = argv[++i];
            if (v.size() != 3 || v.find_first_not_of("0123456789") != std::string::npos || v[0] != '2')
                return usage("--success-status expects a 2xx status, not '" + v + "'");
            successStatus = std::stoi(v);
        } else if (a == "--allow-skips") {
            allowSkips = true;
        } else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (!a.empty() && a[0] == '-') {
            return usage("unknown option " + a);
        } else if (!path.empty()) {
            return usage("one plugin at a time (" + path + ", " + a + ")");
        } else {
            path = a;
        }
    }
    if (path.empty()) return usage("");

    auto summary = [&] {
        std::cout << g_passed << " passed, " << g_failed << " failed, " << g_skipped << " skipped\n";
        return g_failed || (g_skipped && !allowSkips) ? 1 : 0;
    };

    std::cout << "Checking " << path << "\n";
    plugins::LoadedPlugin plugin;
    try {
        plugin = plugins::loadPluginLibrary(path);
        check(true, "loads and passes the descriptor checks",
              plugin.name + " " + plugin.version + ", ABI " + std::to_string(plugin.abiMajor) + "." +
                  std::to_string(plugin.abiMinor));
    } catch (const std::exception& e) {  // PluginRefused, or anything else the loader throws
        check(false, "loads and passes the descriptor checks", e.what());
        return summary();
    }
    try {
        boost::dll::library_info libInfo(path);
        auto symbols = libInfo.symbols();
        std::string extra;
        for (const auto& s : symbols)
            if (s.rfind("pulse_", 0) == 0 && s != PULSE_ENTRY_V1_NAME) extra += " " + s;
        check(extra.empty(), "exports no pulse_* symbol but the entry point", extra);
    } catch (const std::exception& e) {
        skip("symbol table", e.what());
    }

    // Senders dial through this: 127.0.0.1/32 allowed by the host's guard, and only the receiver by the
    // runner's check in front of it.
    const net::OutboundHttp loopbackOnly(net::EgressGuard({net::Cidr::parse("127.0.0.1/32")}));
    std::set<std::string> used;
    for (const auto& original : plugin.components) {
        std::string q = original->qualifiedType();
        std::cout << q << " ("
                  << (original->threading == PULSE_THREADING_CONCURRENT ? "concurrent" : "serial") << ")\n";
        check(!original->description.empty(), q + " has a description");

        bool given = configs.count(q) > 0;
        if (given) used.insert(q);
        if (params.count(q)) used.insert("params:" + q);
        auto example = firstExample(*original->configSchema);
        std::string config = given ? configs[q] : example ? *example : "{}";
        std::string source = given ? "--config" : example ? "the schema's first example" : "{} (no example)";
        auto violations = original->configSchema->validateText(config);
        if (!violations.empty()) {
            if (given || example)
                check(false, q + " config matches the schema",
                      source + " " + config + " does not (" + json::describe(violations) + ")" +
                          (given ? "" : "; fix the example or pass --config " + q + "=JSON"));
            else
                skip(q + " instance checks", "the schema has no examples and {} does not match it (" +
                                                 json::describe(violations) + "); pass --config " + q +
                                                 "=JSON");
            continue;
        }
        check(true, q + " config matches the schema", source);

        // Senders get the receiver and the checked http_send; their URLs point at the receiver.
        std::shared_ptr<const plugins::ComponentInfo> c = original;
        std::unique_ptr<Receiver> receiver;
        SenderRun run;
        run.successStatus = successStatus;
        plugins::HostServices services;
        if (original->kind == PULSE_KIND_SENDER) {
            auto wrapped = std::make_shared<plugins::ComponentInfo>(*original);
            g_realCreate = original->fns.create;
            wrapped->fns.create = &checkedCreate;
            c = wrapped;
            services.http = &loopbackOnly;
            try {
                receiver = std::make_unique<Receiver>();
            } catch (const std::exception& e) {
                check(false, q + " the runner's receiver starts", e.what());
                continue;
            }
            {
                std::lock_guard lock(g_dialMutex);
                g_receiverBase = receiver->base();
                g_dials.clear();
            }
            Rewrite rw;
            rw.base = receiver->base();
            std::string pointed;
            try {
                pointed = senderConfig(config, *original->configSchema, rw);
            } catch (const std::exception& e) {
                check(false, q + " the config can be read", e.what());
                continue;
            }
            if (rw.rewritten.empty()) {
                info(q +
                     ": no \"format\": \"uri\" property in the config: the sender may make no HTTP call, "
                     "and the answer classes do not apply");
                receiver.reset();
            } else {
                auto again = original->configSchema->validateText(pointed);
                if (!again.empty()) {
                    skip(q + " instance checks",
                         "with its URLs pointed at the runner's receiver (" + rw.base + ") the config " +
                             pointed + " no longer matches the schema (" + json::describe(again) +
                             "); allow http:// and an IP address with a port in the URL pattern");
                    continue;
                }
                std::string list;
                for (const auto& p : rw.rewritten) list += (list.empty() ? "" : ", ") + p;
                info(q + ": pointed at the runner's receiver: " + list +
                     (rw.timeoutMs >= 0 ? ", /timeout_ms = " + std::to_string(rw.timeoutMs) : ""));
                config = pointed;
                run.receiver = receiver.get();
                run.timeoutMs = rw.timeoutMs;
            }
        }

        std::string p = params.count(q)
                            ? params[q]
                            : (c->paramsSchema ? firstExample(*c->paramsSchema).value_or("{}") : "{}");
        std::vector<std::unique_ptr<plugins::PluginInstance>> instances;
        for (int n = 0; n < 2; ++n) {
            auto inst =
                std::make_unique<plugins::PluginInstance>("check-" + std::to_string(n), c, nullptr, services);
            std::string err;
            pulse_result rc = inst->create(config, err);
            check(rc == PULSE_OK, q + " create() instance " + std::to_string(n + 1), err);
            if (rc != PULSE_OK) continue;
            rc = inst->start(err);
            check(rc == PULSE_OK, q + " start() instance " + std::to_string(n + 1), err);
            if (rc == PULSE_OK) instances.push_back(std::move(inst));
        }
        SenderChecks sc;
        for (size_t n = 0; n < instances.size(); ++n) {
            if (c->kind == PULSE_KIND_SENDER)
                exerciseSender(*instances[n], q, run, n == 0, false, sc);
            else
                exercise(*instances[n], *c, p);
        }
        if (c->threading == PULSE_THREADING_CONCURRENT && !instances.empty()) {
            std::vector<std::thread> threads;
            std::mutex scMutex;
            for (int t = 0; t < 4; ++t)
                threads.emplace_back([&] {
                    if (c->kind != PULSE_KIND_SENDER) return exercise(*instances.front(), *c, p);
                    SenderChecks mine;
                    exerciseSender(*instances.front(), q + " (concurrently)", run, false, true, mine);
                    std::lock_guard lock(scMutex);
                    sc.strayDials.insert(mine.strayDials.begin(), mine.strayDials.end());
                });
            for (auto& t : threads) t.join();
            if (run.receiver) {
                size_t got = run.receiver->take().size();
                check(got >= 4, q + " the 4 concurrent deliveries reach the receiver",
                      std::to_string(got) + " request(s)");
            }
        }
        if (c->kind == PULSE_KIND_SENDER && !instances.empty()) {
            for (const auto& d : takeDials())
                if (!d.toReceiver) sc.strayDials.insert(d.url);
            std::string stray;
            for (const auto& url : sc.strayDials) stray += (stray.empty() ? "" : ", ") + url;
            check(sc.strayDials.empty(),
                  run.receiver ? q + " dials only the URL in its config (the runner's receiver)"
                               : q + " makes no HTTP call (its config has no \"format\": \"uri\" property)",
                  stray.empty() ? "" : "dials something other than the URL in its config: " + stray);
        }
        for (auto& inst : instances) inst->stop();
        instances.clear();
        check(true, q + " stop() and destroy() return");
        receiver.reset();
        std::lock_guard lock(g_dialMutex);
        g_receiverBase.clear();
    }
    for (const auto& [q, json] : configs)
        if (!used.count(q)) check(false, "--config " + q + " names a component of the plugin");
    for (const auto& [q, json] : params)
        if (!used.count("params:" + q)) check(false, "--params " + q + " names a component of the plugin");
    return summary();
}
