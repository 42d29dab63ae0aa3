#pragma once

#include <Poco/Dynamic/Var.h>

#include <string>

namespace pulse::json {

// Compact JSON text of a parsed or built value (Poco::JSON objects and arrays, strings, numbers,
// booleans, empty as null), written by the SDK's pulse::json::Writer: every JSON text the host sends
// or stores is escaped and its numbers formatted one way, the plugins' included.
std::string toJsonText(const Poco::Dynamic::Var& value);

}  // namespace pulse::json
