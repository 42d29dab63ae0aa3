#include "pipeline/TelemetryWriter.h"

#include "logging/Logging.h"
#include "metrics/MetricsRegistry.h"

namespace pulse::pipeline {

void Completion::finish(State s) {
    {
        std::lock_guard lock(mutex_);
        state_ = s;
    }
    cv_.notify_all();
}

Completion::State Completion::wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return state_ != State::Pending; });
    return state_;
}

TelemetryWriter::TelemetryWriter(storage::PgPool& pool, WriterSettings settings,
                                 metrics::MetricsRegistry* metrics)
    : pool_(pool), settings_(settings), metrics_(metrics) {}

TelemetryWriter::~TelemetryWriter() {
    stop(std::chrono::seconds(5));
}

void TelemetryWriter::onCommitted(std::function<void(const std::vector<storage::TelemetryRow>&)> committed) {
    committed_ = std::move(committed);
}

void TelemetryWriter::start() {
    for (int i = 0; i < settings_.threads; ++i) threads_.emplace_back([this] { run(); });
}

void TelemetryWriter::stop(std::chrono::milliseconds drainDeadline) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        drainDeadline_ = std::chrono::steady_clock::now() + drainDeadline;
    }
    notEmpty_.notify_all();
    notFull_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard lock(mutex_);
    if (!queue_.empty())
        logging::get("telemetry")->error("{} queued readings were not written before shutdown", queuedRows_);
    for (auto& item : queue_) item.done->finish(Completion::State::Failed);
    queue_.clear();
    queuedRows_ = 0;
    urgentQueued_ = 0;
}

bool TelemetryWriter::enqueue(std::vector<storage::TelemetryRow>&& rows, std::shared_ptr<Completion> done,
                              std::chrono::milliseconds wait, bool urgent) {
    size_t n = rows.size();
    {
        std::unique_lock lock(mutex_);
        // A message larger than the whole queue is still taken when the queue is empty.
        bool fits = notFull_.wait_for(lock, wait, [&] {
            return stopping_ || queuedRows_ == 0 || queuedRows_ + n <= settings_.maxQueuedRows;
        });
        if (!fits || stopping_) return false;
        queue_.push_back(Item{std::move(rows), std::move(done), std::chrono::steady_clock::now(), urgent});
        queuedRows_ += n;
        urgentQueued_ += urgent ? 1 : 0;
    }
    notEmpty_.notify_one();
    return true;
}

size_t TelemetryWriter::queuedRows() const {
    std::lock_guard lock(mutex_);
    return queuedRows_;
}

std::string TelemetryWriter::lastError() const {
    std::lock_guard lock(mutex_);
    return lastError_;
}

void TelemetryWriter::run() {
    auto log = logging::get("telemetry");
    storage::TelemetryStore store(pool_);
    metrics::Counter* rowsWritten = nullptr;
    metrics::Counter* duplicates = nullptr;
    metrics::Histogram* batchSeconds = nullptr;
    metrics::Histogram* commitAge = nullptr;
    if (metrics_) {
        // For live devices that stamp readings when they send them, this is publish -> commit.
        commitAge =
            &metrics_->histogram("pulse_telemetry_commit_age_seconds",
                                 "Age of a message's first reading (its device timestamp) when committed",
                                 metrics::MetricsRegistry::latencyBuckets());
        rowsWritten =
            &metrics_->counter("pulse_telemetry_rows_written_total", "Readings committed to storage");
        duplicates = &metrics_->counter("pulse_telemetry_duplicate_rows_total",
                                        "Redelivered readings not stored again");
        batchSeconds = &metrics_->histogram("pulse_telemetry_batch_seconds", "Time to commit one batch",
                                            metrics::MetricsRegistry::latencyBuckets());
    }
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
        std::vector<Item> batch;
        size_t rows = 0;
        {
            std::unique_lock lock(mutex_);
            notEmpty_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            // Group commit: at once when no other writer is committing (a reading waits about one commit
            // when the load is light); while one is, flush by size, when the oldest reading has waited
            // flushInterval, when a client waits for its commit, or when the other writer is done.
            if (!stopping_ && queuedRows_ < settings_.batchRows && urgentQueued_ == 0 && committing_ > 0) {
                auto due = queue_.front().queuedAt + settings_.flushInterval;
                notEmpty_.wait_until(lock, due, [&] {
                    return stopping_ || queuedRows_ >= settings_.batchRows || urgentQueued_ > 0 ||
                           committing_ == 0;
                });
                if (queue_.empty()) continue;
            }
            ++committing_;
            while (!queue_.empty() &&
                   (batch.empty() || rows + queue_.front().rows.size() <= settings_.batchRows * 2)) {
                rows += queue_.front().rows.size();
                urgentQueued_ -= queue_.front().urgent ? 1 : 0;
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        // The readings move into one batch; each message keeps its range of it.
        std::vector<storage::TelemetryRow> all;
        std::vector<std::pair<size_t, size_t>> ranges;
        all.reserve(rows);
        for (auto& item : batch) {
            ranges.emplace_back(all.size(), all.size() + item.rows.size());
            all.insert(all.end(), std::make_move_iterator(item.rows.begin()),
                       std::make_move_iterator(item.rows.end()));
        }

        bool done = false;
        while (!done) {
            auto started = std::chrono::steady_clock::now();
            try {
                size_t inserted = store.write(all);
                if (rowsWritten) rowsWritten->add(static_cast<double>(inserted));
                if (duplicates) duplicates->add(static_cast<double>(all.size() - inserted));
                if (batchSeconds)
                    batchSeconds->observe(
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
                if (commitAge) {
                    int64_t nowUs = std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
                    for (const auto& [begin, end] : ranges)
                        if (begin < end)
                            commitAge->observe(static_cast<double>(nowUs - all[begin].tsUs) / 1e6);
                }
                for (auto& item : batch) item.done->finish(Completion::State::Committed);
                if (committed_) committed_(all);
                done = true;
                backoff = std::chrono::milliseconds(100);
                std::lock_guard lock(mutex_);
                if (!lastError_.empty()) log->info("telemetry writes recovered");
                lastError_.clear();
            } catch (const storage::DatabaseError& e) {
                bool transient = storage::isTransient(e);
                {
                    std::lock_guard lock(mutex_);
                    if (lastError_.empty())
                        log->error("telemetry batch of {} rows failed: {}", all.size(), e.what());
                    lastError_ = e.what();
                }
                std::unique_lock lock(mutex_);
                bool pastDeadline = stopping_ && std::chrono::steady_clock::now() >= drainDeadline_;
                if (!transient || pastDeadline) {
                    lock.unlock();
                    if (!transient && batch.size() > 1) {
                        // Isolate what the database rejects: write message by message. A message that
                        // meets a transient error (the database went away meanwhile) is retried, not
                        // dropped: an MQTT reading was acknowledged when it was queued.
                        for (size_t i = 0; i < batch.size(); ++i) {
                            std::vector<storage::TelemetryRow> message(all.begin() + ranges[i].first,
                                                                       all.begin() + ranges[i].second);
                            auto retryAfter = std::chrono::milliseconds(100);
                            while (true) {
                                try {
                                    store.write(message);
                                    batch[i].done->finish(Completion::State::Committed);
                                    if (committed_) committed_(message);
                                    break;
                                } catch (const storage::DatabaseError& one) {
                                    std::unique_lock relock(mutex_);
                                    auto past = [&] {
                                        return stopping_ &&
                                               std::chrono::steady_clock::now() >= drainDeadline_;
                                    };
                                    if (!storage::isTransient(one) || past()) {
                                        relock.unlock();
                                        log->error("dropping a message of {} readings: {}", message.size(),
                                                   one.what());
                                        batch[i].done->finish(Completion::State::Failed);
                                        break;
                                    }
                                    notEmpty_.wait_for(relock, retryAfter, past);
                                    retryAfter = std::min(retryAfter * 2, std::chrono::milliseconds(5000));
                                }
                            }
                        }
                    } else {
                        log->error("dropping a batch of {} readings: {}", all.size(), e.what());
                        for (auto& item : batch) item.done->finish(Completion::State::Failed);
                    }
                    done = true;
                } else {
                    notEmpty_.wait_for(lock, backoff, [&] {
                        return stopping_ && std::chrono::steady_clock::now() >= drainDeadline_;
                    });
                    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
                }
            }
        }
        {
            std::lock_guard lock(mutex_);
            queuedRows_ -= rows;
            --committing_;
        }
        notFull_.notify_all();
        notEmpty_.notify_all();  // a writer waiting behind this commit may go now
    }
}

}  // namespace pulse::pipeline
