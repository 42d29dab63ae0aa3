// pulse/json.hpp: the one JSON writer and problem builder of the host and the plugins; json::toJsonText
// writes the host's Poco values with it.
#include "json/JsonText.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <pulse/json.hpp>

#include <limits>

using pulse::json::Writer;

TEST(JsonWriter, NestsAndSeparatesAndEscapes) {
    Writer w;
    w.beginObject().member("name", "a \"quoted\"\\ line\n\x01").member("n", 3).member("ok", true);
    w.key("list").beginArray().value(1.5).value("x").null().beginObject().endObject().endArray();
    w.key("raw").raw("{\"k\":[1]}").endObject();
    EXPECT_EQ(
        w.str(),
        "{\"name\":\"a \\\"quoted\\\"\\\\ line\\n\\u0001\",\"n\":3,\"ok\":true,\"list\":[1.5,\"x\",null,{}],"
        "\"raw\":{\"k\":[1]}}");
    auto parsed = Poco::JSON::Parser().parse(w.str()).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(parsed->getValue<std::string>("name"), "a \"quoted\"\\ line\n\x01");
}

TEST(JsonWriter, NumbersAreShortReadBackExactlyAndNullWhereJsonCannotHoldThem) {
    Writer w;
    w.beginArray().value(std::numeric_limits<double>::quiet_NaN()).value(0.1).value(21.5).value(1e300);
    w.value(0.1 + 0.2).value(0.7999999999999999).value(-3).endArray();
    EXPECT_EQ(w.str(), "[null,0.1,21.5,1e+300,0.30000000000000004,0.7999999999999999,-3]");
}

TEST(JsonWriter, HostValuesAreWrittenByTheSameWriterInTheirOrder) {
    Poco::JSON::Object::Ptr ordered = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    ordered->set("z", 1);
    ordered->set("a", Poco::Dynamic::Var());
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    list->add(true);
    list->add(std::string("line\n\"quoted\""));
    list->add(0.1);
    list->add(Poco::UInt64(18446744073709551615ULL));
    ordered->set("list", list);
    EXPECT_EQ(pulse::json::toJsonText(ordered),
              "{\"z\":1,\"a\":null,\"list\":[true,\"line\\n\\\"quoted\\\"\",0.1,18446744073709551615]}");
    Poco::JSON::Object::Ptr sorted = new Poco::JSON::Object;
    sorted->set("b", 2);
    sorted->set("a", 1);
    EXPECT_EQ(pulse::json::toJsonText(sorted), "{\"a\":1,\"b\":2}");
    EXPECT_EQ(pulse::json::toJsonText(Poco::Dynamic::Var()), "null");
}

TEST(JsonWriter, ProblemEscapesEveryMemberAndTakesExtensions) {
    EXPECT_EQ(pulse::json::problem(422, "Unprocessable \"Content\"", "bad", "/api/v1/x", "name"),
              "{\"type\":\"about:blank\",\"title\":\"Unprocessable \\\"Content\\\"\",\"status\":422,"
              "\"detail\":\"bad\",\"instance\":\"/api/v1/x\",\"field\":\"name\"}");
    auto withErrors = pulse::json::problem(400, "Bad Request", "d", "", "", [](Writer& w) {
        w.key("errors").beginArray().value("line 2").endArray();
    });
    EXPECT_EQ(withErrors,
              "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"d\","
              "\"errors\":[\"line 2\"]}");
}
