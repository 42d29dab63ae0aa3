#include "services/MessageTemplates.h"

#include <pulse/notice.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <kainjow/mustache.hpp>

#include <set>
#include <sstream>
#include <vector>

namespace pulse::services {
namespace {

namespace mustache = kainjow::mustache;

// A grouping routing rule's notice adds "group" to its lead alert's (sql/019, docs/plugin-guide.md): what
// the group is and the alerts it lists.
const char* const kSampleGroup = R"json({"id": 31, "key": "rule:00000000-0000-4000-8000-000000000002/site:-",
 "by": ["rule"], "rule": {"id": "00000000-0000-4000-8000-000000000002", "name": "too hot"},
 "site": {"id": "00000000-0000-4000-8000-000000000003", "name": "Plant 1"},
 "status": "firing", "notification": 1, "repeat": false, "summary": "2 alerts (2 open) of too hot",
 "counts": {"open": 2, "acknowledged": 0, "closed": 0, "total": 2},
 "alerts": [{"id": 97, "status": "OPEN", "severity": "CRITICAL", "summary": "temperature 91 > 80",
             "opened_at": "2026-11-24T10:00:00.123+00:00", "closed_at": null,
             "device": {"id": 42, "name": "boiler-2"}, "link": "https://pulse.example.com/alerts?status=&open=97"},
            {"id": 98, "status": "OPEN", "severity": "HIGH", "summary": "temperature 84 > 80",
             "opened_at": "2026-11-24T10:00:05.000+00:00", "closed_at": null,
             "device": {"id": 43, "name": "boiler-3"}, "link": "https://pulse.example.com/alerts?status=&open=98"}]})json";

// Every name a template may use: the paths of the sample notices, which hold every member a notice has
// (docs/plugin-guide.md, "The alert notice"), objects included so that they can open sections, a list's
// items' members under the list's name (inside {{#group.alerts}}, "device.name"); and ".", the current item
// inside {{#alert.device.tags}}.
void addPaths(const Poco::JSON::Object::Ptr& o, const std::string& prefix, std::set<std::string>& out) {
    for (const auto& [key, value] : *o) {
        std::string path = prefix + key;
        out.insert(path);
        if (value.type() == typeid(Poco::JSON::Object::Ptr))
            addPaths(value.extract<Poco::JSON::Object::Ptr>(), path + ".", out);
        if (value.type() == typeid(Poco::JSON::Array::Ptr))
            for (const auto& item : *value.extract<Poco::JSON::Array::Ptr>())
                if (item.type() == typeid(Poco::JSON::Object::Ptr))
                    addPaths(item.extract<Poco::JSON::Object::Ptr>(), path + ".", out);
    }
}

const std::set<std::string>& noticeNames() {
    static const std::set<std::string> names = [] {
        std::set<std::string> out{"."};
        addPaths(Poco::JSON::Parser().parse(sampleGroupNotice()).extract<Poco::JSON::Object::Ptr>(), "", out);
        return out;
    }();
    return names;
}

std::optional<std::string> problemOf(const char* field, const std::string& text) {
    std::string where = std::string(field) + ": ";
    if (text.size() > kMaxTemplateChars)
        return where + "at most " + std::to_string(kMaxTemplateChars) + " characters";
    mustache::mustache parsed{text};
    if (!parsed.is_valid()) return where + parsed.error_message();
    // With the default delimiters (a change is refused below), every tag is {{...}} or {{{...}}}; kainjow
    // has reported unclosed ones already.
    auto trim = [](std::string t) {
        size_t a = t.find_first_not_of(" \t\r\n"), b = t.find_last_not_of(" \t\r\n");
        return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
    };
    // Inside {{#alert.site}}, "name" is alert.site.name: a name is looked up in the open sections, innermost
    // first, then at the top, as Mustache does.
    std::vector<std::string> sections;
    auto known = [&](const std::string& name) {
        for (auto s = sections.rbegin(); s != sections.rend(); ++s)
            if (noticeNames().count(*s + "." + name)) return true;
        return noticeNames().count(name) > 0;
    };
    for (size_t pos = text.find("{{"); pos != std::string::npos; pos = text.find("{{", pos)) {
        bool triple = text.compare(pos, 3, "{{{") == 0;
        size_t start = pos + (triple ? 3 : 2);
        size_t end = text.find(triple ? "}}}" : "}}", start);
        if (end == std::string::npos) break;
        pos = end + (triple ? 3 : 2);
        std::string inner = trim(text.substr(start, end - start)), kind;
        if (!inner.empty() && std::string("#^/&>=!").find(inner[0]) != std::string::npos) {
            kind = inner.substr(0, 1);
            inner = trim(inner.substr(1));
        }
        const std::string& name = inner;
        if (kind == "!") continue;
        if (kind == ">") return where + "partials ({{> ...}}) are not available";
        if (kind == "=") return where + "changing the delimiters ({{= ... =}}) is not available";
        if (kind == "/") {
            if (!sections.empty()) sections.pop_back();
            continue;
        }
        if (!known(name)) return where + "{{" + name + "}} is not a field of the alert notice";
        if (kind == "#" || kind == "^") {
            std::string full = name;
            for (auto s = sections.rbegin(); s != sections.rend(); ++s)
                if (noticeNames().count(*s + "." + name)) {
                    full = *s + "." + name;
                    break;
                }
            sections.push_back(full);
        }
    }
    return std::nullopt;
}

mustache::data dataOf(const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) return mustache::data(false);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
        mustache::data out{mustache::data::type::object};
        for (const auto& [key, value] : *v.extract<Poco::JSON::Object::Ptr>()) out.set(key, dataOf(value));
        return out;
    }
    if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
        mustache::data out{mustache::data::type::list};
        for (const auto& item : *v.extract<Poco::JSON::Array::Ptr>()) out.push_back(dataOf(item));
        return out;
    }
    if (v.type() == typeid(bool)) return mustache::data(v.extract<bool>());
    return mustache::data(v.convert<std::string>());
}

std::string renderOne(const std::string& text, const mustache::data& data, size_t maxBytes) {
    if (text.empty()) return "";
    mustache::mustache tmpl{text};
    tmpl.set_custom_escape([](const std::string& s) { return s; });  // the sender escapes for its format
    return notice::truncate_utf8(tmpl.render(data), maxBytes);
}

MessageTemplates renderDoc(const Poco::Dynamic::Var& notice, const MessageTemplates& t) {
    mustache::data data = dataOf(notice);
    return {renderOne(t.title, data, 250), renderOne(t.text, data, 3000)};
}

}  // namespace

const char* const kSampleNotice = R"json({"type": "alert.opened", "test": false,
 "event": {"id": 812, "kind": "OPENED", "at": "2026-11-24T10:00:00.123+00:00", "actor": "system"},
 "tenant": {"id": "00000000-0000-4000-8000-000000000001", "slug": "acme", "name": "Acme Ltd"},
 "links": {"alert": "https://pulse.example.com/alerts?status=&open=97"},
 "alert": {"id": 97, "status": "OPEN", "condition": "FIRING", "severity": "CRITICAL",
           "summary": "temperature 91 > 80", "value": 91, "flapping": false,
           "triggered_at": "2026-11-24T09:59:58.000+00:00", "triggered_at_ms": 1795514398000,
           "opened_at": "2026-11-24T10:00:00.123+00:00", "acknowledged_at": null, "acknowledged_by": null,
           "closed_at": null, "close_reason": null,
           "rule": {"id": "00000000-0000-4000-8000-000000000002", "name": "too hot", "type": "threshold"},
           "device": {"id": 42, "name": "boiler-2", "tags": ["boiler", "floor-1"]},
           "site": {"id": "00000000-0000-4000-8000-000000000003", "name": "Plant 1", "timezone": "Europe/Berlin"}}})json";

const std::string& sampleGroupNotice() {
    static const std::string text = [] {
        auto doc = Poco::JSON::Parser().parse(kSampleNotice).extract<Poco::JSON::Object::Ptr>();
        doc->set("group", Poco::JSON::Parser().parse(kSampleGroup));
        std::ostringstream out;
        doc->stringify(out);
        return out.str();
    }();
    return text;
}

MessageTemplates MessageTemplates::fromJson(const std::string& json) {
    MessageTemplates t;
    if (json.empty()) return t;
    auto o = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    t.title = o->optValue<std::string>("title", "");
    t.text = o->optValue<std::string>("text", "");
    return t;
}

std::string MessageTemplates::toJson() const {
    Poco::JSON::Object o;
    if (!title.empty()) o.set("title", title);
    if (!text.empty()) o.set("text", text);
    std::ostringstream out;
    o.stringify(out);
    return out.str();
}

std::optional<std::string> templateProblem(const MessageTemplates& t) {
    if (auto p = problemOf("title", t.title)) return p;
    return problemOf("text", t.text);
}

MessageTemplates render(const std::string& noticeJson, const MessageTemplates& t) {
    return renderDoc(Poco::JSON::Parser().parse(noticeJson), t);
}

std::string withMessage(const std::string& noticeJson, const MessageTemplates& t) {
    if (t.empty()) return noticeJson;
    try {
        Poco::Dynamic::Var parsed = Poco::JSON::Parser().parse(noticeJson);
        auto doc = parsed.extract<Poco::JSON::Object::Ptr>();
        MessageTemplates rendered = renderDoc(parsed, t);
        Poco::JSON::Object::Ptr message = new Poco::JSON::Object;
        if (!rendered.title.empty()) message->set("title", rendered.title);
        if (!rendered.text.empty()) message->set("text", rendered.text);
        doc->set("message", message);
        std::ostringstream out;
        doc->stringify(out);
        return out.str();
    } catch (const Poco::Exception&) {
        return noticeJson;  // not a notice document: the sender reads it as it is (and says so)
    }
}

}  // namespace pulse::services
