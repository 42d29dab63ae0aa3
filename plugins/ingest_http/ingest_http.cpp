// ingest_http: devices post telemetry over HTTP.
//
//   POST /api/v1/telemetry              Authorization: Bearer <device token>
//   POST /api/v1/{token}/telemetry      the ThingsBoard-style alias for firmware that cannot set headers
//
// Bodies are JSON (see the host's decoder: single readings, "values"/"metrics" objects, arrays as
// batches). A 2xx answer means the readings are committed: the handler waits for the host's writer.
// 400 malformed (with the offending field), 401, 403, 413, 415, 429 (the device's or tenant's budget,
// kept by the host for every channel once the token is known) and 503 all carry an RFC 9457 problem body.
// Unauthenticated floods are the HTTP server's per-address limits' business, not a per-token count here
// (a count per presented token never throttles random tokens).
#include <pulse/json.hpp>
#include <pulse/plugin.hpp>

#include <cctype>
#include <string>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "HTTP telemetry",
  "type": "object",
  "properties": {
    "commit_wait_ms": {"type": "integer", "minimum": 100, "maximum": 60000, "default": 10000,
                       "description": "how long a request waits for its readings to be committed before 503"},
    "max_body_bytes": {"type": "integer", "minimum": 256, "maximum": 16777216, "default": 1048576,
                       "description": "larger bodies are refused with 413"},
    "path_token_alias": {"type": "boolean", "default": true,
                         "description": "serve POST /api/v1/{token}/telemetry as well"}
  },
  "additionalProperties": false,
  "examples": [{"commit_wait_ms": 5000}]
})json";

pulse::HttpResponse problemResponse(int status, const char* title, const std::string& detail,
                                    uint32_t retry = 0) {
    return pulse::HttpResponse{status, "application/problem+json",
                               pulse::json::problem(status, title, detail), retry};
}

class HttpIngest : public pulse::Ingest {
  public:
    HttpIngest(pulse::Host host, std::string_view)
        : host_(host),
          waitMs_(static_cast<int64_t>(host.config_number("/commit_wait_ms"))),
          maxBody_(static_cast<size_t>(host.config_number("/max_body_bytes"))),
          headerRoute_([this](const pulse::HttpRequest& r) {
              std::string auth = r.header("Authorization");
              if (auth.size() < 8 ||
                  (auth.compare(0, 7, "Bearer ") != 0 && auth.compare(0, 7, "bearer ") != 0))
                  return problemResponse(401, "Unauthorized",
                                         "send the device token as Authorization: Bearer <token>");
              return handle(r, auth.substr(7));
          }),
          pathRoute_([this](const pulse::HttpRequest& r) { return handle(r, r.param("token")); }) {
        host_.route("POST", "/api/v1/telemetry", &headerRoute_);
        if (host.config_bool("/path_token_alias"))
            host_.route("POST", "/api/v1/{token}/telemetry", &pathRoute_);
    }

    bool health(std::string& status) override {
        status = "serving";
        return true;
    }

  private:
    pulse::HttpResponse handle(const pulse::HttpRequest& r, const std::string& token) {
        if (token.empty()) return problemResponse(401, "Unauthorized", "missing device token");
        std::string type = r.header("Content-Type");
        std::string media = type.substr(0, type.find(';'));
        while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
        for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (media != "application/json")
            return problemResponse(415, "Unsupported Media Type",
                                   "send JSON with Content-Type: application/json (got '" + type + "')");
        if (r.body.size() > maxBody_)
            return problemResponse(
                413, "Content Too Large",
                "the body is larger than the limit of " + std::to_string(maxBody_) + " bytes");
        auto result = host_.ingest(PULSE_IDENTITY_TOKEN, token, r.body, waitMs_);
        bool ok = result.status >= 200 && result.status < 300;
        host_.counter_add("http_requests", "Telemetry requests answered", 1);
        return pulse::HttpResponse{result.status, ok ? "application/json" : "application/problem+json",
                                   result.body, result.retry_after_s};
    }

    pulse::Host host_;
    int64_t waitMs_;
    size_t maxBody_;
    pulse::HttpHandler headerRoute_, pathRoute_;
};

}  // namespace

PULSE_PLUGIN("ingest_http", "1.0.0", "Device telemetry over HTTP", "Apache-2.0",
             pulse::component<HttpIngest>("http", "POST telemetry with a device token", kConfigSchema,
                                          PULSE_THREADING_CONCURRENT))
