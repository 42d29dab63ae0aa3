#include "http/BufferedExchange.h"

#include "http/Problem.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/String.h>

#include <fstream>

namespace pulse::http {

std::ostream& BufferedResponse::send() {
    if (sent_) throw Poco::IllegalStateException("the response was already sent");
    sent_ = true;
    return body_;
}

void BufferedResponse::sendFile(const std::string& path, const std::string& mediaType) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Poco::FileNotFoundException(path);
    setContentType(mediaType);
    send() << in.rdbuf();
}

void BufferedResponse::sendBuffer(const void* buffer, std::size_t length) {
    send().write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
}

void BufferedResponse::redirect(const std::string& uri, HTTPStatus status) {
    setStatusAndReason(status);
    set("Location", uri);
    send();
}

void BufferedResponse::requireAuthentication(const std::string& realm) {
    setStatusAndReason(HTTP_UNAUTHORIZED);
    set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
    send();
}

bool BufferedResponse::closeRequested() const {
    return has("Connection") && Poco::icompare(get("Connection"), "close") == 0;
}

void BufferedResponse::startStream(StreamOpened opened) {
    setStatusAndReason(HTTP_OK);
    setContentType("text/event-stream; charset=utf-8");
    set("Cache-Control", "no-store");
    set("X-Accel-Buffering", "no");  // a buffering proxy (nginx) would hold the events back
    stream_ = std::move(opened);
    sent_ = true;
}

std::string BufferedResponse::serialize(bool keepAlive, bool http10, bool headRequest) const {
    std::string body = body_.str();
    std::string out = http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(static_cast<int>(getStatus())) + " " + getReason() + "\r\n";
    bool noBody = getStatus() == HTTP_NO_CONTENT || getStatus() == HTTP_NOT_MODIFIED ||
                  static_cast<int>(getStatus()) < 200;
    for (const auto& [name, value] : *this) {
        if (Poco::icompare(name, "Content-Length") == 0 || Poco::icompare(name, "Transfer-Encoding") == 0 ||
            Poco::icompare(name, "Connection") == 0 || Poco::icompare(name, "Date") == 0)
            continue;
        std::string clean = value;  // a value with a line break would start a header of its own
        for (char& c : clean)
            if (c == '\r' || c == '\n') c = ' ';
        out += name + ": " + clean + "\r\n";
    }
    out += "Date: " + Poco::DateTimeFormatter::format(Poco::DateTime(), Poco::DateTimeFormat::HTTP_FORMAT) +
           "\r\n";
    if (stream_) {
        // An event stream has no length: HTTP/1.1 frames it in chunks, HTTP/1.0 ends it by closing.
        out += http10 ? "Connection: close\r\n\r\n" : "Transfer-Encoding: chunked\r\n\r\n";
        return out;
    }
    if (!noBody) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!keepAlive)
        out += "Connection: close\r\n";
    else if (http10)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
    if (!headRequest && !noBody) out += body;
    return out;
}

std::string closingProblem(int status, const std::string& detail, int retryAfterS, bool headRequest) {
    BufferedResponse response;
    applySecurityHeaders(response);
    if (status == 503 || status == 429) response.set("Retry-After", std::to_string(retryAfterS));
    auto code = static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status);
    sendProblem(response, status, Poco::Net::HTTPResponse::getReasonForStatus(code), detail);
    return response.serialize(false, false, headRequest);
}

}  // namespace pulse::http
