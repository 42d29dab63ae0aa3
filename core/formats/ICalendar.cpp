#include "formats/ICalendar.h"

#include <ctime>

namespace pulse::formats {
namespace {

std::string utcStamp(long long ms) {
    std::time_t seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char out[20];
    std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &tm);
    return out;
}

// TEXT values (RFC 5545 section 3.3.11): backslash, semicolon and comma escaped, line breaks as \n, other
// control characters dropped.
std::string text(const std::string& value) {
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c == '\\' || c == ';' || c == ',') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            if (i + 1 >= value.size() || value[i + 1] != '\n') out += "\\n";
        } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
            out += c;
        }
    }
    return out;
}

// Content lines longer than 75 octets continue on the next line after CRLF and a space (section 3.1); a cut
// never falls inside a UTF-8 sequence.
void line(std::string& out, const std::string& content) {
    size_t start = 0, limit = 75;
    while (content.size() - start > limit) {
        size_t cut = start + limit;
        while (cut > start && (static_cast<unsigned char>(content[cut]) & 0xC0) == 0x80) --cut;
        if (cut == start) cut = start + limit;  // not UTF-8 at all: cut where the octets say, but move on
        out.append(content, start, cut - start);
        out += "\r\n ";
        start = cut;
        limit = 74;  // the leading space counts
    }
    out.append(content, start, std::string::npos);
    out += "\r\n";
}

}  // namespace

std::string writeCalendar(const std::string& name, const std::vector<CalendarEvent>& events,
                          long long stampMs) {
    std::string out;
    line(out, "BEGIN:VCALENDAR");
    line(out, "VERSION:2.0");
    line(out, "PRODID:-//Pulse//On-call schedules//EN");
    line(out, "CALSCALE:GREGORIAN");
    line(out, "METHOD:PUBLISH");
    line(out, "X-WR-CALNAME:" + text(name));
    // How often subscribers should look again (RFC 7986, and the older Apple/Microsoft property).
    line(out, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line(out, "X-PUBLISHED-TTL:PT1H");
    std::string stamp = utcStamp(stampMs);
    for (const auto& e : events) {
        line(out, "BEGIN:VEVENT");
        line(out, "UID:" + text(e.uid));
        line(out, "DTSTAMP:" + stamp);
        line(out, "DTSTART:" + utcStamp(e.startMs));
        line(out, "DTEND:" + utcStamp(e.endMs));
        line(out, "SUMMARY:" + text(e.summary));
        if (!e.description.empty()) line(out, "DESCRIPTION:" + text(e.description));
        line(out, "TRANSP:TRANSPARENT");
        line(out, "END:VEVENT");
    }
    line(out, "END:VCALENDAR");
    return out;
}

}  // namespace pulse::formats
