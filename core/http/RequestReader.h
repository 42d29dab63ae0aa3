#pragma once

// g++ 12 at -O2 warns that Beast's boost::optional content length "may be used uninitialized" where it
// inlines the parser (a known false positive of boost::optional). Silenced where the parser's templates
// are included, so it holds in every translation unit they reach (the core compiles in unity batches).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pulse::http {

// Turns the bytes of one connection into one request at a time, without I/O (the server feeds it what it
// reads; the fuzz target feeds it anything). Framing follows RFC 9112 strictly, because a request two
// parties frame differently is a request smuggled past one of them: a bare LF, an obs-fold, a NUL, a
// repeated or conflicting Content-Length, a Transfer-Encoding that is not exactly "chunked" (or any in
// HTTP/1.0), a missing or repeated Host, or a version other than 1.0/1.1 fails the request, and the
// connection closes after the answer. Beast's parser reads the request line and header fields; the
// checks it leaves to the caller are made here, and so is the body: Content-Length counted, chunked
// decoded by our own strict decoder (Beast 1.74's asserts on a last chunk that arrives in small pieces,
// found by fuzz_request_framing, and its trailer parsing accepts what its header parsing refuses).
class RequestReader {
  public:
    using Request = boost::beast::http::request<boost::beast::http::empty_body>;  // the body is body()

    struct Limits {
        size_t maxHeaderBytes = 16 * 1024;
        size_t maxBodyBytes = 1 << 20;
    };

    enum class State {
        NeedMore,  // give it more bytes
        Complete,  // request() holds the whole request, body decoded
        Failed,    // failure() says what to answer; the connection cannot carry another request
    };

    struct Failure {
        int status = 400;
        std::string detail;
    };

    explicit RequestReader(Limits limits);

    // Consumes what it can of `data` and returns how many bytes it used; the rest (a pipelined next
    // request) is for the next reader. Call again with more bytes while state() is NeedMore.
    size_t feed(std::string_view data);

    State state() const { return state_; }
    bool started() const { return started_; }  // a byte of this request arrived
    bool headerDone() const { return headerDone_; }
    // The client sent "Expect: 100-continue" and a body within the limit: answer 100 before reading it.
    bool wantsContinue() const { return wantsContinue_; }
    const Failure& failure() const { return failure_; }
    Request& request() { return parser_->get(); }
    // The body as it has arrived: memory grows with the bytes received, never with the length a client
    // announces.
    const std::string& body() const { return body_; }
    std::string takeBody() { return std::move(body_); }
    bool keepAlive() const { return parser_->keep_alive(); }

  private:
    size_t feedHeader(std::string_view data);
    size_t feedBody(std::string_view data);
    size_t feedChunked(std::string_view data);
    void checkFraming();
    void fail(int status, std::string detail);
    void failTooLarge();
    static size_t headerEnd(std::string_view data, size_t& i, const char*& error);

    Limits limits_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
    std::string body_;
    enum class Chunk { Size, Data, DataEnd, Trailer };
    bool chunked_ = false;
    Chunk chunk_ = Chunk::Size;
    uint64_t remaining_ = 0;  // of the Content-Length body, or of the current chunk
    size_t trailerBytes_ = 0;
    State state_ = State::NeedMore;
    Failure failure_;
    size_t scanned_ = 0;  // header bytes already checked, so a slow client is not rescanned per byte
    bool started_ = false;
    bool headerDone_ = false;
    bool wantsContinue_ = false;
};

}  // namespace pulse::http
