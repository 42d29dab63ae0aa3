#include "TopicParser.h"

#include <gtest/gtest.h>

using pulse::ingest_mqtt::parseTelemetryTopic;

TEST(TopicParser, AcceptsOnlyTheDeviceTelemetryShape) {
    auto t = parseTelemetryTopic("devices/acme/pump-1/telemetry");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->tenant, "acme");
    EXPECT_EQ(t->device, "pump-1");
    for (const char* bad :
         {"devices/acme/telemetry", "devices/acme/a/b/telemetry", "devices//pump/telemetry",
          "devices/acme//telemetry", "devices/acme/pump/telemetryx", "other/acme/pump/telemetry",
          "devices/+/pump/telemetry", "devices/acme/#/telemetry", "", "devices/telemetry"})
        EXPECT_FALSE(parseTelemetryTopic(bad)) << bad;
}
