#pragma once

#include "http/api/ApiError.h"
#include "services/ChannelService.h"

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
};
RuleBody parseRule(const std::string& text);

int parseSilenceMinutes(const std::string& text);       // 1..43200
std::string parseCloseReason(const std::string& text);  // empty body: the default reason

}  // namespace pulse::http
