// app::Workers: the one owner of what runs on its own stops it in reverse order of starting, once, whether
// the server stops or a later subsystem failed to start.
#include "app/Workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using pulse::app::Workers;

TEST(Workers, StopInReverseOrderOnceAndGoOnPastAFailingStop) {
    std::vector<std::string> log;
    {
        Workers w;
        w.start(
            "db", [&] { log.push_back("start db"); }, [&] { log.push_back("stop db"); });
        w.start(
            "writer", [&] { log.push_back("start writer"); },
            [&] {
                log.push_back("stop writer");
                throw std::runtime_error("flush failed");
            });
        w.start(
            "http", [&] { log.push_back("start http"); }, [&] { log.push_back("stop http"); });
        EXPECT_EQ(w.names(), (std::vector<std::string>{"db", "writer", "http"}));
        w.stopAll();
        w.stopAll();  // a second call (uninitialize after a failed start) stops nothing twice
    }                 // and neither does the destructor
    EXPECT_EQ(log, (std::vector<std::string>{"start db", "start writer", "start http", "stop http",
                                             "stop writer", "stop db"}));
}

TEST(Workers, AStartThatThrowsIsNotRegisteredAndWhatStartedBeforeItStops) {
    std::vector<std::string> log;
    Workers w;
    w.start(
        "first", [] {}, [&] { log.push_back("stop first"); });
    EXPECT_THROW(w.start(
                     "second", [] { throw std::runtime_error("no database"); }, [&] { log.push_back("x"); }),
                 std::runtime_error);
    w.stopAll();
    EXPECT_EQ(log, (std::vector<std::string>{"stop first"}));
}

TEST(Workers, APeriodicTaskRunsUntilStopped) {
    std::atomic<int> runs{0};
    Workers w;
    w.every("tick", std::chrono::milliseconds(5), [&] { ++runs; });
    for (int i = 0; i < 400 && runs.load() < 3; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    w.stopAll();
    int seen = runs.load();
    EXPECT_GE(seen, 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(runs.load(), seen);  // nothing runs after the stop
}
