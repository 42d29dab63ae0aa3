#include "http/Router.h"

#include <Poco/URI.h>

#include <algorithm>

namespace pulse::http {

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (j > i) parts.push_back(path.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

void Router::add(const std::string& method, const std::string& pattern, const std::string& name,
                 Handler handler) {
    Route r{method, splitPath(pattern), name, std::move(handler), 0};
    for (const auto& s : r.segments) r.specificity += (s.front() == '{' || s == "*") ? 0 : 1;
    routes_.push_back(std::move(r));
    std::stable_sort(routes_.begin(), routes_.end(),
                     [](const Route& a, const Route& b) { return a.specificity > b.specificity; });
}

bool Router::matchSegments(const Route& r, const std::vector<std::string>& parts,
                           std::map<std::string, std::string>& params) {
    size_t i = 0;
    for (; i < r.segments.size(); ++i) {
        const auto& seg = r.segments[i];
        if (seg == "*") {
            std::string rest;
            for (size_t k = i; k < parts.size(); ++k) rest += (k > i ? "/" : "") + parts[k];
            params["*"] = rest;
            return true;
        }
        if (i >= parts.size()) return false;
        if (seg.front() == '{' && seg.back() == '}') {
            std::string decoded;
            Poco::URI::decode(parts[i], decoded);
            params[seg.substr(1, seg.size() - 2)] = decoded;
        } else if (seg != parts[i]) {
            return false;
        }
    }
    return i == parts.size();
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
    Match m;
    auto parts = splitPath(path);
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (!matchSegments(r, parts, params)) continue;
        bool sameMethod = r.method == method || (method == "HEAD" && r.method == "GET");
        if (sameMethod && !m.handler) {
            m.handler = &r.handler;
            m.name = r.name;
            m.params = std::move(params);
        } else if (!sameMethod && std::find(m.allowedMethods.begin(), m.allowedMethods.end(), r.method) ==
                                      m.allowedMethods.end()) {
            m.allowedMethods.push_back(r.method);
        }
    }
    if (m.handler) m.allowedMethods.clear();
    return m;
}

}  // namespace pulse::http
