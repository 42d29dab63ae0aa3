#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>

namespace pulse::services {
class EventSink;
}

namespace pulse::http {

// A response built in memory by a handler on a worker thread, through Poco's HTTPServerResponse interface
// (what every route is written against). The connection writes it out afterwards, so a slow reader holds
// a socket and a buffer, never a worker.
class BufferedResponse : public Poco::Net::HTTPServerResponse {
  public:
    void sendContinue() override {}  // the connection answers Expect: 100-continue before the handler runs
    std::ostream& send() override;
    void sendFile(const std::string& path, const std::string& mediaType) override;
    void sendBuffer(const void* buffer, std::size_t length) override;
    void redirect(const std::string& uri, HTTPStatus status = HTTP_FOUND) override;
    void requireAuthentication(const std::string& realm) override;
    bool sent() const override { return sent_; }

    bool closeRequested() const;  // the handler said Connection: close (setKeepAlive(false))

    // Makes the answer a server-sent event stream (text/event-stream): the connection writes this header,
    // then stays open, and calls opened with the stream's writing end, on the I/O thread (it must not block).
    using StreamOpened = std::function<void(std::shared_ptr<services::EventSink>)>;
    void startStream(StreamOpened opened);
    const StreamOpened& stream() const { return stream_; }

    // Status line, headers and body as they go on the wire. Framing is the server's: Content-Length is the
    // body's size whatever the handler set, and Connection says whether the connection stays open.
    std::string serialize(bool keepAlive, bool http10, bool headRequest) const;

  private:
    bool sent_ = false;
    std::ostringstream body_;
    StreamOpened stream_;
};

// A request whose header and body were read in full before a worker saw it.
class BufferedRequest : public Poco::Net::HTTPServerRequest {
  public:
    BufferedRequest(std::string body, Poco::Net::SocketAddress client, Poco::Net::SocketAddress server,
                    const Poco::Net::HTTPServerParams& params, BufferedResponse& response)
        : body_(std::move(body)), client_(client), server_(server), params_(params), response_(response) {}
    std::istream& stream() override { return body_; }
    const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
    const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
    const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
    Poco::Net::HTTPServerResponse& response() const override { return response_; }
    bool secure() const override { return false; }

  private:
    std::istringstream body_;
    Poco::Net::SocketAddress client_, server_;
    const Poco::Net::HTTPServerParams& params_;
    BufferedResponse& response_;
};

// An RFC 9457 problem as a whole answer on the wire, with the security headers and Connection: close
// (Retry-After with 429 and 503): what the server sends when it refuses a connection or a request itself.
std::string closingProblem(int status, const std::string& detail, int retryAfterS = 1,
                           bool headRequest = false);

}  // namespace pulse::http
