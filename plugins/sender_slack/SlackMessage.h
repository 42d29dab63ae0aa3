// The Block Kit message for one alert notice, within Slack's limits (CONTRACTS.md §1): a header of at most
// 150 characters, section texts of at most 3000, at most 10 fields of at most 2000, every tenant-chosen text
// escaped for mrkdwn so that a device named "<!channel>" mentions nobody.
#pragma once

#include <pulse/notice.hpp>

#include <string>
#include <string_view>

namespace pulse::slack {

// &, < and > as Slack's mrkdwn wants them (its only control characters).
std::string escape(std::string_view text);

// The JSON body to POST. mention (<!here>, <@U123>...) leads the text of CRITICAL and HIGH openings.
std::string message(const AlertNotice& notice, const std::string& mention);

}  // namespace pulse::slack
