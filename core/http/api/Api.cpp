#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "json/JsonText.h"

#include "http/Problem.h"
#include "http/RequestBody.h"
#include "logging/Logging.h"
#include "services/AuditLog.h"
#include "services/OidcVerifier.h"
#include "services/ServiceErrors.h"
#include "services/Severities.h"
#include "services/Tokens.h"
#include "storage/PgConnection.h"
#include "storage/TenantScope.h"
#include "storage/TenantStore.h"

#include <pulse/json.hpp>

#include <Poco/Data/DataException.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <sstream>

namespace pulse::http {
namespace {

// The database is away (R4): the client is told to come back, not that the server failed.
void databaseUnavailable(Exchange& ex, const std::string& why) {
    logging::get("api")->warn("{} {}: the database is unavailable: {}", ex.request.getMethod(), ex.path, why);
    if (ex.response.sent()) return;
    ex.response.set("Retry-After", "5");
    sendProblem(ex.response, 503, "Service Unavailable", "the database is unavailable; retry shortly",
                ex.path);
}

bool unsafeMethod(const std::string& m) {
    return m != "GET" && m != "HEAD" && m != "OPTIONS";
}

bool sameSecret(const std::string& a, const std::string& b) {
    return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool meetsAccess(const services::Principal& p, Access access) {
    switch (access) {
        case Access::Public:
        case Access::Reader:
            return true;
        case Access::Member:
            return p.role == "customer" || p.role == "tenant-admin" || p.role == "operator-admin";
        case Access::TenantAdmin:
            return p.role == "tenant-admin" || p.role == "operator-admin";
        case Access::OperatorAdmin:
            return p.role == "operator-admin";
    }
    return false;
}

}  // namespace

std::string toJson(const Poco::JSON::Object::Ptr& object) {
    return json::toJsonText(object);
}

void sendObject(Exchange& ex, int status, const Poco::JSON::Object::Ptr& object) {
    sendJson(ex.response, status, toJson(object));
}

Poco::Dynamic::Var jsonValue(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse(text);
}

const std::vector<std::string> kAlertSeverities(services::kSeverities.begin(), services::kSeverities.end());
const std::vector<std::string> kAlertStatusFilters = {"OPEN", "ACKNOWLEDGED", "CLOSED", "ALL"};

long long nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Poco::Dynamic::Var orNull(const std::optional<std::string>& value) {
    return value ? Poco::Dynamic::Var(*value) : Poco::Dynamic::Var();
}

std::string Call::bodyText(const std::string& mediaType) {
    auto& req = ex.request;
    // The media type without its parameters ("application/json; charset=utf-8"), exactly: a prefix match
    // would take application/jsonfoo for JSON.
    std::string type =
        Poco::toLower(Poco::trim(req.getContentType().substr(0, req.getContentType().find(';'))));
    // JSON (or CSV for imports, which need a session's CSRF token or an API key): a cross-site HTML form
    // cannot send either without a CORS preflight (login CSRF defence).
    if (type != mediaType) throw ApiError(415, "Unsupported Media Type", "the body must be " + mediaType);
    std::string text;
    auto limit = api.settings().maxBodyBytes;
    auto read = readRequestBody(req, ex.response, limit, text);
    if (read != BodyRead::Complete) {
        if (read == BodyRead::TooLarge)
            throw ApiError(413, "Content Too Large",
                           "the body is larger than the limit of " + std::to_string(limit) + " bytes");
        throw ApiError(400, "Bad Request", "the body ended before its announced length or could not be read");
    }
    return text;
}

std::string Call::query(const std::string& name) const {
    if (!query_) {
        try {
            query_ = Poco::URI(ex.request.getURI()).getQueryParameters();
        } catch (const Poco::Exception&) {
            throw ApiError(400, "Bad Request", "the query string is malformed");
        }
    }
    for (const auto& [k, v] : *query_)
        if (k == name) {
            if (v.find('\0') != std::string::npos)
                throw ApiError(400, "Bad Request", name + " must not contain a NUL character", name);
            return v;
        }
    return "";
}

std::optional<std::string> Call::idQuery(const std::string& name, const std::string& problem) const {
    std::string v = query(name);
    if (v.empty()) return std::nullopt;
    if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
        throw ApiError(422, "Unprocessable Content", problem, name);
    return v;
}

std::optional<long long> Call::timeQuery(const std::string& name) const {
    std::string v = query(name);
    if (v.empty()) return std::nullopt;
    if (v.size() <= 15 && v.find_first_not_of("0123456789") == std::string::npos) return std::stoll(v);
    if (auto ms = rfc3339Ms(v)) return ms;
    throw ApiError(422, "Unprocessable Content",
                   name + " must be an RFC 3339 time (2026-01-31T12:00:00Z) or milliseconds since 1970",
                   name);
}

std::pair<long long, long long> Call::timeRange(long long defaultSpanMs) const {
    long long to = timeQuery("to").value_or(nowMs());
    long long from = timeQuery("from").value_or(to - defaultSpanMs);
    if (from >= to) throw ApiError(422, "Unprocessable Content", "from must be before to", "from");
    return {from, to};
}

std::string Call::oneOf(const std::string& name, const std::vector<std::string>& allowed,
                        const std::string& defaultValue) const {
    std::string v = query(name);
    if (v.empty()) return defaultValue;
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i)
        list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
    throw ApiError(422, "Unprocessable Content", name + " must be " + list, name);
}

int Call::limit(int defaultLimit, int max) const {
    std::string text = query("limit");
    if (text.empty()) return defaultLimit;
    size_t used = 0;
    int value = 0;
    try {
        value = std::stoi(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || value < 1 || value > max)
        throw ApiError(422, "Unprocessable Content",
                       "limit must be an integer from 1 to " + std::to_string(max), "limit");
    return value;
}

void Call::audit(const std::string& action, const std::string& target, const std::string& result,
                 const std::string& detailJson) {
    auto e = services::AuditLog::entry(principal ? &*principal : nullptr, address, action, target, result);
    if (!tenantId.empty()) e.tenantId = tenantId;
    e.detailJson = detailJson;
    api.services().audit->record(e);
}

const std::string& Call::tenant() const {
    if (tenantId.empty())
        throw ApiError(400, "Bad Request", "operators name the tenant: add ?tenant=<tenant id>", "tenant");
    return tenantId;
}

std::vector<std::string> Call::listedTenants() {
    if (!tenantId.empty() || !principal || !principal->isOperator()) return {tenant()};
    auto all = storage::TenantStore(*api.services().pool).ids();
    audit("operator.access", ex.request.getMethod() + " " + ex.path + " (all tenants)");
    return all;
}

long long Call::numericId(const char* what) const {
    const std::string& text = ex.params.at("id");
    size_t used = 0;
    long long id = 0;
    try {
        id = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || id <= 0) throw ApiError(404, "Not Found", std::string("no such ") + what);
    return id;
}

const std::string& Call::uuidId(const char* what) const {
    return uuidParam("id", what);
}

const std::string& Call::uuidParam(const char* name, const char* what) const {
    auto it = ex.params.find(name);
    if (it == ex.params.end() || !storage::isUuid(it->second))
        throw ApiError(404, "Not Found", std::string("no such ") + what);
    return it->second;
}

void Call::sendNoContent() {
    ex.response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
    ex.response.setContentLength(0);
    ex.response.send();
}

void Call::sendPage(const Poco::JSON::Array::Ptr& items, const std::optional<std::string>& nextCursor) {
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    out->set("items", items);
    out->set("next_cursor", nextCursor ? Poco::Dynamic::Var(*nextCursor) : Poco::Dynamic::Var());
    sendObject(ex, 200, out);
}

Api::Api(ApiServices services, ApiSettings settings)
    : services_(services),
      settings_(std::move(settings)),
      addressLimiter_(settings_.ipPerS, settings_.ipBurst),
      tenantLimiter_(settings_.tenantPerS, settings_.tenantBurst),
      principalLimiter_(settings_.ipPerS, settings_.ipBurst),
      loginThrottle_(settings_.loginMaxPerIp, settings_.loginMaxPerAccount,
                     std::chrono::seconds(settings_.loginWindowS)) {}

std::string Api::clientAddress(Poco::Net::HTTPServerRequest& request) const {
    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; it is the IPv4 address.
    auto normal = [](std::string a) {
        if (a.rfind("::ffff:", 0) == 0 && a.find('.') != std::string::npos) a = a.substr(7);
        return a;
    };
    std::string peer = normal(request.clientAddress().host().toString());
    auto trusted = [&](const std::string& address) {
        try {
            auto ip = net::Cidr::parse(address).network;
            for (const auto& c : settings_.trustedProxies)
                if (c.contains(ip)) return true;
        } catch (const std::exception&) {
        }
        return false;
    };
    if (settings_.trustedProxies.empty() || !trusted(peer) || !request.has("X-Forwarded-For")) return peer;
    // Every X-Forwarded-For line, in order (a proxy may add a line rather than append to the client's).
    // The nearest address our proxies did not add is the client; anything further left is the client's word.
    std::vector<std::string> hops;
    for (auto it = request.find("X-Forwarded-For"); it != request.end(); ++it) {
        if (Poco::icompare(it->first, "X-Forwarded-For") != 0) continue;
        std::istringstream in(it->second);
        for (std::string hop; std::getline(in, hop, ',');) hops.push_back(normal(Poco::trim(hop)));
    }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        if (!trusted(*it)) {
            try {
                return net::Cidr::parse(*it).network.text();
            } catch (const std::exception&) {
                return peer;  // garbage where an address should be: trust nothing in the header
            }
        }
    }
    return peer;
}

std::string Api::limiterKey(const std::string& address) {
    // IPv6 clients get a /64 each, and rotate freely within it: they are limited per /64.
    if (address.find(':') == std::string::npos) return address;
    try {
        auto ip = net::Cidr::parse(address).network;
        ip.bytes.resize(8);
        ip.bytes.resize(16, 0);
        return ip.text() + "/64";
    } catch (const std::exception&) {
        return address;
    }
}

std::optional<services::Principal> Api::authenticate(Call& call, bool& presented) {
    auto& req = call.ex.request;
    presented = false;
    if (req.has("Authorization")) {
        presented = true;
        const std::string& auth = req.get("Authorization");
        if (auth.size() > 7 && Poco::icompare(auth.substr(0, 7), "Bearer ") == 0) {
            std::string token = Poco::trim(auth.substr(7));
            if (token.rfind("pk_", 0) == 0) return services_.identity->fromApiKey(token);
            if (services_.oidc && services::OidcVerifier::looksLikeJwt(token))
                return fromOidcToken(call, token);
            call.rejection = services_.oidc ? "not an API key or a JWT" : "not an API key (OIDC is off)";
        }
        return std::nullopt;
    }
    Poco::Net::NameValueCollection cookies;
    req.getCookies(cookies);
    int sessions = 0;
    std::string cookie;
    for (const auto& [name, value] : cookies) {
        if (name == sessionCookieName()) {
            ++sessions;
            cookie = value;
        }
    }
    if (sessions > 1) {  // a cookie planted beside ours (a sibling domain): trust neither
        presented = true;
        return std::nullopt;
    }
    if (!cookie.empty()) {
        presented = true;
        return services_.identity->fromSession(cookie);
    }
    return std::nullopt;
}

std::optional<services::Principal> Api::fromOidcToken(Call& call, const std::string& token) {
    auto identity = services_.oidc->verify(token, call.rejection);
    if (!identity) return std::nullopt;
    services::Principal p;
    p.kind = services::Principal::Kind::Bearer;
    p.role = identity->role;
    p.label = "oidc:" + identity->label;
    // A stable id per (issuer, subject) in UUID form, for rate limits and the audit log's actor_id.
    std::string h = services::tokenDigest(identity->issuer + "\n" + identity->subject);
    h[12] = '8';                                                  // version 8: custom
    h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 9562 variant
    p.id = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20, 12);
    if (!identity->tenantSlug.empty()) {
        p.tenantId = storage::TenantStore(*services_.pool).idBySlug(identity->tenantSlug).value_or("");
        if (p.tenantId.empty()) {
            call.rejection = "the token's tenant '" + identity->tenantSlug.substr(0, 64) + "' does not exist";
            return std::nullopt;
        }
    }
    return p;
}

void Api::route(Router& router, const std::string& method, const std::string& pattern,
                const std::string& name, Access access, std::function<void(Call&)> handler) {
    router.add(method, pattern, name, [this, access, handler = std::move(handler)](Exchange& ex) {
        Call call(ex, *this, clientAddress(ex.request));
        try {
            if (int wait = addressLimiter_.take("ip:" + limiterKey(call.address))) {
                ex.response.set("Retry-After", std::to_string(wait));
                throw ApiError(429, "Too Many Requests", "too many requests from this address; retry later");
            }
            if (access != Access::Public) {
                bool presented = false;
                call.principal = authenticate(call, presented);
                if (!call.principal) {
                    if (presented) {
                        call.audit(
                            "auth.rejected", ex.path, "denied",
                            call.rejection.empty() ? "{}" : json::objectOf({{"reason", call.rejection}}));
                        logging::get("api")->info("{} {} from {}: credentials rejected{}{}",
                                                  ex.request.getMethod(), ex.path, call.address,
                                                  call.rejection.empty() ? "" : ": ", call.rejection);
                    }
                    ex.response.set("WWW-Authenticate", "Bearer realm=\"pulse\"");
                    throw ApiError(401, "Unauthorized",
                                   presented ? "the credentials are not valid (expired, revoked or unknown)"
                                             : "sign in, or send an API key as Authorization: Bearer");
                }
                auto& p = *call.principal;
                if (p.kind == services::Principal::Kind::Session && unsafeMethod(ex.request.getMethod())) {
                    std::string sent = ex.request.get("X-CSRF-Token", "");
                    if (!sameSecret(sent, p.csrfToken)) {
                        call.audit("auth.csrf_rejected", ex.path, "denied");
                        throw ApiError(
                            403, "Forbidden",
                            "a cookie-authenticated change needs the session's X-CSRF-Token header");
                    }
                }
                if (p.isOperator()) {
                    std::string t = call.query("tenant");
                    if (!t.empty() && !storage::isUuid(t))
                        throw ApiError(400, "Bad Request", "tenant must be a tenant id", "tenant");
                    if (!t.empty() && !tenantExists(t))
                        throw ApiError(404, "Not Found", "no such tenant", "tenant");
                    call.tenantId = t;
                } else {
                    call.tenantId = p.tenantId;
                }
                if (!meetsAccess(p, access)) {
                    call.audit("auth.forbidden", ex.request.getMethod() + " " + ex.path, "denied");
                    throw ApiError(403, "Forbidden", "the role " + p.role + " may not do this");
                }
                // Per principal (user or key) at the per-address rate: one busy script does not use up its
                // address's or its tenant's allowance alone.
                if (int wait = principalLimiter_.take("p:" + p.id)) {
                    ex.response.set("Retry-After", std::to_string(wait));
                    throw ApiError(429, "Too Many Requests",
                                   "too many requests from this user or key; retry later");
                }
                if (!call.tenantId.empty()) {
                    if (int wait = tenantLimiter_.take("t:" + call.tenantId)) {
                        ex.response.set("Retry-After", std::to_string(wait));
                        throw ApiError(429, "Too Many Requests", "the tenant's request rate is exceeded");
                    }
                }
                // Every operator access to a tenant's data is audited (docs/reliability.md S10).
                if (p.isOperator() && !call.tenantId.empty())
                    call.audit("operator.access", ex.request.getMethod() + " " + ex.path);
            }
            handler(call);
        } catch (const ApiError& e) {
            if (!ex.response.sent()) sendProblem(ex.response, e.status, e.title, e.what(), ex.path, e.field);
        } catch (const services::NotFound& e) {
            if (!ex.response.sent()) sendProblem(ex.response, 404, "Not Found", e.what(), ex.path);
        } catch (const services::Conflict& e) {
            if (!ex.response.sent()) sendProblem(ex.response, 409, "Conflict", e.what(), ex.path);
        } catch (const std::invalid_argument& e) {
            if (!ex.response.sent())
                sendProblem(ex.response, 422, "Unprocessable Content", e.what(), ex.path);
        } catch (const storage::DatabaseError& e) {
            if (storage::isTransient(e)) return databaseUnavailable(ex, e.what());
            // A row referenced, or a name taken, by a concurrent change after this request checked it.
            if (e.sqlState() != "23503" && e.sqlState() != "23505") throw;
            logging::get("api")->info("{} {}: conflict with a concurrent change: {}", ex.request.getMethod(),
                                      ex.path, e.what());
            if (!ex.response.sent())
                sendProblem(ex.response, 409, "Conflict",
                            "a row this request refers to was changed at the same time; retry", ex.path);
        } catch (const Poco::Data::DataException& e) {
            // The Poco Data pool's side of the same (its sessions cannot reach PostgreSQL).
            return databaseUnavailable(ex, e.displayText());
        }
    });
}

std::string Api::sessionCookieName() const {
    // __Host-: only ever set by this host over HTTPS for path /, so a sibling domain cannot plant one.
    return settings_.secureCookies ? "__Host-pulse_session" : "pulse_session";
}

bool Api::tenantExists(const std::string& tenantId) const {
    return storage::TenantStore(*services_.pool).exists(tenantId);
}

void Api::mountAll(Router& router) {
    route(router, "GET", "/api/v1/openapi.json", "api.openapi", Access::Public,
          [](Call& call) { sendJson(call.ex.response, 200, openApiDocument()); });
    addSessionRoutes(router, *this);
    addApiKeyRoutes(router, *this);
    addDeviceRoutes(router, *this);
    addAlertRoutes(router, *this);
    addAuditRoutes(router, *this);
    addChannelRoutes(router, *this);
    addRuleRoutes(router, *this);
    addPluginRoutes(router, *this);
    addSiteRoutes(router, *this);
    addUserRoutes(router, *this);
    addTenantRoutes(router, *this);
    addMetricRoutes(router, *this);
    addFleetRoutes(router, *this);
    addStreamRoutes(router, *this);
    addExportRoutes(router, *this);
    addDeadLetterRoutes(router, *this);
    addEscalationRoutes(router, *this);
    addScheduleRoutes(router, *this);
    addAcknowledgeRoutes(router, *this);
    addMaintenanceRoutes(router, *this);
}

}  // namespace pulse::http
