#include "metrics/MetricsRegistry.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using pulse::metrics::MetricsError;
using pulse::metrics::MetricsRegistry;

TEST(Metrics, RendersFamiliesOnceWithEscapedLabels) {
    MetricsRegistry m;
    m.counter("requests_total", "Requests", {{"route", "a\"b\\c\nd"}}).add(2);
    m.counter("requests_total", "Requests", {{"route", "x"}}).add();
    m.gauge("temperature_celsius", "A gauge").set(21.5);
    std::string out = m.render();
    EXPECT_NE(out.find("# TYPE requests_total counter\n"), std::string::npos);
    EXPECT_NE(out.find("requests_total{route=\"a\\\"b\\\\c\\nd\"} 2\n"), std::string::npos) << out;
    EXPECT_NE(out.find("requests_total{route=\"x\"} 1\n"), std::string::npos);
    EXPECT_NE(out.find("temperature_celsius 21.5\n"), std::string::npos);
    EXPECT_EQ(out.find("# HELP requests_total"), out.rfind("# HELP requests_total"));
}

TEST(Metrics, HistogramBucketsAreCumulativeAndEndInInf) {
    MetricsRegistry m;
    auto& h = m.histogram("latency_seconds", "Latency", {0.1, 1}, {{"route", "r"}});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    std::string out = m.render();
    EXPECT_NE(out.find("latency_seconds_bucket{route=\"r\",le=\"0.1\"} 1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("latency_seconds_bucket{route=\"r\",le=\"1\"} 2\n"), std::string::npos);
    EXPECT_NE(out.find("latency_seconds_bucket{route=\"r\",le=\"+Inf\"} 3\n"), std::string::npos);
    EXPECT_NE(out.find("latency_seconds_count{route=\"r\"} 3\n"), std::string::npos);
    EXPECT_NE(out.find("latency_seconds_sum{route=\"r\"} 5.55\n"), std::string::npos);
}

TEST(Metrics, RejectsBadNamesAndTypeClashes) {
    MetricsRegistry m;
    EXPECT_THROW(m.counter("1bad", "x"), MetricsError);
    EXPECT_THROW(m.counter("ok_total", "x", {{"bad-label", "v"}}), MetricsError);
    m.counter("clash", "x");
    EXPECT_THROW(m.gauge("clash", "x"), MetricsError);
}

TEST(Metrics, CollectorsRunAtRender) {
    MetricsRegistry m;
    int runs = 0;
    m.addCollector([&](MetricsRegistry& r) { r.gauge("collected", "c").set(++runs); });
    m.render();
    EXPECT_NE(m.render().find("collected 2\n"), std::string::npos);
}

// promtool (Debian package prometheus) is the reference parser of the exposition format.
TEST(Metrics, PromtoolAcceptsTheOutput) {
    MetricsRegistry m;
    m.counter("pulse_things_total", "Things with \\ and\nnewline in help", {{"a", "1"}}).add(3);
    m.gauge("pulse_level", "Level").set(-0.25);
    m.histogram("pulse_latency_seconds", "Latency", MetricsRegistry::latencyBuckets(), {{"route", "x"}})
        .observe(0.2);
    std::string path = ::testing::TempDir() + "/metrics.txt";
    std::ofstream(path) << m.render();
    int rc = std::system(("promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
    std::ifstream in(path + ".out");
    std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0) << report;
}
