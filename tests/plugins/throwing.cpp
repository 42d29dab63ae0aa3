// A C++ plugin written without the SDK wrapper whose callbacks let exceptions escape: the host must
// contain them (refuse the instance, fail the one delivery) and keep serving.
#include <pulse/plugin.h>

#include <stdexcept>
#include <string>

namespace {

int g_instance;

pulse_result create(const pulse_host_api*, pulse_host*, const char* config, size_t len, void** out, char*,
                    size_t) {
    if (std::string(config, len).find("\"throw_in_create\":true") != std::string::npos)
        throw std::runtime_error("create exploded");
    *out = &g_instance;
    return PULSE_OK;
}

void destroy(void*) {}

pulse_result deliver(void*, const pulse_delivery* d, pulse_delivery_result*) {
    if (std::string(d->payload_json.data, d->payload_json.len) == "boom")
        throw std::logic_error("deliver exploded");
    return PULSE_OK;
}

const pulse_sender_ops ops = {sizeof(pulse_sender_ops), deliver};
const pulse_component component = {sizeof(pulse_component),
                                   PULSE_KIND_SENDER,
                                   "throwing",
                                   "throws from its callbacks",
                                   R"({"type":"object","properties":{"throw_in_create":{"type":"boolean"}}})",
                                   PULSE_THREADING_SERIAL,
                                   create,
                                   nullptr,
                                   nullptr,
                                   destroy,
                                   &ops};
const pulse_component* const components[] = {&component};
const pulse_plugin plugin = {
    sizeof(pulse_plugin), PULSE_ABI_MAJOR, PULSE_ABI_MINOR, "throwing", "1.0.0", "", "", 1, components};

}  // namespace

extern "C" PULSE_EXPORT const pulse_plugin* pulse_plugin_entry_v1(uint32_t, uint32_t) {
    return &plugin;
}
