#include "http/HttpServer.h"

#include "http/BufferedExchange.h"
#include "http/HttpConnection.h"
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

#include <boost/asio/post.hpp>

#include <sys/resource.h>

#include <future>

namespace pulse::http {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// File descriptors pulsed keeps for everything but HTTP clients (database, broker, plugins, files).
constexpr rlim_t kReservedDescriptors = 512;

// Connections count against their address: an IPv4 address, or an IPv6 /64 (one host's usual share).
std::string addressKey(const asio::ip::address& a) {
    if (a.is_v4()) return a.to_string();
    auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
    return asio::ip::address_v6(bytes).to_string() + "/64";
}

net::IpBytes ipBytes(const asio::ip::address& a) {
    net::IpBytes ip;
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        ip.bytes.assign(b.begin(), b.end());
    } else {
        auto v6 = a.to_v6();
        if (v6.is_v4_mapped()) {
            auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
            ip.bytes.assign(b.begin(), b.end());
        } else {
            auto b = v6.to_bytes();
            ip.bytes.assign(b.begin(), b.end());
        }
    }
    return ip;
}

// The most connections this process can hold: its descriptor limit, raised to the hard limit.
int connectionCeiling(int wanted) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted;
    if (lim.rlim_cur < lim.rlim_max) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > static_cast<rlim_t>(wanted) + kReservedDescriptors)
        return wanted;
    int ceiling = lim.rlim_cur > kReservedDescriptors * 2
                      ? static_cast<int>(lim.rlim_cur - kReservedDescriptors)
                      : static_cast<int>(lim.rlim_cur / 2);
    logging::get("http")->warn(
        "http.max_connections {} lowered to {}: the process may open {} files (raise LimitNOFILE / ulimit "
        "-n)",
        wanted, ceiling, static_cast<unsigned long long>(lim.rlim_cur));
    return ceiling;
}

// Answers a connection that will not be served and closes it, without reading or buffering anything: a
// refusal costs the server one small write.
void refuse(asio::ip::tcp::socket& socket, int status, const std::string& detail) {
    std::string out = closingProblem(status, detail);
    error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(out), ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    socket.close(ec);
}

void acceptNext(HttpServer::State* state);

void onAccept(HttpServer::State* state, asio::ip::tcp::socket socket) {
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // the client already went away
    auto& s = *state;
    std::string key = addressKey(remote.address());
    bool uncapped = false;
    if (!s.settings.trustedProxies.empty()) {
        auto ip = ipBytes(remote.address());
        for (const auto& c : s.settings.trustedProxies) uncapped = uncapped || c.contains(ip);
    }
    auto same = s.perAddress.find(key);
    if (!uncapped && same != s.perAddress.end() && same->second >= s.settings.maxConnectionsPerAddress) {
        s.countRefusal("address_cap");
        return refuse(socket, 429, "too many connections from this address");
    }
    if (s.connections.size() >= static_cast<size_t>(s.settings.maxConnections)) {
        if (s.idle.empty()) {
            s.countRefusal("server_full");
            return refuse(socket, 503, "the server holds as many connections as it can; retry shortly");
        }
        // Full: the connection idle longest makes room (its client reconnects when it has a request).
        s.metrics
            .counter("pulse_http_connections_reclaimed_total",
                     "idle keep-alive connections closed to make room")
            .add();
        s.idle.front()->close();
    }
    Poco::Net::SocketAddress client(remote.address().to_string(), remote.port());
    auto connection = std::make_shared<HttpConnection>(s, std::move(socket), key, client, uncapped);
    s.connections.emplace(connection.get(), connection);
    connection->start();
}

void acceptNext(HttpServer::State* state) {
    state->acceptor.async_accept([state](const error_code& ec, asio::ip::tcp::socket socket) {
        if (state->stopping || !state->acceptor.is_open()) return;
        if (ec) {
            if (ec == asio::error::operation_aborted) return;
            // Out of descriptors (or another transient failure): pause instead of spinning on it.
            logging::get("http")->warn("accept failed: {}; retrying in 50 ms", ec.message());
            state->acceptRetry.expires_after(std::chrono::milliseconds(50));
            state->acceptRetry.async_wait([state](const error_code& e) {
                if (!e) acceptNext(state);
            });
            return;
        }
        acceptNext(state);  // first: whatever happens to this connection, the next one is accepted
        try {
            onAccept(state, std::move(socket));
        } catch (const std::exception& e) {
            logging::get("http")->error("a connection could not be set up: {}", e.what());
        }
    });
}

}  // namespace

HttpServer::HttpServer(const HttpSettings& settings, std::shared_ptr<Router> router,
                       metrics::MetricsRegistry& metrics) {
    HttpSettings s = settings;
    s.maxConnections = connectionCeiling(s.maxConnections);
    state_ = std::make_unique<State>(s, std::move(router), metrics);
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(s.address), static_cast<unsigned short>(s.port));
    auto& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(4096);
    auto bound = acceptor.local_endpoint();
    state_->serverAddress = Poco::Net::SocketAddress(bound.address().to_string(), bound.port());
}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    acceptNext(state_.get());
    state_->keepRunning.emplace(state_->io.get_executor());  // run() returns only when stop() says so
    state_->ioThread = std::thread([state = state_.get()] {
        pthread_setname_np(pthread_self(), "http-io");
        for (;;) {
            try {
                state->io.run();
                return;
            } catch (const std::exception& e) {
                logging::get("http")->error("HTTP I/O thread: {}", e.what());
            }
        }
    });
}

void HttpServer::stop() {
    if (!state_ || state_->stopping.exchange(true)) return;
    auto& s = *state_;
    if (s.ioThread.joinable()) {
        // Stop accepting and close every connection on the I/O thread; then let running handlers finish.
        std::promise<void> closed;
        asio::post(s.io, [&s, &closed] {
            error_code ec;
            s.acceptor.close(ec);
            s.acceptRetry.cancel();
            std::vector<std::shared_ptr<HttpConnection>> all;
            for (auto& [ptr, weak] : s.connections)
                if (auto c = weak.lock()) all.push_back(c);
            for (auto& c : all) c->close();
            closed.set_value();
        });
        closed.get_future().wait();
    }
    s.workers.stop();
    s.keepRunning.reset();
    s.io.stop();
    if (s.ioThread.joinable()) s.ioThread.join();
    // Handlers still queued (answers for closed connections, aborted waits) run now and end their
    // connections here, while everything they touch still exists.
    s.io.restart();
    s.io.poll();
}

int HttpServer::port() const {
    return state_->serverAddress.port();
}

}  // namespace pulse::http
