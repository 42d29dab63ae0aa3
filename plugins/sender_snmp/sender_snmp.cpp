// sender_snmp: alert notices as PULSE-MIB notifications (mibs/PULSE-MIB.txt) to the tenant's NMS: SNMP v2c
// with a community, or v3 authPriv (SHA-1/SHA-2 authentication, AES-128 privacy); as informs (the default:
// the receiver acknowledges, net-snmp resends on timeout) or traps (sent and forgotten: SNMP has no
// acknowledgement for them). Every notice of an alert carries the same pulseAlertId and its pulseAlertState,
// so the NMS correlates opened, acknowledged and closed.
//
// The receiver's host passes the egress guard (ABI 1.3 egress_resolve) on every delivery and the session is
// bound to exactly the address the guard checked. All net-snmp calls happen on one thread (SnmpEngine.h).
#include "SnmpEngine.h"

#include <pulse/notice.hpp>
#include <pulse/plugin.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace {

constexpr const char* kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "SNMP notifications to an NMS",
  "type": "object",
  "properties": {
    "host": {"type": "string", "format": "hostname", "minLength": 1, "maxLength": 253,
             "description": "the trap receiver's name or address; it must resolve to public addresses"},
    "port": {"x-order": 1, "type": "integer", "minimum": 1, "maximum": 65535, "default": 162,
             "description": "the receiver's UDP port"},
    "version": {"x-order": 2, "enum": ["2c", "3"], "default": "2c",
                "description": "2c: a community string, sent in the clear; 3: a USM user with authentication and encryption (authPriv)"},
    "notification": {"x-order": 3, "enum": ["inform", "trap"], "default": "inform",
                     "description": "inform: the receiver acknowledges each notification and it is resent until it does; trap: sent once, never acknowledged, so a lost trap goes unnoticed"},
    "community": {"x-order": 4, "type": "string", "writeOnly": true, "minLength": 1, "maxLength": 64,
                  "description": "v2c: the community the receiver accepts"},
    "user": {"x-order": 5, "type": "string", "minLength": 1, "maxLength": 32,
             "description": "v3: the USM user name"},
    "auth_protocol": {"x-order": 6, "enum": ["SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"], "default": "SHA-256",
                      "description": "v3: the authentication protocol (RFC 3414, RFC 7860)"},
    "auth_passphrase": {"x-order": 7, "type": "string", "writeOnly": true, "minLength": 8, "maxLength": 128,
                        "description": "v3: the authentication passphrase"},
    "priv_passphrase": {"x-order": 8, "type": "string", "writeOnly": true, "minLength": 8, "maxLength": 128,
                        "description": "v3: the privacy passphrase (AES-128, RFC 3826)"},
    "engine_id": {"x-order": 9, "type": "string", "pattern": "^(0x)?([0-9a-fA-F]{2}){5,32}$",
                  "description": "v3 traps: the engine ID, in hex, the receiver has this sender's user under (snmptrapd: createUser -e); informs discover the receiver's engine and do not need it"},
    "timeout_ms": {"x-order": 10, "type": "integer", "minimum": 100, "maximum": 10000, "default": 1500,
                   "description": "informs: how long to wait for the receiver's acknowledgement before sending again"},
    "retries": {"x-order": 11, "type": "integer", "minimum": 0, "maximum": 5, "default": 2,
                "description": "informs: how many times to send again within one attempt"}
  },
  "required": ["host"],
  "allOf": [
    {"not": {"allOf": [{"not": {"required": ["version"], "properties": {"version": {"const": "3"}}}},
                       {"not": {"required": ["community"]}}],
             "description": "SNMP v2c needs a community"}},
    {"not": {"required": ["version"], "properties": {"version": {"const": "3"}},
             "not": {"required": ["user", "auth_passphrase", "priv_passphrase"]},
             "description": "SNMP v3 needs user, auth_passphrase and priv_passphrase (authPriv)"}},
    {"not": {"required": ["version", "notification"],
             "properties": {"version": {"const": "3"}, "notification": {"const": "trap"}},
             "not": {"required": ["engine_id"]},
             "description": "an SNMP v3 trap needs engine_id: the receiver knows a trap sender's user by the sender's engine ID"}}],
  "additionalProperties": false,
  "examples": [{"host": "nms.example.com", "version": "2c", "community": "n0t-public"},
               {"host": "nms.example.com", "version": "3", "user": "pulse", "auth_passphrase": "auth-secret-1",
                "priv_passphrase": "priv-secret-1"}]
})json";

std::string bytesOfHex(std::string hex) {
    if (hex.rfind("0x", 0) == 0) hex = hex.substr(2);
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

class SnmpSender : public pulse::Sender {
  public:
    SnmpSender(pulse::Host host, std::string_view /*config*/)
        : host_(host),
          receiver_(host.config_string("/host")),
          port_(static_cast<int>(host.config_number("/port", 162))),
          inform_(host.config_string("/notification", "inform") == "inform"),
          timeoutMs_(static_cast<int>(host.config_number("/timeout_ms", 1500))),
          retries_(static_cast<int>(host.config_number("/retries", 2))) {
        if (host.abi_minor() < 3)
            throw pulse::Error(PULSE_ERR_UNSUPPORTED, "needs a host with ABI 1.3 (egress_resolve)");
        pulse::snmp::Security security;
        security.v3 = host.config_string("/version", "2c") == "3";
        security.community = host.config_string("/community");
        security.user = host.config_string("/user");
        security.authProtocol = host.config_string("/auth_protocol", "SHA-256");
        security.authPassphrase = host.config_string("/auth_passphrase");
        security.privPassphrase = host.config_string("/priv_passphrase");
        security.engineId = bytesOfHex(host.config_string("/engine_id"));
        engine_ = pulse::snmp::Engine::shared();
        channel_ = new pulse::snmp::Channel(*engine_, std::move(security));
    }

    ~SnmpSender() override {
        // On the engine's thread, after every task already queued for this channel.
        auto* channel = channel_;
        engine_->call([channel] { delete channel; });
    }

    pulse::DeliveryOutcome deliver(const pulse::Delivery& d) override {
        pulse::AlertNotice notice;
        if (auto unreadable = pulse::AlertNotice::read(d, notice)) return *unreadable;
        pulse::EgressAddress target = host_.egress_resolve(receiver_);
        if (target.code != PULSE_OK)
            return {target.code == PULSE_ERR_UNAVAILABLE ? PULSE_RETRY : target.code, 0, -1, target.error};
        pulse::snmp::Send send;
        bool v6 = target.address.find(':') != std::string::npos;
        send.peer =
            std::string(v6 ? "udp6:[" : "udp:") + target.address + (v6 ? "]:" : ":") + std::to_string(port_);
        send.inform = inform_;
        send.timeoutMs = timeoutMs_;
        send.retries = retries_;
        send.varbinds = pulse::pulse_mib::notification(notice, engine_->uptimeCentiseconds());

        // An inform may take its tries twice over (engine discovery, then the inform); a trap only a send.
        int64_t budget = inform_ ? 2LL * timeoutMs_ * (retries_ + 1) + 1000 : 5000;
        budget = pulse::attempt_timeout_ms(d, host_.now_ms(), budget);
        auto outcome = std::make_shared<std::promise<pulse::DeliveryOutcome>>();
        auto result = outcome->get_future();
        auto* channel = channel_;
        engine_->post([channel, send = std::move(send), outcome] { channel->send(send, outcome); });
        if (result.wait_for(std::chrono::milliseconds(budget)) != std::future_status::ready)
            return {PULSE_RETRY, 0, -1,
                    "no outcome from the SNMP receiver within " + std::to_string(budget) + " ms"};
        return result.get();
    }

  private:
    pulse::Host host_;
    std::string receiver_;
    int port_;
    bool inform_;
    int timeoutMs_, retries_;
    std::shared_ptr<pulse::snmp::Engine> engine_;
    pulse::snmp::Channel* channel_;  // lives and dies on the engine's thread
};

}  // namespace

PULSE_PLUGIN("sender_snmp", "1.0.0", "Alert notices as SNMP v2c/v3 traps or informs (PULSE-MIB)",
             "Apache-2.0",
             pulse::component<SnmpSender>("snmp", "Send alert notices to an NMS as SNMP traps or informs",
                                          kConfigSchema, PULSE_THREADING_CONCURRENT))
