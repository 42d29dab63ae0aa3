#include "http/api/RequestBodies.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <sstream>

namespace pulse::http {
namespace {

ApiError invalid(const std::string& field, const std::string& detail) {
    return ApiError(422, "Unprocessable Content", detail, field);
}

// An integer member within [min, max]; absent gives nullopt.
std::optional<int> optionalInt(const Poco::JSON::Object::Ptr& o, const std::string& name, int min, int max) {
    if (!o->has(name)) return std::nullopt;
    auto v = o->get(name);
    long long n = 0;
    try {
        if (!v.isInteger()) throw invalid(name, name + " must be an integer");
        n = v.convert<long long>();
    } catch (const Poco::Exception&) {
        throw invalid(name, name + " must be an integer");
    }
    if (n < min || n > max)
        throw invalid(name, name + " must be from " + std::to_string(min) + " to " + std::to_string(max));
    return static_cast<int>(n);
}

std::vector<std::string> stringList(const Poco::JSON::Object::Ptr& o, const std::string& name, size_t max) {
    std::vector<std::string> out;
    if (!o->has(name)) return out;
    auto array = o->getArray(name);
    if (!array || array->size() > max)
        throw invalid(name, name + " must be an array of at most " + std::to_string(max) + " strings");
    for (size_t i = 0; i < array->size(); ++i) {
        auto v = array->get(static_cast<unsigned>(i));
        if (!v.isString()) throw invalid(name, name + " must be an array of strings");
        out.push_back(v.convert<std::string>());
    }
    return out;
}

std::optional<std::string> optionalString(const Poco::JSON::Object::Ptr& o, const std::string& name,
                                          size_t maxLength) {
    if (!o->has(name) || o->isNull(name)) return std::nullopt;
    if (!o->get(name).isString()) throw invalid(name, name + " must be a string");
    std::string v = o->getValue<std::string>(name);
    if (v.empty() || v.size() > maxLength)
        throw invalid(name, name + " must be 1-" + std::to_string(maxLength) + " characters");
    return v;
}

std::string requiredString(const Poco::JSON::Object::Ptr& o, const std::string& name, size_t maxLength) {
    auto v = optionalString(o, name, maxLength);
    if (!v) throw invalid(name, name + " is required and must be a string");
    return *v;
}

// An object member as JSON text; absent gives nullopt.
std::optional<std::string> objectText(const Poco::JSON::Object::Ptr& o, const std::string& name) {
    if (!o->has(name)) return std::nullopt;
    auto object = o->getObject(name);
    if (!object) throw invalid(name, name + " must be an object");
    std::ostringstream text;
    object->stringify(text);
    return text.str();
}

}  // namespace

Poco::JSON::Object::Ptr parseJsonObject(const std::string& text) {
    Poco::Dynamic::Var value;
    try {
        Poco::JSON::Parser parser;
        value = parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw ApiError(400, "Bad Request", "the body is not valid JSON: " + e.displayText());
    } catch (const std::exception&) {
        throw ApiError(400, "Bad Request", "the body is not valid JSON");
    }
    if (value.type() != typeid(Poco::JSON::Object::Ptr))
        throw ApiError(400, "Bad Request", "the body must be a JSON object");
    auto object = value.extract<Poco::JSON::Object::Ptr>();
    if (!object) throw ApiError(400, "Bad Request", "the body must be a JSON object");
    return object;
}

CredentialsBody parseCredentials(const std::string& text) {
    auto o = parseJsonObject(text);
    CredentialsBody b;
    for (const char* name : {"email", "password"})
        if (!o->has(name) || !o->get(name).isString())
            throw ApiError(400, "Bad Request", std::string(name) + " is required and must be a string", name);
    b.email = Poco::toLower(Poco::trim(o->getValue<std::string>("email")));
    b.password = o->getValue<std::string>("password");
    // Checked before anything is remembered about the attempt (the login throttle keys on the e-mail).
    if (b.email.empty() || b.email.size() > 320) throw invalid("email", "email must be 1-320 characters");
    if (b.password.size() > 1024) throw invalid("password", "password must be at most 1024 characters");
    return b;
}

NewApiKeyBody parseNewApiKey(const std::string& text) {
    auto o = parseJsonObject(text);
    NewApiKeyBody b;
    b.name = requiredString(o, "name", 200);
    b.role = optionalString(o, "role", 16).value_or("customer");
    if (b.role != "customer" && b.role != "tenant-admin")
        throw invalid("role", "role must be customer or tenant-admin");
    b.ttlDays = optionalInt(o, "ttl_days", 1, 3650);
    return b;
}

NewDeviceBody parseNewDevice(const std::string& text) {
    auto o = parseJsonObject(text);
    NewDeviceBody b;
    b.name = requiredString(o, "name", 128);
    b.tags = stringList(o, "tags", 64);
    return b;
}

NewChannelBody parseNewChannel(const std::string& text) {
    auto o = parseJsonObject(text);
    NewChannelBody b;
    b.name = requiredString(o, "name", 200);
    b.type = requiredString(o, "type", 64);
    auto config = objectText(o, "config");
    if (!config) throw invalid("config", "config is required and must be an object");
    b.configJson = *config;
    b.maxConcurrency = optionalInt(o, "max_concurrency", 1, 64).value_or(4);
    return b;
}

services::RouteSpec parseNewRoute(const std::string& text) {
    auto o = parseJsonObject(text);
    services::RouteSpec r;
    r.channelId = requiredString(o, "channel_id", 36);
    r.name = optionalString(o, "name", 200).value_or("");
    r.severities = stringList(o, "severities", 5);
    r.ruleTypes = stringList(o, "rule_types", 32);
    r.siteId = optionalString(o, "site_id", 36);
    r.tag = optionalString(o, "tag", 64);
    r.throttleS = optionalInt(o, "throttle_s", 0, 604800).value_or(0);
    return r;
}

RuleBody parseRule(const std::string& text) {
    auto o = parseJsonObject(text);
    RuleBody b;
    b.name = requiredString(o, "name", 200);
    b.type = requiredString(o, "type", 64);
    b.configJson = objectText(o, "config").value_or("{}");
    if (auto severity = optionalString(o, "severity", 16)) {
        b.severity = *severity;
        if (b.severity != "CRITICAL" && b.severity != "HIGH" && b.severity != "MEDIUM" &&
            b.severity != "LOW" && b.severity != "INFO")
            throw invalid("severity", "severity must be CRITICAL, HIGH, MEDIUM, LOW or INFO");
    }
    if (o->has("scope")) {
        auto scope = o->getObject("scope");
        if (!scope) throw invalid("scope", "scope must be an object");
        b.scopeKind = requiredString(scope, "kind", 16);
        if (b.scopeKind == "site") {
            b.scopeValue = optionalString(scope, "site_id", 36);
            if (!b.scopeValue || b.scopeValue->size() != 36)
                throw invalid("scope.site_id", "a site scope needs site_id");
        } else if (b.scopeKind == "tag") {
            b.scopeValue = optionalString(scope, "tag", 64);
            if (!b.scopeValue) throw invalid("scope.tag", "a tag scope needs tag");
        } else if (b.scopeKind == "device") {
            auto device = optionalInt(scope, "device_id", 1, 2147483647);
            if (!device) throw invalid("scope.device_id", "a device scope needs device_id");
            b.scopeValue = std::to_string(*device);
        } else if (b.scopeKind != "tenant") {
            throw invalid("scope.kind", "scope.kind must be tenant, site, tag or device");
        }
    }
    for (auto [name, target] :
         {std::pair<const char*, bool*>{"auto_close", &b.autoClose}, {"enabled", &b.enabled}}) {
        if (!o->has(name)) continue;
        if (!o->get(name).isBoolean()) throw invalid(name, std::string(name) + " must be true or false");
        *target = o->getValue<bool>(name);
    }
    b.flapThreshold = optionalInt(o, "flap_threshold", 1, 1000).value_or(3);
    b.flapWindowS = optionalInt(o, "flap_window_s", 1, 86400).value_or(600);
    return b;
}

int parseSilenceMinutes(const std::string& text) {
    auto o = parseJsonObject(text);
    auto minutes = optionalInt(o, "minutes", 1, 43200);
    if (!minutes) throw invalid("minutes", "minutes is required and must be an integer");
    return *minutes;
}

std::string parseCloseReason(const std::string& text) {
    if (text.empty()) return "closed by an operator";
    auto o = parseJsonObject(text);
    if (!o->has("reason")) return "closed by an operator";
    if (!o->get("reason").isString()) throw invalid("reason", "reason must be a string");
    std::string reason = o->getValue<std::string>("reason").substr(0, 500);
    return reason.empty() ? "closed by an operator" : reason;
}

}  // namespace pulse::http
