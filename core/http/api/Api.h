#pragma once

#include "config/Settings.h"
#include "http/Router.h"
#include "http/api/ApiError.h"
#include "net/EgressGuard.h"
#include "services/IdentityService.h"
#include "services/RateLimits.h"
#include "storage/SqlText.h"
#include "storage/TenantScope.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>

#include <algorithm>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pulse::services {
class AuditLog;
class AlertService;
class ChannelService;
class OidcVerifier;
class LiveEvents;
class LinkSigner;
}  // namespace pulse::services
namespace pulse::plugins {
class PluginManager;
}
namespace pulse::storage {
class Database;
class PgPool;
}  // namespace pulse::storage

namespace pulse::http {

// What the REST API (/api/v1) is built on: who is asking (session cookie or API key), from which
// address (X-Forwarded-For only from trusted proxies), rate limits per address and per tenant, CSRF for
// cookie sessions, role checks, RFC 9457 problems, and the audit log. Resources live in their own files
// (SessionRoutes.cpp, DeviceRoutes.cpp, ...) and take the tenant from the principal, never the body.

struct ApiServices {
    storage::Database* db = nullptr;
    storage::PgPool* pool = nullptr;  // tenant-scoped queries of the resources
    services::IdentityService* identity = nullptr;
    services::AuditLog* audit = nullptr;
    services::AlertService* alerts = nullptr;      // may be null (alerts routes answer 503)
    services::ChannelService* channels = nullptr;  // may be null (channel routes answer 503)
    const plugins::PluginManager* plugins = nullptr;
    services::OidcVerifier* oidc = nullptr;  // null: bearer tokens other than API keys are refused
    // Called after devices changed: drops the ingest registry's cached answers (identity, tags, site) and,
    // when credentials changed (create, rotate, revoke, decommission, import), rewrites the broker's password
    // file, so the change holds at once.
    std::function<void(bool credentials)> devicesChanged;
    services::LiveEvents* live = nullptr;         // null: the live stream answers 503
    const services::LinkSigner* links = nullptr;  // null or keyless: calendar feed URLs answer 503
};

// The API's limits, and the proxies whose X-Forwarded-For it believes (from http.trusted_proxies).
struct ApiSettings : config::ApiSettings {
    std::vector<net::Cidr> trustedProxies;
    long long maxBodyBytes = 0;  // http.max_body_bytes
    // What the console needs to offer OIDC sign-in (GET /api/v1/session/providers); empty client: none.
    std::string oidcIssuer, oidcConsoleClientId, oidcDisplayName;
    std::string consoleUrl;  // notify.console_url: signed URLs are absolute when it is set
};

// Who may call a route.
enum class Access {
    Public,         // anyone (login)
    Reader,         // any signed-in principal; operators read any tenant (audited)
    Member,         // customers and tenant-admins of the tenant, operator-admins: everyday changes
    TenantAdmin,    // tenant-admins of the tenant, operator-admins: devices, keys, users
    OperatorAdmin,  // operator-admins only: tenants and system settings
};

class Api;

// One API request as a handler sees it.
struct Call {
    Call(Exchange& exchange, Api& api, std::string address)
        : ex(exchange), api(api), address(std::move(address)) {}

    Exchange& ex;
    Api& api;
    std::string address;
    std::optional<services::Principal> principal;
    std::string tenantId;   // the tenant the request acts on: the principal's, or an operator's ?tenant=
    std::string rejection;  // why presented credentials were refused (for the log and audit, not the client)

    // The body's text (415 unless of the given media type); parse JSON with RequestBodies.h.
    std::string bodyText(const std::string& mediaType = "application/json");
    // A query parameter, empty when absent (the query string is parsed once per request).
    std::string query(const std::string& name) const;
    // A query parameter that names a row by its integer id (or a cursor made of one): nullopt when absent,
    // 422 naming it when it is not a non-negative integer that fits a bigint.
    std::optional<std::string> idQuery(const std::string& name, const std::string& problem) const;
    // A time query parameter (RFC 3339, or milliseconds since the epoch) in milliseconds; nullopt when
    // absent, 422 naming it otherwise.
    std::optional<long long> timeQuery(const std::string& name) const;
    // from= and to= (timeQuery), to defaulting to now and from to spanMs before to; 422 unless from < to.
    std::pair<long long, long long> timeRange(long long defaultSpanMs) const;
    // A query parameter that must be one of `allowed`: the default when absent, 422 naming it otherwise.
    std::string oneOf(const std::string& name, const std::vector<std::string>& allowed,
                      const std::string& defaultValue = "") const;
    // limit= in [1, max] (422 otherwise), default when absent.
    int limit(int defaultLimit = 50, int max = 200) const;
    // Records the action in the audit log as this principal.
    void audit(const std::string& action, const std::string& target, const std::string& result = "ok",
               const std::string& detailJson = "{}");
    // The tenant, or 400 for an operator who did not name one.
    const std::string& tenant() const;
    // The tenants a list reads: the request's tenant, or every tenant for an operator who named none (that
    // access is audited as such).
    std::vector<std::string> listedTenants();
    // The {id} path parameter as a positive integer, or 404 "no such <what>".
    long long numericId(const char* what) const;
    // The {id} path parameter as a UUID, or 404 "no such <what>".
    const std::string& uuidId(const char* what) const;
    // Another path parameter ({method}, {override}) as a UUID, or 404 "no such <what>".
    const std::string& uuidParam(const char* name, const char* what) const;
    // 204, no body.
    void sendNoContent();
    // A list page: {"items": [...], "next_cursor": cursor or null}.
    void sendPage(const Poco::JSON::Array::Ptr& items, const std::optional<std::string>& nextCursor);

  private:
    mutable std::optional<Poco::URI::QueryParameters> query_;
};

class Api {
  public:
    Api(ApiServices services, ApiSettings settings);

    void route(Router& router, const std::string& method, const std::string& pattern, const std::string& name,
               Access access, std::function<void(Call&)> handler);

    // Mounts every /api/v1 resource.
    void mountAll(Router& router);

    std::string clientAddress(Poco::Net::HTTPServerRequest& request) const;
    // The key a client is rate-limited under: its address, or its /64 for IPv6.
    static std::string limiterKey(const std::string& address);
    std::string sessionCookieName() const;
    const ApiServices& services() const { return services_; }
    const ApiSettings& settings() const { return settings_; }
    services::LoginThrottle& loginThrottle() { return loginThrottle_; }

  private:
    std::optional<services::Principal> authenticate(Call& call, bool& presented);
    std::optional<services::Principal> fromOidcToken(Call& call, const std::string& token);
    bool tenantExists(const std::string& tenantId) const;

    ApiServices services_;
    ApiSettings settings_;
    services::RateLimiter addressLimiter_;
    services::RateLimiter tenantLimiter_;
    services::RateLimiter principalLimiter_;
    services::LoginThrottle loginThrottle_;
};

// JSON helpers shared by the resource files.
void sendObject(Exchange& ex, int status, const Poco::JSON::Object::Ptr& object);
std::string toJson(const Poco::JSON::Object::Ptr& object);
// A JSON document the database produced (config::text, detail::text, array_to_json(...)::text).
Poco::Dynamic::Var jsonValue(const std::string& text);
// What the alert filters accept.
extern const std::vector<std::string> kAlertSeverities;     // CRITICAL, HIGH, MEDIUM, LOW, INFO
extern const std::vector<std::string> kAlertStatusFilters;  // OPEN, ACKNOWLEDGED, CLOSED, ALL
// Now, in milliseconds since 1970.
long long nowMs();
// A nullable column as JSON: null when SQL NULL.
Poco::Dynamic::Var orNull(const std::optional<std::string>& value);

// docs/openapi.json, compiled in.
const char* openApiDocument();

void addSessionRoutes(Router& router, Api& api);
void addApiKeyRoutes(Router& router, Api& api);
void addDeviceRoutes(Router& router, Api& api);
void addAlertRoutes(Router& router, Api& api);
void addAuditRoutes(Router& router, Api& api);
void addChannelRoutes(Router& router, Api& api);
void addRuleRoutes(Router& router, Api& api);
void addPluginRoutes(Router& router, Api& api);
void addSiteRoutes(Router& router, Api& api);
void addUserRoutes(Router& router, Api& api);
void addTenantRoutes(Router& router, Api& api);
void addMetricRoutes(Router& router, Api& api);
void addFleetRoutes(Router& router, Api& api);
void addStreamRoutes(Router& router, Api& api);
void addExportRoutes(Router& router, Api& api);
void addDeadLetterRoutes(Router& router, Api& api);
void addEscalationRoutes(Router& router, Api& api);
void addScheduleRoutes(Router& router, Api& api);
void addAcknowledgeRoutes(Router& router, Api& api);
void addMaintenanceRoutes(Router& router, Api& api);

}  // namespace pulse::http
