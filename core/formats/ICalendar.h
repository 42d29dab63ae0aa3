#pragma once

#include <string>
#include <vector>

namespace pulse::formats {

// One VEVENT of a published calendar.
struct CalendarEvent {
    std::string uid;        // stable across refreshes, so calendar apps update an event rather than add one
    long long startMs = 0;  // UTC, milliseconds since 1970
    long long endMs = 0;
    std::string summary;      // plain text; escaped here
    std::string description;  // plain text; escaped here
};

// An RFC 5545 calendar (METHOD:PUBLISH) that calendar apps subscribe to: times in UTC (so the app shows them
// in its own zone and no VTIMEZONE has to be written), text escaped, lines folded at 75 octets without
// splitting a UTF-8 character, CRLF line ends. stampMs: DTSTAMP of every event (when the feed was made).
std::string writeCalendar(const std::string& name, const std::vector<CalendarEvent>& events,
                          long long stampMs);

}  // namespace pulse::formats
