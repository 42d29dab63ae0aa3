#pragma once

#include <string>

namespace pulse::config {

// This pulsed process among the instances sharing a database: host name, process id and a random part
// (a restarted process on the same host and pid is another one). The same text for every caller in the
// process: delivery leases (workers::NotificationDispatcher) and saved rule states (pipeline::RuleEngine).
const std::string& processIdentity();

}  // namespace pulse::config
