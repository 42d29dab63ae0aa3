#pragma once

#include "config/Settings.h"
#include "storage/TelemetryStore.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pulse::metrics {
class MetricsRegistry;
}

namespace pulse::pipeline {

// Learns when the readings of one message are committed (or given up).
class Completion {
  public:
    enum class State { Pending, Committed, Failed };
    void finish(State s);
    // Waits up to timeout; returns the state then.
    State wait(std::chrono::milliseconds timeout);

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    State state_ = State::Pending;
};

using WriterSettings = config::WriterSettings;

// A bounded queue of readings and writer threads that commit them in batches through TelemetryStore
// (docs/architecture.md, "Telemetry path"), flushing by size or time.
// A batch that fails because the database is away is retried on a new connection until it commits, so
// an outage fills the queue (and the ingest channels wait, then answer 503) instead of losing data.
class TelemetryWriter {
  public:
    TelemetryWriter(storage::PgPool& pool, WriterSettings settings, metrics::MetricsRegistry* metrics);
    ~TelemetryWriter();

    // Called on a writer thread with each batch of rows once committed (the live stream's readings); set
    // before start(). It must not block.
    void onCommitted(std::function<void(const std::vector<storage::TelemetryRow>&)> committed);
    void start();
    // Stops accepting, writes what is queued (until the deadline), and joins the threads.
    void stop(std::chrono::milliseconds drainDeadline = std::chrono::seconds(30));

    // Queues rows, waiting up to wait while the queue is full. False when they did not fit in time.
    // Group commit: while no writer is committing, a writer takes the queue at once; while one is, the
    // others wait for a full batch, the flush interval, or an urgent item (a client waiting for the commit,
    // HTTP), so batches form under load and a reading waits about one commit when the load is light.
    bool enqueue(std::vector<storage::TelemetryRow>&& rows, std::shared_ptr<Completion> done,
                 std::chrono::milliseconds wait, bool urgent = false);

    size_t queuedRows() const;
    // Empty when the last write succeeded, else why it failed.
    std::string lastError() const;

  private:
    struct Item {
        std::vector<storage::TelemetryRow> rows;
        std::shared_ptr<Completion> done;
        std::chrono::steady_clock::time_point queuedAt;
        bool urgent = false;
    };
    void run();

    storage::PgPool& pool_;
    WriterSettings settings_;
    std::function<void(const std::vector<storage::TelemetryRow>&)> committed_;
    metrics::MetricsRegistry* metrics_;
    mutable std::mutex mutex_;
    std::condition_variable notEmpty_, notFull_;
    std::deque<Item> queue_;
    size_t queuedRows_ = 0;
    size_t urgentQueued_ = 0;  // items in the queue whose client waits for the commit
    size_t committing_ = 0;    // writer threads inside a commit
    bool stopping_ = false;
    std::chrono::steady_clock::time_point drainDeadline_;
    std::string lastError_;
    std::vector<std::thread> threads_;
};

}  // namespace pulse::pipeline
