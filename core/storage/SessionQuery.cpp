#include "storage/SessionQuery.h"

#include <Poco/Data/RecordSet.h>

namespace pulse::storage {

PgRows executeForRows(Poco::Data::Statement& statement) {
    statement.execute();
    Poco::Data::RecordSet result(statement);
    PgRows out;
    for (size_t c = 0; c < result.columnCount(); ++c) out.columns.push_back(result.columnName(c));
    out.rows.reserve(result.rowCount());
    for (size_t r = 0; r < result.rowCount(); ++r) {
        std::vector<std::optional<std::string>> row;
        for (size_t c = 0; c < result.columnCount(); ++c)
            row.push_back(result.isNull(c, r) ? std::nullopt
                                              : std::optional<std::string>(result.value(c, r).toString()));
        out.rows.push_back(std::move(row));
    }
    return out;
}

}  // namespace pulse::storage
