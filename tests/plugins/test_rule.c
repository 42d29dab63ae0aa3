/* A minimal rule in plain C99 (fires when a reading exceeds 1, clears at or below it), built against the
 * frozen ABI 1.3 header (see CMakeLists.txt): its pulse_rule_ops ends before 1.4's save and restore, so a
 * 1.4 host must load it, evaluate it, and keep no state for it. */
#include <pulse/plugin.h>

#include <stdlib.h>

typedef struct instance {
    int firing;
} instance;

static pulse_result create(const pulse_host_api* api, pulse_host* host, const char* config, size_t len,
                           void** out, char* err, size_t cap) {
    (void)api;
    (void)host;
    (void)config;
    (void)len;
    (void)err;
    (void)cap;
    instance* self = calloc(1, sizeof(instance));
    if (!self) return PULSE_ERR_GENERIC;
    *out = self;
    return PULSE_OK;
}

static void destroy(void* self) {
    free(self);
}

static pulse_result evaluate(void* raw, const pulse_sample* s, pulse_rule_verdict* v) {
    instance* self = raw;
    int above = s->value > 1;
    if (above == self->firing) return PULSE_OK;
    self->firing = above;
    v->transition = above ? PULSE_TRANSITION_FIRING : PULSE_TRANSITION_CLEARED;
    v->tenant = s->tenant;
    v->device = s->device;
    v->observed = s->value;
    v->summary.data = above ? "above 1" : "back at 1";
    v->summary.len = above ? 7 : 9;
    return PULSE_OK;
}

static const pulse_rule_ops ops = {.struct_size = sizeof(pulse_rule_ops), .evaluate = evaluate};

static const pulse_component component = {.struct_size = sizeof(pulse_component),
                                          .kind = PULSE_KIND_RULE,
                                          .type = "frozen13",
                                          .description = "test rule",
                                          .config_schema = "{\"type\": \"object\"}",
                                          .threading = PULSE_THREADING_SERIAL,
                                          .create = create,
                                          .destroy = destroy,
                                          .ops = &ops};

static const pulse_component* const components[] = {&component};

static const pulse_plugin plugin = {.struct_size = sizeof(pulse_plugin),
                                    .abi_major = PULSE_ABI_MAJOR,
                                    .abi_minor = PULSE_ABI_MINOR,
                                    .name = "frozen_v1_3_rule",
                                    .version = "1.0.0",
                                    .description = "test rule",
                                    .license = "Apache-2.0",
                                    .component_count = 1,
                                    .components = components};

PULSE_EXPORT const pulse_plugin* pulse_plugin_entry_v1(uint32_t host_min, uint32_t host_max) {
    (void)host_min;
    (void)host_max;
    return &plugin;
}
