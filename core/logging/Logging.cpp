#include "logging/Logging.h"

#include <pulse/json.hpp>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cstdio>
#include <mutex>

namespace pulse::logging {
namespace {

// One JSON object per line: {"ts","level","logger","msg","thread"}.
class JsonFormatter : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto secs = std::chrono::time_point_cast<std::chrono::seconds>(msg.time);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time - secs).count();
        std::time_t t = std::chrono::system_clock::to_time_t(msg.time);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char ts[64];
        std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
        std::string line =
            std::string("{\"ts\":\"") + ts + "\",\"level\":\"" +
            std::string(spdlog::level::to_string_view(msg.level).data(),
                        spdlog::level::to_string_view(msg.level).size()) +
            "\",\"logger\":\"" +
            pulse::json::escape(std::string_view(msg.logger_name.data(), msg.logger_name.size())) +
            "\",\"thread\":" + std::to_string(msg.thread_id) + ",\"msg\":\"" +
            pulse::json::escape(std::string_view(msg.payload.data(), msg.payload.size())) + "\"}\n";
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

std::mutex g_mutex;

}  // namespace

void setup(const std::string& level, const std::string& format, const std::string& file) {
    std::lock_guard lock(g_mutex);
    spdlog::sink_ptr sink;
    if (file.empty())
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    if (format == "json")
        sink->set_formatter(std::make_unique<JsonFormatter>());
    else
        sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v",
                                                                        spdlog::pattern_time_type::utc));
    auto logger = std::make_shared<spdlog::logger>("pulsed", sink);
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::drop_all();
    spdlog::set_default_logger(logger);
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
    if (auto existing = spdlog::get(name)) return existing;
    std::lock_guard lock(g_mutex);
    if (auto existing = spdlog::get(name)) return existing;
    auto logger = spdlog::default_logger()->clone(name);
    spdlog::register_logger(logger);
    return logger;
}

}  // namespace pulse::logging
