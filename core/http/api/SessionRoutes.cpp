// /api/v1/session: sign in (a server-side session in an HttpOnly, SameSite=Strict cookie), who am I, sign
// out.
#include "http/api/Api.h"
#include "http/api/RequestBodies.h"
#include "services/AuditLog.h"

#include <Poco/Net/HTTPCookie.h>
#include <Poco/String.h>

namespace pulse::http {
namespace {

Poco::JSON::Object::Ptr describe(const services::Principal& p) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", p.id);
    using Kind = services::Principal::Kind;
    o->set("kind", p.kind == Kind::Session ? "user" : p.kind == Kind::Bearer ? "oidc" : "api-key");
    o->set("name", p.label.substr(p.label.find(':') + 1));
    o->set("role", p.role);
    if (p.tenantId.empty())
        o->set("tenant_id", Poco::Dynamic::Var());
    else
        o->set("tenant_id", p.tenantId);
    if (!p.csrfToken.empty()) o->set("csrf_token", p.csrfToken);
    return o;
}

void setSessionCookie(Exchange& ex, const Api& api, const std::string& value, int maxAge) {
    const ApiSettings& s = api.settings();
    Poco::Net::HTTPCookie cookie(api.sessionCookieName(), value);
    cookie.setPath("/");
    cookie.setHttpOnly(true);
    cookie.setSecure(s.secureCookies);
    cookie.setMaxAge(maxAge);
    cookie.setSameSite(Poco::Net::HTTPCookie::SAME_SITE_STRICT);
    ex.response.addCookie(cookie);
}

}  // namespace

void addSessionRoutes(Router& router, Api& api) {
    api.route(router, "POST", "/api/v1/session", "api.session.login", Access::Public, [](Call& call) {
        auto credentials = parseCredentials(call.bodyText());
        const std::string& email = credentials.email;
        const std::string& password = credentials.password;
        auto& throttle = call.api.loginThrottle();
        // The attempt counts as a failure from here on, until it succeeds: concurrent guesses all count.
        if (int wait = throttle.begin(email, call.address)) {
            call.ex.response.set("Retry-After", std::to_string(wait));
            call.audit("session.login", email, "denied", "{\"reason\":\"throttled\"}");
            throw ApiError(429, "Too Many Requests", "too many failed sign-ins; retry later");
        }
        std::optional<services::NewSession> session;
        try {
            session = call.api.services().identity->login(email, password, call.address,
                                                          call.ex.request.get("User-Agent", ""));
        } catch (const services::IdentityBusy& e) {
            throttle.succeeded(email, call.address);  // not a failed guess: nothing was checked
            call.ex.response.set("Retry-After", "1");
            throw ApiError(503, "Service Unavailable", e.what());
        }
        if (!session) {
            call.audit("session.login", email, "failed");
            throw ApiError(401, "Unauthorized", "the e-mail or the password is wrong");
        }
        throttle.succeeded(email, call.address);
        call.principal = session->principal;
        call.tenantId = session->principal.tenantId;
        call.audit("session.login", email);
        setSessionCookie(call.ex, call.api, session->token, call.api.settings().sessionTtlS);
        sendObject(call.ex, 201, describe(session->principal));
    });

    // How one may sign in, before signing in: the console shows "Sign in with <name>" when an issuer and the
    // console's client are configured. Public by nature: the issuer's discovery document is public too.
    api.route(router, "GET", "/api/v1/session/providers", "api.session.providers", Access::Public,
              [](Call& call) {
                  const ApiSettings& s = call.api.settings();
                  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
                  out->set("password", true);
                  if (s.oidcConsoleClientId.empty()) {
                      out->set("oidc", Poco::Dynamic::Var());
                  } else {
                      Poco::JSON::Object::Ptr oidc = new Poco::JSON::Object;
                      oidc->set("issuer", s.oidcIssuer);
                      oidc->set("client_id", s.oidcConsoleClientId);
                      oidc->set("name", s.oidcDisplayName);
                      out->set("oidc", oidc);
                  }
                  sendObject(call.ex, 200, out);
              });

    api.route(router, "GET", "/api/v1/session", "api.session.get", Access::Reader,
              [](Call& call) { sendObject(call.ex, 200, describe(*call.principal)); });

    api.route(router, "DELETE", "/api/v1/session", "api.session.logout", Access::Reader, [](Call& call) {
        if (call.principal->kind != services::Principal::Kind::Session)
            throw ApiError(400, "Bad Request", "API keys have no session; revoke the key instead");
        Poco::Net::NameValueCollection cookies;
        call.ex.request.getCookies(cookies);
        call.api.services().identity->logout(cookies.get(call.api.sessionCookieName(), ""));
        call.audit("session.logout", call.principal->label);
        setSessionCookie(call.ex, call.api, "", 0);
        call.sendNoContent();
    });
}

}  // namespace pulse::http
