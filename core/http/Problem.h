#pragma once

#include <Poco/Net/HTTPServerResponse.h>

#include <string>

namespace pulse::http {

// Sends an RFC 9457 problem document (application/problem+json).
// field names the request member at fault (an extension member), when there is one; extensionMembers are
// further members as JSON text ("\"errors\":[...]"), appended as they are.
void sendProblem(Poco::Net::HTTPServerResponse& response, int status, const std::string& title,
                 const std::string& detail, const std::string& instance = "", const std::string& field = "",
                 const std::string& extensionMembers = "");

// Sends a JSON document with the given status.
void sendJson(Poco::Net::HTTPServerResponse& response, int status, const std::string& body);

// Headers every response carries (CSP, nosniff, frame-ancestors, Referrer-Policy).
// The policy every response carries: nothing inline, nothing from elsewhere.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'";
void applySecurityHeaders(Poco::Net::HTTPServerResponse& response);

}  // namespace pulse::http
