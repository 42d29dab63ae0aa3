#include "http/RequestBody.h"

#include <algorithm>

namespace pulse::http {

BodyRead readBodyUpTo(std::istream& in, size_t limit, size_t expected, std::string& body) {
    body.clear();
    size_t step = expected > 0 ? std::min<size_t>(expected + 1, 65536) : 4096;
    while (body.size() <= limit && in) {
        size_t have = body.size();
        size_t want = std::min(limit + 1 - have, std::max(step, have));  // grows geometrically
        body.resize(have + want);
        in.read(&body[have], static_cast<std::streamsize>(want));
        body.resize(have + static_cast<size_t>(in.gcount()));
    }
    if (body.size() > limit) return BodyRead::TooLarge;
    // Poco's streams report a broken chunk or a timeout as badbit; a body cut short ends early.
    if (in.bad() || (expected > 0 && body.size() < expected)) return BodyRead::Incomplete;
    return BodyRead::Complete;
}

BodyRead readRequestBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                         long long limit, std::string& body) {
    long long announced = request.hasContentLength() ? request.getContentLength64() : 0;
    BodyRead read = announced > limit ? BodyRead::TooLarge
                                      : readBodyUpTo(request.stream(), static_cast<size_t>(limit),
                                                     static_cast<size_t>(std::max(announced, 0LL)), body);
    if (read != BodyRead::Complete) response.setKeepAlive(false);
    return read;
}

}  // namespace pulse::http
