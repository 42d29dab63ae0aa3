// The Teams Workflows message for one alert notice (CONTRACTS.md §3): {"type":"message","attachments":[one
// Adaptive Card 1.4]}, as the "Post to a channel when a webhook request is received" flow expects. Only
// Action.OpenUrl (webhook cards cannot submit), and the whole body kept under Teams' 28 KB.
#pragma once

#include <pulse/notice.hpp>

#include <string>
#include <string_view>

namespace pulse::teams {

// Text for a TextBlock or a fact: Teams renders a subset of Markdown there, so the characters that start a
// link, emphasis or code are escaped with a backslash, and a device named "[x](http://evil)" stays text.
std::string escape(std::string_view text);

std::string message(const AlertNotice& notice);

}  // namespace pulse::teams
