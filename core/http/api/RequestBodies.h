#pragma once

#include "http/api/ApiError.h"
#include "services/ChannelService.h"
#include "storage/ContactMethodStore.h"
#include "storage/EscalationPolicyStore.h"
#include "storage/MaintenanceStore.h"
#include "storage/ScheduleStore.h"

#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <vector>

namespace pulse::http {

// The JSON bodies the API accepts, parsed and checked member by member. Each parser returns the request
// or throws ApiError (400 for a body that is not a JSON object, 422 naming the member that is wrong);
// nothing else escapes them (tests/fuzz/fuzz_request_bodies.cpp).

Poco::JSON::Object::Ptr parseJsonObject(const std::string& text);

struct CredentialsBody {
    std::string email;  // trimmed, lower case
    std::string password;
};
CredentialsBody parseCredentials(const std::string& text);

struct NewApiKeyBody {
    std::string name;
    std::string role = "customer";
    std::optional<int> ttlDays;
};
NewApiKeyBody parseNewApiKey(const std::string& text);

struct NewDeviceBody {
    std::string name;
    std::vector<std::string> tags;
    std::optional<std::string> siteId;
};
NewDeviceBody parseNewDevice(const std::string& text);

struct NewChannelBody {
    std::string name;
    std::string type;
    std::string configJson;  // the "config" object, secrets included, as text
    int maxConcurrency = 4;
};
NewChannelBody parseNewChannel(const std::string& text);

services::RouteSpec parseNewRoute(const std::string& text);

struct RuleBody {
    std::string name;
    std::string type;
    std::string configJson = "{}";
    std::string severity = "MEDIUM";
    std::string scopeKind = "tenant";       // tenant, site, tag, device
    std::optional<std::string> scopeValue;  // the site id, tag or device id
    bool autoClose = true;
    int flapThreshold = 3;
    int flapWindowS = 600;
    bool enabled = true;
    std::optional<std::string> escalationPolicyId;
};
RuleBody parseRule(const std::string& text);

// A member that may be absent (leave as is), null (clear) or a value (set).
template <typename T>
using Change = std::optional<std::optional<T>>;

inline std::optional<std::string> changedTo(const Change<std::string>& c) {
    return c ? *c : std::nullopt;
}
inline std::optional<std::string> changedTo(const Change<int>& c) {
    return c && *c ? std::optional<std::string>(std::to_string(**c)) : std::nullopt;
}

// An escalation policy, whole (POST creates, PUT replaces).
storage::EscalationPolicyFields parseEscalationPolicy(const std::string& text);
// A user's new contact method.
storage::ContactMethodFields parseContactMethod(const std::string& text);
// An on-call schedule, whole (POST creates, PUT replaces): a field is named for a handoff at 25:00
// ("layers[0].handoff"), an 11th layer, an impossible date; the zone is checked against the time-zone
// database when saved.
storage::ScheduleFields parseSchedule(const std::string& text);
// An RFC 3339 time (2026-01-31T12:00:00Z, fractions and offsets allowed) in milliseconds since 1970.
std::optional<long long> rfc3339Ms(const std::string& text);
// A maintenance window, whole (POST creates, PUT replaces): fields named for a one-off's ends_at before its
// starts_at, a recurring one's start_time at 25:00, days out of range, a scope of the wrong shape.
storage::MaintenanceWindowFields parseMaintenanceWindow(const std::string& text);
// A schedule override: a user, and a range of at most 90 days.
storage::OverrideFields parseOverride(const std::string& text);

struct DeviceChangeBody {
    std::optional<std::vector<std::string>> tags;
    Change<std::string> siteId;
    Change<int> staleAfterS, offlineAfterS;
    Change<long long> parentId;  // the device's gateway; null: none
};
DeviceChangeBody parseDeviceChange(const std::string& text);

struct SiteBody {
    std::optional<std::string> name;      // required when creating
    std::optional<std::string> timeZone;  // IANA name; UTC when creating without one
};
SiteBody parseSite(const std::string& text, bool creating);

struct NewUserBody {
    std::string email;  // trimmed, lower case
    std::string displayName;
    std::string role;  // customer or tenant-admin
    std::string password;
};
NewUserBody parseNewUser(const std::string& text);

struct UserChangeBody {
    std::optional<std::string> role;
    std::optional<bool> disabled;
    std::optional<std::string> displayName;
};
UserChangeBody parseUserChange(const std::string& text);

struct NewTenantBody {
    std::string slug;
    std::string name;
    std::optional<int> deviceLimit;
};
NewTenantBody parseNewTenant(const std::string& text);

struct TenantChangeBody {
    std::optional<std::string> name;
    Change<int> deviceLimit;
};
TenantChangeBody parseTenantChange(const std::string& text);

// PATCH /api/v1/settings: the tenant's default device thresholds (absent: as they are), 1 s to 30 days.
struct SettingsChangeBody {
    std::optional<int> defaultStaleAfterS, defaultOfflineAfterS;
};
SettingsChangeBody parseSettingsChange(const std::string& text);

struct MetricChangeBody {
    std::optional<std::string> unit, description;
};
MetricChangeBody parseMetricChange(const std::string& text);

// {"assignee_id": "<user id>" | null}
std::optional<std::string> parseAssignee(const std::string& text);
// {"text": "..."}: 1-4000 characters.
std::string parseComment(const std::string& text);

struct BulkAlertBody {
    std::vector<long long> ids;  // 1-200 distinct alert ids
    std::string action;          // acknowledge, close, silence
    int minutes = 0;             // silence
    std::string reason;          // close
};
BulkAlertBody parseBulkAlertAction(const std::string& text);

int parseSilenceMinutes(const std::string& text);       // 1..43200
std::string parseCloseReason(const std::string& text);  // empty body: the default reason

}  // namespace pulse::http
