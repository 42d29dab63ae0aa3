#pragma once

#include "services/DeviceProvisioning.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pulse::services {

// What is wrong with one line of an import file (line 1 is the header).
struct ImportProblem {
    size_t line = 0;
    std::string field;
    std::string message;
};

struct ImportRow {
    size_t line = 0;
    DeviceSpec device;
    std::string site;  // the site's name or id as written; empty for none
};

struct ImportPlan {
    std::vector<ImportRow> rows;
    std::vector<ImportProblem> problems;  // empty: every row can be imported as far as the file alone says
};

// Reads a device import file: CSV with a header naming the columns, `name` required, `tags` (separated by
// ';') and `site` (a site's name or id) optional, in any order. Every row is checked (name and tag rules,
// names repeated in the file) and every problem reported, not just the first. At most maxRows rows.
// Never throws for bad input: an unreadable file is a problem on the line where reading stopped.
ImportPlan planDeviceImport(std::string_view csv, size_t maxRows);

}  // namespace pulse::services
