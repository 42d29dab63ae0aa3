#include "storage/ResultRow.h"

#include "storage/SqlText.h"

#include <stdexcept>

namespace pulse::storage {

const std::optional<std::string>& ResultRow::optionalText(std::string_view column) const {
    for (size_t c = 0; c < result_.columns.size(); ++c)
        if (result_.columns[c] == column) return result_.rows.at(row_).at(c);
    throw std::logic_error("the statement returns no column " + std::string(column));
}

const std::string& ResultRow::text(std::string_view column) const {
    const auto& value = optionalText(column);
    if (!value) throw std::logic_error("column " + std::string(column) + " is NULL");
    return *value;
}

std::optional<long long> ResultRow::optionalInteger(std::string_view column) const {
    const auto& value = optionalText(column);
    return value ? std::optional<long long>(std::stoll(*value)) : std::nullopt;
}

long long ResultRow::integer(std::string_view column) const {
    return std::stoll(text(column));
}

std::optional<int> ResultRow::optionalInt32(std::string_view column) const {
    auto value = optionalInteger(column);
    return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
}

int ResultRow::int32(std::string_view column) const {
    return static_cast<int>(integer(column));
}

std::optional<double> ResultRow::optionalNumber(std::string_view column) const {
    const auto& value = optionalText(column);
    return value ? std::optional<double>(sqlNumber(*value)) : std::nullopt;
}

double ResultRow::number(std::string_view column) const {
    return sqlNumber(text(column));
}

bool ResultRow::flag(std::string_view column) const {
    const std::string& value = text(column);
    return value == "t" || value == "true";
}

}  // namespace pulse::storage
