#include "storage/SqlText.h"

#include <cstdlib>

namespace pulse::storage {

std::string isoTime(const std::string& column) {
    return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

std::string timeFromMs(const std::string& param) {
    return "(timestamptz 'epoch' + " + param + "::bigint * interval '1 millisecond')";
}

std::optional<std::string> nonEmpty(const std::string& value) {
    return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

double sqlNumber(const std::string& text) {
    return std::strtod(text.c_str(), nullptr);
}

std::string arrayLiteral(const std::vector<long long>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + std::to_string(items[i]);
    return out + "}";
}

std::vector<long long> integerList(const std::string& csv) {
    std::vector<long long> out;
    for (size_t start = 0; start < csv.size();) {
        size_t end = csv.find(',', start);
        if (end == std::string::npos) end = csv.size();
        out.push_back(std::stoll(csv.substr(start, end - start)));
        start = end + 1;
    }
    return out;
}

std::string arrayLiteral(const std::vector<std::string>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        out += i ? ",\"" : "\"";
        for (char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::optional<std::string> integerParam(const std::optional<long long>& value) {
    return value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt;
}

}  // namespace pulse::storage
