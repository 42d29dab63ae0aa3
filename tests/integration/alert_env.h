#pragma once

// What the alert and notification tests share: a tenant with one device, rules and channels created
// through the services, an in-process alert writer and dispatchers, and the strict Standard Webhooks
// receiver (tests/standins/webhook_receiver.py) as the tenant's endpoint.
#include "config/Settings.h"
#include "net/OutboundHttp.h"
#include "plugins/PluginManager.h"
#include "services/AlertService.h"
#include "services/ChannelService.h"
#include "services/SecretBox.h"
#include "storage/PgPool.h"
#include "test_env.h"
#include "workers/Escalator.h"
#include "workers/NotificationDispatcher.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pulse::test {

constexpr const char* kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The receiver stand-in as a child process.
class WebhookReceiver {
  public:
    WebhookReceiver();
    int port() const { return port_; }
    std::string url(const std::string& path) const;
    Poco::JSON::Array::Ptr requests();  // everything received so far
    Poco::JSON::Object::Ptr log();
    // Waits until at least n requests arrived on path (all paths when empty); returns the count.
    size_t waitFor(size_t n, const std::string& path = "", int timeoutMs = 20000);

  private:
    std::unique_ptr<Child> child_;
    int port_ = 0;
};

// A strict stand-in of an outside service (tests/standins/<script>: Slack, PagerDuty, Teams) as a child
// process, with its test-only control interface (/_log, /_script, /_clear).
class StandIn {
  public:
    explicit StandIn(const std::string& script, const std::vector<std::string>& extraArgs = {});
    int port() const { return port_; }
    std::string url(const std::string& pathAndQuery) const;
    Poco::JSON::Array::Ptr requests();
    Poco::JSON::Object::Ptr get(const std::string& path);  // GET a control document (/_alerts)
    // The next requests for key (a path, or PagerDuty's routing key) get these answers, in order.
    void script(const std::string& key, const std::vector<std::string>& answers);
    // Waits until at least n requests arrived (with that path, when given); returns the count.
    size_t waitFor(size_t n, const std::string& path = "", int timeoutMs = 20000);

  private:
    std::unique_ptr<Child> child_;
    int port_ = 0;
};

std::string scalarAsOwner(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});

// A tenant, one device, and the services, wired as pulsed wires them (but in this process).
class AlertFixture {
  public:
    // Notices link to the alert in the console at kConsoleUrl.
    static constexpr const char* kConsoleUrl = "https://pulse.example.com";
    explicit AlertFixture(const std::string& name);
    ~AlertFixture();

    std::string ruleId(const std::string& name, const std::string& type, const std::string& config,
                       const std::string& severity = "HIGH", const std::string& extraColumns = "",
                       const std::string& extraValues = "");
    std::string webhookChannel(const std::string& name, const std::string& path, int maxConcurrency = 4,
                               int timeoutMs = 10000);
    // A channel of any sender type with the given config document.
    std::string channel(const std::string& name, const std::string& type, const std::string& configJson,
                        int maxConcurrency = 4);
    void routeAll(const std::string& channelId, int throttleS = 0);
    std::unique_ptr<workers::NotificationDispatcher> dispatcher(workers::DispatcherSettings s);
    services::Transition transition(const std::string& ruleId, pulse_transition kind, double value,
                                    const std::string& severity = "HIGH", bool autoClose = true,
                                    int flapThreshold = 3, int flapWindowS = 600);
    // Waits until no delivery of this tenant is PENDING; false on timeout.
    bool settled(int timeoutMs = 30000);

    std::string tenantId;
    std::string slug;
    int64_t deviceId = 0;
    std::string deviceName = "dev-1";
    std::string dir;
    net::OutboundHttp http;
    services::SecretBox box;
    storage::PgPool pool{appUri(), 16};  // as pulsed's libpq pool: the services' connections
    std::unique_ptr<plugins::PluginManager> plugins;
    std::unique_ptr<services::ChannelService> channels;
    std::shared_ptr<workers::WakeSignal> wake = std::make_shared<workers::WakeSignal>();
    std::unique_ptr<services::AlertService> alerts;
    WebhookReceiver receiver;
};

// An escalator over the fixture's database and outbox, driven by the test clock (fireDue(nowMs)).
std::unique_ptr<workers::Escalator> escalator(AlertFixture& f);

// Dispatcher settings for tests: a quick poll, short backoff, and no breaker in the way.
workers::DispatcherSettings fastDispatch(int workers = 4);

// Opens an alert (its summary chosen, CRITICAL), acknowledges it as alice@example.com, and closes it by
// recovery: three events, three notices. Returns the alert's id.
int64_t walkAlert(AlertFixture& f, const std::string& rule, const std::string& summary);

// The lifecycle every sender test walks: routes every alert to channel, makes the CRITICAL rule "too hot"
// (temperature > 80), and runs a dispatcher of that many workers through walkAlert's three events until no
// delivery is pending. Returns the alert's id.
int64_t walkRoutedAlert(AlertFixture& f, const std::string& channel, const std::string& summary,
                        int workers = 4);

// One delivery with a notice of the host's shape (the lifecycle tests check the real one) to one channel,
// for the answer classes: each channel gets its own.
void enqueueNotice(AlertFixture& f, const std::string& channelId, const std::string& ruleName);

// One notice to each channel (enqueueNotice, rules r1, r2, ...), delivered by a quick dispatcher until none
// is pending.
void deliverOneNoticeEach(AlertFixture& f, const std::vector<std::string>& channelIds);

// A channel's one delivery ended so: its status, attempts, an error holding `error`, and never `secret`.
void expectDelivery(const std::string& channelId, const std::string& status, const std::string& attempts,
                    const std::string& error, const std::string& secret);

// A column of a channel's deliveries, in order, joined by commas ("DONE,DEAD").
std::string deliveriesOf(const std::string& channelId, const std::string& column);

// R8: a dispatcher delivers, then "dies" before recording the answer (received() tells when the service has
// the notice); a second dispatcher takes the delivery over after its lease and delivers it again.
void crashAfterDeliveryThenRedeliver(AlertFixture& f, const std::function<size_t()>& received);

// A channel config: base with the members of overridesJson set over it (a null member removes one), as text.
std::string withOverrides(Poco::JSON::Object base, const std::string& overridesJson);

Poco::JSON::Object::Ptr at(const Poco::JSON::Array::Ptr& a, size_t i);

// A pulsed process's configuration beside the fixture (f.dir/pulsed): the HTTP ingest channel, the threshold
// and heartbeat rules and the webhook sender, channel secrets sealed with kPulsedSecretsKey, the egress
// guard open to loopback, and `extra` properties.
constexpr const char* kPulsedSecretsKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
struct PulsedSetup {
    std::string config;
    std::map<std::string, std::string> env;
};
PulsedSetup pulsedBeside(AlertFixture& f, const std::string& extra);
// POSTs a reading (a JSON object's text) to pulsed's /api/v1/telemetry as the device; returns the status.
int sendReading(int port, const std::string& token, const std::string& body);
// The requests a stand-in logged for one path, in order.
std::vector<Poco::JSON::Object::Ptr> on(StandIn& s, const std::string& path);

}  // namespace pulse::test
