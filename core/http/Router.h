#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pulse::http {

// One request being served, with the path parameters its route captured.
struct Exchange {
    Poco::Net::HTTPServerRequest& request;
    Poco::Net::HTTPServerResponse& response;
    std::string path;  // without the query string
    std::map<std::string, std::string> params;
};

using Handler = std::function<void(Exchange&)>;

// Routes by method and path. A pattern is a list of segments: literals, {name} captures, and a final
// "*" that matches the rest of the path (captured as params["*"]). Literal routes win over captures.
class Router {
  public:
    void add(const std::string& method, const std::string& pattern, const std::string& name, Handler handler);

    struct Match {
        const Handler* handler = nullptr;
        std::string name;  // the route's name, a bounded label for metrics
        std::map<std::string, std::string> params;
        std::vector<std::string> allowedMethods;  // filled when the path matches but the method does not
    };
    Match match(const std::string& method, const std::string& path) const;

  private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;
        std::string name;
        Handler handler;
        int specificity;  // more literal segments first
    };
    static bool matchSegments(const Route& r, const std::vector<std::string>& parts,
                              std::map<std::string, std::string>& params);
    std::vector<Route> routes_;
};

std::vector<std::string> splitPath(const std::string& path);

}  // namespace pulse::http
