#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::formats {

// A CSV document that cannot be read, with the line where reading stopped (1-based).
class CsvError : public std::runtime_error {
  public:
    CsvError(const std::string& message, size_t line) : std::runtime_error(message), line(line) {}
    size_t line;
};

struct CsvRecord {
    size_t line = 0;  // where the record starts (quoted fields may span lines)
    std::vector<std::string> fields;
};

// RFC 4180: fields separated by commas, optionally quoted with "..." ("" is a quote inside); records end
// with CRLF or LF; a UTF-8 byte order mark is skipped; empty lines are skipped. Throws CsvError for an
// unterminated quote, text after a closing quote, a NUL byte, or more than maxRecords records or
// maxFields fields in one record.
std::vector<CsvRecord> parseCsv(std::string_view text, size_t maxRecords, size_t maxFields = 64);

// A value written as one CSV field: quoted when it holds a comma, quote or line break; a value a
// spreadsheet would run as a formula (starting with = + - @, tab or CR) is prefixed with ' (CSV injection).
std::string csvField(std::string_view value);

}  // namespace pulse::formats
