#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstddef>
#include <istream>
#include <string>

namespace pulse::http {

enum class BodyRead {
    Complete,
    TooLarge,    // more than the limit (answer 413)
    Incomplete,  // shorter than its Content-Length, or the stream failed (a malformed chunk, a timeout)
};

// Reads a request body of at most `limit` bytes into `body`. Reading stops one byte past the limit, so
// an unannounced oversized chunked body is caught without reading all of it. `expected` (the
// Content-Length, or 0 when chunked) sizes the first read: a small request does not pay for the largest
// one allowed. After TooLarge or Incomplete the connection cannot carry another request.
BodyRead readBodyUpTo(std::istream& in, size_t limit, size_t expected, std::string& body);

// A request's body, as above: a Content-Length over the limit is TooLarge without reading, and after
// TooLarge or Incomplete the response closes the connection (the rest of the body is unread).
BodyRead readRequestBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                         long long limit, std::string& body);

}  // namespace pulse::http
