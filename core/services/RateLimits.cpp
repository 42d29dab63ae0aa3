#include "services/RateLimits.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace pulse::services {
namespace {

// Drops the older half of a map's entries, by the time ageOf reads from each.
template <typename Map, typename AgeOf>
void evictOldestHalf(Map& map, AgeOf ageOf) {
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> byAge;
    byAge.reserve(map.size());
    for (const auto& [key, value] : map) byAge.emplace_back(ageOf(value), key);
    auto middle = byAge.begin() + static_cast<std::ptrdiff_t>(byAge.size() / 2);
    std::nth_element(byAge.begin(), middle, byAge.end());
    for (auto it = byAge.begin(); it != middle; ++it) map.erase(it->second);
}

}  // namespace

int RateLimiter::take(const std::string& key) {
    if (perSecond_ <= 0) return 0;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (buckets_.size() >= maxKeys_) prune(now);
    auto [it, created] = buckets_.try_emplace(key, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!created) {
        double elapsed = std::chrono::duration<double>(now - b.at).count();
        b.tokens = std::min(burst_, b.tokens + elapsed * perSecond_);
        b.at = now;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / perSecond_)));
}

void RateLimiter::charge(const std::string& key, double tokens) {
    if (perSecond_ <= 0 || tokens <= 0) return;
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it != buckets_.end()) it->second.tokens -= tokens;
}

void RateLimiter::prune(std::chrono::steady_clock::time_point now) {
    // A bucket that would be full again holds no information.
    auto refill = std::chrono::duration<double>(burst_ / perSecond_);
    for (auto it = buckets_.begin(); it != buckets_.end();)
        it = now - it->second.at > refill ? buckets_.erase(it) : std::next(it);
    // Still full (a flood of distinct keys): drop the stalest half rather than everything, so that busy
    // clients keep their state.
    if (buckets_.size() >= maxKeys_ * 9 / 10) {
        evictOldestHalf(buckets_, [](const Bucket& b) { return b.at; });
    }
}

int LoginThrottle::waitFor(const std::string& key, int max, std::chrono::steady_clock::time_point now) {
    auto it = counts_.find(key);
    if (it == counts_.end()) return 0;
    if (now - it->second.since >= window_) {
        counts_.erase(it);
        return 0;
    }
    if (it->second.n < max) return 0;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(window_ - (now - it->second.since)).count();
    return std::max<int>(1, static_cast<int>(left));
}

int LoginThrottle::begin(const std::string& account, const std::string& address) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    int wait = std::max(waitFor("a:" + address, maxPerAddress_, now),
                        waitFor("p:" + account + "\n" + address, maxPerPair_, now));
    if (wait) return wait;
    if (counts_.size() > 200000) prune(now);
    for (const auto& key : {"a:" + address, "p:" + account + "\n" + address}) {
        auto& c = counts_[key];
        if (c.n == 0 || now - c.since >= window_) c = Count{0, now};
        ++c.n;
    }
    return 0;
}

void LoginThrottle::prune(std::chrono::steady_clock::time_point now) {
    for (auto it = counts_.begin(); it != counts_.end();)
        it = now - it->second.since >= window_ ? counts_.erase(it) : std::next(it);
    if (counts_.size() > 150000) {  // a flood of fresh keys: forget the oldest half rather than grow
        evictOldestHalf(counts_, [](const Count& c) { return c.since; });
    }
}

void LoginThrottle::succeeded(const std::string& account, const std::string& address) {
    std::lock_guard lock(mutex_);
    counts_.erase("p:" + account + "\n" + address);
    if (auto it = counts_.find("a:" + address); it != counts_.end() && it->second.n > 0) --it->second.n;
}

}  // namespace pulse::services
