#pragma once

#include "http/Router.h"

#include <string>

namespace pulse::http {

// Serves the web UI from dir at /. Browser navigation to an unknown path gets index.html (client-side
// routing); anything else unknown, and every /api/ path, gets a JSON 404.
void addStaticFiles(Router& router, const std::string& dir);

}  // namespace pulse::http
