#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace pulse::storage {

// One page of a list read with LIMIT limit + 1: at most `limit` rows, and whether more follow (the API then
// hands out the last row's key as the next cursor).
template <typename Row>
struct Page {
    std::vector<Row> rows;
    bool more = false;
};

// The page in rows read with LIMIT limit + 1.
template <typename Row>
Page<Row> pageOf(std::vector<Row> rows, int limit) {
    Page<Row> page;
    page.more = rows.size() > static_cast<std::size_t>(limit);
    if (page.more) rows.resize(static_cast<std::size_t>(limit));
    page.rows = std::move(rows);
    return page;
}

}  // namespace pulse::storage
