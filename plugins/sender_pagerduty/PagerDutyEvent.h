// The Events API v2 body for one alert notice (CONTRACTS.md §2): trigger on opening, acknowledge and resolve
// after, all three with the same dedup_key, so PagerDuty folds them (and every retry) into one incident.
#pragma once

#include <pulse/notice.hpp>

#include <string>

namespace pulse::pagerduty {

// "pulse/<tenant id>/alert/<alert id>": one per alert, whatever its events and attempts. A test notice has
// no alert, so it gets its own key from the delivery.
std::string dedupKey(const AlertNotice& notice, std::string_view idempotencyKey);

// Pulse's five severities onto PagerDuty's four: CRITICAL critical, HIGH error, MEDIUM warning, LOW and
// INFO info.
const char* severity(const std::string& pulseSeverity);

// The JSON body to POST to /v2/enqueue; empty when the notice is of a kind PagerDuty has no action for.
std::string event(const AlertNotice& notice, const std::string& routingKey, std::string_view idempotencyKey);

}  // namespace pulse::pagerduty
