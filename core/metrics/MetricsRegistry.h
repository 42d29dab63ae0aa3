#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
  public:
    void add(double delta = 1.0) { value_.fetch_add(delta, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

class Gauge {
  public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

class Histogram {
  public:
    explicit Histogram(std::vector<double> upperBounds);
    void observe(double v);
    // Cumulative counts per bucket (the last is +Inf), the sum and the count, read consistently.
    void snapshot(std::vector<uint64_t>& cumulative, double& sum, uint64_t& count) const;
    const std::vector<double>& bounds() const { return bounds_; }

  private:
    std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::vector<uint64_t> counts_;
    double sum_ = 0;
    uint64_t count_ = 0;
};

// Process-wide metrics in the Prometheus text exposition format 0.0.4. Families are created on first use
// and live as long as the registry; returned references stay valid, so hot paths look them up once.
class MetricsRegistry {
  public:
    Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                         const Labels& labels = {});
    // Runs before each render, for values read at scrape time (memory, pool sizes).
    void addCollector(std::function<void(MetricsRegistry&)> collector);

    std::string render();

    static bool validName(const std::string& name);
    static const std::vector<double>& latencyBuckets();

  private:
    enum class Type { Counter, Gauge, Histogram };
    struct Family {
        Type type;
        std::string help;
        std::map<std::string, std::unique_ptr<Counter>> counters;  // keyed by rendered label set
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family& family(const std::string& name, const std::string& help, Type type);

    std::mutex mutex_;
    std::map<std::string, Family> families_;
    std::vector<std::function<void(MetricsRegistry&)>> collectors_;
};

class MetricsError : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

}  // namespace pulse::metrics
