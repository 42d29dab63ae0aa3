#include "json/JsonSchema.h"

#include "json/JsonText.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/RegularExpression.h>
#include <Poco/UTF8String.h>
#include <Poco/Unicode.h>

#include <cmath>
#include <set>
#include <sstream>

namespace pulse::json {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

bool isObject(const Var& v) {
    return !v.isEmpty() && v.type() == typeid(Object::Ptr);
}
bool isArray(const Var& v) {
    return !v.isEmpty() && v.type() == typeid(Array::Ptr);
}
bool isNull(const Var& v) {
    return v.isEmpty();
}
bool isBool(const Var& v) {
    return !v.isEmpty() && v.isBoolean();
}
bool isNumber(const Var& v) {
    return !v.isEmpty() && v.isNumeric() && !v.isBoolean();
}
bool isString(const Var& v) {
    return !v.isEmpty() && v.isString();
}
bool isInteger(const Var& v) {
    if (!isNumber(v)) return false;
    if (v.isInteger()) return true;
    double d = v.convert<double>();
    return std::isfinite(d) && std::floor(d) == d;
}

std::string typeName(const Var& v) {
    if (isNull(v)) return "null";
    if (isBool(v)) return "boolean";
    if (isInteger(v)) return "integer";
    if (isNumber(v)) return "number";
    if (isString(v)) return "string";
    if (isArray(v)) return "array";
    if (isObject(v)) return "object";
    return "unknown";
}

std::string toJson(const Var& v) {
    return toJsonText(v);
}

bool jsonEqual(const Var& a, const Var& b) {
    if (isNumber(a) && isNumber(b)) {
        if (a.isInteger() && b.isInteger()) return a.toString() == b.toString();  // exact, any width
        return a.convert<double>() == b.convert<double>();
    }
    std::string ta = typeName(a), tb = typeName(b);
    if (ta != tb) return false;
    if (isNull(a)) return true;
    if (isBool(a)) return a.convert<bool>() == b.convert<bool>();
    if (isString(a)) return a.toString() == b.toString();
    if (isArray(a)) {
        auto x = a.extract<Array::Ptr>(), y = b.extract<Array::Ptr>();
        if (x->size() != y->size()) return false;
        for (size_t i = 0; i < x->size(); ++i)
            if (!jsonEqual(x->get(static_cast<unsigned>(i)), y->get(static_cast<unsigned>(i)))) return false;
        return true;
    }
    auto x = a.extract<Object::Ptr>(), y = b.extract<Object::Ptr>();
    if (x->size() != y->size()) return false;
    for (const auto& [k, v] : *x) {
        if (!y->has(k) || !jsonEqual(v, y->get(k))) return false;
    }
    return true;
}

size_t codePoints(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

std::string pointerEscape(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

const std::set<std::string> kAnnotations = {
    "$schema",         "$id",      "$comment", "$defs",    "definitions", "title",      "description",
    "default",         "examples", "format",   "readOnly", "writeOnly",   "deprecated", "contentMediaType",
    "contentEncoding", "x-secret", "x-order"};
const std::set<std::string> kImplemented = {"type",
                                            "enum",
                                            "const",
                                            "properties",
                                            "required",
                                            "additionalProperties",
                                            "items",
                                            "minItems",
                                            "maxItems",
                                            "uniqueItems",
                                            "minimum",
                                            "maximum",
                                            "exclusiveMinimum",
                                            "exclusiveMaximum",
                                            "multipleOf",
                                            "minLength",
                                            "maxLength",
                                            "pattern",
                                            "allOf",
                                            "anyOf",
                                            "oneOf",
                                            "not",
                                            "$ref",
                                            "minProperties",
                                            "maxProperties"};

class Validator {
  public:
    explicit Validator(const Var& root) : root_(root) {}

    // Checks the schema's own shape once, so that validate() can trust it.
    void check(const Var& schema, const std::string& where) {
        if (isBool(schema)) return;
        if (!isObject(schema)) throw SchemaError(where + ": a schema must be an object or a boolean");
        auto obj = schema.extract<Object::Ptr>();
        for (const auto& [key, value] : *obj) {
            std::string at = where + "/" + pointerEscape(key);
            if (kAnnotations.count(key)) {
                if (key == "$defs" || key == "definitions") {
                    if (!isObject(value)) throw SchemaError(at + ": must be an object");
                    for (const auto& [k, sub] : *value.extract<Object::Ptr>())
                        check(sub, at + "/" + pointerEscape(k));
                }
                continue;
            }
            if (!kImplemented.count(key)) {
                if (key.rfind("x-", 0) == 0) continue;  // vendor extensions are annotations
                throw SchemaError(at + ": keyword '" + key + "' is not supported by this validator");
            }
            if (key == "type") {
                static const std::set<std::string> names = {"null",   "boolean", "integer", "number",
                                                            "string", "array",   "object"};
                auto ok = [&](const Var& t) { return isString(t) && names.count(t.toString()); };
                if (isArray(value)) {
                    for (const auto& t : *value.extract<Array::Ptr>())
                        if (!ok(t)) throw SchemaError(at + ": unknown type " + toJson(t));
                } else if (!ok(value)) {
                    throw SchemaError(at + ": unknown type " + toJson(value));
                }
            } else if (key == "enum") {
                if (!isArray(value)) throw SchemaError(at + ": must be an array");
            } else if (key == "properties") {
                if (!isObject(value)) throw SchemaError(at + ": must be an object");
                for (const auto& [k, sub] : *value.extract<Object::Ptr>())
                    check(sub, at + "/" + pointerEscape(k));
            } else if (key == "required") {
                if (!isArray(value)) throw SchemaError(at + ": must be an array of strings");
                for (const auto& r : *value.extract<Array::Ptr>())
                    if (!isString(r)) throw SchemaError(at + ": must be an array of strings");
            } else if (key == "additionalProperties" || key == "items" || key == "not") {
                check(value, at);
            } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
                if (!isArray(value) || value.extract<Array::Ptr>()->size() == 0)
                    throw SchemaError(at + ": must be a non-empty array of schemas");
                auto arr = value.extract<Array::Ptr>();
                for (unsigned i = 0; i < arr->size(); ++i) check(arr->get(i), at + "/" + std::to_string(i));
            } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength" ||
                       key == "minProperties" || key == "maxProperties") {
                if (!isInteger(value) || value.convert<double>() < 0)
                    throw SchemaError(at + ": must be a non-negative integer");
            } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
                       key == "exclusiveMaximum") {
                if (!isNumber(value)) throw SchemaError(at + ": must be a number");
            } else if (key == "multipleOf") {
                if (!isNumber(value) || value.convert<double>() <= 0)
                    throw SchemaError(at + ": must be a number greater than 0");
            } else if (key == "uniqueItems") {
                if (!isBool(value)) throw SchemaError(at + ": must be a boolean");
            } else if (key == "pattern") {
                if (!isString(value)) throw SchemaError(at + ": must be a string");
                try {
                    Poco::RegularExpression re(value.toString(), Poco::RegularExpression::RE_UTF8);
                } catch (const Poco::Exception& e) {
                    throw SchemaError(at + ": invalid regular expression: " + e.message());
                }
            } else if (key == "$ref") {
                if (!isString(value)) throw SchemaError(at + ": must be a string");
                resolve(value.toString(), at);
            }
        }
    }

    void validate(const Var& schema, const Var& inst, const std::string& path, std::vector<Violation>& out,
                  int depth = 0) const {
        if (depth > 64) {
            out.push_back({path, "schema nesting too deep (recursive $ref?)"});
            return;
        }
        if (isBool(schema)) {
            if (!schema.convert<bool>()) out.push_back({path, "no value is allowed here"});
            return;
        }
        auto s = schema.extract<Object::Ptr>();
        auto add = [&](const std::string& msg) { out.push_back({path, msg}); };

        if (s->has("$ref"))
            validate(resolve(s->getValue<std::string>("$ref"), ""), inst, path, out, depth + 1);
        if (s->has("type")) {
            Var t = s->get("type");
            std::vector<std::string> allowed;
            if (isArray(t))
                for (const auto& x : *t.extract<Array::Ptr>()) allowed.push_back(x.toString());
            else
                allowed.push_back(t.toString());
            std::string actual = typeName(inst);
            bool ok = false;
            for (const auto& a : allowed)
                if (a == actual || (a == "number" && actual == "integer")) ok = true;
            if (!ok) {
                std::string want;
                for (const auto& a : allowed) want += (want.empty() ? "" : " or ") + a;
                add("expected " + want + ", got " + actual);
                return;  // the remaining keywords would only repeat the type mismatch
            }
        }
        if (s->has("enum")) {
            bool found = false;
            for (const auto& e : *s->getArray("enum"))
                if (jsonEqual(e, inst)) found = true;
            if (!found) add(toJson(inst) + " is not one of " + toJson(s->get("enum")));
        }
        if (s->has("const") && !jsonEqual(s->get("const"), inst))
            add(toJson(inst) + " is not the constant " + toJson(s->get("const")));

        if (isNumber(inst)) numberKeywords(*s, inst, add);
        if (isString(inst)) stringKeywords(*s, inst.toString(), add);
        if (isArray(inst)) arrayKeywords(*s, inst.extract<Array::Ptr>(), path, out, depth);
        if (isObject(inst)) objectKeywords(*s, inst.extract<Object::Ptr>(), path, out, depth);

        if (s->has("allOf"))
            for (const auto& sub : *s->getArray("allOf")) validate(sub, inst, path, out, depth + 1);
        if (s->has("anyOf")) {
            bool any = false;
            for (const auto& sub : *s->getArray("anyOf")) any = any || matches(sub, inst, depth);
            if (!any) add("does not match any of the allowed forms (anyOf)");
        }
        if (s->has("oneOf")) {
            int n = 0;
            for (const auto& sub : *s->getArray("oneOf")) n += matches(sub, inst, depth) ? 1 : 0;
            if (n != 1)
                add(n == 0 ? "does not match any of the allowed forms (oneOf)"
                           : "matches more than one of the exclusive forms (oneOf)");
        }
        if (s->has("not") && matches(s->get("not"), inst, depth)) {
            // The forbidden form's own description says why, where the schema gives one.
            const Var& form = s->get("not");
            std::string why = isObject(form) && form.extract<Object::Ptr>()->has("description")
                                  ? form.extract<Object::Ptr>()->getValue<std::string>("description")
                                  : "";
            add(why.empty() ? "matches a form that is not allowed (not)" : "not allowed: " + why);
        }
    }

  private:
    bool matches(const Var& schema, const Var& inst, int depth) const {
        std::vector<Violation> v;
        validate(schema, inst, "", v, depth + 1);
        return v.empty();
    }

    template <class Add>
    void numberKeywords(const Object& s, const Var& inst, Add& add) const {
        double x = inst.convert<double>();
        auto num = [&](const char* k) { return s.get(k).convert<double>(); };
        auto text = [&](const char* k) { return toJson(s.get(k)); };
        if (s.has("minimum") && x < num("minimum"))
            add(toJson(inst) + " is less than the minimum " + text("minimum"));
        if (s.has("maximum") && x > num("maximum"))
            add(toJson(inst) + " is greater than the maximum " + text("maximum"));
        if (s.has("exclusiveMinimum") && x <= num("exclusiveMinimum"))
            add(toJson(inst) + " must be greater than " + text("exclusiveMinimum"));
        if (s.has("exclusiveMaximum") && x >= num("exclusiveMaximum"))
            add(toJson(inst) + " must be less than " + text("exclusiveMaximum"));
        if (s.has("multipleOf")) {
            double m = num("multipleOf");
            double q = x / m;
            if (!std::isfinite(q) || std::fabs(q - std::round(q)) > 1e-9 * std::max(1.0, std::fabs(q)))
                add(toJson(inst) + " is not a multiple of " + text("multipleOf"));
        }
    }

    template <class Add>
    void stringKeywords(const Object& s, const std::string& str, Add& add) const {
        size_t n = codePoints(str);
        if (s.has("minLength") && n < s.get("minLength").convert<size_t>())
            add("is shorter than " + s.get("minLength").toString() + " characters");
        if (s.has("maxLength") && n > s.get("maxLength").convert<size_t>())
            add("is longer than " + s.get("maxLength").toString() + " characters");
        if (s.has("pattern")) {
            Poco::RegularExpression re(s.getValue<std::string>("pattern"), Poco::RegularExpression::RE_UTF8);
            Poco::RegularExpression::Match m;
            if (re.match(str, m, 0) == 0)
                add("does not match the pattern " + s.getValue<std::string>("pattern"));
        }
    }

    void arrayKeywords(const Object& s, const Array::Ptr& arr, const std::string& path,
                       std::vector<Violation>& out, int depth) const {
        size_t n = arr->size();
        if (s.has("minItems") && n < s.get("minItems").convert<size_t>())
            out.push_back({path, "has fewer than " + s.get("minItems").toString() + " items"});
        if (s.has("maxItems") && n > s.get("maxItems").convert<size_t>())
            out.push_back({path, "has more than " + s.get("maxItems").toString() + " items"});
        if (s.has("uniqueItems") && s.get("uniqueItems").convert<bool>()) {
            for (unsigned i = 0; i < n; ++i)
                for (unsigned j = i + 1; j < n; ++j)
                    if (jsonEqual(arr->get(i), arr->get(j))) {
                        out.push_back({path, "items " + std::to_string(i) + " and " + std::to_string(j) +
                                                 " are equal but must be unique"});
                        i = j = static_cast<unsigned>(n);
                    }
        }
        if (s.has("items"))
            for (unsigned i = 0; i < n; ++i)
                validate(s.get("items"), arr->get(i), path + "/" + std::to_string(i), out, depth + 1);
    }

    void objectKeywords(const Object& s, const Object::Ptr& obj, const std::string& path,
                        std::vector<Violation>& out, int depth) const {
        if (s.has("minProperties") && obj->size() < s.get("minProperties").convert<size_t>())
            out.push_back({path, "has fewer than " + s.get("minProperties").toString() + " properties"});
        if (s.has("maxProperties") && obj->size() > s.get("maxProperties").convert<size_t>())
            out.push_back({path, "has more than " + s.get("maxProperties").toString() + " properties"});
        if (s.has("required"))
            for (const auto& r : *s.getArray("required"))
                if (!obj->has(r.toString()))
                    out.push_back({path, "the property '" + r.toString() + "' is required"});
        Object::Ptr props = s.has("properties") ? s.getObject("properties") : nullptr;
        for (const auto& [key, value] : *obj) {
            std::string at = path + "/" + pointerEscape(key);
            if (props && props->has(key)) {
                validate(props->get(key), value, at, out, depth + 1);
            } else if (s.has("additionalProperties")) {
                Var ap = s.get("additionalProperties");
                if (isBool(ap) && !ap.convert<bool>())
                    out.push_back({at, "unknown property '" + key + "'"});
                else
                    validate(ap, value, at, out, depth + 1);
            }
        }
    }

    // Resolves a local reference ("#", "#/$defs/name", JSON Pointer escapes); throws SchemaError otherwise.
    Var resolve(const std::string& ref, const std::string& at) const {
        if (ref.empty() || ref[0] != '#')
            throw SchemaError(at + ": only local references (#/...) are supported");
        Var cur = root_;
        std::string rest = ref.substr(1);
        size_t pos = 0;
        while (pos < rest.size()) {
            if (rest[pos] != '/') throw SchemaError(at + ": malformed reference " + ref);
            size_t next = rest.find('/', pos + 1);
            std::string token =
                rest.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
            std::string key;
            for (size_t i = 0; i < token.size(); ++i) {
                if (token[i] == '~' && i + 1 < token.size()) {
                    key += token[i + 1] == '1' ? '/' : '~';
                    ++i;
                } else {
                    key += token[i];
                }
            }
            if (!isObject(cur) || !cur.extract<Object::Ptr>()->has(key))
                throw SchemaError(at + ": reference " + ref + " does not resolve");
            cur = cur.extract<Object::Ptr>()->get(key);
            pos = next == std::string::npos ? rest.size() : next;
        }
        return cur;
    }

    Var root_;
};

}  // namespace

Poco::Dynamic::Var parseJson(const std::string& text) {
    size_t first = text.find_first_not_of(" \t\r\n");
    bool scalar = first != std::string::npos && text[first] != '{' && text[first] != '[';
    try {
        Poco::JSON::Parser parser;
        if (!scalar) return parser.parse(text);
        // Poco's parser only takes a document that is an object or array: wrap a scalar in one.
        Var wrapped = parser.parse("[" + text + "]");
        auto arr = wrapped.extract<Array::Ptr>();
        if (arr->size() != 1) throw std::invalid_argument("invalid JSON: more than one value");
        return arr->get(0);
    } catch (const Poco::Exception& e) {
        throw std::invalid_argument("invalid JSON: " + e.message());
    }
}

JsonSchema::JsonSchema(Poco::Dynamic::Var root) : root_(std::move(root)) {}

JsonSchema JsonSchema::compile(const std::string& schemaJson) {
    Var doc;
    try {
        doc = parseJson(schemaJson);
    } catch (const std::invalid_argument& e) {
        throw SchemaError(e.what());
    }
    return compile(doc);
}

JsonSchema JsonSchema::compile(const Poco::Dynamic::Var& schema) {
    Validator(schema).check(schema, "");
    return JsonSchema(schema);
}

std::vector<Violation> JsonSchema::validate(const Poco::Dynamic::Var& instance) const {
    std::vector<Violation> out;
    Validator(root_).validate(root_, instance, "", out);
    return out;
}

std::vector<Violation> JsonSchema::validateText(const std::string& instanceJson) const {
    Var doc;
    try {
        doc = parseJson(instanceJson);
    } catch (const std::invalid_argument& e) {
        return {{"", e.what()}};
    }
    return validate(doc);
}

namespace {

Var deepCopyWithDefaults(const Var& schema, const Var& inst) {
    if (!isObject(inst) || !isObject(schema)) return inst;
    auto s = schema.extract<Object::Ptr>();
    Object::Ptr out = new Object(*inst.extract<Object::Ptr>());
    if (!s->has("properties") || !isObject(s->get("properties"))) return out;
    auto props = s->getObject("properties");
    for (const auto& [key, sub] : *props) {
        if (!isObject(sub)) continue;
        auto subObj = sub.extract<Object::Ptr>();
        if (!out->has(key) && subObj->has("default")) {
            // Parse a fresh copy so the schema's own default object is never shared.
            out->set(key, parseJson(toJson(subObj->get("default"))));
        }
        if (out->has(key) && isObject(out->get(key))) out->set(key, deepCopyWithDefaults(sub, out->get(key)));
    }
    return out;
}

}  // namespace

Poco::Dynamic::Var JsonSchema::withDefaults(const Poco::Dynamic::Var& instance) const {
    return deepCopyWithDefaults(root_, instance);
}

std::optional<Poco::Dynamic::Var> lookupPointer(const Poco::Dynamic::Var& doc, const std::string& pointer) {
    if (pointer.empty()) return std::optional<Poco::Dynamic::Var>(std::in_place, doc);
    if (pointer[0] != '/') return std::nullopt;
    Var cur = doc;
    size_t pos = 0;
    while (pos < pointer.size()) {
        size_t next = pointer.find('/', pos + 1);
        std::string token =
            pointer.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        std::string key;
        for (size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
                key += token[i + 1] == '1' ? '/' : '~';
                ++i;
            } else {
                key += token[i];
            }
        }
        if (isObject(cur)) {
            auto obj = cur.extract<Object::Ptr>();
            if (!obj->has(key)) return std::nullopt;
            cur = obj->get(key);
        } else if (isArray(cur)) {
            auto arr = cur.extract<Array::Ptr>();
            if (key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos ||
                (key.size() > 1 && key[0] == '0'))
                return std::nullopt;
            size_t index = std::stoul(key);
            if (index >= arr->size()) return std::nullopt;
            cur = arr->get(static_cast<unsigned>(index));
        } else {
            return std::nullopt;
        }
        pos = next == std::string::npos ? pointer.size() : next;
    }
    return std::optional<Poco::Dynamic::Var>(std::in_place, cur);
}

std::string describe(const std::vector<Violation>& violations) {
    std::string out;
    for (const auto& v : violations) {
        if (!out.empty()) out += "; ";
        out += (v.path.empty() ? "/" : v.path) + ": " + v.message;
    }
    return out;
}

}  // namespace pulse::json
