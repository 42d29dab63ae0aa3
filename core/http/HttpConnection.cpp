#include "http/HttpConnection.h"

#include "http/BufferedExchange.h"
#include "http/Problem.h"
#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"
#include "services/LiveEvents.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>

namespace pulse::http {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr int kLingerS = 2;  // how long a closing connection's unread input is drained
// A handler that has not answered by then (a hung plugin, a database without a timeout) loses its
// connection, so that it does not hold its address's and the server's connection slots for ever.
constexpr int kHandlingDeadlineS = 300;

}  // namespace

// The writing end of an event stream, for publishers on any thread: a frame is posted to the I/O thread.
// What is queued but not yet written is bounded (http.stream_buffer_bytes): a client that reads too slowly
// loses its stream (it reconnects with Last-Event-ID) rather than holding the server's memory.
class HttpConnection::StreamSink : public services::EventSink {
  public:
    StreamSink(std::weak_ptr<HttpConnection> connection, asio::io_context& io, size_t maxQueued)
        : connection_(std::move(connection)), io_(io), maxQueued_(maxQueued) {}

    bool send(std::string frame) override {
        if (closed_.load()) return false;
        size_t n = frame.size();
        if (queued_.fetch_add(n) + n > maxQueued_) {
            closed_.store(true);
            asio::post(io_, [c = connection_] {
                if (auto self = c.lock()) {
                    self->server_.countRefusal("stream_behind");
                    self->close();
                }
            });
            return false;
        }
        asio::post(io_, [c = connection_, frame = std::move(frame)]() mutable {
            if (auto self = c.lock()) self->queueStreamFrame(std::move(frame));
        });
        return true;
    }
    bool closed() const override { return closed_.load(); }
    void close() override {
        if (closed_.exchange(true)) return;
        asio::post(io_, [c = connection_] {
            if (auto self = c.lock()) self->close();
        });
    }

    void written(size_t n) { queued_.fetch_sub(n); }
    void markClosed() { closed_.store(true); }

  private:
    std::weak_ptr<HttpConnection> connection_;
    asio::io_context& io_;
    size_t maxQueued_;
    std::atomic<size_t> queued_{0};
    std::atomic<bool> closed_{false};
};

HttpServer::State::State(const HttpSettings& s, std::shared_ptr<Router> router, metrics::MetricsRegistry& m)
    : settings(s),
      limits{16 * 1024, static_cast<size_t>(s.maxBodyBytes)},
      dispatcher(std::move(router), m),
      workers(s.workers, static_cast<size_t>(s.maxQueued)),
      params(new Poco::Net::HTTPServerParams),
      metrics(m),
      open(m.gauge("pulse_http_connections", "open HTTP connections")),
      idleOpen(m.gauge("pulse_http_connections_idle", "open HTTP connections waiting for a next request")),
      addressRequests(s.addressRequestsPerS, s.addressBurst) {
    params->setServerName("pulsed");
}

void HttpServer::State::countRefusal(const char* reason) {
    metrics
        .counter("pulse_http_connections_refused_total",
                 "connections answered at once and closed: per-address cap, server full, workers busy",
                 {{"reason", reason}})
        .add();
}

void HttpServer::State::countTimeout(const char* phase) {
    metrics
        .counter("pulse_http_timeouts_total", "connections closed for a deadline: idle, header, body, write",
                 {{"phase", phase}})
        .add();
}

HttpConnection::HttpConnection(HttpServer::State& server, asio::ip::tcp::socket socket,
                               std::string addressKey, Poco::Net::SocketAddress client, bool uncapped)
    : server_(server),
      socket_(std::move(socket)),
      timer_(server.io),
      buffer_(server.limits.maxHeaderBytes + kReadChunk),
      addressKey_(std::move(addressKey)),
      client_(client),
      uncapped_(uncapped) {
    server_.open.add(1);
    ++server_.perAddress[addressKey_];
}

HttpConnection::~HttpConnection() {
    release();
}

void HttpConnection::release() {
    if (released_) return;
    released_ = true;
    leaveIdle();
    server_.bufferedBodyBytes -= bodyBytes_;
    bodyBytes_ = 0;
    auto it = server_.perAddress.find(addressKey_);
    if (it != server_.perAddress.end() && --it->second <= 0) server_.perAddress.erase(it);
    server_.connections.erase(this);
    server_.open.add(-1);
}

void HttpConnection::start() {
    error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    beginRequest();
}

void HttpConnection::close() {
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Closed;
    if (sink_) sink_->markClosed();
    ++generation_;
    timer_.cancel();
    error_code ec;
    socket_.close(ec);
    release();
}

void HttpConnection::enterIdle() {
    if (idleSlot_) return;
    idleSlot_ = server_.idle.insert(server_.idle.end(), this);
    server_.idleOpen.add(1);
}

void HttpConnection::leaveIdle() {
    if (!idleSlot_) return;
    server_.idle.erase(*idleSlot_);
    idleSlot_.reset();
    server_.idleOpen.add(-1);
}

void HttpConnection::setDeadline(int seconds) {
    timer_.expires_after(std::chrono::seconds(seconds));
    timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
        if (ec) return;  // cancelled or re-armed
        if (auto self = weak.lock()) self->onDeadline();
    });
}

void HttpConnection::onDeadline() {
    // A deadline that fired just as the timer was re-armed for the next phase is not that phase's.
    if (timer_.expiry() > std::chrono::steady_clock::now()) return;
    ++generation_;  // a read already queued must not run after this
    error_code ec;
    socket_.cancel(ec);
    switch (phase_) {
        case Phase::Idle:
            server_.countTimeout("idle");
            return close();
        case Phase::Header:
            server_.countTimeout("header");
            // A client that never sent a byte gets no answer; one part-way through its header gets a 408.
            if (!reader_ || !reader_->started()) return close();
            return respondAndClose(408, "the request header did not arrive within " +
                                            std::to_string(server_.settings.headerTimeoutS) + " s");
        case Phase::Body:
            server_.countTimeout("body");
            return respondAndClose(408, "the request body did not arrive within " +
                                            std::to_string(server_.settings.bodyTimeoutS) + " s");
        case Phase::Writing:
            server_.countTimeout("write");
            return close();
        case Phase::Lingering:
            return close();
        case Phase::Streaming:
            return;  // a stream has no deadline: the heartbeat keeps it busy, the buffer bound ends it
        case Phase::Handling:
            server_.countTimeout("handler");
            logging::get("http")->warn("a request from {} had no answer after {} s; its connection is closed",
                                       client_.host().toString(), kHandlingDeadlineS);
            return close();
        case Phase::Closed:
            return;
    }
}

void HttpConnection::beginRequest() {
    reader_.emplace(server_.limits);
    if (buffer_.size() == 0) {
        buffer_.shrink_to_fit();  // an idle connection holds no buffer
        if (served_ > 0) {
            phase_ = Phase::Idle;
            enterIdle();
            setDeadline(server_.settings.keepAliveTimeoutS);
        } else {
            phase_ = Phase::Header;
            setDeadline(server_.settings.headerTimeoutS);
        }
    } else {
        phase_ = Phase::Header;  // a pipelined request is already here
        setDeadline(server_.settings.headerTimeoutS);
    }
    process();
}

void HttpConnection::trackBody() {
    size_t now = reader_->body().size();
    server_.bufferedBodyBytes += now - bodyBytes_;
    bodyBytes_ = now;
}

void HttpConnection::process() {
    auto data = buffer_.data();
    if (phase_ == Phase::Idle && data.size() > 0) {
        leaveIdle();
        phase_ = Phase::Header;
        setDeadline(server_.settings.headerTimeoutS);
    }
    size_t used = reader_->feed({static_cast<const char*>(data.data()), data.size()});
    buffer_.consume(used);
    trackBody();
    if (reader_->headerDone() && phase_ == Phase::Header && !uncapped_) {
        // Every route counts, ingest, static files, /health and /metrics included; the API's own limits
        // (per principal and tenant) come on top.
        if (int wait = server_.addressRequests.take(addressKey_)) {
            server_.countRefusal("address_rate");
            return respondAndClose(429, "too many requests from this address; retry shortly", wait);
        }
    }
    switch (reader_->state()) {
        case RequestReader::State::Failed: {
            const auto& f = reader_->failure();
            logging::get("http")->info("refused a request from {}: {} {}", client_.host().toString(),
                                       f.status, f.detail);
            return respondAndClose(f.status, f.detail);
        }
        case RequestReader::State::Complete:
            return dispatch();
        case RequestReader::State::NeedMore:
            break;
    }
    if (reader_->headerDone() && phase_ == Phase::Header) {
        phase_ = Phase::Body;
        setDeadline(server_.settings.bodyTimeoutS);
        if (reader_->wantsContinue()) {
            // The client waits for this before it sends the body (RFC 9110 §10.1.1).
            phase_ = Phase::Writing;
            out_ = "HTTP/1.1 100 Continue\r\n\r\n";
            asio::async_write(socket_, asio::buffer(out_),
                              [self = shared_from_this(), gen = generation_](const error_code& ec, size_t) {
                                  if (self->phase_ == Phase::Closed || gen != self->generation_) return;
                                  if (ec) return self->close();
                                  self->phase_ = Phase::Body;
                                  self->waitReadable();
                              });
            return;
        }
    }
    if (phase_ == Phase::Body &&
        server_.bufferedBodyBytes > static_cast<size_t>(server_.settings.maxBodyBytes) * 64) {
        // Bodies arriving slowly on many connections would otherwise hold unbounded memory together.
        server_.countRefusal("bodies_buffered");
        return respondAndClose(503, "the server is receiving too many request bodies; retry shortly");
    }
    waitReadable();
}

void HttpConnection::waitReadable() {
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this(), gen = generation_](const error_code& ec) {
                           if (gen != self->generation_ || self->phase_ == Phase::Closed) return;
                           self->onReadable(ec);
                       });
}

void HttpConnection::onReadable(const error_code& waitError) {
    if (waitError) return close();
    error_code ec;
    size_t pending =
        socket_.available(ec);  // the throwing overload would end the handler, not the connection
    if (ec) return close();
    size_t want = std::max(kReadChunk, std::min<size_t>(pending, 4 * kReadChunk));
    if (buffer_.size() + want > buffer_.max_size()) want = buffer_.max_size() - buffer_.size();
    if (want == 0) return respondAndClose(431, "the request header is too large");
    size_t n = socket_.read_some(buffer_.prepare(want), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return waitReadable();
    if (ec == asio::error::eof || (!ec && n == 0)) return onEndOfInput();
    if (ec) return close();
    buffer_.commit(n);
    if (phase_ == Phase::Lingering || phase_ == Phase::Streaming) {  // input after the answer is ignored
        buffer_.consume(buffer_.size());
        return waitReadable();
    }
    process();
}

void HttpConnection::onEndOfInput() {
    bool partial = (reader_ && reader_->started()) || buffer_.size() > 0;
    if (phase_ == Phase::Lingering || phase_ == Phase::Streaming || !partial) return close();
    // A request cut off (a chunked upload without its last chunk, a short body): nothing of it is handled.
    respondAndClose(400, "the request ended before it was complete");
}

void HttpConnection::dispatch() {
    server_.bufferedBodyBytes -= bodyBytes_;
    bodyBytes_ = 0;
    auto request = std::make_shared<RequestReader::Request>(std::move(reader_->request()));
    auto body = std::make_shared<std::string>(reader_->takeBody());
    bool keepAlive = reader_->keepAlive();
    reader_.reset();
    auto self = shared_from_this();
    phase_ = Phase::Handling;
    setDeadline(kHandlingDeadlineS);
    bool queued = server_.workers.trySubmit([self, request, body, keepAlive]() mutable {
        auto& server = self->server_;
        Answer answer;
        try {
            answer = self->handle(*request, std::move(*body), keepAlive);
        } catch (const std::exception& e) {
            // Whatever failed, the connection is answered and ends on the I/O thread, never here.
            logging::get("http")->error("a request failed outside its handler: {}", e.what());
            answer = Answer{closingProblem(500, "the request failed; see the server log"), false, {}, false};
        }
        // The I/O thread keeps the only reference from here on: the connection ends there.
        asio::post(server.io, [self = std::move(self), answer = std::move(answer)]() mutable {
            if (self->phase_ != Phase::Handling) return;  // closed meanwhile (deadline, server stopping)
            if (answer.stream) return self->startStreaming(std::move(answer));
            self->write(std::move(answer.bytes), answer.keepAlive);
        });
    });
    if (!queued) {
        server_.countRefusal("workers_busy");
        respondAndClose(503, "the server is at capacity; retry shortly");
    }
}

// On a worker: the Poco request the handlers know, the route's handler, the answer as bytes.
HttpConnection::Answer HttpConnection::handle(const RequestReader::Request& request, std::string body,
                                              bool keepAlive) {
    BufferedResponse response;
    bool hasBody = !body.empty() || request.has_content_length();
    auto length = static_cast<Poco::Int64>(body.size());
    BufferedRequest preq(std::move(body), client_, server_.serverAddress, *server_.params, response);
    preq.setMethod(std::string(request.method_string()));
    preq.setURI(std::string(request.target()));
    bool http10 = request.version() == 10;
    preq.setVersion(http10 ? Poco::Net::HTTPMessage::HTTP_1_0 : Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& field : request) {
        if (field.name() == boost::beast::http::field::content_length ||
            field.name() == boost::beast::http::field::transfer_encoding)
            continue;
        preq.add(std::string(field.name_string()), std::string(field.value()));
    }
    // The body was decoded and counted: handlers see its real length, never a chunked stream.
    if (hasBody) preq.setContentLength64(length);
    server_.dispatcher.dispatch(preq, response);
    bool keep = keepAlive && !response.closeRequested() && !server_.stopping;
    bool head = request.method() == boost::beast::http::verb::head;
    if (response.stream() && head) {
        // HEAD of a stream: its header, with no stream behind it.
        return {response.serialize(false, http10, true), false, {}, http10};
    }
    return {response.serialize(keep, http10, head), keep, response.stream(), http10};
}

void HttpConnection::startStreaming(Answer answer) {
    phase_ = Phase::Streaming;
    timer_.cancel();
    streamChunked_ = !answer.http10;
    sink_ = std::make_shared<StreamSink>(weak_from_this(), server_.io,
                                         static_cast<size_t>(server_.settings.streamBufferBytes));
    streamOut_.emplace_back(std::move(answer.bytes), 0);  // the header, as it is
    writeStream();
    answer.stream(sink_);
    waitReadable();  // to see the client leave
}

void HttpConnection::queueStreamFrame(std::string frame) {
    if (phase_ != Phase::Streaming) return;
    size_t n = frame.size();
    if (streamChunked_) {
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", n);
        frame = size + frame + "\r\n";
    }
    streamOut_.emplace_back(std::move(frame), n);
    if (!streamWriting_) writeStream();
}

void HttpConnection::writeStream() {
    if (streamOut_.empty() || phase_ != Phase::Streaming) {
        streamWriting_ = false;
        return;
    }
    streamWriting_ = true;
    out_ = std::move(streamOut_.front().first);
    size_t counted = streamOut_.front().second;
    streamOut_.pop_front();
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), counted](const error_code& ec, size_t) {
                          if (self->phase_ != Phase::Streaming) return;
                          if (ec) return self->close();
                          // The bound counts what publishers sent and the client has not taken yet.
                          self->sink_->written(counted);
                          self->writeStream();
                      });
}

void HttpConnection::respondAndClose(int status, const std::string& detail, int retryAfterS) {
    bool headerRead = reader_ && reader_->headerDone();
    std::string method = headerRead ? std::string(reader_->request().method_string()) : "";
    server_.dispatcher.countRequest("rejected", method, status);
    bool head = headerRead && reader_->request().method() == boost::beast::http::verb::head;
    write(closingProblem(status, detail, retryAfterS, head), false);
}

void HttpConnection::write(std::string bytes, bool keepAlive) {
    phase_ = Phase::Writing;
    ++generation_;
    out_ = std::move(bytes);
    setDeadline(server_.settings.writeTimeoutS);
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this(), keepAlive, gen = generation_](const error_code& ec, size_t) {
            if (self->phase_ == Phase::Closed || gen != self->generation_) return;
            if (ec) return self->close();
            self->out_.clear();
            self->out_.shrink_to_fit();
            if (!keepAlive) return self->linger();
            ++self->served_;
            self->beginRequest();
        });
}

void HttpConnection::linger() {
    // Closing with unread input would send a reset that can destroy the answer in flight: stop sending,
    // drain what still arrives for a moment, then close.
    phase_ = Phase::Lingering;
    buffer_.consume(buffer_.size());
    error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) return close();
    setDeadline(kLingerS);
    waitReadable();
}

}  // namespace pulse::http
