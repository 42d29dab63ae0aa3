// pulse/json.hpp: the one JSON writer and problem builder of the host and the plugins.
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

TEST(JsonWriter, NumbersJsonCannotHoldAreNull) {
    Writer w;
    w.beginArray().value(std::numeric_limits<double>::quiet_NaN()).value(0.1).endArray();
    EXPECT_EQ(w.str(), "[null,0.10000000000000001]");
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
