#include "pipeline/TelemetryDecoder.h"

#include <gtest/gtest.h>

using pulse::pipeline::DecodeLimits;
using pulse::pipeline::decodeTelemetry;

namespace {
constexpr int64_t kNow = 1'795'500'000'000'000;  // 2026-11-24, in microseconds
}

TEST(TelemetryDecoder, FlatObjectUsesServerTime) {
    auto d =
        decodeTelemetry(R"({"temperature": 21.5, "on": true, "count": 3, "fw": "1.2", "x": null})", kNow);
    ASSERT_TRUE(d.ok) << d.error;
    ASSERT_EQ(d.readings.size(), 3u);
    EXPECT_EQ(d.readings[0].metric, "temperature");
    EXPECT_EQ(d.readings[0].value, 21.5);
    EXPECT_EQ(d.readings[0].tsUs, kNow);
    EXPECT_TRUE(d.readings[1].isBool);
    EXPECT_EQ(d.readings[1].value, 1.0);
    EXPECT_EQ(d.ignored, (std::vector<std::string>{"fw", "x"}));
}

TEST(TelemetryDecoder, TimestampsInMillisecondsOrSeconds) {
    auto ms = decodeTelemetry(R"({"ts": 1795499000000, "values": {"a": 1}})", kNow);
    auto s = decodeTelemetry(R"({"ts": 1795499000, "metrics": {"a": 1}})", kNow);
    auto inline_ = decodeTelemetry(R"({"ts": 1795499000.5, "a": 1})", kNow);
    ASSERT_TRUE(ms.ok && s.ok && inline_.ok);
    EXPECT_EQ(ms.readings[0].tsUs, 1795499000000000);
    EXPECT_EQ(s.readings[0].tsUs, 1795499000000000);
    EXPECT_EQ(inline_.readings[0].tsUs, 1795499000500000);
}

TEST(TelemetryDecoder, ArraysAreBatches) {
    auto d = decodeTelemetry(
        R"([{"ts": 1795499000000, "values": {"a": 1, "b": 2}}, {"ts": 1795499001000, "values": {"a": 3}}])",
        kNow);
    ASSERT_TRUE(d.ok) << d.error;
    ASSERT_EQ(d.readings.size(), 3u);
    EXPECT_EQ(d.readings[2].tsUs, 1795499001000000);
}

TEST(TelemetryDecoder, ErrorsNameTheField) {
    auto check = [](const char* payload, int status, const char* field, const char* fragment) {
        auto d = decodeTelemetry(payload, kNow);
        EXPECT_FALSE(d.ok) << payload;
        EXPECT_EQ(d.status, status) << payload;
        EXPECT_EQ(d.field, field) << payload;
        EXPECT_NE(d.error.find(fragment), std::string::npos) << payload << ": " << d.error;
        EXPECT_TRUE(d.readings.empty());
    };
    check("{", 400, "", "invalid JSON");
    check("42", 400, "", "object or an array");
    check("{}", 400, "", "no readings");
    check(R"({"ts": "yesterday", "a": 1})", 400, "ts", "ts must be a number");
    check(R"({"ts": 9999999999999, "a": 1})", 400, "ts", "in the future");
    check(R"({"ts": 1000000000000, "a": 1})", 400, "ts", "older than the retention window");
    check(R"([{"a": 1}, 5])", 400, "[1]", "must be an object");
    check(R"([{"a": 1}, {"values": []}])", 400, "[1].values", "must be an object");
    check(R"({"values": {"a": 1}, "extra": 2})", 400, "", "takes only \"ts\"");
    check(R"({"": 1})", 400, "", "metric names");
    check(R"({"a": 1e999})", 400, "", "invalid JSON");
}

TEST(TelemetryDecoder, TooManyReadingsIs413) {
    DecodeLimits limits;
    limits.maxReadings = 2;
    auto d = decodeTelemetry(R"({"a": 1, "b": 2, "c": 3})", kNow, limits);
    EXPECT_FALSE(d.ok);
    EXPECT_EQ(d.status, 413);
    EXPECT_EQ(d.field, "c");
}
