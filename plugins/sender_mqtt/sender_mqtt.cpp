// sender_mqtt: publishes alert notices (the host's JSON document, with the delivery's idempotency key added)
// to a broker and topic the tenant chooses, at QoS 1 over MQTT v5, for machines: a SCADA gateway, a building
// system, another Pulse. One connection per channel in each pulsed, opened on the first notice and kept.
// A delivery is done when the broker's PUBACK says so; v5 lets the broker refuse in the PUBACK (0x87 not
// authorised by its ACL), which is permanent, where v3.1.1 brokers acknowledge and drop.
//
// The broker's host passes the egress guard (ABI 1.3 egress_resolve) before every connection. Plaintext
// connections dial exactly the address the guard checked. TLS connections dial the name, resolved by Paho,
// because Paho verifies the certificate against the name it dials: a rebinding answer that pointed at an
// internal host would fail that check (an internal host cannot prove to be the tenant's name).
#include "AlertTopic.h"

#include <pulse/notice.hpp>
#include <pulse/plugin.hpp>

#include <mqtt/async_client.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "MQTT broker",
  "type": "object",
  "properties": {
    "host": {"type": "string", "format": "hostname", "minLength": 1, "maxLength": 253,
             "description": "the broker's name or address; it must resolve to public addresses"},
    "port": {"x-order": 1, "type": "integer", "minimum": 1, "maximum": 65535, "default": 8883,
             "description": "8883 for MQTT over TLS, 1883 for plaintext"},
    "tls": {"x-order": 2, "type": "boolean", "default": true,
            "description": "TLS with the broker's certificate checked against the host name; off only for a broker on a trusted network, and then without a password"},
    "username": {"x-order": 3, "type": "string", "maxLength": 256, "default": ""},
    "password": {"x-order": 4, "type": "string", "writeOnly": true, "maxLength": 256},
    "topic": {"x-order": 5, "type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[^#+$][^#+]*$",
              "default": "pulse/{tenant}/alerts/{device}",
              "description": "where notices go; {tenant}, {device}, {site}, {severity}, {event} (opened, acknowledged, closed) and {alert} are filled in, with '/', '+' and '#' in their values replaced by '_'"},
    "retain": {"x-order": 6, "type": "boolean", "default": false,
               "description": "keep the last notice per topic on the broker for subscribers that connect later"},
    "ca_certificate": {"x-order": 7, "type": "string", "maxLength": 65536, "default": "",
                       "description": "PEM certificates to trust for this broker (a private CA) instead of the system's"},
    "timeout_ms": {"x-order": 8, "type": "integer", "minimum": 1000, "maximum": 60000, "default": 10000,
                   "description": "time allowed for connecting and for the broker's acknowledgement"}
  },
  "required": ["host"],
  "not": {"required": ["tls", "password"], "properties": {"tls": {"const": false}},
          "description": "a password is not sent over plaintext: with tls false, no password"},
  "additionalProperties": false,
  "examples": [{"host": "broker.example.com", "username": "pulse", "password": "secret",
                "topic": "site/{site}/pulse/{severity}"}]
})json";

std::string randomHex(size_t bytes) {
    std::random_device rd;
    std::string out;
    char buf[3];
    for (size_t i = 0; i < bytes; ++i) {
        std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(rd() & 0xff));
        out += buf;
    }
    return out;
}

// MQTT v5 reason codes (OASIS MQTT 5.0 §3.2.2.2 CONNACK, §3.4.2.1 PUBACK) and MQTT 3.1.1 CONNACK return
// codes: which refusals no retry can mend.
bool permanentRefusal(int code) {
    switch (code) {
        case 2:     // 3.1.1: identifier rejected
        case 4:     // 3.1.1: bad user name or password
        case 5:     // 3.1.1: not authorised
        case 0x84:  // unsupported protocol version
        case 0x85:  // client identifier not valid
        case 0x86:  // bad user name or password
        case 0x87:  // not authorised
        case 0x8C:  // bad authentication method
        case 0x90:  // topic name invalid
        case 0x95:  // packet too large
        case 0x99:  // payload format invalid
        case 0x9A:  // retain not supported
        case 0x9B:  // QoS not supported
            return true;
        default:
            return false;  // 0x88 server unavailable, 0x89 busy, 0x97 quota exceeded...: later
    }
}

class MqttSender : public pulse::Sender {
  public:
    MqttSender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          broker_(host.config_string("/host")),
          port_(static_cast<int>(host.config_number("/port", 8883))),
          tls_(host.config_bool("/tls", true)),
          username_(host.config_string("/username")),
          password_(host.config_string("/password")),
          topic_(host.config_string("/topic", "pulse/{tenant}/alerts/{device}")),
          retain_(host.config_bool("/retain", false)),
          timeoutMs_(static_cast<int64_t>(host.config_number("/timeout_ms", 10000))),
          clientId_("pulse-" + randomHex(8)) {
        if (host.abi_minor() < 3)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.3 (egress_resolve)");
        std::string ca = host.config_string("/ca_certificate");
        if (!ca.empty()) {
            // Paho reads trust from a file: a private one for this instance, removed with it.
            char path[] = "/tmp/pulse-mqtt-ca-XXXXXX";
            int fd = ::mkstemp(path);
            if (fd < 0 || ::write(fd, ca.data(), ca.size()) != static_cast<ssize_t>(ca.size())) {
                if (fd >= 0) ::close(fd);
                throw pulse::Error(PULSE_ERR_CONFIG, "cannot store the CA certificate");
            }
            ::close(fd);
            caFile_ = path;
        }
    }

    ~MqttSender() override {
        std::lock_guard lock(mutex_);
        drop();
        if (!caFile_.empty()) ::unlink(caFile_.c_str());
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        pulse::AlertNotice notice;
        if (auto unreadable = pulse::AlertNotice::read(d, notice)) return *unreadable;
        int64_t timeoutMs = pulse::attempt_timeout_ms(d, host_.now_ms(), timeoutMs_);
        std::shared_ptr<mqtt::async_client> client;
        if (auto failed = connected(timeoutMs, client)) return *failed;

        std::string topic = pulse::mqtt_topic::expand(topic_, notice);
        std::string payload =
            pulse::mqtt_topic::with_key(std::string(d.payload_json), std::string(d.idempotency_key));
        try {
            auto msg = mqtt::make_message(topic, payload, 1, retain_);
            mqtt::properties props{{mqtt::property::CONTENT_TYPE, std::string("application/json")},
                                   {mqtt::property::PAYLOAD_FORMAT_INDICATOR, 1}};
            msg->set_properties(props);
            auto token = client->publish(msg);
            if (!token->wait_for(std::chrono::milliseconds(timeoutMs))) {
                forget(client);
                return {PULSE_RETRY, 0, -1,
                        "the broker did not acknowledge within " + std::to_string(timeoutMs) + " ms"};
            }
            int reason = token->get_reason_code();
            if (reason >= 0x80)
                return {
                    permanentRefusal(reason) ? PULSE_ERR_GENERIC : PULSE_RETRY, reason, -1,
                    "the broker refused the message on " + topic + ": reason code " + std::to_string(reason)};
            return {PULSE_OK, reason, -1, "published to " + topic + " (QoS 1, acknowledged)"};
        } catch (const mqtt::exception& e) {
            int reason = e.get_reason_code();
            forget(client);
            if (reason >= 0x80 && permanentRefusal(reason))
                return {PULSE_ERR_GENERIC, reason, -1,
                        "the broker refused the message on " + topic + ": reason code " +
                            std::to_string(reason) + " (" + e.get_reason_code_str() + ")"};
            return {PULSE_RETRY, 0, -1, std::string("publishing failed: ") + e.what()};
        }
    }

  private:
    // The instance's connection, opened when there is none (or it was lost); an outcome when that failed.
    std::optional<pulse::DeliveryOutcome> connected(int64_t timeoutMs,
                                                    std::shared_ptr<mqtt::async_client>& out) {
        std::lock_guard lock(mutex_);
        if (client_ && client_->is_connected()) {
            out = client_;
            return std::nullopt;
        }
        drop();
        // The guard looks at the broker whenever a connection is dialled (not for each publish on one).
        pulse::EgressAddress target = host_.egress_resolve(broker_);
        if (target.code != PULSE_OK)
            return pulse::DeliveryOutcome{target.code == PULSE_ERR_UNAVAILABLE ? PULSE_RETRY : target.code, 0,
                                          -1, target.error};
        std::string dial = tls_ ? broker_ : target.address;
        if (dial.find(':') != std::string::npos && dial.front() != '[') dial = "[" + dial + "]";
        std::string uri = std::string(tls_ ? "ssl://" : "tcp://") + dial + ":" + std::to_string(port_);
        try {
            auto client =
                std::make_shared<mqtt::async_client>(uri, clientId_, mqtt::create_options(MQTTVERSION_5));
            mqtt::connect_options opts;
            opts.set_mqtt_version(MQTTVERSION_5);
            opts.set_clean_start(true);
            opts.set_keep_alive_interval(std::chrono::seconds(60));
            opts.set_connect_timeout(std::chrono::milliseconds(std::max<int64_t>(timeoutMs, 1000)));
            if (!username_.empty()) opts.set_user_name(username_);
            if (!password_.empty()) opts.set_password(password_);
            if (tls_) {
                mqtt::ssl_options ssl;
                ssl.set_enable_server_cert_auth(true);
                ssl.set_verify(true);  // the certificate must name the host
                if (!caFile_.empty()) ssl.set_trust_store(caFile_);
                opts.set_ssl(ssl);
            }
            auto token = client->connect(opts);
            if (!token->wait_for(std::chrono::milliseconds(timeoutMs + 500))) {
                return pulse::DeliveryOutcome{
                    PULSE_RETRY, 0, -1,
                    "no CONNACK from the broker within " + std::to_string(timeoutMs) + " ms"};
            }
            client_ = client;
            out = client;
            return std::nullopt;
        } catch (const mqtt::exception& e) {
            // Paho names the host and the reason; the password is never part of it.
            int code = e.get_reason_code() > 0 ? e.get_reason_code() : e.get_return_code();
            bool permanent = permanentRefusal(code);
            return pulse::DeliveryOutcome{permanent ? PULSE_ERR_GENERIC : PULSE_RETRY, 0, -1,
                                          std::string(permanent ? "the broker refused the connection: "
                                                                : "cannot connect to the broker: ") +
                                              e.what()};
        }
    }

    // A connection that failed is not reused: the next delivery opens a new one.
    void forget(const std::shared_ptr<mqtt::async_client>& failed) {
        std::lock_guard lock(mutex_);
        if (client_ == failed) drop();
    }

    void drop() {
        if (!client_) return;
        try {
            if (client_->is_connected())
                client_->disconnect(std::chrono::seconds(2))->wait_for(std::chrono::seconds(3));
        } catch (const mqtt::exception&) {
        }
        client_.reset();
    }

    pulse::Host host_;
    std::string broker_;
    int port_;
    bool tls_;
    std::string username_, password_, topic_;
    bool retain_;
    int64_t timeoutMs_;
    std::string clientId_;
    std::string caFile_;
    std::mutex mutex_;
    std::shared_ptr<mqtt::async_client> client_;
};

}  // namespace

PULSE_PLUGIN("sender_mqtt", "1.0.0", "Alert notices published to an MQTT broker (QoS 1, MQTT v5)",
             "Apache-2.0",
             pulse::component<MqttSender>("mqtt",
                                          "Publish alert notices to a broker and topic of the tenant's",
                                          kConfigSchema, PULSE_THREADING_CONCURRENT))
