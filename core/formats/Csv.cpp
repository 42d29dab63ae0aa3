#include "formats/Csv.h"

namespace pulse::formats {

std::vector<CsvRecord> parseCsv(std::string_view text, size_t maxRecords, size_t maxFields) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::vector<CsvRecord> records;
    size_t line = 1, i = 0;
    while (i < text.size()) {
        CsvRecord record;
        record.line = line;
        std::string field;
        bool endOfRecord = false;
        while (!endOfRecord) {
            field.clear();
            if (i < text.size() && text[i] == '"') {
                ++i;
                for (;;) {
                    if (i >= text.size()) throw CsvError("a quoted field is not closed", record.line);
                    char c = text[i++];
                    if (c == '"') {
                        if (i < text.size() && text[i] == '"') {
                            field += '"';
                            ++i;
                            continue;
                        }
                        break;
                    }
                    if (c == '\0') throw CsvError("the file holds a NUL byte", line);
                    // Lines are counted as outside quotes: LF, CRLF, or a CR alone.
                    if (c == '\n' || (c == '\r' && (i >= text.size() || text[i] != '\n'))) ++line;
                    field += c;
                }
                if (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
                    throw CsvError("text after a closing quote (a quote inside a field is written \"\")",
                                   line);
            } else {
                while (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
                    if (text[i] == '"')
                        throw CsvError("a quote inside an unquoted field (quote the whole field)", line);
                    if (text[i] == '\0') throw CsvError("the file holds a NUL byte", line);
                    field += text[i++];
                }
            }
            if (record.fields.size() == maxFields)
                throw CsvError("more than " + std::to_string(maxFields) + " fields in a record", record.line);
            record.fields.push_back(field);
            if (i >= text.size()) {
                endOfRecord = true;
            } else if (text[i] == ',') {
                ++i;
                if (i >= text.size()) {  // "a," at the very end: one more, empty, field
                    if (record.fields.size() == maxFields)
                        throw CsvError("more than " + std::to_string(maxFields) + " fields in a record",
                                       record.line);
                    record.fields.emplace_back();
                    endOfRecord = true;
                }
            } else {
                if (text[i] == '\r') ++i;
                if (i < text.size() && text[i] == '\n') ++i;
                ++line;
                endOfRecord = true;
            }
        }
        bool blank = record.fields.size() == 1 && record.fields[0].empty();
        if (blank) continue;
        if (records.size() == maxRecords)
            throw CsvError("more than " + std::to_string(maxRecords) + " records", record.line);
        records.push_back(std::move(record));
    }
    return records;
}

std::string csvField(std::string_view value) {
    std::string v(value);
    if (!v.empty() &&
        (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r'))
        v.insert(v.begin(), '\'');
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace pulse::formats
