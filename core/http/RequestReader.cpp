#include "http/RequestReader.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>

namespace pulse::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trimmed(beast::string_view value) {
    std::string_view v(value.data(), value.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

}  // namespace

RequestReader::RequestReader(Limits limits) : limits_(limits) {
    parser_.emplace();
    parser_->eager(false);  // the header only: the body is ours (feedBody)
    // Our own scan enforces the header limit with a clear status; Beast's is a backstop.
    parser_->header_limit(static_cast<std::uint32_t>(limits_.maxHeaderBytes + 4));
    parser_->body_limit(limits_.maxBodyBytes);
}

void RequestReader::fail(int status, std::string detail) {
    state_ = State::Failed;
    failure_ = {status, std::move(detail)};
}

size_t RequestReader::feed(std::string_view data) {
    if (state_ != State::NeedMore || data.empty()) return 0;
    size_t used = 0;
    if (!headerDone_) {
        used = feedHeader(data);
        if (state_ != State::NeedMore || !headerDone_) return used;
    }
    return used + feedBody(data.substr(used));
}

// Where the header block ends (just past its empty line), 0 while it has not arrived; `i` is where
// the scan resumes (a lookahead that is not there yet is looked at again next time). Sets `error` for a
// NUL, a bare CR or LF, and an obs-fold (or white space before the first field).
size_t RequestReader::headerEnd(std::string_view data, size_t& i, const char*& error) {
    const size_t n = data.size();
    for (; i < n; ++i) {
        char c = data[i];
        if (c == '\0') return error = "the request header holds a NUL byte", 0;
        if (c == '\r') {
            if (i + 1 >= n) return 0;
            if (data[i + 1] != '\n') return error = "a CR in the request header is not followed by LF", 0;
            continue;
        }
        if (c != '\n') continue;
        if (i == 0 || data[i - 1] != '\r')
            return error = "a header line ends in a bare LF; lines end in CRLF (RFC 9112 §2.2)", 0;
        if (i + 1 >= n) return 0;
        char next = data[i + 1];
        if (next == ' ' || next == '\t')
            return error = "obsolete line folding (a header line starting with white space) is refused", 0;
        if (next == '\r') {
            if (i + 2 >= n) return 0;
            if (data[i + 2] != '\n') return error = "a CR in the request header is not followed by LF", 0;
            return i + 3;
        }
    }
    return 0;
}

void RequestReader::failTooLarge() {
    fail(413, "the body is larger than the limit of " + std::to_string(limits_.maxBodyBytes) + " bytes");
}

size_t RequestReader::feedHeader(std::string_view data) {
    // Empty lines before a request line are ignored (RFC 9112 §2.2): some clients send a CRLF after a body.
    size_t lead = 0;
    if (!started_) {
        while (data.substr(lead, 2) == "\r\n") lead += 2;
        data.remove_prefix(lead);
        if (data.empty() || data == "\r") return lead;
        started_ = true;
    }
    // Only the first maxHeaderBytes are looked at, so the verdict is the same however the bytes arrive.
    size_t n = std::min(data.size(), limits_.maxHeaderBytes);
    size_t i = scanned_;
    const char* error = nullptr;
    size_t end = headerEnd(data.substr(0, n), i, error);
    if (error) {
        fail(400, error);
        return lead;
    }
    if (end == 0) {
        scanned_ = i;
        if (data.size() >= limits_.maxHeaderBytes)
            fail(431,
                 "the request header is larger than " + std::to_string(limits_.maxHeaderBytes) + " bytes");
        return lead;
    }
    beast::error_code ec;
    size_t used = parser_->put(boost::asio::buffer(data.data(), end), ec);
    if (ec == bhttp::error::body_limit) {
        failTooLarge();
        return lead + used;
    }
    if (ec == bhttp::error::bad_version) {
        fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
        return lead + used;
    }
    if (ec || !parser_->is_header_done()) {
        fail(400, "malformed request: " + (ec ? ec.message() : std::string("incomplete header")));
        return lead + used;
    }
    headerDone_ = true;
    checkFraming();
    if (state_ != State::NeedMore) return lead + used;
    chunked_ = parser_->chunked();
    if (!chunked_) {
        remaining_ = parser_->content_length().value_or(0);
        if (remaining_ == 0) state_ = State::Complete;
    }
    return lead + used;
}

void RequestReader::checkFraming() {
    const auto& req = parser_->get();
    unsigned version = req.version();
    if (version != 10 && version != 11) return fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
    size_t lengths = 0, codings = 0, hosts = 0, expects = 0;
    std::string_view coding, expect;
    for (const auto& f : req) {
        switch (f.name()) {
            case bhttp::field::content_length:
                ++lengths;
                if (f.value().empty() || !std::all_of(f.value().begin(), f.value().end(),
                                                      [](char c) { return c >= '0' && c <= '9'; }))
                    return fail(400, "Content-Length must be one decimal number");
                break;
            case bhttp::field::transfer_encoding:
                ++codings;
                coding = trimmed(f.value());
                break;
            case bhttp::field::host:
                ++hosts;
                break;
            case bhttp::field::expect:
                ++expects;
                expect = trimmed(f.value());
                break;
            default:
                break;
        }
    }
    if (lengths > 1) return fail(400, "Content-Length is repeated");
    if (codings > 0) {
        if (version == 10) return fail(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
        if (codings > 1) return fail(400, "Transfer-Encoding is repeated");
        if (!iequals(coding, "chunked")) {
            auto last = coding.substr(
                coding.find_last_of(", \t") == std::string_view::npos ? 0 : coding.find_last_of(", \t") + 1);
            if (iequals(last, "chunked")) return fail(501, "only the chunked transfer coding is supported");
            return fail(400, "a request's Transfer-Encoding must end in chunked");
        }
    }
    if (version == 11 ? hosts != 1 : hosts > 1)
        return fail(400, "an HTTP/1.1 request carries exactly one Host header");
    if (expects > 0) {
        if (expects > 1 || !iequals(expect, "100-continue"))
            return fail(417, "the only expectation served is 100-continue");
        wantsContinue_ = version == 11 && (parser_->chunked() || parser_->content_length().value_or(0) > 0);
    }
}

size_t RequestReader::feedBody(std::string_view data) {
    if (chunked_) return feedChunked(data);
    size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size()));
    body_.append(data.substr(0, take));
    remaining_ -= take;
    if (remaining_ == 0) state_ = State::Complete;
    return take;
}

// RFC 9112 §7.1: chunk-size [chunk-ext] CRLF chunk-data CRLF ... last-chunk trailer-section CRLF. Lines
// end in CRLF, sizes are hex and within the body limit, extensions and trailer fields are read and
// dropped (nothing here uses them), and a chunk longer than its size is an error, not the next request.
size_t RequestReader::feedChunked(std::string_view data) {
    constexpr size_t kMaxLine = 1024, kMaxTrailer = 4096;
    size_t i = 0;
    while (i < data.size() && state_ == State::NeedMore) {
        switch (chunk_) {
            case Chunk::Size:
            case Chunk::Trailer: {
                size_t nl = data.find('\n', i);
                size_t limit = chunk_ == Chunk::Size          ? kMaxLine
                               : trailerBytes_ >= kMaxTrailer ? 0
                                                              : kMaxTrailer - trailerBytes_;
                if (nl == std::string_view::npos) {
                    if (data.size() - i > limit)
                        fail(chunk_ == Chunk::Size ? 400 : 431, "a chunk line is too long");
                    return i;
                }
                std::string_view line = data.substr(i, nl - i);
                if (line.size() > limit) {
                    fail(chunk_ == Chunk::Size ? 400 : 431, "a chunk line is too long");
                    return i;
                }
                if (line.empty() || line.back() != '\r') {
                    fail(400, "a chunk line ends in a bare LF; lines end in CRLF");
                    return i;
                }
                line.remove_suffix(1);
                for (char c : line)
                    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
                        fail(400, "a chunk line holds a control character");
                        return i;
                    }
                i = nl + 1;
                if (chunk_ == Chunk::Trailer) {
                    if (line.empty()) {
                        state_ = State::Complete;
                        return i;
                    }
                    trailerBytes_ += line.size() + 2;
                    if (line.front() == ' ' || line.front() == '\t' ||
                        line.find(':') == std::string_view::npos || line.find(':') == 0) {
                        fail(400, "a malformed trailer field");
                        return i;
                    }
                    continue;
                }
                size_t digits = 0;
                uint64_t size = 0;
                for (; digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]));
                     ++digits) {
                    if (size > (limits_.maxBodyBytes >> 4)) {
                        failTooLarge();
                        return i;
                    }
                    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line[digits])));
                    size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
                }
                std::string_view rest =
                    trimmed(beast::string_view(line.data() + digits, line.size() - digits));
                if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
                    fail(400, "a chunk size is not a hexadecimal number");
                    return i;
                }
                if (size > limits_.maxBodyBytes - body_.size()) {
                    failTooLarge();
                    return i;
                }
                remaining_ = size;
                chunk_ = size == 0 ? Chunk::Trailer : Chunk::Data;
                break;
            }
            case Chunk::Data: {
                size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - i));
                body_.append(data.substr(i, take));
                i += take;
                remaining_ -= take;
                if (remaining_ == 0) chunk_ = Chunk::DataEnd;
                break;
            }
            case Chunk::DataEnd:
                if (data[i] != '\r' || (i + 1 < data.size() && data[i + 1] != '\n')) {
                    fail(400, "a chunk is longer than its announced size");
                    return i;
                }
                if (i + 1 >= data.size()) return i;
                i += 2;
                chunk_ = Chunk::Size;
                break;
        }
    }
    return i;
}

}  // namespace pulse::http
