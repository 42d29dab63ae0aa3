#pragma once

#include "storage/PgConnection.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pulse::storage {

// One row of a statement's result, read by column name: the storage objects fill their structs field by
// field from the names their statements give the columns, never from positions. A name the statement does
// not return, or NULL where a value is required, is a bug in the store: std::logic_error.
class ResultRow {
  public:
    ResultRow(const PgRows& result, size_t row) : result_(result), row_(row) {}

    const std::optional<std::string>& optionalText(std::string_view column) const;
    const std::string& text(std::string_view column) const;
    std::optional<long long> optionalInteger(std::string_view column) const;
    long long integer(std::string_view column) const;
    // An integer column the schema bounds to int (counts, seconds, attempts, status codes).
    std::optional<int> optionalInt32(std::string_view column) const;
    int int32(std::string_view column) const;
    std::optional<double> optionalNumber(std::string_view column) const;  // double precision (sqlNumber)
    double number(std::string_view column) const;
    bool flag(std::string_view column) const;  // a boolean: "t" or "true"

  private:
    const PgRows& result_;
    size_t row_;
};

// Every row of a result as the store's struct: rowsOf(rows, siteOf) where siteOf(const ResultRow&) ->
// SiteRow.
template <class FromRow>
auto rowsOf(const PgRows& result, FromRow fromRow) {
    std::vector<decltype(fromRow(std::declval<const ResultRow&>()))> out;
    out.reserve(result.rows.size());
    for (size_t i = 0; i < result.rows.size(); ++i) out.push_back(fromRow(ResultRow(result, i)));
    return out;
}

// The first row as the store's struct, or nothing when the statement found none.
template <class FromRow>
auto firstOf(const PgRows& result, FromRow fromRow)
    -> std::optional<decltype(fromRow(std::declval<const ResultRow&>()))> {
    if (result.rows.empty()) return std::nullopt;
    return fromRow(ResultRow(result, 0));
}

}  // namespace pulse::storage
