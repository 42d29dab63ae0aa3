#include "http/Problem.h"

#include <pulse/json.hpp>

#include <Poco/Net/HTTPResponse.h>

namespace pulse::http {

void sendJson(Poco::Net::HTTPServerResponse& response, int status, const std::string& body) {
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    if (response.getContentType() == Poco::Net::HTTPMessage::UNKNOWN_CONTENT_TYPE)
        response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
}

void sendProblem(Poco::Net::HTTPServerResponse& response, int status, const std::string& title,
                 const std::string& detail, const std::string& instance, const std::string& field,
                 const std::string& extensionMembers) {
    std::string body = json::problem(status, title, detail, instance, field, [&](json::Writer& w) {
        if (!extensionMembers.empty()) w.raw(extensionMembers);
    });
    response.setContentType("application/problem+json");
    sendJson(response, status, body);
}

void applySecurityHeaders(Poco::Net::HTTPServerResponse& response) {
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Content-Security-Policy", kContentSecurityPolicy);
    response.set("X-Frame-Options", "DENY");
    response.set("Referrer-Policy", "no-referrer");
    response.set("Cache-Control", "no-store");
}

}  // namespace pulse::http
