#pragma once

// The topic an alert notice is published to: the channel's template with {tenant}, {device}, {site},
// {severity}, {event} and {alert} filled in. Values are tenant text, so the characters MQTT gives a meaning
// in topics ('/', '+', '#') and NUL become '_': a device named "a/#" cannot publish elsewhere.
#include <pulse/notice.hpp>

#include <string>

namespace pulse::mqtt_topic {

std::string expand(const std::string& pattern, const AlertNotice& n);
// A topic level from tenant text.
std::string level(const std::string& value);
// The notice with "idempotency_key" as its first member (a subscriber's deduplication key: QoS 1 may
// deliver a message twice, and a retried delivery publishes it again).
std::string with_key(const std::string& payload_json, const std::string& key);

}  // namespace pulse::mqtt_topic
