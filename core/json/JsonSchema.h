#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include "json/JsonText.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::json {

// Thrown when a schema uses a keyword wrongly or one this validator does not implement.
class SchemaError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// One reason an instance does not match: where (JSON Pointer into the instance) and why.
struct Violation {
    std::string path;
    std::string message;
};

// A compiled JSON Schema (the draft 2020-12 validation vocabulary that plugin configs need: type, enum,
// const, properties, required, additionalProperties, items, min/maxItems, uniqueItems, minimum, maximum,
// exclusiveMinimum/Maximum, multipleOf, min/maxLength, pattern, allOf, anyOf, oneOf, not, local $ref to
// #/$defs). Keywords that change validation but are not implemented make compile() fail, so that a
// schema is never silently half-enforced; annotations (title, description, default, examples, format)
// are accepted and ignored.
//
// Debian 12 also ships valijson (libvalijson-dev); docs/dependencies.md says why this one is used. tests/unit
// run the official JSON-Schema-Test-Suite (Debian package json-schema-test-suite) against this one.
class JsonSchema {
  public:
    static JsonSchema compile(const std::string& schemaJson);
    static JsonSchema compile(const Poco::Dynamic::Var& schema);

    // All violations of the instance, empty when it is valid.
    std::vector<Violation> validate(const Poco::Dynamic::Var& instance) const;
    // Parses text as JSON first; a parse error is reported as a violation at "".
    std::vector<Violation> validateText(const std::string& instanceJson) const;

    // A copy of instance with the schema's "default" values filled in for absent object properties,
    // recursively through "properties". Call after validate() succeeded.
    Poco::Dynamic::Var withDefaults(const Poco::Dynamic::Var& instance) const;

    const Poco::Dynamic::Var& document() const { return root_; }

  private:
    explicit JsonSchema(Poco::Dynamic::Var root);
    Poco::Dynamic::Var root_;
};

// The value at a JSON Pointer (RFC 6901) in doc, or nullopt when there is none.
std::optional<Poco::Dynamic::Var> lookupPointer(const Poco::Dynamic::Var& doc, const std::string& pointer);

// Parses JSON text; throws std::invalid_argument with the parser's message.
Poco::Dynamic::Var parseJson(const std::string& text);

// "a, b" style joined text of violations, for one-line log messages.
std::string describe(const std::vector<Violation>& violations);

}  // namespace pulse::json
