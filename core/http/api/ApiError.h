#pragma once

#include <stdexcept>
#include <string>

namespace pulse::http {

// A handler's way out with a problem document: status, title, detail (and the field at fault, if any).
class ApiError : public std::runtime_error {
  public:
    ApiError(int status, std::string title, const std::string& detail, std::string field = "")
        : std::runtime_error(detail), status(status), title(std::move(title)), field(std::move(field)) {}
    int status;
    std::string title;
    std::string field;
};

}  // namespace pulse::http
