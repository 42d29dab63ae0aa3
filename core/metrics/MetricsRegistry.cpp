#include "metrics/MetricsRegistry.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <sstream>

namespace pulse::metrics {
namespace {

std::string escapeLabel(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escapeHelp(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

bool validLabelName(const std::string& n) {
    if (n.empty() || n.rfind("__", 0) == 0) return false;
    for (size_t i = 0; i < n.size(); ++i) {
        char c = n[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

// {a="1",b="2"}, or nothing for an empty set.
std::string renderLabels(const Labels& labels) {
    if (labels.empty()) return "";
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!first) out += ",";
        out += k + "=\"" + escapeLabel(v) + "\"";
        first = false;
    }
    return out + "}";
}

std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);  // the shortest text that reads back as the same double
}

std::string labelKey(const Labels& labels) {
    for (const auto& [k, v] : labels)
        if (!validLabelName(k)) throw MetricsError("invalid label name '" + k + "'");
    return renderLabels(labels);
}

}  // namespace

Histogram::Histogram(std::vector<double> upperBounds) : bounds_(std::move(upperBounds)) {
    std::sort(bounds_.begin(), bounds_.end());
    counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
    size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    std::lock_guard lock(mutex_);
    counts_[i]++;
    sum_ += v;
    count_++;
}

void Histogram::snapshot(std::vector<uint64_t>& cumulative, double& sum, uint64_t& count) const {
    std::lock_guard lock(mutex_);
    cumulative.resize(counts_.size());
    uint64_t running = 0;
    for (size_t i = 0; i < counts_.size(); ++i) cumulative[i] = running += counts_[i];
    sum = sum_;
    count = count_;
}

bool MetricsRegistry::validName(const std::string& n) {
    if (n.empty()) return false;
    for (size_t i = 0; i < n.size(); ++i) {
        char c = n[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

const std::vector<double>& MetricsRegistry::latencyBuckets() {
    static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    return b;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 Type type) {
    if (!validName(name)) throw MetricsError("invalid metric name '" + name + "'");
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.type = type;
        it->second.help = help;
    } else if (it->second.type != type) {
        throw MetricsError("metric '" + name + "' is already registered with another type");
    }
    return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const Labels& labels) {
    std::string key = labelKey(labels);
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, Type::Counter).counters[key];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
    std::string key = labelKey(labels);
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, Type::Gauge).gauges[key];
    if (!slot) slot = std::make_unique<Gauge>();
    return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& bounds, const Labels& labels) {
    std::string key = labelKey(labels);
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, Type::Histogram).histograms[key];
    if (!slot) slot = std::make_unique<Histogram>(bounds);
    return *slot;
}

void MetricsRegistry::addCollector(std::function<void(MetricsRegistry&)> collector) {
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::render() {
    std::vector<std::function<void(MetricsRegistry&)>> collectors;
    {
        std::lock_guard lock(mutex_);
        collectors = collectors_;
    }
    for (auto& c : collectors) c(*this);

    std::lock_guard lock(mutex_);
    std::ostringstream os;
    for (const auto& [name, f] : families_) {
        static const char* typeNames[] = {"counter", "gauge", "histogram"};
        os << "# HELP " << name << ' ' << escapeHelp(f.help) << '\n';
        os << "# TYPE " << name << ' ' << typeNames[static_cast<int>(f.type)] << '\n';
        for (const auto& [labels, c] : f.counters) os << name << labels << ' ' << number(c->value()) << '\n';
        for (const auto& [labels, g] : f.gauges) os << name << labels << ' ' << number(g->value()) << '\n';
        for (const auto& [labels, h] : f.histograms) {
            std::vector<uint64_t> cumulative;
            double sum;
            uint64_t count;
            h->snapshot(cumulative, sum, count);
            // Re-open the rendered label set to append le="...".
            std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2);
            auto withLe = [&](const std::string& le) {
                return "{" + inner + (inner.empty() ? "" : ",") + "le=\"" + le + "\"}";
            };
            for (size_t i = 0; i < h->bounds().size(); ++i)
                os << name << "_bucket" << withLe(number(h->bounds()[i])) << ' ' << cumulative[i] << '\n';
            os << name << "_bucket" << withLe("+Inf") << ' ' << cumulative.back() << '\n';
            os << name << "_sum" << labels << ' ' << number(sum) << '\n';
            os << name << "_count" << labels << ' ' << count << '\n';
        }
    }
    return os.str();
}

}  // namespace pulse::metrics
