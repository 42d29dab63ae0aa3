// mosquitto_budget: a Mosquitto 2.0 broker plugin (not a Pulse plugin) that refuses a device's publishes
// at the source once the device, or its tenant, is over its budget of messages per second. Pulse keeps
// budgets in readings for every channel (the host's ingest.* settings), but over MQTT a flooding device
// would still push every message through the broker and the shared ingest connection that all tenants'
// readings share; refused here, a flood costs the broker an ACL check per message, and an MQTT v5 device
// learns why: the PUBACK carries reason code 0x87 (Not authorized, the only refusal Mosquitto 2.0.11 lets
// a plugin give; 0x97 Quota exceeded is not reachable from plugins).
//
// Devices log in as "<tenant>/<device>" (the device listener's use_username_as_clientid makes that the
// client id too). Options, each a plugin_opt_ line in mosquitto.conf under the device listener:
//   device_messages_per_s (1000), device_burst (10000), tenant_messages_per_s (50000),
//   tenant_burst (200000); 0 as a rate turns that budget off.
// Mosquitto runs plugin callbacks on its one network thread: no locks.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

struct Bucket {
    double tokens;
    double at;  // seconds, steady clock
};

struct Budget {
    mosquitto_plugin_id_t* id = nullptr;
    double deviceRate = 1000, deviceBurst = 10000, tenantRate = 50000, tenantBurst = 200000;
    std::unordered_map<std::string, Bucket> devices, tenants;
    unsigned long refusals = 0;
    double lastSweep = 0;
};

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The bucket of `key`, refilled to time t; nullptr when the budget is off.
Bucket* bucket(std::unordered_map<std::string, Bucket>& buckets, const std::string& key, double rate,
               double burst, double t) {
    if (rate <= 0) return nullptr;
    auto [it, fresh] = buckets.try_emplace(key, Bucket{burst, t});
    Bucket& b = it->second;
    b.tokens = std::min(burst, b.tokens + (t - b.at) * rate);
    b.at = t;
    return &b;
}

// Buckets that have refilled completely hold nothing worth keeping.
void sweep(Budget& budget, double t) {
    if (t - budget.lastSweep < 60) return;
    budget.lastSweep = t;
    auto prune = [t](std::unordered_map<std::string, Bucket>& buckets, double rate, double burst) {
        for (auto it = buckets.begin(); it != buckets.end();)
            it = rate > 0 && it->second.tokens + (t - it->second.at) * rate >= burst ? buckets.erase(it)
                                                                                     : ++it;
    };
    prune(budget.devices, budget.deviceRate, budget.deviceBurst);
    prune(budget.tenants, budget.tenantRate, budget.tenantBurst);
}

int onAclCheck(int, void* eventData, void* userData) {
    auto* event = static_cast<mosquitto_evt_acl_check*>(eventData);
    auto* budget = static_cast<Budget*>(userData);
    if (event->access != MOSQ_ACL_WRITE) return MOSQ_ERR_PLUGIN_DEFER;
    const char* user = mosquitto_client_username(event->client);
    if (!user) return MOSQ_ERR_PLUGIN_DEFER;
    std::string device(user);
    std::string tenant = device.substr(0, device.find('/'));
    double t = now();
    sweep(*budget, t);
    // Both budgets are asked before either pays, so that a device refused by its own budget does not
    // spend its tenant's (the other devices') tokens.
    Bucket* d = bucket(budget->devices, device, budget->deviceRate, budget->deviceBurst, t);
    Bucket* n = bucket(budget->tenants, tenant, budget->tenantRate, budget->tenantBurst, t);
    bool ok = (!d || d->tokens >= 1) && (!n || n->tokens >= 1);
    if (ok) {
        if (d) d->tokens -= 1;
        if (n) n->tokens -= 1;
    }
    if (ok) return MOSQ_ERR_PLUGIN_DEFER;  // within budget: the ACL file decides
    // One log line per 1000 refusals: a flood must not become a flood of log lines.
    if (budget->refusals++ % 1000 == 0)
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "mosquitto_budget: %s is over its budget (%lu refusals so far)",
                             user, budget->refusals);
    return MOSQ_ERR_ACL_DENIED;
}

}  // namespace

extern "C" {

int mosquitto_plugin_version(int supportedCount, const int* supported) {
    for (int i = 0; i < supportedCount; ++i)
        if (supported[i] == 5) return 5;
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t* id, void** userData, struct mosquitto_opt* options,
                          int optionCount) {
    auto* budget = new Budget;
    budget->id = id;
    for (int i = 0; i < optionCount; ++i) {
        char* end = nullptr;
        double v = options[i].value ? std::strtod(options[i].value, &end) : -1;
        if (!end || end == options[i].value || *end != '\0' || !std::isfinite(v) || v < 0) {
            mosquitto_log_printf(MOSQ_LOG_ERR, "mosquitto_budget: %s must be a number >= 0, not '%s'",
                                 options[i].key, options[i].value);
            delete budget;
            return MOSQ_ERR_INVAL;
        }
        std::string key = options[i].key;
        if (key == "device_messages_per_s")
            budget->deviceRate = v;
        else if (key == "device_burst")
            budget->deviceBurst = v;
        else if (key == "tenant_messages_per_s")
            budget->tenantRate = v;
        else if (key == "tenant_burst")
            budget->tenantBurst = v;
        else {
            mosquitto_log_printf(MOSQ_LOG_ERR, "mosquitto_budget: unknown option %s", options[i].key);
            delete budget;
            return MOSQ_ERR_INVAL;
        }
    }
    if ((budget->deviceRate > 0 && budget->deviceBurst < 1) ||
        (budget->tenantRate > 0 && budget->tenantBurst < 1)) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "mosquitto_budget: a burst below 1 would refuse every message");
        delete budget;
        return MOSQ_ERR_INVAL;
    }
    *userData = budget;
    mosquitto_log_printf(MOSQ_LOG_NOTICE,
                         "mosquitto_budget: devices %.0f msg/s (burst %.0f), tenants %.0f msg/s (burst %.0f)",
                         budget->deviceRate, budget->deviceBurst, budget->tenantRate, budget->tenantBurst);
    return mosquitto_callback_register(id, MOSQ_EVT_ACL_CHECK, onAclCheck, nullptr, budget);
}

int mosquitto_plugin_cleanup(void* userData, struct mosquitto_opt*, int) {
    auto* budget = static_cast<Budget*>(userData);
    if (budget) {
        mosquitto_callback_unregister(budget->id, MOSQ_EVT_ACL_CHECK, onAclCheck, nullptr);
        delete budget;
    }
    return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
