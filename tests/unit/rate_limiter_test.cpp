// Token buckets and the login throttle: bursts, refill, Retry-After, keys kept apart, the victim's own
// address unaffected by an attacker's failures.
#include "http/RateLimiter.h"

#include <gtest/gtest.h>

#include <thread>

using pulse::http::LoginThrottle;
using pulse::http::RateLimiter;

TEST(RateLimiter, AllowsTheBurstThenAsksToWaitAndRefills) {
    RateLimiter limiter(20, 3);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("a"), 0) << i;
    EXPECT_GE(limiter.take("a"), 1);                              // Retry-After is at least a second
    EXPECT_EQ(limiter.take("b"), 0);                              // another key has its own bucket
    std::this_thread::sleep_for(std::chrono::milliseconds(120));  // 20/s: two tokens back
    EXPECT_EQ(limiter.take("a"), 0);
}

TEST(RateLimiter, RetryAfterCoversTheTimeToTheNextToken) {
    RateLimiter limiter(0.1, 1);  // one request per 10 s
    EXPECT_EQ(limiter.take("k"), 0);
    int wait = limiter.take("k");
    EXPECT_GE(wait, 9);
    EXPECT_LE(wait, 10);
}

TEST(RateLimiter, ManyDistinctKeysDoNotGrowWithoutBound) {
    RateLimiter limiter(1000, 1, 100);
    for (int i = 0; i < 10000; ++i) limiter.take("k" + std::to_string(i));
    EXPECT_EQ(limiter.take("fresh"), 0);
}

TEST(LoginThrottle, AnAttackersFailuresDoNotLockTheOwnerOut) {
    LoginThrottle throttle(5, 3, std::chrono::seconds(60));
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(throttle.check("victim@x", "attacker"), 0);
        throttle.failed("victim@x", "attacker");
    }
    EXPECT_GE(throttle.check("victim@x", "attacker"), 1);
    EXPECT_EQ(throttle.check("victim@x", "home"), 0);     // the owner, from elsewhere
    EXPECT_EQ(throttle.check("other@x", "attacker"), 0);  // per-address limit (5) not reached yet
    throttle.failed("a@x", "attacker");
    throttle.failed("b@x", "attacker");
    EXPECT_GE(throttle.check("other@x", "attacker"), 1);  // 5 failures from the address
}

TEST(LoginThrottle, SuccessClearsThePairAndFailuresAgeOut) {
    LoginThrottle throttle(100, 2, std::chrono::seconds(1));
    throttle.failed("u", "ip");
    throttle.succeeded("u", "ip");
    throttle.failed("u", "ip");
    EXPECT_EQ(throttle.check("u", "ip"), 0);
    throttle.failed("u", "ip");
    EXPECT_GE(throttle.check("u", "ip"), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(throttle.check("u", "ip"), 0);
}
