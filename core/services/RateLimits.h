#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pulse::services {

// Token buckets by key (client address, tenant, device): `burst` requests at once, refilled at `perSecond`.
// In memory, per instance: N instances allow N times the rate (documented). Idle buckets are dropped so
// that a flood of distinct keys cannot grow it without bound.
class RateLimiter {
  public:
    RateLimiter(double perSecond, double burst, size_t maxKeys = 100000)
        : perSecond_(perSecond), burst_(burst), maxKeys_(maxKeys) {}

    // 0 when the request may go ahead (a token is taken), otherwise the seconds to wait (Retry-After).
    // A rate of 0 lets everything through.
    int take(const std::string& key);
    // A request let in may cost more than one token (a message of many readings): the bucket goes into
    // debt, so that a large batch passes at the sustained rate and what follows waits.
    void charge(const std::string& key, double tokens);

  private:
    struct Bucket {
        double tokens;
        std::chrono::steady_clock::time_point at;
    };
    void prune(std::chrono::steady_clock::time_point now);

    double perSecond_, burst_;
    size_t maxKeys_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

// Failed logins counted per address and per (account, address) over a window. An address or a pair over
// its limit waits (429 + Retry-After); the account itself is never locked, so its owner, from an address
// that has not been failing, still signs in.
class LoginThrottle {
  public:
    LoginThrottle(int maxPerAddress, int maxPerAccountAndAddress, std::chrono::seconds window)
        : maxPerAddress_(maxPerAddress), maxPerPair_(maxPerAccountAndAddress), window_(window) {}

    // 0 when a login attempt may be made, and then the attempt already counts as a failure (so that
    // concurrent guesses cannot all pass the check); otherwise the seconds to wait, nothing counted.
    int begin(const std::string& account, const std::string& address);
    // The attempt succeeded (or was never judged): it does not count, and the pair starts afresh.
    void succeeded(const std::string& account, const std::string& address);

  private:
    struct Count {
        int n = 0;
        std::chrono::steady_clock::time_point since;
    };
    int waitFor(const std::string& key, int max, std::chrono::steady_clock::time_point now);
    void prune(std::chrono::steady_clock::time_point now);

    int maxPerAddress_, maxPerPair_;
    std::chrono::seconds window_;
    std::mutex mutex_;
    std::unordered_map<std::string, Count> counts_;
};

}  // namespace pulse::services
