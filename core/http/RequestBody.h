#pragma once

#include <cstddef>
#include <istream>
#include <string>

namespace pulse::http {

// Reads a request body of at most `limit` bytes into `body`; false when there is more (answer 413).
// Reading stops one byte past the limit, so an unannounced oversized chunked body is caught without
// reading all of it. `expected` (the Content-Length, or 0 when chunked) sizes the first read: a small
// request does not pay for the largest one allowed.
bool readBodyUpTo(std::istream& in, size_t limit, size_t expected, std::string& body);

}  // namespace pulse::http
