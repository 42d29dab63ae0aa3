#include "services/HealthService.h"

#include <exception>

namespace pulse::services {

void HealthService::add(const std::string& name, Check check) {
    std::lock_guard lock(mutex_);
    checks_.emplace_back(name, std::move(check));
}

HealthService::Result HealthService::run() const {
    std::vector<std::pair<std::string, Check>> checks;
    {
        std::lock_guard lock(mutex_);
        checks = checks_;
    }
    Result r;
    for (const auto& [name, check] : checks) {
        std::optional<std::string> problem;
        try {
            problem = check();
        } catch (const std::exception& e) {
            problem = e.what();
        }
        r.checks[name] = problem ? "error: " + *problem : "ok";
        if (problem) r.healthy = false;
    }
    return r;
}

}  // namespace pulse::services
