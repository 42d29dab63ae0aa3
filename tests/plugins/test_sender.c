/* A minimal sender in plain C99, built in several deliberately broken variants (see CMakeLists.txt):
 * BROKEN_NO_ENTRY, BROKEN_NULL_DESCRIPTOR, BROKEN_NEWER_MINOR, BROKEN_MAJOR, BROKEN_SHORT_STRUCT,
 * BROKEN_DUPLICATE_TYPE, BROKEN_SCHEMA. Without any of them it is a valid plugin. PLUGIN_NAME and
 * TYPE_NAME let two copies collide on purpose. */
#include <pulse/plugin.h>

#include <stdio.h>
#include <string.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "test_sender"
#endif
#ifndef TYPE_NAME
#define TYPE_NAME "test"
#endif

typedef struct instance {
    const pulse_host_api* api;
    pulse_host* host;
    unsigned delivered;
} instance;

static instance g_instances[8];
static unsigned g_used;

static pulse_result create(const pulse_host_api* api, pulse_host* host, const char* config, size_t len,
                           void** out, char* err, size_t cap) {
    (void)config;
    (void)len;
    if (g_used >= 8) {
        snprintf(err, cap, "too many instances");
        return PULSE_ERR_GENERIC;
    }
    instance* self = &g_instances[g_used++];
    self->api = api;
    self->host = host;
    self->delivered = 0;
    *out = self;
    return PULSE_OK;
}

static void destroy(void* self) {
    (void)self;
}

static pulse_result deliver(void* inst, const pulse_delivery* d, pulse_delivery_result* r) {
    instance* self = (instance*)inst;
    self->delivered++;
#if PULSE_ABI_MINOR >= 2
    /* With a "url" in its config (ABI 1.2 headers and hosts), the notice is POSTed there through the host. */
    char url[256];
    size_t url_len = 0;
    if (PULSE_HAS_MEMBER(pulse_host_api, self->api, http_send) &&
        self->api->config_string(self->host, "/url", url, sizeof url, &url_len) == PULSE_OK) {
        char body[256];
        char error[256] = {0};
        pulse_http_call call = {sizeof(pulse_http_call), {"POST", 4}, {url, url_len}, NULL, 0,
                                d->payload_json,         2000};
        pulse_http_reply reply = {sizeof(pulse_http_reply), 0, -1, body, sizeof body, 0, error, sizeof error};
        pulse_result rc = self->api->http_send(self->host, &call, &reply);
        r->status_code = reply.status;
        snprintf(r->detail, r->detail_cap, "%s", rc == PULSE_OK ? "sent" : error);
        return rc == PULSE_OK ? PULSE_OK : rc == PULSE_ERR_UNAVAILABLE ? PULSE_RETRY : rc;
    }
#endif
    self->api->log(self->host, PULSE_LOG_INFO, d->idempotency_key.data, d->idempotency_key.len);
    snprintf(r->detail, r->detail_cap, "delivered %u", self->delivered);
    r->status_code = 200;
    return PULSE_OK;
}

static const pulse_sender_ops ops = {sizeof(pulse_sender_ops), deliver};

#ifdef BROKEN_SCHEMA
#define SCHEMA "{\"type\": \"objekt\"}"
#else
#define SCHEMA                                                                                             \
    "{\"type\": \"object\", \"properties\": {\"url\": {\"type\": \"string\"}}, \"additionalProperties\": " \
    "false}"
#endif

static const pulse_component component = {sizeof(pulse_component),
                                          PULSE_KIND_SENDER,
                                          TYPE_NAME,
                                          "test sender",
                                          SCHEMA,
                                          PULSE_THREADING_SERIAL,
                                          create,
                                          NULL,
                                          NULL,
                                          destroy,
                                          &ops};

#ifdef BROKEN_DUPLICATE_TYPE
static const pulse_component* const components[] = {&component, &component};
#else
static const pulse_component* const components[] = {&component};
#endif

#if defined(BROKEN_NEWER_MINOR)
#define MAJOR PULSE_ABI_MAJOR
#define MINOR (PULSE_ABI_MINOR + 1)
#elif defined(BROKEN_MAJOR)
#define MAJOR (PULSE_ABI_MAJOR + 1)
#define MINOR 0
#else
#define MAJOR PULSE_ABI_MAJOR
#define MINOR PULSE_ABI_MINOR
#endif

#ifdef BROKEN_SHORT_STRUCT
#define PLUGIN_SIZE 12 /* a header from some other ABI: only the first three members */
#else
#define PLUGIN_SIZE sizeof(pulse_plugin)
#endif

static const pulse_plugin plugin = {
    PLUGIN_SIZE, MAJOR,         MINOR,        PLUGIN_NAME,
    "1.0.0",     "test plugin", "Apache-2.0", sizeof(components) / sizeof(components[0]),
    components};

#ifdef BROKEN_NO_ENTRY
/* Exports something, but not the entry point of ABI major 1. */
PULSE_EXPORT const pulse_plugin* pulse_plugin_entry_v0(void) {
    return &plugin;
}
#else
PULSE_EXPORT const pulse_plugin* pulse_plugin_entry_v1(uint32_t host_min, uint32_t host_max) {
    (void)host_min;
    (void)host_max;
#ifdef BROKEN_NULL_DESCRIPTOR
    return plugin.name ? NULL : &plugin;
#else
    return &plugin;
#endif
}
#endif
