/* rule_flatline: a rule plugin in plain C99 against the installed Pulse SDK.
 *
 * Fires when a device reports the same value of a metric `samples` times in a row: a stuck sensor still
 * sends data, so a heartbeat rule does not see it. Clears on the first different value. Config:
 *   {"metric": "temperature", "samples": 10, "tolerance": 0.0}
 * The host validates the config against the schema below and fills in defaults; the plugin reads it
 * through the host API, so it needs no JSON parser of its own. */
#include <pulse/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY 160

typedef struct device_state {
    char key[MAX_KEY]; /* tenant/device */
    double last;
    unsigned repeats;
    int firing;
    struct device_state* next;
} device_state;

typedef struct flatline {
    const pulse_host_api* api;
    pulse_host* host;
    char metric[128];
    unsigned samples;
    double tolerance;
    device_state* buckets[256];
    char summary[256]; /* verdict text: valid until the next call on this instance */
} flatline;

#define FLATLINE_SCHEMA                                                                              \
    "{\"type\": \"object\","                                                                         \
    " \"properties\": {"                                                                             \
    "   \"metric\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 127},"                   \
    "   \"samples\": {\"type\": \"integer\", \"minimum\": 2, \"maximum\": 100000, \"default\": 10}," \
    "   \"tolerance\": {\"type\": \"number\", \"minimum\": 0, \"default\": 0}"                       \
    " },"                                                                                            \
    " \"required\": [\"metric\"],"                                                                   \
    " \"additionalProperties\": false,"                                                              \
    " \"examples\": [{\"metric\": \"temperature\", \"samples\": 3}]}"

static unsigned hash_key(const char* s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h & 255u;
}

static pulse_result create(const pulse_host_api* api, pulse_host* host, const char* config, size_t len,
                           void** out, char* err, size_t cap) {
    (void)config;
    (void)len;
    flatline* self = calloc(1, sizeof *self);
    double samples = 10;
    size_t metric_len = 0;
    if (!self) {
        snprintf(err, cap, "out of memory");
        return PULSE_ERR_GENERIC;
    }
    self->api = api;
    self->host = host;
    if (api->config_string(host, "/metric", self->metric, sizeof self->metric, &metric_len) != PULSE_OK) {
        snprintf(err, cap, "metric is missing or longer than %zu bytes", sizeof self->metric - 1);
        free(self);
        return PULSE_ERR_CONFIG;
    }
    api->config_number(host, "/samples", &samples);
    api->config_number(host, "/tolerance", &self->tolerance);
    self->samples = (unsigned)samples;
    *out = self;
    return PULSE_OK;
}

static void destroy(void* instance) {
    flatline* self = instance;
    for (int i = 0; i < 256; ++i) {
        device_state* s = self->buckets[i];
        while (s) {
            device_state* next = s->next;
            free(s);
            s = next;
        }
    }
    free(self);
}

static device_state* state_for(flatline* self, const pulse_sample* sample) {
    char key[MAX_KEY];
    int n = snprintf(key, sizeof key, "%.*s/%.*s", (int)sample->tenant.len, sample->tenant.data,
                     (int)sample->device.len, sample->device.data);
    if (n < 0 || (size_t)n >= sizeof key) return NULL;
    unsigned b = hash_key(key);
    for (device_state* s = self->buckets[b]; s; s = s->next)
        if (strcmp(s->key, key) == 0) return s;
    device_state* s = calloc(1, sizeof *s);
    if (!s) return NULL;
    memcpy(s->key, key, (size_t)n + 1);
    s->last = NAN;
    s->next = self->buckets[b];
    self->buckets[b] = s;
    return s;
}

static pulse_result evaluate(void* instance, const pulse_sample* sample, pulse_rule_verdict* verdict) {
    flatline* self = instance;
    verdict->transition = PULSE_TRANSITION_NONE;
    if (sample->metric.len != strlen(self->metric) ||
        memcmp(sample->metric.data, self->metric, sample->metric.len) != 0)
        return PULSE_OK;
    device_state* s = state_for(self, sample);
    if (!s) return PULSE_ERR_GENERIC;
    int same = !isnan(s->last) && fabs(sample->value - s->last) <= self->tolerance;
    s->repeats = same ? s->repeats + 1 : 1;
    s->last = sample->value;
    verdict->tenant = sample->tenant;
    verdict->device = sample->device;
    verdict->observed = sample->value;
    if (!s->firing && s->repeats >= self->samples) {
        s->firing = 1;
        verdict->transition = PULSE_TRANSITION_FIRING;
        snprintf(self->summary, sizeof self->summary, "%s stuck at %g for %u samples", self->metric,
                 sample->value, s->repeats);
    } else if (s->firing && !same) {
        s->firing = 0;
        verdict->transition = PULSE_TRANSITION_CLEARED;
        snprintf(self->summary, sizeof self->summary, "%s changed to %g", self->metric, sample->value);
    } else {
        return PULSE_OK;
    }
    verdict->summary.data = self->summary;
    verdict->summary.len = strlen(self->summary);
    self->api->counter_add(self->host, "flatline_transitions", "Flatline rule transitions", 1);
    return PULSE_OK;
}

/* Designated: members a later ABI adds (1.4's save and restore) stay NULL, and the plugin builds unchanged.
 */
static const pulse_rule_ops ops = {.struct_size = sizeof(pulse_rule_ops), .evaluate = evaluate};

static const pulse_component flatline_component = {sizeof(pulse_component),
                                                   PULSE_KIND_RULE,
                                                   "flatline",
                                                   "Fires when a metric stops changing (stuck sensor)",
                                                   FLATLINE_SCHEMA,
                                                   PULSE_THREADING_SERIAL,
                                                   create,
                                                   NULL,
                                                   NULL,
                                                   destroy,
                                                   &ops};

static const pulse_component* const components[] = {&flatline_component};

static const pulse_plugin plugin = {sizeof(pulse_plugin),
                                    PULSE_ABI_MAJOR,
                                    PULSE_ABI_MINOR,
                                    "rule_flatline",
                                    "0.3.0",
                                    "Example out-of-tree rule: detects stuck sensors",
                                    "Apache-2.0",
                                    1,
                                    components};

PULSE_EXPORT const pulse_plugin* pulse_plugin_entry_v1(uint32_t host_min, uint32_t host_max) {
    (void)host_min;
    (void)host_max;
    return &plugin;
}
