// The device ingest routes against the OpenAPI document pulsed serves (docs/openapi/paths/ingest.yaml,
// bundled into docs/openapi.json): every real answer's status is documented for its operation, with the
// answer's media type, the required headers and a body that validates against the documented schema; the
// bodies the server accepts validate against the documented request schema; and every documented status
// is provoked on both routes, except the two that need a failing writer or database (500, 503).
#include "json/JsonSchema.h"
#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"
#include "test_env.h"

#include <Poco/File.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>

#include <unistd.h>

using namespace pulse::test;
using Poco::JSON::Object;

namespace {

const std::set<int> kNotProvokedHere = {500, 503};  // a failing writer; the database or queue unavailable

// The document pulsed serves, and the checks of real exchanges against it.
class ServedDocument {
  public:
    explicit ServedDocument(const std::string& text) : doc_(Poco::JSON::Parser().parse(text)) {
        spec_ = doc_.extract<Object::Ptr>();
        schemas_ = localDefs(pulse::json::toJsonText(spec_->getObject("components")->get("schemas")));
    }

    Object::Ptr operation(const std::string& path) const {
        auto item = spec_->getObject("paths")->getObject(path);
        return item ? item->getObject("post") : nullptr;
    }

    // The status is documented for the operation, with the answer's media type; the documented required
    // headers are there (integers where the schema says so); the body validates against the schema.
    void expectDocumented(const std::string& path, const HttpResult& r, const std::string& what) const {
        auto responses = operation(path)->getObject("responses");
        std::string status = std::to_string(r.status);
        if (!responses->has(status)) {
            ADD_FAILURE() << what << ": " << status << " is not documented for POST " << path << "\n"
                          << r.body;
            return;
        }
        auto response = resolved(responses->getObject(status));
        if (auto headers = response->getObject("headers")) {
            for (const auto& [name, value] : *headers) {
                auto header = value.extract<Object::Ptr>();
                auto sent = headerOf(r, name);
                if (!sent) {
                    EXPECT_FALSE(header->optValue("required", false)) << what << ": no " << name << " header";
                    continue;
                }
                if (header->getObject("schema")->optValue<std::string>("type", "") == "integer")
                    expectValid(header->get("schema"), *sent, what + ", " + name);
            }
        }
        std::string media = headerOf(r, "Content-Type").value_or("");
        media = Poco::trim(media.substr(0, media.find(';')));
        auto content = response->getObject("content");
        if (!content || !content->has(media)) {
            ADD_FAILURE() << what << ": " << status << " with " << media << " is not documented for POST "
                          << path;
            return;
        }
        bool valid = expectValid(content->getObject(media)->get("schema"), r.body, what);
        if (valid && media == "application/problem+json") {
            auto problem = Poco::JSON::Parser().parse(r.body).extract<Object::Ptr>();
            EXPECT_EQ(problem->optValue("status", 0), r.status) << what << ": " << r.body;  // RFC 9457
        }
    }

    void expectValidRequest(const std::string& path, const std::string& body, const std::string& what) const {
        auto media =
            operation(path)->getObject("requestBody")->getObject("content")->getObject("application/json");
        expectValid(media->get("schema"), body, what + " (request)");
    }

  private:
    // The document's refs name components/schemas; the validator resolves #/$defs.
    static std::string localDefs(std::string text) {
        for (size_t at; (at = text.find("#/components/schemas/")) != std::string::npos;)
            text.replace(at, 21, "#/$defs/");
        return text;
    }
    Object::Ptr resolved(const Object::Ptr& node) const {
        if (!node->has("$ref")) return node;
        auto target = pulse::json::lookupPointer(doc_, node->getValue<std::string>("$ref").substr(1));
        EXPECT_TRUE(target) << node->getValue<std::string>("$ref");
        return target ? target->extract<Object::Ptr>() : node;
    }
    static std::optional<std::string> headerOf(const HttpResult& r, const std::string& name) {
        for (const auto& [k, v] : r.headers)
            if (Poco::icompare(k, name) == 0) return v;
        return std::nullopt;
    }
    // Whether the text is valid; each violation fails the test.
    bool expectValid(const Poco::Dynamic::Var& schema, const std::string& text,
                     const std::string& what) const {
        auto compiled = pulse::json::JsonSchema::compile("{\"$defs\":" + schemas_ + ",\"allOf\":[" +
                                                         localDefs(pulse::json::toJsonText(schema)) + "]}");
        auto violations = compiled.validateText(text);
        for (const auto& v : violations)
            ADD_FAILURE() << what << " at '" << v.path << "': " << v.message << "\n" << text;
        return violations.empty();
    }

    Poco::Dynamic::Var doc_;
    Object::Ptr spec_;
    std::string schemas_;
};

// One pulsed with ingest_http and limits low enough to reach every refusal: 5 readings a message, bodies
// of 256 bytes, 3 metric names a tenant, a device budget of 40 readings refilled at 1 a second.
class OpenApiIngest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        pulse::storage::PgConnection conn(ownerUri());
        pulse::storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(conn, "pulse_app");
        static int runs = 0;  // --gtest_repeat sets the suite up again in this process
        std::string tenant = "openapi-ingest-" + std::to_string(getpid()) + "-" + std::to_string(++runs);
        conn.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1)", {tenant});
        std::string dir = tempDir("openapi-ingest");
        Poco::File(dir + "/plugins.d").createDirectories();
        writeFile(dir + "/plugins.d/http.properties",
                  "plugin.library = ingest_http.so\ninstance.http.component = ingest/http\n"
                  "instance.http.config = {\"max_body_bytes\": 256}\n");
        port_ = freePort();
        std::string config =
            writePulseConfig(dir, port_, dir + "/plugins.d",
                             "ingest.max_readings = 5\ntelemetry.max_metric_names_per_tenant = 3\n"
                             "ingest.device_readings_per_s = 1\ningest.device_burst = 40\n"
                             "telemetry.flush_ms = 20\n");
        sender_ = createDevice(config, tenant + "/sender");
        flooder_ = createDevice(config, tenant + "/flooder");
        retired_ = createDevice(config, tenant + "/retired");
        conn.query(
            "UPDATE pulse.devices SET decommissioned_at = now() WHERE name = 'retired' AND tenant_id = "
            "(SELECT id FROM pulse.tenants WHERE slug = $1)",
            {tenant});
        pulsed_ = new Pulsed(config, dbEnv());
    }
    static void TearDownTestSuite() {
        delete pulsed_;
        pulsed_ = nullptr;
    }

    struct Route {
        std::string operation;  // the path as the document names it
        std::function<HttpResult(const std::string& token, const std::string& body, const std::string& type)>
            send;
    };
    static std::vector<Route> routes() {
        return {{"/api/v1/telemetry",
                 [](const std::string& token, const std::string& body, const std::string& type) {
                     return httpSend(port_, "POST", "/api/v1/telemetry", body,
                                     {{"Authorization", "Bearer " + token}, {"Content-Type", type}});
                 }},
                {"/api/v1/{token}/telemetry",
                 [](const std::string& token, const std::string& body, const std::string& type) {
                     return httpSend(port_, "POST", "/api/v1/" + token + "/telemetry", body,
                                     {{"Content-Type", type}});
                 }}};
    }

    static int port_;
    static std::string sender_, flooder_, retired_;
    static Pulsed* pulsed_;
};
int OpenApiIngest::port_ = 0;
std::string OpenApiIngest::sender_, OpenApiIngest::flooder_, OpenApiIngest::retired_;
Pulsed* OpenApiIngest::pulsed_ = nullptr;

}  // namespace

TEST_F(OpenApiIngest, EveryAnswerOfTheIngestRoutesIsDocumented) {
    ASSERT_TRUE(pulsed_->started());
    auto served = httpGet(port_, "/api/v1/openapi.json");
    ASSERT_EQ(served.status, 200);
    ServedDocument doc(served.body);
    for (const auto& route : routes()) ASSERT_TRUE(doc.operation(route.operation)) << route.operation;

    auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    struct Case {
        std::string what, token, body, type;
        int status;
    };
    const std::string json = "application/json";
    const std::vector<Case> cases = {
        {"readings", sender_, R"({"temperature": 21.5, "running": true, "fw": "1.0.3"})", json, 200},
        {"a batch, ts in ms and in s", sender_,
         "[{\"ts\": " + std::to_string(nowMs) + ", \"values\": {\"temperature\": 21.4}}, {\"ts\": " +
             std::to_string(nowMs / 1000) + ", \"metrics\": {\"temperature\": 21.6}}]",
         "application/json; charset=utf-8", 200},
        {"only ignored values", sender_, R"({"fw": "1.0.3"})", json, 200},
        {"an unknown token", "pt_not_a_real_token", R"({"temperature": 1})", json, 401},
        {"a decommissioned device", retired_, R"({"temperature": 1})", json, 403},
        {"not JSON", sender_, "temperature=1", "text/plain", 415},
        {"malformed JSON", sender_, "{", json, 400},
        {"a bad ts", sender_, R"({"ts": "soon", "temperature": 1})", json, 400},
        {"no readings", sender_, "[]", json, 400},
        {"more readings than ingest.max_readings", sender_,
         R"({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6})", json, 413},
        {"a body over max_body_bytes", sender_, "{\"fw\": \"" + std::string(300, 'x') + "\"}", json, 413},
        {"new metric names over the tenant's limit", sender_, R"({"a": 1, "b": 2})", json, 422},
    };
    std::map<std::string, std::set<int>> seen;
    for (const auto& route : routes()) {
        for (const auto& c : cases) {
            std::string what = "POST " + route.operation + ", " + c.what;
            auto r = route.send(c.token, c.body, c.type);
            EXPECT_EQ(r.status, c.status) << what << ": " << r.body;
            doc.expectDocumented(route.operation, r, what);
            if (r.status / 100 == 2) doc.expectValidRequest(route.operation, c.body, what);
            seen[route.operation].insert(r.status);
        }
    }
    for (const auto& [what, headers] :
         std::vector<std::pair<std::string, std::map<std::string, std::string>>>{
             {"no Authorization", {{"Content-Type", json}}},
             {"a Basic Authorization", {{"Authorization", "Basic c2VuZGVyOg=="}, {"Content-Type", json}}}}) {
        auto r = httpSend(port_, "POST", "/api/v1/telemetry", R"({"temperature": 1})", headers);
        EXPECT_EQ(r.status, 401) << what << ": " << r.body;
        doc.expectDocumented("/api/v1/telemetry", r, "POST /api/v1/telemetry, " + what);
    }

    // Over the device's budget, on one route and then the other: the same bucket.
    HttpResult over;
    for (int i = 0; i < 60 && over.status != 429; ++i)
        over = routes()[0].send(flooder_, R"({"temperature": 1})", json);
    ASSERT_EQ(over.status, 429) << over.body;
    for (const auto& route : routes()) {
        auto r = route.operation == routes()[0].operation
                     ? over
                     : route.send(flooder_, R"({"temperature": 1})", json);
        EXPECT_EQ(r.status, 429) << route.operation << ": " << r.body;
        doc.expectDocumented(route.operation, r, "POST " + route.operation + ", over the device's budget");
        seen[route.operation].insert(r.status);
    }

    // Each documented status was met, but for the ones this server cannot be made to give.
    for (const auto& route : routes()) {
        for (const auto& [status, response] : *doc.operation(route.operation)->getObject("responses")) {
            int code = std::stoi(status);
            EXPECT_TRUE(seen[route.operation].count(code) || kNotProvokedHere.count(code))
                << "POST " << route.operation << " documents " << status << ", which no request here got";
        }
    }
}
