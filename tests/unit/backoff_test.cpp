// Retry delays: exponential with jitter, capped, never before the peer's Retry-After.
#include "workers/Backoff.h"

#include <gtest/gtest.h>

#include <set>

using pulse::workers::retryDelayMs;

TEST(Backoff, ExponentialWithEqualJitterAndACap) {
    std::mt19937_64 rng(42);
    for (int attempt = 1; attempt <= 12; ++attempt) {
        int64_t full = std::min<int64_t>(1000LL << (attempt - 1), 60000);
        for (int i = 0; i < 200; ++i) {
            int64_t d = retryDelayMs(attempt, 1000, 60000, -1, rng);
            EXPECT_GE(d, full / 2);
            EXPECT_LE(d, full);
        }
    }
}

TEST(Backoff, NeverEarlierThanRetryAfter) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 100; ++i) EXPECT_GE(retryDelayMs(1, 100, 60000, 5000, rng), 5000);
    EXPECT_LE(retryDelayMs(1, 100, 60000, 0, rng), 100);
}

TEST(Backoff, JitterSpreadsRetries) {
    std::mt19937_64 rng(1);
    std::set<int64_t> seen;
    for (int i = 0; i < 50; ++i) seen.insert(retryDelayMs(5, 1000, 3600000, -1, rng));
    EXPECT_GT(seen.size(), 40u);
}
