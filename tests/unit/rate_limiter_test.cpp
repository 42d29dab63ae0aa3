// Token buckets and the login throttle: bursts, refill, Retry-After, keys kept apart, the victim's own
// address unaffected by an attacker's failures.
#include "services/RateLimits.h"

#include <gtest/gtest.h>

#include <thread>

using pulse::services::LoginThrottle;
using pulse::services::RateLimiter;

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
    for (int i = 0; i < 3; ++i) EXPECT_EQ(throttle.begin("victim@x", "attacker"), 0) << i;  // each counts
    EXPECT_GE(throttle.begin("victim@x", "attacker"), 1);
    EXPECT_EQ(throttle.begin("victim@x", "home"), 0);     // the owner, from elsewhere...
    throttle.succeeded("victim@x", "home");               // ...signs in
    EXPECT_EQ(throttle.begin("other@x", "attacker"), 0);  // 4th attempt from the address (limit 5)
    EXPECT_EQ(throttle.begin("a@x", "attacker"), 0);      // 5th
    EXPECT_GE(throttle.begin("b@x", "attacker"), 1);      // the address is over its limit
}

TEST(LoginThrottle, ConcurrentAttemptsCountBeforeTheyAreJudged) {
    LoginThrottle throttle(100, 2, std::chrono::seconds(60));
    // Two attempts in flight (neither judged yet) use up the pair's allowance: a third waits.
    EXPECT_EQ(throttle.begin("u", "ip"), 0);
    EXPECT_EQ(throttle.begin("u", "ip"), 0);
    EXPECT_GE(throttle.begin("u", "ip"), 1);
}

TEST(LoginThrottle, SuccessClearsThePairAndFailuresAgeOut) {
    LoginThrottle throttle(100, 2, std::chrono::seconds(1));
    EXPECT_EQ(throttle.begin("u", "ip"), 0);
    throttle.succeeded("u", "ip");
    EXPECT_EQ(throttle.begin("u", "ip"), 0);
    EXPECT_EQ(throttle.begin("u", "ip"), 0);
    EXPECT_GE(throttle.begin("u", "ip"), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_EQ(throttle.begin("u", "ip"), 0);
}

TEST(RateLimiter, AChargeBeyondTheTokenTakesTheBucketIntoDebt) {
    RateLimiter limiter(10, 5);
    EXPECT_EQ(limiter.take("device"), 0);
    limiter.charge("device", 14);  // a message of 15 readings, let in with 5 tokens
    int wait = limiter.take("device");
    EXPECT_GE(wait, 1) << "the debt must be paid back before the next message";
    EXPECT_LE(wait, 2);  // 10 tokens owed, refilled at 10 a second
    EXPECT_EQ(limiter.take("other"), 0) << "a debt is the key's own";
}

TEST(RateLimiter, ARateOfZeroLetsEverythingThrough) {
    RateLimiter limiter(0, 1);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.take("k"), 0);
    limiter.charge("k", 1000);
    EXPECT_EQ(limiter.take("k"), 0);
}
