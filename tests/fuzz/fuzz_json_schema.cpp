// libFuzzer target: the JSON Schema validator and JSON Pointer lookup, which read plugin-supplied
// schemas and operator-supplied configs. The input is compiled as a schema and validated as an instance.
#include "json/JsonSchema.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const auto configSchema = pulse::json::JsonSchema::compile(std::string(R"({
      "type": "object",
      "properties": {"url": {"type": "string", "pattern": "^https?://"}, "n": {"type": "integer", "minimum": 1},
                     "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
                     "nested": {"type": "object", "properties": {"x": {"default": 1}}, "default": {}}},
      "required": ["url"], "additionalProperties": false})"));
    std::string text(reinterpret_cast<const char*>(data), size);
    configSchema.validateText(text);
    try {
        auto doc = pulse::json::parseJson(text);
        configSchema.withDefaults(doc);
        pulse::json::lookupPointer(doc, text.substr(0, 32));
        auto schema = pulse::json::JsonSchema::compile(doc);
        schema.validate(doc);
    } catch (const std::invalid_argument&) {
    } catch (const pulse::json::SchemaError&) {
    }
    return 0;
}
