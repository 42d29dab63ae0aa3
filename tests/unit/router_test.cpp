#include "http/Router.h"

#include <gtest/gtest.h>

using pulse::http::Router;

namespace {
pulse::http::Handler noop() {
    return [](pulse::http::Exchange&) {};
}
}  // namespace

TEST(Router, LiteralsBeatCapturesAndCapturesAreDecoded) {
    Router r;
    r.add("GET", "/api/v1/devices/{id}", "device", noop());
    r.add("GET", "/api/v1/devices/export", "export", noop());
    EXPECT_EQ(r.match("GET", "/api/v1/devices/export").name, "export");
    auto m = r.match("GET", "/api/v1/devices/a%2Fb");
    EXPECT_EQ(m.name, "device");
    EXPECT_EQ(m.params["id"], "a/b");
}

TEST(Router, WrongMethodListsAllowedOnes) {
    Router r;
    r.add("GET", "/health", "health", noop());
    r.add("POST", "/health", "health_post", noop());
    auto m = r.match("DELETE", "/health");
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_EQ(m.allowedMethods, (std::vector<std::string>{"GET", "POST"}));
    EXPECT_NE(r.match("HEAD", "/health").handler, nullptr);
}

TEST(Router, WildcardTakesTheRestAndUnknownPathsMatchNothing) {
    Router r;
    r.add("GET", "/metrics", "metrics", noop());
    EXPECT_EQ(r.match("GET", "/metrics/extra").handler, nullptr);
    r.add("GET", "/*", "static", noop());
    auto m = r.match("GET", "/assets/app.js");
    EXPECT_EQ(m.name, "static");
    EXPECT_EQ(m.params["*"], "assets/app.js");
    EXPECT_EQ(r.match("GET", "/metrics").name, "metrics");
    EXPECT_EQ(r.match("GET", "/").params["*"], "");
}
