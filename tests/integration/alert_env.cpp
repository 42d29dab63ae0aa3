#include "alert_env.h"

#include "storage/MigrationRunner.h"
#include "storage/PgConnection.h"

#include <Poco/File.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

namespace pulse::test {
namespace {

std::string randomHex(size_t bytes) {
    std::random_device rd;
    std::string out;
    const char* digits = "0123456789abcdef";
    for (size_t i = 0; i < bytes * 2; ++i) out += digits[rd() % 16];
    return out;
}

int g_fixtures = 0;

}  // namespace

WebhookReceiver::WebhookReceiver() {
    std::string dir = tempDir("receiver-" + std::to_string(g_fixtures));
    std::string portFile = dir + "/port";
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/python3", PULSE_SOURCE_DIR "/tests/standins/webhook_receiver.py",
                                 "--secret", kWebhookSecret, "--port-file", portFile},
        std::map<std::string, std::string>{}, dir + "/receiver.log");
    for (int i = 0; i < 100 && !Poco::File(portFile).exists(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!Poco::File(portFile).exists()) {
        ADD_FAILURE() << "the webhook receiver did not start: " << child_->output();
        return;
    }
    port_ = std::stoi(readFile(portFile));
}

std::string WebhookReceiver::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

Poco::JSON::Object::Ptr WebhookReceiver::log() {
    auto r = httpGet(port_, "/_log");
    return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Array::Ptr WebhookReceiver::requests() {
    return log()->getArray("requests");
}

size_t WebhookReceiver::waitFor(size_t n, const std::string& path, int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    size_t count = 0;
    for (;;) {
        auto all = requests();
        count = 0;
        for (size_t i = 0; i < all->size(); ++i)
            if (path.empty() ||
                all->getObject(static_cast<unsigned>(i))->getValue<std::string>("path") == path)
                ++count;
        if (count >= n || std::chrono::steady_clock::now() > deadline) return count;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

StandIn::StandIn(const std::string& script, const std::vector<std::string>& extraArgs) {
    std::string dir = tempDir("standin-" + std::to_string(++g_fixtures));
    std::string portFile = dir + "/port";
    std::vector<std::string> argv{"/usr/bin/python3", PULSE_SOURCE_DIR "/tests/standins/" + script,
                                  "--port-file", portFile};
    argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
    child_ = std::make_unique<Child>(argv, std::map<std::string, std::string>{}, dir + "/standin.log");
    for (int i = 0; i < 100 && !Poco::File(portFile).exists(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!Poco::File(portFile).exists()) {
        ADD_FAILURE() << script << " did not start: " << child_->output();
        return;
    }
    port_ = std::stoi(readFile(portFile));
}

std::string StandIn::url(const std::string& pathAndQuery) const {
    return "http://127.0.0.1:" + std::to_string(port_) + pathAndQuery;
}

Poco::JSON::Object::Ptr StandIn::get(const std::string& path) {
    auto r = httpGet(port_, path);
    return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Array::Ptr StandIn::requests() {
    return get("/_log")->getArray("requests");
}

void StandIn::script(const std::string& key, const std::vector<std::string>& answers) {
    Poco::JSON::Object o;
    o.set("key", key);
    Poco::JSON::Array a;
    for (const auto& x : answers) a.add(x);
    o.set("answers", a);
    std::ostringstream body;
    o.stringify(body);
    auto r = httpSend(port_, "POST", "/_script", body.str(), {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 204) << r.body;
}

size_t StandIn::waitFor(size_t n, const std::string& path, int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
        auto all = requests();
        size_t count = 0;
        for (size_t i = 0; i < all->size(); ++i)
            if (path.empty() ||
                all->getObject(static_cast<unsigned>(i))->getValue<std::string>("path") == path)
                ++count;
        if (count >= n || std::chrono::steady_clock::now() > deadline) return count;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::string scalarAsOwner(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    storage::PgConnection conn(ownerUri());
    auto rows = conn.query(sql, params);
    return rows.rows.empty() || !rows.rows[0][0] ? "" : *rows.rows[0][0];
}

AlertFixture::AlertFixture(const std::string& name)
    : http(net::EgressGuard({net::Cidr::parse("127.0.0.1/32")})),
      box(services::SecretBox::fromHex(randomHex(32))) {
    ++g_fixtures;
    dir = tempDir("alerts-" + name);
    std::string pluginsD = dir + "/plugins.d";
    Poco::File(pluginsD).createDirectories();
    writeFile(pluginsD + "/rules.properties", "plugin.library = rule_threshold.so\n");
    writeFile(pluginsD + "/heartbeat.properties", "plugin.library = rule_heartbeat.so\n");
    writeFile(pluginsD + "/webhook.properties", "plugin.library = sender_webhook.so\n");
    for (const char* sender : {"slack", "pagerduty", "teams", "smtp", "mqtt", "snmp"})
        writeFile(pluginsD + "/" + sender + ".properties",
                  std::string("plugin.library = sender_") + sender + ".so\n");
    writeFile(pluginsD + "/throwing.properties", "plugin.library = throwing.so\n");
    auto settings = config::defaults();
    settings.pluginConfigDir = pluginsD;
    settings.pluginPaths = {PULSE_PLUGIN_DIR, PULSE_TEST_PLUGIN_DIR};
    plugins =
        std::make_unique<plugins::PluginManager>(nullptr, plugins::HostServices{nullptr, nullptr, &http});
    plugins->load(settings, plugins::PluginManager::Mode::Serve);

    storage::PgConnection conn(ownerUri());
    storage::MigrationRunner(PULSE_SOURCE_DIR "/sql").migrate(conn, "pulse_app");
    slug = "al" + std::to_string(getpid() % 100000) + "-" + name.substr(0, 20) + "-" +
           std::to_string(g_fixtures);
    for (auto& c : slug)
        if (c == '_') c = '-';
    tenantId =
        *conn.query("INSERT INTO pulse.tenants (slug, name) VALUES ($1, $1) RETURNING id::text", {slug})
             .rows[0][0];
    deviceId = std::stoll(
        *conn.query("INSERT INTO pulse.devices (tenant_id, name) VALUES ($1::uuid, $2) RETURNING id",
                    {tenantId, deviceName})
             .rows[0][0]);
    channels = std::make_unique<services::ChannelService>(pool, *plugins, box, http.guard());
    auto w = wake;
    auto alertSettings = config::defaults().alerts;
    alertSettings.queueCapacity = 1000;
    alertSettings.maxAttempts = 3;
    alertSettings.flappingSweep = std::chrono::milliseconds(200);
    alertSettings.consoleUrl = kConsoleUrl;
    alerts = std::make_unique<services::AlertService>(pool, alertSettings, nullptr, [w] { w->notify(); });
}

AlertFixture::~AlertFixture() {
    alerts->stop();
    // Nothing of this test may be left for the next one's dispatchers.
    storage::PgConnection conn(ownerUri());
    conn.query(
        "UPDATE pulse.deliveries SET status = 'DEAD', completed_at = now(), last_error = 'test ended' "
        "WHERE tenant_id = $1::uuid AND status = 'PENDING'",
        {tenantId});
}

std::string AlertFixture::ruleId(const std::string& name, const std::string& type, const std::string& config,
                                 const std::string& severity, const std::string& extraColumns,
                                 const std::string& extraValues) {
    storage::PgConnection conn(ownerUri());
    return *conn.query("INSERT INTO pulse.rules (tenant_id, name, type, config, severity" + extraColumns +
                           ") VALUES ($1::uuid, $2, $3, $4::jsonb, $5" + extraValues + ") RETURNING id::text",
                       {tenantId, name, type, config, severity})
                .rows[0][0];
}

std::string AlertFixture::webhookChannel(const std::string& name, const std::string& path, int maxConcurrency,
                                         int timeoutMs) {
    return channels->create(
        tenantId,
        services::ChannelSpec{name, "webhook",
                              "{\"url\":\"" + receiver.url(path) + "\",\"secret\":\"" + kWebhookSecret +
                                  "\",\"timeout_ms\":" + std::to_string(timeoutMs) + "}",
                              maxConcurrency});
}

std::string AlertFixture::channel(const std::string& name, const std::string& type,
                                  const std::string& configJson, int maxConcurrency) {
    return channels->create(tenantId, services::ChannelSpec{name, type, configJson, maxConcurrency});
}

void AlertFixture::routeAll(const std::string& channelId, int throttleS) {
    services::RouteSpec r;
    r.channelId = channelId;
    r.name = "all";
    r.throttleS = throttleS;
    channels->createRoute(tenantId, r);
}

std::unique_ptr<workers::NotificationDispatcher> AlertFixture::dispatcher(workers::DispatcherSettings s) {
    return std::make_unique<workers::NotificationDispatcher>(pool, s, workers::channelsOf(*channels), wake,
                                                             nullptr);
}

services::Transition AlertFixture::transition(const std::string& rule, pulse_transition kind, double value,
                                              const std::string& severity, bool autoClose, int flapThreshold,
                                              int flapWindowS) {
    auto info = std::make_shared<services::RuleInfo>();
    info->id = rule;
    info->tenantId = tenantId;
    info->tenantSlug = slug;
    info->name = "rule";
    info->type = "threshold";
    info->severity = severity;
    info->autoClose = autoClose;
    info->flapThreshold = flapThreshold;
    info->flapWindowS = flapWindowS;
    return services::Transition{info,
                                deviceId,
                                deviceName,
                                kind,
                                value,
                                "temperature " + std::to_string(value),
                                std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()};
}

bool AlertFixture::settled(int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        if (scalarAsOwner(
                "SELECT count(*) FROM pulse.deliveries WHERE tenant_id = $1::uuid AND status = 'PENDING'",
                {tenantId}) == "0")
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::unique_ptr<workers::Escalator> escalator(AlertFixture& f) {
    return std::make_unique<workers::Escalator>(
        f.pool, workers::EscalatorSettings{std::chrono::milliseconds(100), 50, 3, AlertFixture::kConsoleUrl},
        std::make_shared<workers::WakeSignal>(), f.wake, nullptr);
}

workers::DispatcherSettings fastDispatch(int workers) {
    workers::DispatcherSettings s = config::defaults().notify;
    s.workers = workers;
    s.poll = std::chrono::milliseconds(50);
    s.lease = std::chrono::seconds(5);
    s.attemptTimeout = std::chrono::milliseconds(3000);
    s.backoffBase = std::chrono::milliseconds(100);
    s.backoffMax = std::chrono::milliseconds(2000);
    s.breakerFailures = 1000;
    return s;
}

// Opens an alert (its summary chosen), acknowledges it, and closes it by recovery: three events, three
// notices.
int64_t walkAlert(AlertFixture& f, const std::string& rule, const std::string& summary) {
    auto firing = f.transition(rule, PULSE_TRANSITION_FIRING, 91, "CRITICAL");
    firing.summary = summary;
    f.alerts->submit(firing);
    f.alerts->drain();
    int64_t id = std::stoll(scalarAsOwner("SELECT id FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}));
    EXPECT_TRUE(f.alerts->acknowledge(f.tenantId, id, "alice@example.com"));
    f.alerts->submit(f.transition(rule, PULSE_TRANSITION_CLEARED, 70, "CRITICAL"));
    f.alerts->drain();
    return id;
}

Poco::JSON::Object::Ptr at(const Poco::JSON::Array::Ptr& a, size_t i) {
    return a->getObject(static_cast<unsigned>(i));
}

// The requests the stand-in logged for one path, in order.
std::vector<Poco::JSON::Object::Ptr> on(StandIn& s, const std::string& path) {
    std::vector<Poco::JSON::Object::Ptr> out;
    auto all = s.requests();
    for (size_t i = 0; i < all->size(); ++i)
        if (at(all, i)->getValue<std::string>("path") == path) out.push_back(at(all, i));
    return out;
}

std::string deliveriesOf(const std::string& channelId, const std::string& column) {
    return scalarAsOwner("SELECT string_agg(" + column +
                             "::text, ',' ORDER BY id) FROM pulse.deliveries WHERE "
                             "channel_id = $1::uuid",
                         {channelId});
}

// One delivery with a notice of the host's shape (the lifecycle tests check the real one), for the answer
// classes: each channel gets its own.
void enqueueNotice(AlertFixture& f, const std::string& channelId, const std::string& ruleName) {
    std::string rule =
        f.ruleId(ruleName, "threshold", R"({"metric":"t","operator":"GT","threshold":1})", "HIGH");
    auto firing = f.transition(rule, PULSE_TRANSITION_FIRING, 5, "HIGH");
    f.alerts->submit(firing);
    f.alerts->drain();
    storage::PgConnection conn(ownerUri());
    // The alert writer routed it to every routed channel; this test routes nothing, so copy its payload in.
    std::string alert =
        *conn.query("SELECT id::text FROM pulse.alerts WHERE rule_id = $1::uuid", {rule}).rows[0][0];
    std::string event =
        *conn.query("SELECT min(id)::text FROM pulse.alert_events WHERE alert_id = $1::bigint", {alert})
             .rows[0][0];
    conn.query(
        "INSERT INTO pulse.deliveries (tenant_id, alert_id, event_id, channel_id, payload, max_attempts) "
        "VALUES ($1::uuid, $2::bigint, $3::bigint, $4::uuid, jsonb_build_object('type', 'alert.opened', "
        "'tenant', jsonb_build_object('id', $1::text, 'slug', 'acme', 'name', 'Acme'), 'links', '{}'::jsonb, "
        "'alert', jsonb_build_object('id', $2::bigint, 'status', 'OPEN', 'severity', 'HIGH', 'summary', 't 5 "
        "> 1', "
        "'rule', jsonb_build_object('name', 'r', 'type', 'threshold'), "
        "'device', jsonb_build_object('id', 1, 'name', 'dev-1', 'tags', '[]'::jsonb)))::text, 3)",
        {f.tenantId, alert, event, channelId});
}

void deliverOneNoticeEach(AlertFixture& f, const std::vector<std::string>& channelIds) {
    for (size_t i = 0; i < channelIds.size(); ++i)
        enqueueNotice(f, channelIds[i], "r" + std::to_string(i + 1));
    auto d = f.dispatcher(fastDispatch());
    d->start();
    EXPECT_TRUE(f.settled(40000)) << "deliveries still pending";
    d->stop();
}

void expectDelivery(const std::string& channelId, const std::string& status, const std::string& attempts,
                    const std::string& error, const std::string& secret) {
    std::string lastError = deliveriesOf(channelId, "last_error");
    EXPECT_EQ(deliveriesOf(channelId, "status"), status) << lastError;
    EXPECT_EQ(deliveriesOf(channelId, "attempts"), attempts) << lastError;
    EXPECT_NE(lastError.find(error), std::string::npos) << lastError;
    EXPECT_EQ(lastError.find(secret), std::string::npos) << lastError;
}

void crashAfterDeliveryThenRedeliver(AlertFixture& f, const std::function<size_t()>& received) {
    auto s = fastDispatch(1);
    s.lease = std::chrono::seconds(2);
    s.attemptTimeout = std::chrono::milliseconds(3000);
    auto crashing = f.dispatcher(s);
    crashing->afterDeliver = [](int64_t) { return false; };  // dies before recording the answer
    crashing->start();
    for (int i = 0; i < 200 && received() < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_GE(received(), 1u) << "the first delivery did not arrive";
    crashing->stop();
    auto survivor = f.dispatcher(s);
    survivor->start();
    EXPECT_TRUE(f.settled(15000));
    survivor->stop();
}

std::string withOverrides(Poco::JSON::Object base, const std::string& overridesJson) {
    auto overrides = Poco::JSON::Parser().parse(overridesJson).extract<Poco::JSON::Object::Ptr>();
    for (const auto& [k, v] : *overrides) {
        if (v.isEmpty())
            base.remove(k);
        else
            base.set(k, v);
    }
    std::ostringstream out;
    base.stringify(out);
    return out.str();
}

int64_t walkRoutedAlert(AlertFixture& f, const std::string& channel, const std::string& summary,
                        int workers) {
    f.routeAll(channel);
    std::string rule = f.ruleId("too hot", "threshold",
                                R"({"metric":"temperature","operator":"GT","threshold":80})", "CRITICAL");
    auto d = f.dispatcher(fastDispatch(workers));
    d->start();
    int64_t id = walkAlert(f, rule, summary);
    EXPECT_TRUE(f.settled()) << "deliveries still pending";
    d->stop();
    return id;
}

PulsedSetup pulsedBeside(AlertFixture& f, const std::string& extra) {
    std::string dir = f.dir + "/pulsed";
    std::string pluginsD = dir + "/plugins.d";
    Poco::File(pluginsD).createDirectories();
    writeFile(pluginsD + "/http.properties",
              "plugin.library = ingest_http.so\ninstance.http.component = ingest/http\ninstance.http.config "
              "= {}\n");
    writeFile(pluginsD + "/rules.properties", "plugin.library = rule_threshold.so\n");
    writeFile(pluginsD + "/heartbeat.properties", "plugin.library = rule_heartbeat.so\n");
    writeFile(pluginsD + "/webhook.properties", "plugin.library = sender_webhook.so\n");
    writeFile(dir + "/secrets.key", std::string(kPulsedSecretsKey) + "\n");
    PulsedSetup s;
    s.config =
        writePulseConfig(dir, freePort(), pluginsD,
                         "egress.allow = 127.0.0.1/32\nsecrets.key_file = " + dir + "/secrets.key\n" + extra);
    s.env = {{"PULSE_DB_URI", appUri()},
             {"PULSE_DB_MIGRATE_URI", ownerUri()},
             {"PULSE_SECRETS_KEY_FILE", dir + "/secrets.key"}};
    return s;
}

int sendReading(int port, const std::string& token, const std::string& body) {
    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest req("POST", "/api/v1/telemetry", Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Authorization", "Bearer " + token);
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse res;
    std::string text;
    Poco::StreamCopier::copyToString(s.receiveResponse(res), text);
    return static_cast<int>(res.getStatus());
}

}  // namespace pulse::test
