#pragma once

#include <algorithm>
#include <cstdint>
#include <random>

namespace pulse::workers {

// Delay before the next attempt after `attempt` failed ones: exponential (base, 2 base, 4 base...) up to
// max, with "equal jitter" (half fixed, half random) so that a burst of failures does not retry in
// lockstep; never earlier than the peer's Retry-After.
inline int64_t retryDelayMs(int attempt, int64_t baseMs, int64_t maxMs, int64_t retryAfterMs,
                            std::mt19937_64& rng) {
    int shift = std::clamp(attempt - 1, 0, 40);
    double exp = std::min(static_cast<double>(maxMs),
                          static_cast<double>(baseMs) * static_cast<double>(1ULL << shift));
    auto fixed = static_cast<int64_t>(exp / 2);
    std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(static_cast<int64_t>(exp) - fixed, 0));
    return std::max(fixed + jitter(rng), retryAfterMs);
}

}  // namespace pulse::workers
