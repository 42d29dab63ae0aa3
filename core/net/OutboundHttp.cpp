#include "net/OutboundHttp.h"

#include <Poco/DateTimeParser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <chrono>
#include <memory>
#include <mutex>

namespace pulse::net {
namespace {

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Poco::Net::Context::Ptr clientContext() {
    static std::once_flag once;
    static Poco::Net::Context::Ptr context;
    std::call_once(once, [] {
        Poco::Net::initializeSSL();
        // Certificates are verified against the system's CA store and the URL's host name.
        context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                         Poco::Net::Context::VERIFY_RELAXED, 9, true);
    });
    return context;
}

}  // namespace

int64_t parseRetryAfter(const std::string& value, int64_t now) {
    if (value.empty()) return -1;
    if (value.find_first_not_of("0123456789") == std::string::npos) {
        if (value.size() > 9) return -1;
        return std::stoll(value) * 1000;
    }
    try {
        int tz = 0;
        Poco::DateTime when = Poco::DateTimeParser::parse(value, tz);
        int64_t at = when.timestamp().epochMicroseconds() / 1000 - static_cast<int64_t>(tz) * 1000;
        return at > now ? at - now : 0;
    } catch (...) {
        return -1;
    }
}

OutboundResponse OutboundHttp::send(const OutboundRequest& req) const {
    OutboundResponse out;
    EgressTarget target;
    try {
        target = guard_.check(req.url);
    } catch (const EgressDenied& e) {
        out.outcome = OutboundResponse::Outcome::Denied;
        out.error = e.what();
        return out;
    } catch (const EgressUnresolved& e) {
        out.outcome = OutboundResponse::Outcome::Unavailable;
        out.error = e.what();
        return out;
    } catch (const std::exception& e) {
        out.outcome = OutboundResponse::Outcome::Invalid;
        out.error = e.what();
        return out;
    }
    Poco::Timespan timeout(std::max<int64_t>(req.timeoutMs, 1) * 1000);
    std::string lastError;
    for (const auto& address : target.addresses) {
        try {
            std::unique_ptr<Poco::Net::HTTPClientSession> session;
            if (target.scheme == "https") {
                Poco::Net::SecureStreamSocket socket(clientContext());
                socket.setPeerHostName(target.host);  // SNI and certificate check against the URL's host
                session = std::make_unique<Poco::Net::HTTPSClientSession>(socket);
            } else {
                session = std::make_unique<Poco::Net::HTTPClientSession>();
            }
            session->setHost(address.text());  // dial the checked address, not the name again
            session->setPort(target.port);
            session->setTimeout(timeout, timeout, timeout);
            session->setKeepAlive(false);
            Poco::Net::HTTPRequest request(req.method, target.pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
            bool v6 = target.host.find(':') != std::string::npos;
            request.setHost(v6 ? "[" + target.host + "]" : target.host, target.port);
            for (const auto& [name, value] : req.headers) request.set(name, value);
            if (!req.body.empty() || req.method == "POST" || req.method == "PUT")
                request.setContentLength(static_cast<std::streamsize>(req.body.size()));
            std::ostream& os = session->sendRequest(request);
            os.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
            Poco::Net::HTTPResponse response;
            std::istream& is = session->receiveResponse(response);
            out.status = static_cast<int>(response.getStatus());
            out.retryAfterMs = parseRetryAfter(response.get("Retry-After", ""), nowMs());
            std::string body(req.maxBodyBytes, '\0');
            is.read(&body[0], static_cast<std::streamsize>(body.size()));
            body.resize(static_cast<size_t>(is.gcount()));
            out.body = std::move(body);
            out.outcome = OutboundResponse::Outcome::Response;
            return out;
        } catch (const Poco::TimeoutException&) {
            lastError = "timed out after " + std::to_string(req.timeoutMs) + " ms";
            break;  // the time budget is spent: do not try the next address
        } catch (const Poco::Exception& e) {
            lastError = e.displayText();
        } catch (const std::exception& e) {
            lastError = e.what();
        }
    }
    out.outcome = OutboundResponse::Outcome::Unavailable;
    out.error = target.host + ": " + lastError;
    return out;
}

std::string fetchConfiguredUrl(const std::string& url, std::chrono::milliseconds timeout, size_t maxBytes) {
    try {
        Poco::URI uri(url);
        std::unique_ptr<Poco::Net::HTTPClientSession> session;
        if (uri.getScheme() == "https")
            session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                      clientContext());
        else if (uri.getScheme() == "http")
            session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
        else
            throw std::runtime_error("only http and https URLs can be fetched");
        session->setTimeout(Poco::Timespan(static_cast<long>(timeout.count() / 1000),
                                           static_cast<long>(timeout.count() % 1000) * 1000));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Accept", "application/json");
        session->sendRequest(request);
        Poco::Net::HTTPResponse response;
        auto& body = session->receiveResponse(response);
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK)
            throw std::runtime_error("status " + std::to_string(static_cast<int>(response.getStatus())));
        std::string text;
        char buffer[8192];
        while (body) {
            body.read(buffer, sizeof buffer);
            text.append(buffer, static_cast<size_t>(body.gcount()));
            if (text.size() > maxBytes)
                throw std::runtime_error("larger than " + std::to_string(maxBytes) + " bytes");
        }
        return text;
    } catch (const Poco::Exception& e) {
        throw std::runtime_error(url + ": " + e.displayText());
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(url + ": " + e.what());
    }
}

}  // namespace pulse::net
