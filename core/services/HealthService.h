#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pulse::services {

// Named readiness checks (database, ingest channels). A check returns nothing when healthy, or the
// reason it is not.
class HealthService {
  public:
    using Check = std::function<std::optional<std::string>()>;

    void add(const std::string& name, Check check);

    struct Result {
        bool healthy = true;
        std::map<std::string, std::string> checks;  // name -> "ok" or "error: ..."
    };
    Result run() const;

  private:
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, Check>> checks_;
};

}  // namespace pulse::services
