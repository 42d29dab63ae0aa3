// libFuzzer target: the HTTP request framing path (http/RequestReader: request line, headers, the framing
// checks, chunked decoding) on arbitrary bytes, as the server feeds it: a connection's bytes in pieces,
// one request after another (pipelining). Findings: a crash or sanitizer report, a refusal with a status
// the reader does not use, a body over the limit, more bytes used than given, and (the differential
// check) any difference between reading the input whole and reading it in pieces, since framing that
// depends on how TCP split the bytes is how requests are smuggled.
#include "http/RequestReader.h"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using pulse::http::RequestReader;

// What a connection made of the bytes: each request (method, target, body) and how it ended.
std::vector<std::string> readAll(std::string_view input, size_t piece) {
    static const std::set<int> statuses = {400, 413, 417, 431, 501, 505};
    RequestReader::Limits limits{1024, 4096};
    std::vector<std::string> outcome;
    std::string buffer;  // what the connection has received and not yet consumed
    size_t offered = 0;
    for (int requests = 0; requests < 64; ++requests) {
        RequestReader reader(limits);
        for (;;) {
            size_t used = reader.feed(buffer);
            if (used > buffer.size()) __builtin_trap();
            buffer.erase(0, used);
            if (reader.state() != RequestReader::State::NeedMore || offered >= input.size()) break;
            size_t n = std::min(piece, input.size() - offered);
            buffer.append(input.substr(offered, n));
            offered += n;
        }
        if (reader.state() == RequestReader::State::Failed) {
            if (!statuses.count(reader.failure().status)) __builtin_trap();
            outcome.push_back("failed " + std::to_string(reader.failure().status));
            return outcome;
        }
        if (reader.state() == RequestReader::State::NeedMore) {
            outcome.push_back(reader.started() ? "incomplete" : "end");
            return outcome;
        }
        auto& req = reader.request();
        if (reader.body().size() > limits.maxBodyBytes) __builtin_trap();
        outcome.push_back(std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                          reader.body() + (reader.keepAlive() ? " k" : " c"));
        if (!reader.keepAlive()) return outcome;
    }
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    size_t piece = 1 + data[0] % 17;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (readAll(input, input.size() + 1) != readAll(input, piece)) __builtin_trap();
    return 0;
}
