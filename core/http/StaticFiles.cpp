#include "http/StaticFiles.h"

#include "http/Problem.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <map>

namespace pulse::http {
namespace {

std::string contentType(const std::string& path) {
    static const std::map<std::string, std::string> types = {{"html", "text/html; charset=utf-8"},
                                                             {"js", "text/javascript; charset=utf-8"},
                                                             {"css", "text/css; charset=utf-8"},
                                                             {"json", "application/json"},
                                                             {"svg", "image/svg+xml"},
                                                             {"png", "image/png"},
                                                             {"ico", "image/x-icon"},
                                                             {"woff2", "font/woff2"},
                                                             {"map", "application/json"},
                                                             {"txt", "text/plain; charset=utf-8"}};
    auto it = types.find(Poco::Path(path).getExtension());
    return it == types.end() ? "application/octet-stream" : it->second;
}

}  // namespace

void addStaticFiles(Router& router, const std::string& dir, const std::vector<std::string>& connectOrigins) {
    std::string csp;
    if (!connectOrigins.empty()) {
        csp = std::string(kContentSecurityPolicy) + "; connect-src 'self'";
        for (const auto& origin : connectOrigins) csp += " " + origin;
    }
    router.add("GET", "/*", "static", [dir, csp](Exchange& ex) {
        std::string rest = ex.params["*"];
        bool api = rest == "api" || rest.rfind("api/", 0) == 0;
        bool traversal = rest.find("..") != std::string::npos || rest.find('\\') != std::string::npos;
        if (api || traversal)
            return sendProblem(ex.response, 404, "Not Found", "no resource at " + ex.path, ex.path);
        Poco::Path file(Poco::Path::forDirectory(dir));
        file.append(rest.empty() ? "index.html" : rest);
        Poco::File f(file);
        if (!f.exists() || !f.isFile()) {
            bool navigation = ex.request.get("Accept", "").find("text/html") != std::string::npos;
            Poco::File index(Poco::Path(Poco::Path::forDirectory(dir)).append("index.html"));
            if (!navigation || !index.exists())
                return sendProblem(ex.response, 404, "Not Found", "no resource at " + ex.path, ex.path);
            file = index.path();
        }
        if (!csp.empty()) ex.response.set("Content-Security-Policy", csp);
        ex.response.set("Cache-Control",
                        rest.rfind("assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
        ex.response.sendFile(file.toString(), contentType(file.toString()));
    });
}

}  // namespace pulse::http
