#include "json/JsonSchema.h"

#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <optional>

using pulse::json::JsonSchema;
using pulse::json::SchemaError;

namespace {

const char* kConfigSchema = R"({
  "type": "object",
  "properties": {
    "url": {"type": "string", "pattern": "^https?://", "maxLength": 2048},
    "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 30000, "default": 5000},
    "mode": {"enum": ["fast", "safe"], "default": "safe"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "retry": {"type": "object", "properties": {"max": {"type": "integer", "default": 3}}, "default": {}}
  },
  "required": ["url"],
  "additionalProperties": false
})";

}  // namespace

TEST(JsonSchema, AcceptsAValidConfig) {
    auto s = JsonSchema::compile(std::string(kConfigSchema));
    EXPECT_TRUE(
        s.validateText(R"({"url":"https://example.com/hook","timeout_ms":1000,"mode":"fast"})").empty());
}

TEST(JsonSchema, ReportsEveryViolationWithItsPath) {
    auto s = JsonSchema::compile(std::string(kConfigSchema));
    auto v = s.validateText(R"({"url":"ftp://x","timeout_ms":50,"mode":"slow","extra":1,"headers":{"a":1}})");
    std::string all = pulse::json::describe(v);
    EXPECT_NE(all.find("/url: does not match the pattern"), std::string::npos) << all;
    EXPECT_NE(all.find("/timeout_ms: 50 is less than the minimum 100"), std::string::npos) << all;
    EXPECT_NE(all.find("/mode: \"slow\" is not one of"), std::string::npos) << all;
    EXPECT_NE(all.find("/extra: unknown property 'extra'"), std::string::npos) << all;
    EXPECT_NE(all.find("/headers/a: expected string, got integer"), std::string::npos) << all;
}

// A forbidden form ("not") says why with its own description, so that a user reads the reason.
TEST(JsonSchema, AForbiddenFormIsExplainedByItsDescription) {
    auto s = JsonSchema::compile(std::string(
        R"({"type":"object","properties":{"tls":{"type":"boolean"},"password":{"type":"string"}},
        "allOf":[{"not":{"required":["tls","password"],"properties":{"tls":{"const":false}},
                         "description":"no password over plaintext"}}],
        "not":{"required":["x"]}})"));
    EXPECT_TRUE(s.validateText(R"({"tls":true,"password":"p"})").empty());
    EXPECT_TRUE(s.validateText(R"({"tls":false})").empty());
    std::string why = pulse::json::describe(s.validateText(R"({"tls":false,"password":"p"})"));
    EXPECT_NE(why.find("not allowed: no password over plaintext"), std::string::npos) << why;
    why = pulse::json::describe(s.validateText(R"({"x":1})"));
    EXPECT_NE(why.find("matches a form that is not allowed (not)"), std::string::npos) << why;
}

TEST(JsonSchema, MissingRequiredAndWrongRootType) {
    auto s = JsonSchema::compile(std::string(kConfigSchema));
    EXPECT_EQ(pulse::json::describe(s.validateText("{}")), "/: the property 'url' is required");
    EXPECT_EQ(pulse::json::describe(s.validateText("[1]")), "/: expected object, got array");
    EXPECT_NE(pulse::json::describe(s.validateText("{")).find("invalid JSON"), std::string::npos);
}

TEST(JsonSchema, FillsDefaultsRecursively) {
    auto s = JsonSchema::compile(std::string(kConfigSchema));
    auto filled = s.withDefaults(pulse::json::parseJson(R"({"url":"http://x"})"));
    EXPECT_EQ(pulse::json::toJsonText(*pulse::json::lookupPointer(filled, "/timeout_ms")), "5000");
    EXPECT_EQ(pulse::json::toJsonText(*pulse::json::lookupPointer(filled, "/mode")), "\"safe\"");
    EXPECT_EQ(pulse::json::toJsonText(*pulse::json::lookupPointer(filled, "/retry/max")), "3");
    EXPECT_FALSE(pulse::json::lookupPointer(filled, "/nope").has_value());
}

TEST(JsonSchema, PointerLookupFollowsRfc6901) {
    auto doc = pulse::json::parseJson(R"({"a/b":{"c~d":[10,20]},"":1})");
    EXPECT_EQ(pulse::json::toJsonText(*pulse::json::lookupPointer(doc, "/a~1b/c~0d/1")), "20");
    EXPECT_EQ(pulse::json::toJsonText(*pulse::json::lookupPointer(doc, "/")), "1");
    EXPECT_FALSE(pulse::json::lookupPointer(doc, "/a~1b/c~0d/01").has_value());
    EXPECT_FALSE(pulse::json::lookupPointer(doc, "/a~1b/c~0d/2").has_value());
    EXPECT_FALSE(pulse::json::lookupPointer(doc, "no-slash").has_value());
}

TEST(JsonSchema, RefusesSchemasItCannotEnforce) {
    EXPECT_THROW(JsonSchema::compile(std::string(R"({"type":"objekt"})")), SchemaError);
    EXPECT_THROW(JsonSchema::compile(std::string(R"({"if":{"type":"string"},"then":{}})")), SchemaError);
    EXPECT_THROW(JsonSchema::compile(std::string(R"({"pattern":"("})")), SchemaError);
    EXPECT_THROW(JsonSchema::compile(std::string(R"({"$ref":"https://example.com/s.json"})")), SchemaError);
    EXPECT_THROW(JsonSchema::compile(std::string(R"({"$ref":"#/$defs/missing"})")), SchemaError);
    EXPECT_THROW(JsonSchema::compile(std::string("not json")), SchemaError);
    EXPECT_NO_THROW(JsonSchema::compile(std::string(R"({"title":"t","x-secret":true,"format":"uri"})")));
}

TEST(JsonSchema, RecursiveRefTerminates) {
    auto s = JsonSchema::compile(std::string(
        R"({"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"})"));
    EXPECT_TRUE(s.validateText(R"({"next":{"next":{}}})").empty());
    EXPECT_FALSE(s.validateText(R"({"next":{"next":1}})").empty());
}

// The official JSON-Schema-Test-Suite (Debian json-schema-test-suite), for every keyword this validator
// implements. Draft 7's semantics of these keywords are those of 2020-12. A case whose schema uses an
// unimplemented keyword must be refused at compile time, never validated wrongly.
TEST(JsonSchema, OfficialTestSuite) {
    const std::string dir = "/usr/share/json-schema-test-suite/tests/draft7/";
    ASSERT_TRUE(Poco::File(dir).exists()) << "install json-schema-test-suite";
    const char* files[] = {"type",
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
                           "minProperties",
                           "maxProperties",
                           "ref",
                           "boolean_schema",
                           "default"};
    int passed = 0, refused = 0;
    for (const char* name : files) {
        Poco::FileInputStream in(dir + name + ".json");
        std::string text;
        Poco::StreamCopier::copyToString(in, text);
        auto groups = pulse::json::parseJson(text).extract<Poco::JSON::Array::Ptr>();
        for (unsigned g = 0; g < groups->size(); ++g) {
            auto group = groups->getObject(g);
            // Draft 7 ignores keywords beside $ref; 2020-12, which Pulse implements, applies them.
            if (group->getValue<std::string>("description") == "ref overrides any sibling keywords") continue;
            std::optional<JsonSchema> schema;
            try {
                schema = JsonSchema::compile(group->get("schema"));
            } catch (const SchemaError&) {
                ++refused;
                continue;
            }
            auto tests = group->getArray("tests");
            for (unsigned t = 0; t < tests->size(); ++t) {
                auto test = tests->getObject(t);
                bool expected = test->getValue<bool>("valid");
                bool actual = schema->validate(test->get("data")).empty();
                EXPECT_EQ(actual, expected) << name << ": " << group->getValue<std::string>("description")
                                            << " / " << test->getValue<std::string>("description");
                ++passed;
            }
        }
    }
    std::cout << "[ suite    ] " << passed << " cases checked, " << refused << " schema groups refused\n";
    EXPECT_GT(passed, 250);
}
