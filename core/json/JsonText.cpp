#include "json/JsonText.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <pulse/json.hpp>

#include <vector>

namespace pulse::json {
namespace {

void write(Writer& out, const Poco::Dynamic::Var& v);

void writeObject(Writer& out, const Poco::JSON::Object& object) {
    out.beginObject();
    // getNames() keeps an object's insertion order when it was built to (Poco's own stringify does too).
    for (const auto& name : object.getNames()) {
        out.key(name);
        write(out, object.get(name));
    }
    out.endObject();
}

void writeArray(Writer& out, const Poco::JSON::Array& array) {
    out.beginArray();
    for (const auto& item : array) write(out, item);
    out.endArray();
}

void write(Writer& out, const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) {
        out.null();
    } else if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
        const auto& object = v.extract<Poco::JSON::Object::Ptr>();
        if (object)
            writeObject(out, *object);
        else
            out.null();
    } else if (v.type() == typeid(Poco::JSON::Object)) {
        writeObject(out, v.extract<Poco::JSON::Object>());
    } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
        const auto& array = v.extract<Poco::JSON::Array::Ptr>();
        if (array)
            writeArray(out, *array);
        else
            out.null();
    } else if (v.type() == typeid(Poco::JSON::Array)) {
        writeArray(out, v.extract<Poco::JSON::Array>());
    } else if (v.type() == typeid(std::vector<Poco::Dynamic::Var>)) {
        out.beginArray();
        for (const auto& item : v.extract<std::vector<Poco::Dynamic::Var>>()) write(out, item);
        out.endArray();
    } else if (v.isBoolean()) {
        out.value(v.convert<bool>());
    } else if (v.isInteger()) {
        if (v.isSigned())
            out.value(v.convert<Poco::Int64>());
        else
            out.value(v.convert<Poco::UInt64>());
    } else if (v.isNumeric()) {
        out.value(v.convert<double>());
    } else {
        out.value(v.convert<std::string>());  // strings, and anything else as its text
    }
}

}  // namespace

std::string toJsonText(const Poco::Dynamic::Var& value) {
    Writer out;
    write(out, value);
    return out.str();
}

}  // namespace pulse::json
