#include "http/PluginRoutes.h"

#include "http/Problem.h"
#include "http/RequestBody.h"

#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include <istream>

namespace pulse::http {
namespace {

struct RequestData {
    Exchange* ex;
    std::string lastHeader, lastParam;  // the views returned by header()/param() point here
};

struct ResponseData {
    bool set = false;
    int32_t status = 500;
    std::string contentType, body;
    uint32_t retryAfter = 0;
};

const char* headerOf(const pulse_http_request* r, const char* name) {
    auto* d = static_cast<RequestData*>(const_cast<void*>(r->host_data));
    if (!name || !d->ex->request.has(name)) return nullptr;
    d->lastHeader = d->ex->request.get(name);
    return d->lastHeader.c_str();
}

const char* paramOf(const pulse_http_request* r, const char* name) {
    auto* d = static_cast<RequestData*>(const_cast<void*>(r->host_data));
    auto it = name ? d->ex->params.find(name) : d->ex->params.end();
    if (it == d->ex->params.end()) return nullptr;
    d->lastParam = it->second;
    return d->lastParam.c_str();
}

void respond(const pulse_http_response* res, int32_t status, const char* contentType, const char* body,
             size_t len, uint32_t retryAfter) {
    auto* d = static_cast<ResponseData*>(const_cast<void*>(res->host_data));
    d->set = true;
    d->status = status >= 200 && status <= 599 ? status : 500;  // 1xx are interim answers, not a plugin's
    d->contentType = contentType ? contentType : "application/octet-stream";
    d->body.assign(body ? body : "", body ? len : 0);
    d->retryAfter = retryAfter;
}

}  // namespace

pulse_result PluginRoutes::add(const std::string& method, const std::string& pattern,
                               plugins::PluginHttpHandler handler) {
    if (method.empty() || pattern.empty() || pattern[0] != '/' || pattern.find("//") != std::string::npos)
        return PULSE_ERR_INVALID;
    std::string upper = Poco::toUpper(method);
    {
        std::lock_guard lock(mutex_);
        if (!taken_.insert(upper + " " + pattern).second) return PULSE_ERR_CONFIG;
    }
    long long maxBody = maxBodyBytes_;
    router_->add(upper, pattern, "plugin:" + pattern, [handler = std::move(handler), maxBody](Exchange& ex) {
        std::string body;
        if (ex.request.hasContentLength() || ex.request.getChunkedTransferEncoding()) {
            auto read = readRequestBody(ex.request, ex.response, maxBody, body);
            if (read != BodyRead::Complete) {
                if (read == BodyRead::TooLarge)
                    return sendProblem(
                        ex.response, 413, "Content Too Large",
                        "the body is larger than the limit of " + std::to_string(maxBody) + " bytes",
                        ex.path);
                return sendProblem(ex.response, 400, "Bad Request",
                                   "the body ended before its announced length or could not be read",
                                   ex.path);
            }
        }
        std::string remote = ex.request.clientAddress().toString();
        RequestData rd{&ex, "", ""};
        pulse_http_request req{sizeof(pulse_http_request),
                               {ex.request.getMethod().data(), ex.request.getMethod().size()},
                               {ex.path.data(), ex.path.size()},
                               {body.data(), body.size()},
                               {remote.data(), remote.size()},
                               &rd,
                               &headerOf,
                               &paramOf};
        ResponseData out;
        pulse_http_response res{sizeof(pulse_http_response), &out, &respond};
        handler(req, res);
        if (!out.set)
            return sendProblem(ex.response, 500, "Internal Server Error", "the plugin gave no answer",
                               ex.path);
        if (out.retryAfter) ex.response.set("Retry-After", std::to_string(out.retryAfter));
        ex.response.setContentType(out.contentType);
        sendJson(ex.response, out.status, out.body);
    });
    return PULSE_OK;
}

}  // namespace pulse::http
