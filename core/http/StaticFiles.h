#pragma once

#include "http/Router.h"

#include <string>
#include <vector>

namespace pulse::http {

// Serves the web UI from dir at /. Browser navigation to an unknown path gets index.html (client-side
// routing); anything else unknown, and every /api/ path, gets a JSON 404.
// `connectOrigins`: origins besides 'self' the console's pages may fetch from (the OIDC issuer's token
// endpoint): added to the CSP's connect-src of the documents served, nothing else is loosened.
void addStaticFiles(Router& router, const std::string& dir,
                    const std::vector<std::string>& connectOrigins = {});

}  // namespace pulse::http
