// sender_log: a notification channel that writes each notification to the pulsed log.
//
// For development (see what would be sent without an outside service) and as an audit channel in
// routing rules. It never fails transiently, so it also serves as the reference sender in the SDK docs.
#include <pulse/plugin.hpp>

#include <string>

namespace {

// The declared config table: every key, its type, default and meaning.
constexpr const char* kConfigSchema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Log channel",
  "type": "object",
  "properties": {
    "level": {"type": "string", "enum": ["info", "warn"], "default": "info",
              "description": "log level of the notification lines"},
    "include_payload": {"type": "boolean", "default": true,
                        "description": "write the whole event document, not only its key"},
    "max_payload_bytes": {"type": "integer", "minimum": 64, "maximum": 65536, "default": 4096,
                          "description": "longer payloads are cut at this size"}
  },
  "additionalProperties": false,
  "examples": [{"level": "info", "include_payload": true}]
})";

class LogSender : public pulse::Sender {
  public:
    LogSender(pulse::Host host, std::string_view /*config: read through the host*/)
        : host_(host),
          level_(host.config_string("/level") == "warn" ? PULSE_LOG_WARN : PULSE_LOG_INFO),
          includePayload_(host.config_bool("/include_payload")),
          maxPayload_(static_cast<size_t>(host.config_number("/max_payload_bytes"))) {}

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        std::string line =
            "notification " + std::string(d.idempotency_key) + " attempt " + std::to_string(d.attempt);
        if (includePayload_) {
            std::string_view payload = d.payload_json.substr(0, maxPayload_);
            line += ": " + std::string(payload);
            if (payload.size() < d.payload_json.size()) line += "...(truncated)";
        }
        host_.log(level_, line);
        host_.counter_add("log_notifications", "Notifications written to the log", 1);
        return {PULSE_OK, 0, -1, ""};
    }

  private:
    pulse::Host host_;
    pulse_log_level level_;
    bool includePayload_;
    size_t maxPayload_;
};

}  // namespace

PULSE_PLUGIN("sender_log", "1.0.0", "Writes notifications to the pulsed log", "Apache-2.0",
             pulse::component<LogSender>("log", "Write each notification to the server log", kConfigSchema,
                                         PULSE_THREADING_CONCURRENT))
