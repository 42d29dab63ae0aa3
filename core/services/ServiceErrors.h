#pragma once

#include <stdexcept>

namespace pulse::services {

// Invalid requests that callers answer apart from the rest (std::invalid_argument, a 422): what is not
// there for the caller's tenant (404), and what is taken already (409).
class NotFound : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

class Conflict : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

// A subscription limit would be passed (the tenant's device limit): 409 with the limit in the message.
class LimitExceeded : public Conflict {
  public:
    using Conflict::Conflict;
};

}  // namespace pulse::services
