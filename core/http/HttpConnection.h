#pragma once

#include "http/BufferedExchange.h"
#include "http/HttpServer.h"
#include "http/RequestDispatcher.h"
#include "http/RequestReader.h"
#include "http/WorkerPool.h"
#include "services/RateLimits.h"

#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

namespace pulse::metrics {
class Counter;
class Gauge;
}  // namespace pulse::metrics

namespace pulse::http {

class HttpConnection;

// What the server's connections share. Everything below `io-thread only` is touched by the I/O thread
// alone, so it needs no lock.
struct HttpServer::State {
    State(const HttpSettings& settings, std::shared_ptr<Router> router, metrics::MetricsRegistry& metrics);

    HttpSettings settings;
    RequestReader::Limits limits;
    boost::asio::io_context io;  // locking on: workers post to it
    boost::asio::ip::tcp::acceptor acceptor{io};
    boost::asio::steady_timer acceptRetry{io};
    RequestDispatcher dispatcher;
    WorkerPool workers;
    Poco::AutoPtr<Poco::Net::HTTPServerParams> params;
    Poco::Net::SocketAddress serverAddress;
    metrics::MetricsRegistry& metrics;
    metrics::Gauge& open;
    metrics::Gauge& idleOpen;
    std::atomic<bool> stopping{false};
    std::thread ioThread;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> keepRunning;

    // io-thread only
    std::list<HttpConnection*> idle;  // oldest first: the first reclaimed when the server is full
    std::unordered_map<std::string, int> perAddress;
    std::unordered_map<HttpConnection*, std::weak_ptr<HttpConnection>> connections;
    size_t bufferedBodyBytes = 0;           // bodies being received, across connections
    services::RateLimiter addressRequests;  // http.address_requests_per_s, per address key

    void countRefusal(const char* reason);
    void countTimeout(const char* phase);
};

// One client connection on the I/O thread: reads a request (RequestReader) under a deadline, hands it to
// a worker, writes the answer, and either waits for the next request (keep-alive, on the idle list) or
// closes. Errors in framing are answered and the connection closed after a short lingering read, so the
// client sees the answer rather than a reset.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    HttpConnection(HttpServer::State& server, boost::asio::ip::tcp::socket socket, std::string addressKey,
                   Poco::Net::SocketAddress client, bool uncapped);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    void start();
    void close();  // at once: reclaimed for a new client, or the server stops

  private:
    // Streaming: the answer was an event stream (BufferedResponse::startStream); frames are written as
    // publishers send them, until the client leaves, falls too far behind, or the server stops.
    enum class Phase { Idle, Header, Body, Handling, Writing, Lingering, Streaming, Closed };
    class StreamSink;
    struct Answer {
        std::string bytes;
        bool keepAlive = false;
        BufferedResponse::StreamOpened stream;  // set: the answer is an event stream
        bool http10 = false;
    };

    void beginRequest();
    void process();
    void waitReadable();
    void onReadable(const boost::system::error_code& ec);
    void onEndOfInput();
    void dispatch();
    Answer handle(const RequestReader::Request& request, std::string body, bool keepAlive);
    void startStreaming(Answer answer);
    void queueStreamFrame(std::string frame);  // on the I/O thread, from StreamSink
    void writeStream();
    void respondAndClose(int status, const std::string& detail, int retryAfterS = 1);
    void write(std::string bytes, bool keepAlive);
    void linger();
    void setDeadline(int seconds);
    void onDeadline();
    void enterIdle();
    void leaveIdle();
    void trackBody();
    void release();

    HttpServer::State& server_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    std::optional<RequestReader> reader_;
    std::string out_;
    std::string addressKey_;
    Poco::Net::SocketAddress client_;
    Phase phase_ = Phase::Header;
    std::optional<std::list<HttpConnection*>::iterator> idleSlot_;
    unsigned generation_ = 0;  // bumped when a deadline fires, so a wake-up queued before it is ignored
    size_t bodyBytes_ = 0;     // this connection's share of server_.bufferedBodyBytes
    int served_ = 0;
    bool released_ = false;
    bool uncapped_;  // a trusted proxy: its many clients are not one address
    // Streaming only
    std::shared_ptr<StreamSink> sink_;
    std::deque<std::pair<std::string, size_t>> streamOut_;  // framed bytes waiting, and what the sink counted
    bool streamWriting_ = false;
    bool streamChunked_ = true;
};

}  // namespace pulse::http
