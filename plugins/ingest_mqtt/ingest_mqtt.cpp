// ingest_mqtt: devices publish telemetry to MQTT; Pulse consumes it through a shared subscription.
//
// Each instance opens `connections` MQTT v5 sessions to the broker at QoS 1 with Paho's automatic
// reconnect: either one persistent session (clean start off, session expiry) with a plain subscription to
// devices/+/+/telemetry, which the broker queues for while Pulse is away, or members of the shared
// subscription $share/<group>/devices/+/+/telemetry that split the load across connections and instances. The
// broker authenticates each device (username "<tenant>/<device>", password its token) and its ACL lets a
// device publish only to devices/<tenant>/<device>/telemetry; Pulse trusts the topic for the identity.
//
// Backpressure: a message is handed to the host from Paho's delivery thread, and PUBACK goes out when
// that call returns. When the host's queue is full the call waits; this connection then stops reading,
// and the broker queues (persistently) instead of Pulse growing an unbounded buffer.
#include "TopicParser.h"

#include <pulse/plugin.hpp>

#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "MQTT telemetry",
  "type": "object",
  "properties": {
    "uri": {"type": "string", "pattern": "^(tcp|ssl|mqtt|mqtts)://", "default": "tcp://127.0.0.1:1883",
            "description": "broker address"},
    "uri_env": {"type": "string", "description": "environment variable holding the broker address (wins over uri)"},
    "username": {"type": "string", "default": "pulse-ingest"},
    "password": {"type": "string", "x-secret": true, "default": ""},
    "password_env": {"type": "string", "description": "environment variable holding the password (wins over password)"},
    "client_id": {"type": "string", "minLength": 1, "maxLength": 64, "default": "pulse-ingest",
                  "description": "base of the client ids; distinct per pulsed instance, stable across restarts"},
    "connections": {"type": "integer", "minimum": 1, "maximum": 16, "default": 2},
    "share_group": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "default": "pulse",
                    "description": "shared subscription group, so that instances and connections split the load; empty for a plain subscription (one connection), which Mosquitto 2.0 keeps queueing while Pulse is down"},
    "session_expiry_s": {"type": "integer", "minimum": 0, "maximum": 604800, "default": 3600,
                         "description": "how long the broker keeps queueing for a disconnected session"},
    "keep_alive_s": {"type": "integer", "minimum": 5, "maximum": 3600, "default": 20}
  },
  "additionalProperties": false,
  "examples": [{"uri": "tcp://127.0.0.1:1", "connections": 1}]
})json";

std::string fromEnvOr(const pulse::Host& host, const char* envKey, const char* valueKey) {
    std::string env = host.config_string(envKey);
    if (!env.empty())
        if (const char* v = std::getenv(env.c_str())) return v;
    return host.config_string(valueKey);
}

class MqttIngest : public pulse::Ingest {
  public:
    MqttIngest(pulse::Host host, std::string_view)
        : host_(host),
          uri_(fromEnvOr(host, "/uri_env", "/uri")),
          username_(host.config_string("/username")),
          password_(fromEnvOr(host, "/password_env", "/password")),
          clientId_(host.config_string("/client_id")),
          connections_(static_cast<int>(host.config_number("/connections"))),
          filter_(host.config_string("/share_group").empty()
                      ? std::string("devices/+/+/telemetry")
                      : "$share/" + host.config_string("/share_group") + "/devices/+/+/telemetry"),
          sessionExpiry_(static_cast<int>(host.config_number("/session_expiry_s"))),
          keepAlive_(static_cast<int>(host.config_number("/keep_alive_s"))) {
        if (connections_ > 1 && filter_.rfind("$share/", 0) != 0)
            throw pulse::Error(PULSE_ERR_CONFIG,
                               "connections > 1 needs a share_group: with a plain subscription every "
                               "connection would receive every message");
    }

    ~MqttIngest() override { stop(); }

    void start() override {
        for (int i = 0; i < connections_; ++i) {
            auto c = std::make_unique<Connection>();
            c->client = std::make_unique<mqtt::async_client>(uri_, clientId_ + "-" + std::to_string(i),
                                                             mqtt::create_options(MQTTVERSION_5));
            Connection* conn = c.get();
            c->client->set_connected_handler([this, conn](const std::string&) {
                conn->connected = true;
                // A persistent session keeps the subscription, but subscribing again is harmless and
                // covers a session the broker expired. Healthy only once the broker granted it.
                try {
                    conn->client->subscribe(filter_, 1, nullptr, conn->subscribed);
                } catch (const mqtt::exception& e) {
                    host_.error(std::string("subscribe failed: ") + e.what());
                }
                host_.info("connected to " + uri_ + " as " + conn->client->get_client_id());
            });
            c->client->set_connection_lost_handler([this, conn](const std::string& cause) {
                conn->connected = false;
                conn->subscribed.granted = false;
                host_.warn("connection " + conn->client->get_client_id() + " lost (" + cause +
                           "); reconnecting");
            });
            c->client->set_message_callback([this](mqtt::const_message_ptr msg) { deliver(*msg); });
            // Built field by field: Paho C++ 1.2.0 loses the CONNECT properties (session expiry) when
            // connect_options_builder::finalize() copies the options, and the session is then not kept.
            mqtt::connect_options opts;
            opts.set_mqtt_version(MQTTVERSION_5);
            // A plain subscription keeps its session, so the broker queues while pulsed is away. A member
            // of a shared subscription must not: Mosquitto keeps handing an offline member its share of
            // the messages (they wait for a client that may never return) and queues nothing when every
            // member is offline, so shared sessions end at disconnect.
            bool persistent = filter_.rfind("$share/", 0) != 0;
            opts.set_clean_start(!persistent);
            opts.set_properties(
                mqtt::properties{{mqtt::property::SESSION_EXPIRY_INTERVAL, persistent ? sessionExpiry_ : 0}});
            opts.set_keep_alive_interval(std::chrono::seconds(keepAlive_));
            opts.set_connect_timeout(std::chrono::seconds(10));
            opts.set_automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30));
            opts.set_user_name(username_);
            opts.set_password(password_);
            try {
                // Not waiting: a broker that is down now is retried by the automatic reconnect, and
                // readiness reports the channel as reconnecting meanwhile.
                c->client->connect(opts);
            } catch (const mqtt::exception& e) {
                throw pulse::Error(PULSE_ERR_CONFIG,
                                   std::string("cannot connect to ") + uri_ + ": " + e.what());
            }
            clients_.push_back(std::move(c));
        }
    }

    void stop() override {
        stopping_ = true;
        for (auto& c : clients_) {
            try {
                if (c->client->is_connected()) c->client->disconnect(std::chrono::seconds(5))->wait();
            } catch (const mqtt::exception&) {
            }
        }
        clients_.clear();
    }

    bool health(std::string& status) override {
        int up = 0;
        for (auto& c : clients_) up += c->connected && c->subscribed.granted ? 1 : 0;
        status = std::to_string(up) + " of " + std::to_string(clients_.size()) +
                 " connections subscribed at " + uri_;
        return !clients_.empty() && up == static_cast<int>(clients_.size());
    }

  private:
    // Learns whether the broker granted the subscription (QoS 1).
    struct SubscribeListener : public mqtt::iaction_listener {
        std::atomic<bool> granted{false};
        void on_success(const mqtt::token& tok) override {
            auto codes = tok.get_subscribe_response().get_reason_codes();
            granted = !codes.empty() && codes[0] < 0x80;
        }
        void on_failure(const mqtt::token&) override { granted = false; }
    };

    struct Connection {
        std::unique_ptr<mqtt::async_client> client;
        std::atomic<bool> connected{false};
        SubscribeListener subscribed;
    };

    void deliver(const mqtt::message& msg) {
        const std::string& topic = msg.get_topic();
        auto parsed = pulse::ingest_mqtt::parseTelemetryTopic(topic);
        if (!parsed) {
            host_.counter_add("mqtt_dropped", "MQTT messages dropped: bad topic or refused payload", 1);
            return;
        }
        if (msg.is_retained()) {
            // Retained messages are not telemetry: one would come again at every (re)subscription and be
            // stored again. Brokers Pulse runs keep none (retain_available false); others may.
            host_.counter_add("mqtt_retained_ignored", "retained MQTT messages ignored", 1);
            return;
        }
        std::string identity = std::string(parsed->tenant) + "/" + std::string(parsed->device);
        const std::string& payload = msg.get_payload_str();
        while (true) {
            auto r = host_.ingest(PULSE_IDENTITY_DEVICE, identity, payload, 0);
            if (r.status >= 200 && r.status < 300) {
                host_.counter_add("mqtt_messages", "MQTT messages handed to the pipeline", 1);
                return;
            }
            if (r.status == 429) {
                // Over the device's or tenant's budget: dropped here, and refused at the source where the
                // broker runs Pulse's budget plugin (broker/mosquitto_budget).
                host_.counter_add("mqtt_over_budget",
                                  "MQTT messages dropped: the device or tenant over budget", 1);
                if (budgetLogBudget_-- > 0) host_.warn("dropped a message on " + topic + ": " + r.body);
                return;
            }
            if (r.status != 503 || stopping_) {
                // The device's fault (400, 401, 403, 413): retrying cannot help; acknowledge and count.
                host_.counter_add("mqtt_dropped", "MQTT messages dropped: bad topic or refused payload", 1);
                if (dropLogBudget_-- > 0) host_.warn("dropped a message on " + topic + ": " + r.body);
                return;
            }
            // Storage is behind: hold this delivery (and so the connection) until there is room.
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }

    pulse::Host host_;
    std::string uri_, username_, password_, clientId_;
    int connections_;
    std::string filter_;
    int sessionExpiry_, keepAlive_;
    std::vector<std::unique_ptr<Connection>> clients_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> dropLogBudget_{100};  // the first refusals are logged, the rest only counted
    std::atomic<int> budgetLogBudget_{20};
};

}  // namespace

PULSE_PLUGIN("ingest_mqtt", "1.0.0", "Device telemetry over MQTT (shared subscription, QoS 1)", "Apache-2.0",
             pulse::component<MqttIngest>("mqtt",
                                          "Consume devices/<tenant>/<device>/telemetry from an MQTT broker",
                                          kConfigSchema, PULSE_THREADING_CONCURRENT))
