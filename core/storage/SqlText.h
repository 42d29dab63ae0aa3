#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pulse::storage {

// Pieces of SQL text and parameters that the storage objects share.

// A SQL expression formatting a timestamptz column as RFC 3339 UTC (NULL stays NULL).
std::string isoTime(const std::string& column);
// A SQL expression for the timestamptz that a bigint parameter ($n) of milliseconds since 1970 names
// (integer arithmetic: exact to the millisecond, unlike to_timestamp's double).
std::string timeFromMs(const std::string& param);
// A filter value as an optional SQL parameter: nullopt (NULL, "no filter") when it is empty.
std::optional<std::string> nonEmpty(const std::string& value);
// A double precision column's text as a number; never throws (subnormal values, which std::stod refuses,
// are stored by ingest like any other finite value).
double sqlNumber(const std::string& text);
// A text[] (or uuid[]) parameter in PostgreSQL's array syntax, every element quoted, so that commas, braces
// and quotes stay part of the text.
std::string arrayLiteral(const std::vector<std::string>& items);
// An integer[] (or bigint[]) parameter in PostgreSQL's array syntax.
std::string arrayLiteral(const std::vector<long long>& items);
// The integers of an array_to_string(column, ',') result ("" for an empty or NULL array).
std::vector<long long> integerList(const std::string& csv);
// An optional integer as a parameter: NULL when there is none.
std::optional<std::string> integerParam(const std::optional<long long>& value);

}  // namespace pulse::storage
