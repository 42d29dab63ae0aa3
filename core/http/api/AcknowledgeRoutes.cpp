// /api/v1/acknowledge/{token}: the link in an opening's or a page's message (e-mail, Slack, Teams) that
// acknowledges the alert without signing in. GET shows the alert and a button, so that link previewers and
// mail scanners, which fetch links, acknowledge nothing; POST acknowledges, once, as the person the link was
// sent to (or the channel it was posted in), audited as them. The token is signed and expires
// (services/AcknowledgeLinks); its single use is the delivery's (sql/014).
#include "http/api/Api.h"
#include "services/AcknowledgeLinks.h"
#include "services/AlertService.h"
#include "services/IdentityService.h"
#include "services/LinkSigner.h"
#include "storage/AcknowledgeLinkStore.h"

#include <pulse/notice.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/String.h>

namespace pulse::http {
namespace {

// A page of its own (the console is not needed to answer a link): no script, no framing, no referrer (the
// token is in the URL), not cached.
void sendPage(Call& call, int status, const std::string& title, const std::string& bodyHtml) {
    std::string html =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width, initial-scale=1\"><title>" +
        notice::html_escape(title) +
        " - Pulse</title><style>body{font:16px system-ui,sans-serif;max-width:36em;margin:3em "
        "auto;padding:0 1em;color:#1b1f24}button{font:inherit;padding:.6em 1.4em;background:#1565c0;"
        "color:#fff;border:0;border-radius:4px;cursor:pointer}dt{color:#57606a}</style></head><body><h1>" +
        notice::html_escape(title) + "</h1>" + bodyHtml + "</body></html>";
    auto& r = call.ex.response;
    r.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    r.setContentType("text/html; charset=utf-8");
    r.set("Content-Security-Policy",
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
          "frame-ancestors 'none'; base-uri 'none'");
    r.set("Referrer-Policy", "no-referrer");
    r.set("Cache-Control", "no-store");
    r.setContentLength(static_cast<std::streamsize>(html.size()));
    r.send() << html;
}

bool wantsHtml(Call& call) {
    return call.ex.request.get("Accept", "").find("text/html") != std::string::npos;
}

// The claim of a valid, unexpired token: 404 for anything this server did not sign, 410 once expired.
services::AcknowledgeClaim claimOf(Call& call) {
    auto it = call.ex.params.find("token");
    const auto* links = call.api.services().links;
    auto claim = links && it != call.ex.params.end() ? services::readAcknowledgeToken(*links, it->second)
                                                     : std::nullopt;
    if (!claim) throw ApiError(404, "Not Found", "no such acknowledge link");
    if (claim->expiresMs <= nowMs())
        throw ApiError(410, "Gone", "the acknowledge link has expired: sign in to acknowledge");
    return *claim;
}

std::string describeAlert(const storage::AcknowledgeLinkView& v) {
    return "<dl><dt>Alert</dt><dd>" + std::to_string(v.alertId) + " (" + notice::html_escape(v.severity) +
           ", " + notice::html_escape(v.status) + ")</dd><dt>Rule</dt><dd>" +
           notice::html_escape(v.ruleName) + "</dd><dt>Device</dt><dd>" + notice::html_escape(v.deviceName) +
           "</dd><dt>Summary</dt><dd>" + notice::html_escape(v.summary) + "</dd></dl>";
}

}  // namespace

void addAcknowledgeRoutes(Router& router, Api& api) {
    api.route(
        router, "GET", "/api/v1/acknowledge/{token}", "api.acknowledge.show", Access::Public, [](Call& call) {
            services::AcknowledgeClaim claim;
            try {
                claim = claimOf(call);
            } catch (const ApiError& e) {
                return sendPage(call, e.status, e.status == 410 ? "Link expired" : "No such link",
                                "<p>" + notice::html_escape(e.what()) + "</p>");
            }
            auto view = storage::AcknowledgeLinkStore(*call.api.services().pool)
                            .view(claim.tenantId, claim.deliveryId, claim.alertId);
            if (!view) return sendPage(call, 404, "No such link", "<p>no such acknowledge link</p>");
            if (view->used)
                return sendPage(call, 410, "Link used",
                                "<p>This link has been used.</p>" + describeAlert(*view));
            if (view->status != "OPEN")
                return sendPage(call, 200, "Already " + Poco::toLower(view->status),
                                "<p>Nothing to do: the alert is no longer open.</p>" + describeAlert(*view));
            sendPage(call, 200, "Acknowledge alert " + std::to_string(view->alertId),
                     describeAlert(*view) +
                         "<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>");
        });

    api.route(
        router, "POST", "/api/v1/acknowledge/{token}", "api.acknowledge.use", Access::Public, [](Call& call) {
            bool html = wantsHtml(call);
            services::AcknowledgeClaim claim;
            try {
                claim = claimOf(call);
            } catch (const ApiError& e) {
                if (!html) throw;
                return sendPage(call, e.status, e.status == 410 ? "Link expired" : "No such link",
                                "<p>" + notice::html_escape(e.what()) + "</p>");
            }
            if (!call.api.services().alerts)
                throw ApiError(503, "Service Unavailable", "alerting is not running on this instance");
            auto use = storage::AcknowledgeLinkStore(*call.api.services().pool)
                           .consume(claim.tenantId, claim.deliveryId, claim.alertId, claim.userId);
            using R = storage::AcknowledgeLinkUse::Result;
            if (use.result != R::Consumed) {
                std::string why = use.result == R::AlreadyUsed ? "the acknowledge link has been used"
                                                               : "no such acknowledge link";
                int status = use.result == R::AlreadyUsed ? 410 : 404;
                if (html)
                    return sendPage(call, status, use.result == R::AlreadyUsed ? "Link used" : "No such link",
                                    "<p>" + notice::html_escape(why) + "</p>");
                throw ApiError(status, status == 410 ? "Gone" : "Not Found", why);
            }
            // Audited as the person (or channel) the link was sent to.
            services::Principal as;
            as.id = use.actorId;
            as.tenantId = claim.tenantId;
            as.role = use.actorRole;
            as.label = use.actorLabel;
            call.principal = as;
            call.tenantId = claim.tenantId;
            bool done =
                call.api.services().alerts->acknowledge(claim.tenantId, claim.alertId, use.actorLabel);
            call.audit(
                "alert.acknowledge", std::to_string(claim.alertId), done ? "ok" : "failed",
                "{\"via\":\"acknowledge_link\",\"delivery_id\":" + std::to_string(claim.deliveryId) + "}");
            if (html)
                return sendPage(call, done ? 200 : 409, done ? "Acknowledged" : "Not acknowledged",
                                done ? "<p>Alert " + std::to_string(claim.alertId) + " is acknowledged as " +
                                           notice::html_escape(use.actorLabel) +
                                           ". Escalation has stopped.</p>"
                                     : "<p>The alert is no longer open.</p>");
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("alert_id", claim.alertId);
            o->set("acknowledged", done);
            o->set("acknowledged_by", use.actorLabel);
            sendObject(call.ex, done ? 200 : 409, o);
        });
}

}  // namespace pulse::http
