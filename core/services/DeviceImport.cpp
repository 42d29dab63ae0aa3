#include "services/DeviceImport.h"

#include "formats/Csv.h"

#include <Poco/String.h>

#include <map>

namespace pulse::services {

ImportPlan planDeviceImport(std::string_view csv, size_t maxRows) {
    ImportPlan plan;
    std::vector<formats::CsvRecord> records;
    try {
        records = formats::parseCsv(csv, maxRows + 1, 16);
    } catch (const formats::CsvError& e) {
        std::string message = e.what();
        // The reader counts the header as a record; people count devices.
        if (message.rfind("more than " + std::to_string(maxRows + 1) + " records", 0) == 0)
            message = "more than " + std::to_string(maxRows) + " devices: split the file";
        plan.problems.push_back({e.line, "", message});
        return plan;
    }
    if (records.empty()) {
        plan.problems.push_back(
            {1, "", "the file is empty: the first line names the columns (name,tags,site)"});
        return plan;
    }
    // The header: known columns once each.
    std::map<std::string, size_t> column;
    const auto& header = records.front();
    for (size_t i = 0; i < header.fields.size(); ++i) {
        std::string name = Poco::toLower(Poco::trim(header.fields[i]));
        if (name != "name" && name != "tags" && name != "site")
            plan.problems.push_back(
                {header.line, name.substr(0, 64),
                 "unknown column '" + name.substr(0, 64) + "' (known: name, tags, site)"});
        else if (!column.emplace(name, i).second)
            plan.problems.push_back({header.line, name, "the column '" + name + "' is named twice"});
    }
    if (!column.count("name"))
        plan.problems.push_back({header.line, "name", "the header has no 'name' column"});
    if (!plan.problems.empty()) return plan;
    if (records.size() == 1) {
        plan.problems.push_back({header.line, "", "the file names no devices"});
        return plan;
    }

    std::map<std::string, size_t> firstLine;
    for (size_t r = 1; r < records.size(); ++r) {
        const auto& rec = records[r];
        if (rec.fields.size() != header.fields.size()) {
            plan.problems.push_back({rec.line, "",
                                     "the line has " + std::to_string(rec.fields.size()) +
                                         " fields, the header " + std::to_string(header.fields.size())});
            continue;
        }
        auto cell = [&](const char* name) {
            auto it = column.find(name);
            return it == column.end() ? std::string() : Poco::trim(rec.fields[it->second]);
        };
        ImportRow row;
        row.line = rec.line;
        row.device.name = cell("name");
        std::string tags = cell("tags");
        for (size_t start = 0; start <= tags.size() && !tags.empty();) {
            size_t semi = tags.find(';', start);
            std::string tag =
                Poco::trim(tags.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
            if (!tag.empty()) row.device.tags.push_back(tag);
            if (semi == std::string::npos) break;
            start = semi + 1;
        }
        row.site = cell("site");
        std::string field, problem = deviceSpecProblem(row.device, field);
        if (!problem.empty()) {
            plan.problems.push_back({rec.line, field, problem});
            continue;
        }
        if (row.site.size() > 200) {
            plan.problems.push_back({rec.line, "site", "site must be a site's name or id"});
            continue;
        }
        auto [it, fresh] = firstLine.emplace(row.device.name, rec.line);
        if (!fresh) {
            plan.problems.push_back(
                {rec.line, "name",
                 "the name '" + row.device.name + "' is also on line " + std::to_string(it->second)});
            continue;
        }
        plan.rows.push_back(std::move(row));
    }
    return plan;
}

}  // namespace pulse::services
