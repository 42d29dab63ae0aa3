// services::LiveEvents on its own: tenant scoping, watched readings, replay after Last-Event-ID, the reset
// for a client from before what is kept, and the bounds per principal and in total.
#include "services/LiveEvents.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

using pulse::services::EventSink;
using pulse::services::LiveEvents;
using pulse::services::LiveSubscription;

namespace {

class Collector : public EventSink {
  public:
    bool send(std::string frame) override {
        if (closed_) return false;
        frames.push_back(std::move(frame));
        return true;
    }
    bool closed() const override { return closed_; }
    void close() override { closed_ = true; }
    std::string all() const {
        std::string out;
        for (const auto& f : frames) out += f;
        return out;
    }
    std::vector<std::string> frames;

  private:
    bool closed_ = false;
};

struct Subscriber {
    std::shared_ptr<Collector> sink = std::make_shared<Collector>();
    LiveSubscription of(const std::string& tenant, const std::string& principal,
                        std::set<long long> devices = {}) {
        return {tenant, principal, std::move(devices), sink};
    }
};

long long idOf(const std::string& frame) {
    return std::stoll(frame.substr(4, frame.find('\n') - 4));
}

}  // namespace

TEST(LiveEvents, EventsGoToTheirTenantsStreamsAndReadingsOnlyToThoseWatchingTheDevice) {
    LiveEvents live({8, 100, 16, 15});
    Subscriber a, b, watcher;
    ASSERT_EQ(live.subscribe(a.of("t1", "u1"), std::nullopt), LiveEvents::Admission::Admitted);
    ASSERT_EQ(live.subscribe(b.of("t2", "u2"), std::nullopt), LiveEvents::Admission::Admitted);
    ASSERT_EQ(live.subscribe(watcher.of("t1", "u3", {42}), std::nullopt), LiveEvents::Admission::Admitted);
    live.publish("t1", "alert", 0, "{\"alert_id\":7}");
    EXPECT_NE(a.sink->all().find("event: alert\ndata: {\"alert_id\":7}\n\n"), std::string::npos);
    EXPECT_TRUE(b.sink->frames.empty());

    EXPECT_TRUE(live.watched(42));
    EXPECT_FALSE(live.watched(43));
    live.publishReading("t1", 42, "temp", 1000, 21.5);
    live.publishReading("t2", 42, "temp", 1000, 99);  // another tenant's device id: never crosses
    EXPECT_EQ(watcher.sink->frames.size(), 2u);       // the alert and its own reading
    EXPECT_NE(watcher.sink->frames.back().find("\"metric\":\"temp\",\"at_us\":1000,\"value\":21.5"),
              std::string::npos);
    EXPECT_EQ(a.sink->frames.size(), 1u);

    watcher.sink->close();
    live.heartbeat();  // drops the closed stream
    EXPECT_FALSE(live.watched(42));
    EXPECT_EQ(live.subscribers(), 2u);
}

TEST(LiveEvents, AReconnectingClientGetsWhatItMissedAndOneFromBeforeWhatIsKeptReloads) {
    LiveEvents live({8, 100, 4, 15});
    Subscriber first;
    ASSERT_EQ(live.subscribe(first.of("t1", "u1"), std::nullopt), LiveEvents::Admission::Admitted);
    for (int i = 1; i <= 3; ++i) live.publish("t1", "alert", 0, "{\"n\":" + std::to_string(i) + "}");
    live.publish("t2", "alert", 0, "{\"other\":1}");
    long long afterFirst = idOf(first.sink->frames[0]);

    Subscriber resumed;
    ASSERT_EQ(live.subscribe(resumed.of("t1", "u1"), afterFirst), LiveEvents::Admission::Admitted);
    ASSERT_EQ(resumed.sink->frames.size(), 2u) << resumed.sink->all();
    EXPECT_NE(resumed.sink->frames[0].find("{\"n\":2}"), std::string::npos);
    EXPECT_NE(resumed.sink->frames[1].find("{\"n\":3}"), std::string::npos);

    // Four are kept: after two more, the first is gone, and a client that saw only it must reload.
    live.publish("t1", "alert", 0, "{\"n\":4}");
    live.publish("t1", "alert", 0, "{\"n\":5}");
    Subscriber late, restarted;
    ASSERT_EQ(live.subscribe(late.of("t1", "u1"), afterFirst), LiveEvents::Admission::Admitted);
    ASSERT_EQ(late.sink->frames.size(), 1u);
    EXPECT_NE(late.sink->frames[0].find("event: reset"), std::string::npos);
    // An id newer than anything sent comes from another server's life: reload too.
    ASSERT_EQ(live.subscribe(restarted.of("t1", "u1"), idOf(first.sink->frames.back()) + 1000),
              LiveEvents::Admission::Admitted);
    EXPECT_NE(restarted.sink->all().find("event: reset"), std::string::npos);
}

TEST(LiveEvents, StreamsAreBoundedPerPrincipalAndInTotal) {
    LiveEvents live({2, 3, 16, 15});
    std::vector<Subscriber> subs(5);
    EXPECT_EQ(live.subscribe(subs[0].of("t1", "u1"), std::nullopt), LiveEvents::Admission::Admitted);
    EXPECT_EQ(live.subscribe(subs[1].of("t1", "u1"), std::nullopt), LiveEvents::Admission::Admitted);
    EXPECT_EQ(live.admission("u1"), LiveEvents::Admission::PrincipalFull);
    EXPECT_EQ(live.subscribe(subs[2].of("t1", "u1"), std::nullopt), LiveEvents::Admission::PrincipalFull);
    EXPECT_EQ(live.subscribe(subs[3].of("t2", "u2"), std::nullopt), LiveEvents::Admission::Admitted);
    EXPECT_EQ(live.subscribe(subs[4].of("t2", "u3"), std::nullopt), LiveEvents::Admission::ServerFull);
    subs[0].sink->close();  // a stream that ended frees its place
    EXPECT_EQ(live.admission("u1"), LiveEvents::Admission::Admitted);
    EXPECT_EQ(live.subscribe(subs[4].of("t2", "u3"), std::nullopt), LiveEvents::Admission::Admitted);
}
