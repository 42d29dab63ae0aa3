#include "http/api/RequestBodies.h"
#include "json/JsonText.h"

#include "services/Roles.h"
#include "services/Severities.h"

#include "storage/Uuid.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <tuple>

namespace pulse::http {
namespace {

// "2026-01-31T12:00:00Z", with optional fractions of a second and a numeric offset (RFC 3339 §5.6).
bool isRfc3339(const std::string& v) {
    // d: a digit; every other character of the pattern stands for itself.
    auto matches = [&](size_t at, const char* pattern) {
        for (size_t i = 0; pattern[i]; ++i) {
            if (at + i >= v.size()) return false;
            char c = v[at + i];
            if (pattern[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(c)) : c != pattern[i])
                return false;
        }
        return true;
    };
    if (!matches(0, "dddd-dd-dd") || v.size() < 19 || (v[10] != 'T' && v[10] != 't' && v[10] != ' ') ||
        !matches(11, "dd:dd:dd"))
        return false;
    size_t i = 19;
    if (i < v.size() && v[i] == '.') {
        size_t digits = 0;
        while (++i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++digits;
        if (digits < 1 || digits > 9) return false;
    }
    if (i < v.size() && (v[i] == 'Z' || v[i] == 'z')) return i + 1 == v.size();
    return i < v.size() && (v[i] == '+' || v[i] == '-') && matches(i + 1, "dd:dd") && i + 6 == v.size();
}

ApiError invalid(const std::string& field, const std::string& detail) {
    return ApiError(422, "Unprocessable Content", detail, field);
}

// A JSON integer: Poco counts true and false as integers (1, 0), JSON does not.
bool isJsonInteger(const Poco::Dynamic::Var& v) {
    return !v.isEmpty() && v.isInteger() && !v.isBoolean();
}

// A NUL ends a string at the C level (a time zone "UTC\u0000x" stored as "UTC"), and PostgreSQL refuses
// it in text and jsonb: refused anywhere in a body, naming where.
void refuseNul(const Poco::Dynamic::Var& v, const std::string& where) {
    if (v.isString()) {
        if (v.extract<std::string>().find('\0') != std::string::npos)
            throw invalid(where, where + " must not contain a NUL character");
    } else if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
        auto o = v.extract<Poco::JSON::Object::Ptr>();
        if (!o) return;
        for (const auto& [key, member] : *o) {
            if (key.find('\0') != std::string::npos)
                throw invalid(where, "a member name holds a NUL character");
            refuseNul(member, where.empty() ? key : where + "." + key);
        }
    } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
        auto a = v.extract<Poco::JSON::Array::Ptr>();
        if (!a) return;
        for (size_t i = 0; i < a->size(); ++i) refuseNul(a->get(static_cast<unsigned>(i)), where);
    }
}

// An integer member within [min, max]; absent gives nullopt.
std::optional<long long> optionalLong(const Poco::JSON::Object::Ptr& o, const std::string& name,
                                      long long min, long long max) {
    if (!o->has(name)) return std::nullopt;
    auto v = o->get(name);
    long long n = 0;
    try {
        if (!isJsonInteger(v)) throw invalid(name, name + " must be an integer");
        n = v.convert<long long>();
    } catch (const Poco::Exception&) {
        throw invalid(name, name + " must be an integer");
    }
    if (n < min || n > max)
        throw invalid(name, name + " must be from " + std::to_string(min) + " to " + std::to_string(max));
    return n;
}

std::optional<int> optionalInt(const Poco::JSON::Object::Ptr& o, const std::string& name, int min, int max) {
    auto n = optionalLong(o, name, min, max);
    return n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
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

// An id member: a UUID, refused with the member's name before it reaches the database (whose error
// text would otherwise be the answer).
std::optional<std::string> optionalUuid(const Poco::JSON::Object::Ptr& o, const std::string& name,
                                        const std::string& field = "") {
    auto v = optionalString(o, name, 36);
    if (v && !storage::isUuid(*v))
        throw invalid(field.empty() ? name : field, name + " must be an id (a UUID)");
    return v;
}

std::string requiredUuid(const Poco::JSON::Object::Ptr& o, const std::string& name) {
    auto v = optionalUuid(o, name);
    if (!v) throw invalid(name, name + " is required and must be an id (a UUID)");
    return *v;
}

// Absent: nullopt; null: an empty optional inside; otherwise the value.
Change<std::string> nullableString(const Poco::JSON::Object::Ptr& o, const std::string& name,
                                   size_t maxLength) {
    if (!o->has(name)) return std::nullopt;
    if (o->isNull(name)) return std::optional<std::string>();
    return optionalString(o, name, maxLength);
}

Change<int> nullableInt(const Poco::JSON::Object::Ptr& o, const std::string& name, int min, int max) {
    if (!o->has(name)) return std::nullopt;
    if (o->isNull(name)) return std::optional<int>();
    return optionalInt(o, name, min, max);
}

// A device id (JSON numbers are exact to 2^53): absent, null, or the id.
Change<long long> nullableDeviceId(const Poco::JSON::Object::Ptr& o, const std::string& name) {
    if (!o->has(name)) return std::nullopt;
    if (o->isNull(name)) return std::optional<long long>();
    return optionalLong(o, name, 1, 9007199254740991LL);
}

std::optional<bool> optionalBool(const Poco::JSON::Object::Ptr& o, const std::string& name) {
    if (!o->has(name)) return std::nullopt;
    if (!o->get(name).isBoolean()) throw invalid(name, name + " must be true or false");
    return o->getValue<bool>(name);
}

// A body that changes something must name at least one member it knows.
void expectSomeOf(const Poco::JSON::Object::Ptr& o, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (o->has(n)) return;
    std::string list;
    for (const char* n : names) list += (list.empty() ? "" : ", ") + std::string(n);
    throw invalid("", "the body changes nothing: give at least one of " + list);
}

// An object member as JSON text; absent gives nullopt.
std::optional<std::string> objectText(const Poco::JSON::Object::Ptr& o, const std::string& name) {
    if (!o->has(name)) return std::nullopt;
    auto object = o->getObject(name);
    if (!object) throw invalid(name, name + " must be an object");
    return json::toJsonText(object);
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
    refuseNul(value, "");
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
    if (!services::isTenantRole(b.role)) throw invalid("role", "role must be customer or tenant-admin");
    b.ttlDays = optionalInt(o, "ttl_days", 1, 3650);
    return b;
}

NewDeviceBody parseNewDevice(const std::string& text) {
    auto o = parseJsonObject(text);
    NewDeviceBody b;
    b.name = requiredString(o, "name", 128);
    b.tags = stringList(o, "tags", 64);
    b.siteId = optionalUuid(o, "site_id");
    return b;
}

DeviceChangeBody parseDeviceChange(const std::string& text) {
    auto o = parseJsonObject(text);
    expectSomeOf(o, {"tags", "site_id", "stale_after_s", "offline_after_s", "parent_id"});
    DeviceChangeBody b;
    if (o->has("tags")) b.tags = stringList(o, "tags", 64);
    b.siteId = nullableString(o, "site_id", 36);
    b.staleAfterS = nullableInt(o, "stale_after_s", 1, 31536000);
    b.offlineAfterS = nullableInt(o, "offline_after_s", 1, 31536000);
    b.parentId = nullableDeviceId(o, "parent_id");
    return b;
}

SiteBody parseSite(const std::string& text, bool creating) {
    auto o = parseJsonObject(text);
    SiteBody b;
    if (creating)
        b.name = requiredString(o, "name", 200);
    else {
        expectSomeOf(o, {"name", "time_zone"});
        b.name = optionalString(o, "name", 200);
    }
    b.timeZone = optionalString(o, "time_zone", 64);
    return b;
}

NewUserBody parseNewUser(const std::string& text) {
    auto o = parseJsonObject(text);
    NewUserBody b;
    b.email = Poco::toLower(Poco::trim(requiredString(o, "email", 320)));
    auto at = b.email.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == b.email.size() ||
        b.email.find_first_of(" \t\r\n<>\",;") != std::string::npos)
        throw invalid("email", "email must be an e-mail address");
    b.displayName = optionalString(o, "display_name", 200).value_or("");
    b.role = optionalString(o, "role", 16).value_or("customer");
    if (!services::isTenantRole(b.role)) throw invalid("role", "role must be customer or tenant-admin");
    b.password = requiredString(o, "password", 1024);
    if (b.password.size() < 12) throw invalid("password", "password must be at least 12 characters");
    return b;
}

UserChangeBody parseUserChange(const std::string& text) {
    auto o = parseJsonObject(text);
    expectSomeOf(o, {"role", "disabled", "display_name"});
    UserChangeBody b;
    b.role = optionalString(o, "role", 16);
    if (b.role && !services::isTenantRole(*b.role))
        throw invalid("role", "role must be customer or tenant-admin");
    b.disabled = optionalBool(o, "disabled");
    if (o->has("display_name")) {
        if (!o->get("display_name").isString())
            throw invalid("display_name", "display_name must be a string");
        b.displayName = o->getValue<std::string>("display_name");
        if (b.displayName->size() > 200)
            throw invalid("display_name", "display_name must be at most 200 characters");
    }
    return b;
}

NewTenantBody parseNewTenant(const std::string& text) {
    auto o = parseJsonObject(text);
    NewTenantBody b;
    b.slug = requiredString(o, "slug", 63);
    if (!std::isalnum(static_cast<unsigned char>(b.slug[0])) ||
        b.slug.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        throw invalid("slug",
                      "slug must be 1-63 of a-z 0-9 - starting with a letter or digit (it is part of "
                      "MQTT topics)");
    b.name = requiredString(o, "name", 200);
    b.deviceLimit = optionalInt(o, "device_limit", 0, 10000000);
    return b;
}

TenantChangeBody parseTenantChange(const std::string& text) {
    auto o = parseJsonObject(text);
    expectSomeOf(o, {"name", "device_limit"});
    TenantChangeBody b;
    b.name = optionalString(o, "name", 200);
    b.deviceLimit = nullableInt(o, "device_limit", 0, 10000000);
    return b;
}

SettingsChangeBody parseSettingsChange(const std::string& text) {
    auto o = parseJsonObject(text);
    expectSomeOf(o, {"default_stale_after_s", "default_offline_after_s"});
    SettingsChangeBody b;
    b.defaultStaleAfterS = optionalInt(o, "default_stale_after_s", 1, 2592000);
    b.defaultOfflineAfterS = optionalInt(o, "default_offline_after_s", 1, 2592000);
    return b;
}

MetricChangeBody parseMetricChange(const std::string& text) {
    auto o = parseJsonObject(text);
    expectSomeOf(o, {"unit", "description"});
    MetricChangeBody b;
    for (auto [name, target, max] :
         {std::tuple<const char*, std::optional<std::string>*, size_t>{"unit", &b.unit, 32},
          {"description", &b.description, 500}}) {
        if (!o->has(name)) continue;
        if (!o->get(name).isString()) throw invalid(name, std::string(name) + " must be a string");
        *target = o->getValue<std::string>(name);
        if ((*target)->size() > max)
            throw invalid(name,
                          std::string(name) + " must be at most " + std::to_string(max) + " characters");
    }
    return b;
}

std::optional<std::string> parseAssignee(const std::string& text) {
    auto o = parseJsonObject(text);
    if (!o->has("assignee_id")) throw invalid("assignee_id", "assignee_id is required (a user id, or null)");
    auto v = nullableString(o, "assignee_id", 36);
    if (*v && !storage::isUuid(**v)) throw invalid("assignee_id", "assignee_id must be a user id");
    return *v;
}

std::string parseComment(const std::string& text) {
    auto o = parseJsonObject(text);
    std::string comment = requiredString(o, "text", 4000);
    if (Poco::trim(comment).empty()) throw invalid("text", "text must not be blank");
    return comment;
}

BulkAlertBody parseBulkAlertAction(const std::string& text) {
    auto o = parseJsonObject(text);
    BulkAlertBody b;
    b.action = requiredString(o, "action", 16);
    if (b.action != "acknowledge" && b.action != "close" && b.action != "silence")
        throw invalid("action", "action must be acknowledge, close or silence");
    auto ids = o->has("ids") ? o->getArray("ids") : nullptr;
    if (!ids || ids->size() == 0 || ids->size() > 200)
        throw invalid("ids", "ids must be an array of 1 to 200 alert ids");
    std::set<long long> seen;
    for (size_t i = 0; i < ids->size(); ++i) {
        auto v = ids->get(static_cast<unsigned>(i));
        long long id = 0;
        try {
            if (!isJsonInteger(v)) throw invalid("ids", "ids must be alert ids (positive integers)");
            id = v.convert<long long>();
        } catch (const Poco::Exception&) {
            throw invalid("ids", "ids must be alert ids (positive integers)");
        }
        if (id < 1) throw invalid("ids", "ids must be alert ids (positive integers)");
        if (seen.insert(id).second) b.ids.push_back(id);
    }
    if (b.action == "silence") {
        auto minutes = optionalInt(o, "minutes", 1, 43200);
        if (!minutes) throw invalid("minutes", "silencing needs minutes (1 to 43200)");
        b.minutes = *minutes;
    }
    if (b.action == "close") {
        if (o->has("reason") && !o->get("reason").isString())
            throw invalid("reason", "reason must be a string");
        b.reason = o->optValue<std::string>("reason", "").substr(0, 500);
        if (b.reason.empty()) b.reason = "closed by an operator";
    }
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
    r.channelId = requiredUuid(o, "channel_id");
    r.name = optionalString(o, "name", 200).value_or("");
    r.severities = stringList(o, "severities", 5);
    r.ruleTypes = stringList(o, "rule_types", 32);
    r.siteId = optionalUuid(o, "site_id");
    r.tag = optionalString(o, "tag", 64);
    r.throttleS = optionalInt(o, "throttle_s", 0, 604800).value_or(0);
    r.enabled = optionalBool(o, "enabled").value_or(true);
    for (const auto& by : stringList(o, "group_by", 2)) {
        if (by != "rule" && by != "site") throw invalid("group_by", "group_by takes \"rule\" and \"site\"");
        if (std::find(r.grouping.by.begin(), r.grouping.by.end(), by) != r.grouping.by.end())
            throw invalid("group_by", "group_by names \"" + by + "\" twice");
        r.grouping.by.push_back(by);
    }
    r.grouping.waitS = optionalInt(o, "group_wait_s", 0, 3600).value_or(r.grouping.waitS);
    r.grouping.intervalS = optionalInt(o, "group_interval_s", 1, 86400).value_or(r.grouping.intervalS);
    r.grouping.repeatS = optionalInt(o, "repeat_interval_s", 0, 604800).value_or(r.grouping.repeatS);
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
        if (!services::isSeverity(b.severity))
            throw invalid("severity", "severity must be " + services::severityList());
    }
    if (o->has("scope")) {
        auto scope = o->getObject("scope");
        if (!scope) throw invalid("scope", "scope must be an object");
        b.scopeKind = requiredString(scope, "kind", 16);
        if (b.scopeKind == "site") {
            b.scopeValue = optionalUuid(scope, "site_id", "scope.site_id");
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
    b.escalationPolicyId = optionalUuid(o, "escalation_policy_id");
    return b;
}

namespace {

// The address forms a mail relay takes (the e-mail sender's schema checks its recipients the same way).
bool isMailAddress(const std::string& a) {
    auto at = a.find('@');
    if (at == 0 || at == std::string::npos || a.size() > 254 || a.find('@', at + 1) != std::string::npos)
        return false;
    for (size_t i = 0; i < at; ++i) {
        unsigned char c = static_cast<unsigned char>(a[i]);
        if (!std::isalnum(c) &&
            std::string_view(".!#$%&'*+/=?^_`{|}~-").find(static_cast<char>(c)) == std::string_view::npos)
            return false;
    }
    std::string domain = a.substr(at + 1);
    if (domain.find('.') == std::string::npos || domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string::npos)
        return false;
    for (char c : domain)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    return true;
}

// A free-text description of up to 2000 characters; absent, null and "" are all none.
std::string description(const Poco::JSON::Object::Ptr& o) {
    bool none = !o->has("description") || o->isNull("description") ||
                (o->get("description").isString() && o->getValue<std::string>("description").empty());
    return none ? "" : optionalString(o, "description", 2000).value_or("");
}

std::optional<Poco::JSON::Object::Ptr> objectAt(const Poco::JSON::Array::Ptr& array, size_t i) {
    auto v = array->get(static_cast<unsigned>(i));
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return std::nullopt;
    auto o = v.extract<Poco::JSON::Object::Ptr>();
    if (!o) return std::nullopt;
    return o;
}

}  // namespace

storage::EscalationPolicyFields parseEscalationPolicy(const std::string& text) {
    constexpr size_t kMaxLevels = 5, kMaxTargets = 10;
    auto o = parseJsonObject(text);
    storage::EscalationPolicyFields p;
    p.name = requiredString(o, "name", 200);
    p.description = description(o);
    p.repeat = optionalInt(o, "repeat", 0, 9).value_or(0);
    p.isDefault = optionalBool(o, "default").value_or(false);
    if (!o->has("levels") || !o->getArray("levels"))
        throw invalid("levels", "levels is required: an array of 1 to 5 levels");
    auto levels = o->getArray("levels");
    if (levels->size() == 0) throw invalid("levels", "a policy needs at least one level");
    if (levels->size() > kMaxLevels)
        throw invalid("levels[" + std::to_string(kMaxLevels) + "]", "a policy has at most 5 levels");
    for (size_t l = 0; l < levels->size(); ++l) {
        std::string at = "levels[" + std::to_string(l) + "]";
        auto level = objectAt(levels, l);
        if (!level) throw invalid(at, at + " must be an object");
        storage::EscalationLevel out;
        try {
            out.delayS = optionalInt(*level, "delay_s", 1, 86400).value_or(300);
        } catch (const ApiError&) {
            throw invalid(at + ".delay_s", at + ".delay_s must be an integer from 1 to 86400");
        }
        auto targets = (*level)->getArray("targets");
        if (!targets || targets->size() == 0 || targets->size() > kMaxTargets)
            throw invalid(at + ".targets", at + ".targets must be an array of 1 to 10 targets");
        for (size_t t = 0; t < targets->size(); ++t) {
            std::string where = at + ".targets[" + std::to_string(t) + "]";
            auto target = objectAt(targets, t);
            if (!target) throw invalid(where, where + " must be an object");
            auto type = optionalString(*target, "type", 16);
            if (!type || (*type != "channel" && *type != "user" && *type != "schedule"))
                throw invalid(where + ".type", "a target's type must be channel, user or schedule");
            auto id = optionalString(*target, "id", 36);
            if (!id || !storage::isUuid(*id)) throw invalid(where + ".id", "a target's id must be a UUID");
            for (const auto& earlier : out.targets)
                if (earlier.type == *type && earlier.id == *id)
                    throw invalid(where, "the level names this target twice");
            bool next = optionalBool(*target, "next_on_repeat").value_or(false);
            if (next && *type != "schedule")
                throw invalid(where + ".next_on_repeat",
                              "only a schedule target pages the next person on call");
            out.targets.push_back({*type, *id, "", next});
        }
        p.levels.push_back(std::move(out));
    }
    return p;
}

storage::ContactMethodFields parseContactMethod(const std::string& text) {
    auto o = parseJsonObject(text);
    storage::ContactMethodFields m;
    m.kind = requiredString(o, "kind", 16);
    if (m.kind != "email" && m.kind != "channel") throw invalid("kind", "kind must be email or channel");
    m.channelId = requiredUuid(o, "channel_id");
    if (m.kind == "email") {
        m.address = Poco::trim(requiredString(o, "address", 254));
        if (!isMailAddress(*m.address)) throw invalid("address", "address must be an e-mail address");
    } else if (o->has("address") && !o->isNull("address")) {
        throw invalid("address", "only an e-mail contact method has an address");
    }
    m.label = optionalString(o, "label", 100).value_or("");
    return m;
}

namespace {

// "HH:MM", 00:00 to 23:59.
bool isClockTime(const std::string& v) {
    return v.size() == 5 && std::isdigit(static_cast<unsigned char>(v[0])) &&
           std::isdigit(static_cast<unsigned char>(v[1])) && v[2] == ':' &&
           std::isdigit(static_cast<unsigned char>(v[3])) && std::isdigit(static_cast<unsigned char>(v[4])) &&
           (v[0] - '0') * 10 + (v[1] - '0') < 24 && v[3] < '6';
}

// "YYYY-MM-DD", a day that exists, years 2000 to 2200 (a rotation from before or far after is a typo).
bool isCalendarDate(const std::string& v) {
    if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    int y = std::stoi(v.substr(0, 4)), m = std::stoi(v.substr(5, 2)), d = std::stoi(v.substr(8, 2));
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return y >= 2000 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 &&
           d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::string clockTime(const Poco::JSON::Object::Ptr& o, const std::string& name, const std::string& where) {
    auto v = optionalString(o, name, 8);
    if (!v || !isClockTime(*v))
        throw invalid(where, where + " must be a local time HH:MM from 00:00 to 23:59");
    return *v;
}

storage::ScheduleLayer parseLayer(const Poco::JSON::Object::Ptr& o, const std::string& at) {
    constexpr size_t kMaxMembers = 50;
    storage::ScheduleLayer l;
    auto name = optionalString(o, "name", 100);
    l.name = name.value_or("");
    auto rotation = optionalString(o, "rotation", 16);
    if (!rotation || (*rotation != "daily" && *rotation != "weekly"))
        throw invalid(at + ".rotation", at + ".rotation must be daily or weekly");
    l.rotation = *rotation;
    l.handoff = clockTime(o, "handoff", at + ".handoff");
    auto start = optionalString(o, "start_date", 16);
    if (!start || !isCalendarDate(*start))
        throw invalid(at + ".start_date", at + ".start_date must be a local date YYYY-MM-DD (2000 to 2200)");
    l.startDate = *start;
    if (o->has("restriction") && !o->isNull("restriction")) {
        auto r = o->getObject("restriction");
        std::string where = at + ".restriction";
        if (!r) throw invalid(where, where + " must be an object {from, to, days} or null");
        l.restrictFrom = clockTime(r, "from", where + ".from");
        l.restrictTo = clockTime(r, "to", where + ".to");
        if (*l.restrictFrom == *l.restrictTo)
            throw invalid(where + ".to", "a restriction's window must not be empty (from equals to)");
        if (r->has("days") && !r->isNull("days")) {
            auto days = r->getArray("days");
            if (!days || days->size() == 0 || days->size() > 7)
                throw invalid(where + ".days", "days must be 1 to 7 ISO weekdays (1 Monday .. 7 Sunday)");
            for (size_t i = 0; i < days->size(); ++i) {
                auto d = days->get(i);
                std::string here = where + ".days[" + std::to_string(i) + "]";
                if (!isJsonInteger(d) || d.convert<long long>() < 1 || d.convert<long long>() > 7)
                    throw invalid(here, here + " must be an ISO weekday from 1 (Monday) to 7 (Sunday)");
                int day = d.convert<int>();
                for (int earlier : l.restrictDays)
                    if (earlier == day) throw invalid(here, "the restriction names this day twice");
                l.restrictDays.push_back(day);
            }
        }
    }
    auto users = o->getArray("users");
    if (!users || users->size() == 0 || users->size() > kMaxMembers)
        throw invalid(at + ".users", at + ".users must be an array of 1 to 50 user ids, in rotation order");
    for (size_t u = 0; u < users->size(); ++u) {
        std::string where = at + ".users[" + std::to_string(u) + "]";
        auto v = users->get(u);
        if (!v.isString() || !storage::isUuid(v.convert<std::string>()))
            throw invalid(where, where + " must be a user id (UUID)");
        l.members.push_back({v.convert<std::string>(), ""});
    }
    return l;
}

}  // namespace

std::optional<long long> rfc3339Ms(const std::string& v) {
    // RFC 3339 exactly: Poco's parser alone is lenient (it read "garbage" as a time).
    if (!isRfc3339(v)) return std::nullopt;
    try {
        int tz = 0;
        Poco::DateTime t = Poco::DateTimeParser::parse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, v, tz);
        t.makeUTC(tz);
        return t.timestamp().epochMicroseconds() / 1000;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

storage::ScheduleFields parseSchedule(const std::string& text) {
    constexpr size_t kMaxLayers = 10;
    auto o = parseJsonObject(text);
    storage::ScheduleFields s;
    s.name = requiredString(o, "name", 200);
    s.description = description(o);
    s.timeZone = requiredString(o, "time_zone", 64);
    if (!o->has("layers") || !o->getArray("layers"))
        throw invalid("layers", "layers is required: an array of 1 to 10 layers, bottom first");
    auto layers = o->getArray("layers");
    if (layers->size() == 0) throw invalid("layers", "a schedule needs at least one layer");
    if (layers->size() > kMaxLayers)
        throw invalid("layers[" + std::to_string(kMaxLayers) + "]", "a schedule has at most 10 layers");
    for (size_t l = 0; l < layers->size(); ++l) {
        std::string at = "layers[" + std::to_string(l) + "]";
        auto layer = objectAt(layers, l);
        if (!layer) throw invalid(at, at + " must be an object");
        s.layers.push_back(parseLayer(*layer, at));
    }
    return s;
}

storage::OverrideFields parseOverride(const std::string& text) {
    constexpr long long kMaxSpanMs = 90LL * 24 * 3600 * 1000;
    auto o = parseJsonObject(text);
    storage::OverrideFields f;
    f.userId = requiredUuid(o, "user_id");
    auto time = [&](const char* name) {
        auto v = optionalString(o, name, 40);
        auto ms = v ? rfc3339Ms(*v) : std::nullopt;
        if (!ms)
            throw invalid(name, std::string(name) + " must be an RFC 3339 time (2027-03-28T09:00:00+02:00)");
        return *ms;
    };
    f.startsAtMs = time("starts_at");
    f.endsAtMs = time("ends_at");
    if (f.endsAtMs <= f.startsAtMs) throw invalid("ends_at", "ends_at must be after starts_at");
    if (f.endsAtMs - f.startsAtMs > kMaxSpanMs) throw invalid("ends_at", "an override lasts at most 90 days");
    f.note = optionalString(o, "note", 500).value_or("");
    return f;
}

storage::MaintenanceWindowFields parseMaintenanceWindow(const std::string& text) {
    constexpr long long kMaxOnceMs = 366LL * 24 * 3600 * 1000;
    constexpr size_t kMaxDevices = 1000;
    auto o = parseJsonObject(text);
    storage::MaintenanceWindowFields w;
    w.name = requiredString(o, "name", 200);
    w.description = description(o);
    w.timeZone = optionalString(o, "time_zone", 64).value_or("UTC");
    w.enabled = optionalBool(o, "enabled").value_or(true);
    w.recurrence = requiredString(o, "recurrence", 16);
    if (w.recurrence != "once" && w.recurrence != "daily" && w.recurrence != "weekly" &&
        w.recurrence != "monthly")
        throw invalid("recurrence", "recurrence must be once, daily, weekly or monthly");
    if (w.recurrence == "once") {
        auto time = [&](const char* name) {
            auto v = optionalString(o, name, 40);
            auto ms = v ? rfc3339Ms(*v) : std::nullopt;
            if (!ms) throw invalid(name, std::string(name) + " must be an RFC 3339 time (a one-off window)");
            return *ms;
        };
        w.startsAtMs = time("starts_at");
        w.endsAtMs = time("ends_at");
        if (w.endsAtMs <= w.startsAtMs) throw invalid("ends_at", "ends_at must be after starts_at");
        if (w.endsAtMs - w.startsAtMs > kMaxOnceMs)
            throw invalid("ends_at", "a one-off window lasts at most 366 days");
        for (const char* other : {"start_time", "duration_minutes", "days", "from", "until"})
            if (o->has(other) && !o->isNull(other))
                throw invalid(other, std::string(other) + " is for recurring windows only");
    } else {
        w.startTime = clockTime(o, "start_time", "start_time");
        int most = w.recurrence == "daily" ? 1440 : w.recurrence == "weekly" ? 10080 : 44640;
        auto minutes = optionalInt(o, "duration_minutes", 1, most);
        if (!minutes)
            throw invalid("duration_minutes", "duration_minutes is required: 1 to " + std::to_string(most) +
                                                  " for a " + w.recurrence + " window");
        w.durationMinutes = *minutes;
        auto from = optionalString(o, "from", 16);
        if (!from || !isCalendarDate(*from))
            throw invalid("from", "from must be the local date YYYY-MM-DD of the first occurrence");
        w.validFrom = *from;
        if (o->has("until") && !o->isNull("until")) {
            auto until = optionalString(o, "until", 16);
            if (!until || !isCalendarDate(*until) || *until < w.validFrom)
                throw invalid("until", "until must be a local date YYYY-MM-DD on or after from (or null)");
            w.validUntil = until;
        }
        bool needsDays = w.recurrence != "daily";
        int maxDay = w.recurrence == "weekly" ? 7 : 31;
        auto days = o->getArray("days");
        if (!needsDays && o->has("days") && !o->isNull("days"))
            throw invalid("days", "a daily window takes no days");
        if (needsDays) {
            if (!days || days->size() == 0 || days->size() > static_cast<size_t>(maxDay))
                throw invalid("days", w.recurrence == "weekly"
                                          ? "days must list ISO weekdays (1 Monday .. 7 Sunday)"
                                          : "days must list days of the month (1 .. 31)");
            for (size_t i = 0; i < days->size(); ++i) {
                auto d = days->get(i);
                std::string here = "days[" + std::to_string(i) + "]";
                if (!isJsonInteger(d) || d.convert<long long>() < 1 || d.convert<long long>() > maxDay)
                    throw invalid(here, here + " must be an integer from 1 to " + std::to_string(maxDay));
                for (int earlier : w.days)
                    if (earlier == d.convert<int>()) throw invalid(here, "days names this day twice");
                w.days.push_back(d.convert<int>());
            }
        }
        for (const char* other : {"starts_at", "ends_at"})
            if (o->has(other) && !o->isNull(other))
                throw invalid(other, std::string(other) + " is for one-off windows only");
    }
    auto scope = o->getObject("scope");
    if (!scope) throw invalid("scope", "scope is required: {\"type\": tenant, site, devices or tag}");
    w.scope = optionalString(scope, "type", 16).value_or("");
    if (w.scope == "site") {
        auto site = optionalString(scope, "site_id", 36);
        if (!site || !storage::isUuid(*site))
            throw invalid("scope.site_id", "scope.site_id must be a site's id");
        w.siteId = site;
    } else if (w.scope == "devices") {
        auto ids = scope->getArray("device_ids");
        if (!ids || ids->size() == 0 || ids->size() > kMaxDevices)
            throw invalid("scope.device_ids", "scope.device_ids must list 1 to 1000 device ids");
        for (size_t i = 0; i < ids->size(); ++i) {
            auto v = ids->get(i);
            if (!isJsonInteger(v) || v.convert<long long>() < 1)
                throw invalid("scope.device_ids[" + std::to_string(i) + "]",
                              "a device id is a positive integer");
            w.deviceIds.push_back(v.convert<long long>());
        }
    } else if (w.scope == "tag") {
        auto tag = optionalString(scope, "tag", 64);
        if (!tag || tag->empty()) throw invalid("scope.tag", "scope.tag must be a tag of 1 to 64 characters");
        w.tag = tag;
    } else if (w.scope != "tenant") {
        throw invalid("scope.type", "scope.type must be tenant, site, devices or tag");
    }
    return w;
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
