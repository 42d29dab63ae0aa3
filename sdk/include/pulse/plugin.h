/*
 * pulse/plugin.h: the Pulse plugin ABI, version 1.4.
 *
 * C99, no dependencies beyond <stdint.h> and <stddef.h>. A plugin is a shared library that exports one
 * symbol, pulse_plugin_entry_v1, returning a static descriptor of the components it provides (ingest
 * channels, rule types, notification senders, report generators, device actions). The host creates one
 * instance per configured block and talks to it only through the function tables below.
 *
 * Rules every type in this header follows:
 *  - Every struct starts with `uint32_t struct_size` and only ever grows at the end. The reader copies
 *    min(struct_size, sizeof) into a zeroed struct, and tests members added in later minors with
 *    PULSE_HAS_MEMBER before reading them.
 *  - Results are codes, never exceptions: 0 is success, negative values are errors, positive values are
 *    outcomes (PULSE_RETRY, PULSE_DEFER, PULSE_PENDING). Nothing may unwind across this boundary.
 *  - Whoever allocates frees. Inputs are borrowed for the duration of the call. Pointers a plugin returns
 *    stay valid until its next call on the same instance. Error text goes into a buffer the caller owns.
 *  - Every call carries the instance pointer; a plugin keeps no per-instance state in globals.
 *
 * Versioning: a breaking change gets a new entry symbol (pulse_plugin_entry_v2). A minor version only adds
 * members at the end of structs, or documents a change of behaviour; the host refuses a plugin whose minor
 * is newer than its own. Per-version behaviour is listed at the end of this file.
 */
#ifndef PULSE_PLUGIN_H
#define PULSE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PULSE_ABI_MAJOR 1
#define PULSE_ABI_MINOR 4
/* An ABI version packed into one integer, as passed to the entry point. */
#define PULSE_ABI_VERSION(major, minor) ((((uint32_t)(major)) << 16) | ((uint32_t)(minor)&0xFFFFu))
#define PULSE_ABI_VERSION_MAJOR(v) (((uint32_t)(v)) >> 16)
#define PULSE_ABI_VERSION_MINOR(v) (((uint32_t)(v)) & 0xFFFFu)

#define PULSE_ENTRY_V1_NAME "pulse_plugin_entry_v1"

#if defined(__GNUC__) || defined(__clang__)
#define PULSE_EXPORT __attribute__((visibility("default")))
#else
#define PULSE_EXPORT
#endif

/* True when a struct of the given declared size holds `member` (for members added in later minors). */
#define PULSE_HAS_MEMBER(type, ptr, member) \
    ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

/* ---- result codes ------------------------------------------------------------------------------- */
typedef int32_t pulse_result;
#define PULSE_OK 0
#define PULSE_ERR_GENERIC (-1)     /* failed; the error buffer says why */
#define PULSE_ERR_INVALID (-2)     /* an argument or input document is malformed */
#define PULSE_ERR_CONFIG (-3)      /* the instance configuration is not acceptable */
#define PULSE_ERR_UNSUPPORTED (-4) /* the operation is not provided by this component */
#define PULSE_ERR_UNAVAILABLE (-5) /* a dependency (network peer, device) cannot be reached */
#define PULSE_ERR_INTERNAL (-6)    /* a bug: for example an exception caught at the boundary */
#define PULSE_ERR_DENIED (-7)      /* refused by the host's policy (ABI 1.2: egress to a forbidden address) */
#define PULSE_RETRY 1              /* transient failure: try again later (senders: see retry_after_ms) */
#define PULSE_DEFER 2              /* not now: the host calls again later without counting an attempt */
#define PULSE_PENDING 3            /* accepted; completion is reported asynchronously */

/* ---- enumerations (fixed-width integers, never C enums, so their size cannot change) ------------- */
typedef uint32_t pulse_kind;
#define PULSE_KIND_INGEST 1 /* receives device data from a transport */
#define PULSE_KIND_RULE 2   /* evaluates samples and time into alert transitions */
#define PULSE_KIND_SENDER 3 /* delivers notifications to an outside system */
#define PULSE_KIND_REPORT 4 /* renders a report document */
#define PULSE_KIND_ACTION 5 /* runs a job against a device */

typedef uint32_t pulse_threading;
#define PULSE_THREADING_SERIAL 0     /* the host never calls one instance from two threads at once */
#define PULSE_THREADING_CONCURRENT 1 /* the instance's kind operations may be called concurrently */

typedef int32_t pulse_log_level;
#define PULSE_LOG_TRACE 0
#define PULSE_LOG_DEBUG 1
#define PULSE_LOG_INFO 2
#define PULSE_LOG_WARN 3
#define PULSE_LOG_ERROR 4

/* ---- basic types -------------------------------------------------------------------------------- */

/* A borrowed string view; not NUL-terminated unless stated.
 * OWNERSHIP: borrowed from whoever passes it, valid for the duration of the call.
 * THREADING: plain data. */
typedef struct pulse_str {
    const char* data;
    size_t len;
} pulse_str;

/* A byte sink the host provides (report output, action results).
 * OWNERSHIP: host-owned; the plugin must not keep it after the call that received it returns.
 * THREADING: call write() only on the thread that received the writer. */
typedef struct pulse_writer {
    uint32_t struct_size;
    void* ctx;
    /* Appends len bytes. Returns PULSE_OK, or a negative code when the consumer is gone (stop writing). */
    pulse_result (*write)(void* ctx, const void* data, size_t len);
} pulse_writer;

/* ---- host services ------------------------------------------------------------------------------ */

/* One handle per component instance, identifying it to the host.
 * OWNERSHIP: host-owned; valid from create() until destroy() returns.
 * THREADING: may be passed to any host_api function from any thread. */
typedef struct pulse_host pulse_host;

/* ---- host services for ingest channels (ABI 1.1) ------------------------------------------------ */

typedef uint32_t pulse_identity_kind;
#define PULSE_IDENTITY_TOKEN 1  /* identity is a device token the host must authenticate */
#define PULSE_IDENTITY_DEVICE 2 /* identity is "<tenant>/<device>", authenticated by the transport */

/* One message from a device, as received.
 * OWNERSHIP: caller-owned, borrowed for the call to ingest_submit.
 * THREADING: plain data. */
typedef struct pulse_ingest_message {
    uint32_t struct_size;
    pulse_identity_kind identity_kind;
    pulse_str identity;
    pulse_str payload; /* the JSON document as received */
} pulse_ingest_message;

/* What happened to a submitted message, in HTTP terms so that an HTTP channel can answer with it.
 * status: 200 committed, 202 queued (wait_ms was 0), 400 malformed, 401 unknown or revoked identity,
 * 403 decommissioned device, 413 too many readings, 503 not committed in time or storage unavailable.
 * OWNERSHIP: caller-owned; body points to a caller buffer of body_cap bytes that the host fills with a
 * NUL-terminated JSON document (a result, or an RFC 9457 problem).
 * THREADING: plain data. */
typedef struct pulse_ingest_result {
    uint32_t struct_size;
    int32_t status;
    uint32_t accepted;      /* readings accepted from the message */
    uint32_t retry_after_s; /* with 503: when to try again */
    char* body;
    size_t body_cap;
} pulse_ingest_result;

/* An HTTP request routed to a plugin.
 * OWNERSHIP: host-owned, valid until the handler returns; strings are not NUL-terminated.
 * THREADING: the handler runs on one of the host's HTTP threads, concurrently with other requests. */
typedef struct pulse_http_request {
    uint32_t struct_size;
    pulse_str method;
    pulse_str path;
    pulse_str body;
    pulse_str remote_address;
    const void* host_data;
    /* A request header by name (case-insensitive) or a path parameter ({name} in the route pattern);
     * NULL when absent. OWNERSHIP: host-owned, valid until the handler returns. */
    const char* (*header)(const struct pulse_http_request* request, const char* name);
    const char* (*param)(const struct pulse_http_request* request, const char* name);
} pulse_http_request;

/* Where the handler puts its answer.
 * OWNERSHIP: host-owned, valid until the handler returns; respond() copies its arguments at once.
 * THREADING: use only on the thread that runs the handler. */
typedef struct pulse_http_response {
    uint32_t struct_size;
    const void* host_data;
    /* Sets status, content type, body and (when non-zero) a Retry-After header. The last call wins; a
     * handler that never calls it answers 500. */
    void (*respond)(const struct pulse_http_response* response, int32_t status, const char* content_type,
                    const char* body, size_t body_len, uint32_t retry_after_s);
} pulse_http_response;

/* OWNERSHIP: ctx is plugin-owned and must stay valid until the instance is destroyed.
 * THREADING: called on HTTP threads, concurrently. */
typedef void (*pulse_http_handler_fn)(void* ctx, const pulse_http_request* request,
                                      const pulse_http_response* response);

/* ---- outgoing HTTP through the host (ABI 1.2) ------------------------------------------------------ */

/* One request header. An element of an array, so it carries no struct_size: its layout is frozen.
 * OWNERSHIP: caller-owned, borrowed for the call.
 * THREADING: plain data. */
typedef struct pulse_http_header {
    pulse_str name;
    pulse_str value;
} pulse_http_header;

/* An outgoing HTTP request (http:// or https://).
 * OWNERSHIP: caller-owned, borrowed for the call to http_send.
 * THREADING: plain data. */
typedef struct pulse_http_call {
    uint32_t struct_size;
    pulse_str method; /* "POST", "PUT", "GET" */
    pulse_str url;
    const pulse_http_header* headers;
    size_t header_count;
    pulse_str body;
    int64_t timeout_ms; /* for connect, send and receive together; 0 means the host's default (10 s) */
} pulse_http_call;

/* The answer to an outgoing HTTP request.
 * status: the peer's status code, 0 when no response arrived. retry_after_ms: the peer's Retry-After
 * (seconds or an HTTP date) in milliseconds from now, -1 when absent. body: a caller buffer of body_cap
 * bytes that receives the first body_cap-1 bytes of the response body, NUL-terminated; body_len is the
 * number of bytes stored. error: a caller buffer for a NUL-terminated reason when no response arrived.
 * OWNERSHIP: caller-owned; the host writes into it during the call only.
 * THREADING: plain data. */
typedef struct pulse_http_reply {
    uint32_t struct_size;
    int32_t status;
    int64_t retry_after_ms;
    char* body;
    size_t body_cap;
    size_t body_len;
    char* error;
    size_t error_cap;
} pulse_http_reply;

/* The host's services, passed to create().
 * OWNERSHIP: host-owned, valid until destroy() of the instance returns.
 * THREADING: every function may be called from any thread, including plugin-owned threads. */
typedef struct pulse_host_api {
    uint32_t struct_size;
    uint32_t abi_major; /* the host's ABI version */
    uint32_t abi_minor;
    /* Writes one log line attributed to the plugin instance. message need not be NUL-terminated. */
    void (*log)(pulse_host* host, pulse_log_level level, const char* message, size_t len);
    /* Adds delta (>= 0) to the counter pulse_plugin_<name>_total{plugin,instance}. name: [a-z][a-z0-9_]*,
     * NUL-terminated; help is a NUL-terminated description. Returns PULSE_ERR_INVALID for a bad name. */
    pulse_result (*counter_add)(pulse_host* host, const char* name, const char* help, double delta);
    /* Sets the gauge pulse_plugin_<name>{plugin,instance}. Same naming rules as counter_add. */
    pulse_result (*gauge_set)(pulse_host* host, const char* name, const char* help, double value);
    /* Wall-clock time in milliseconds since the Unix epoch, UTC (the host's clock; tests may shift it). */
    int64_t (*now_ms)(pulse_host* host);
    /* The configured instance name, NUL-terminated. OWNERSHIP: host-owned, valid as long as the handle. */
    const char* (*instance_name)(pulse_host* host);
    /* Read the instance config (validated, with the schema's defaults filled in) by JSON Pointer, e.g.
     * "/threshold" or "/labels/0". Return PULSE_OK, or PULSE_ERR_INVALID when the value is absent or of
     * another type (numbers: integer or number; booleans: *out is 0 or 1). config_string copies at most
     * cap-1 bytes plus a NUL into buf and stores the full length in *len (when len is not NULL); a
     * value longer than cap-1 returns PULSE_ERR_INVALID with *len set, so the caller can retry larger.
     * OWNERSHIP: buf and out are caller-owned. */
    pulse_result (*config_number)(pulse_host* host, const char* pointer, double* out);
    pulse_result (*config_bool)(pulse_host* host, const char* pointer, int* out);
    pulse_result (*config_string)(pulse_host* host, const char* pointer, char* buf, size_t cap, size_t* len);

    /* ---- ABI 1.1 (test with PULSE_HAS_MEMBER(pulse_host_api, api, ingest_submit)) ---- */
    /* Decodes, authenticates and queues one device message. With wait_ms > 0 it returns once the
     * readings are committed to storage (status 200) or after wait_ms (503; they may still commit, and
     * a redelivery is deduplicated); with 0 it returns once they are queued (202). When the host's
     * queue is full it blocks up to wait_ms (at least 1 s with 0) before answering 503: that wait is
     * the backpressure an MQTT channel passes on to its broker. Returns PULSE_OK when the message was
     * processed (see result->status), a negative code for invalid arguments. */
    pulse_result (*ingest_submit)(pulse_host* host, const pulse_ingest_message* message, int64_t wait_ms,
                                  pulse_ingest_result* result);
    /* Mounts handler at method + pattern ("/api/v1/{token}/telemetry"); only during create() or start().
     * Returns PULSE_ERR_INVALID for a malformed pattern, PULSE_ERR_CONFIG when the route is taken. */
    pulse_result (*http_route)(pulse_host* host, const char* method, const char* pattern,
                               pulse_http_handler_fn handler, void* ctx);

    /* ---- ABI 1.2 (test with PULSE_HAS_MEMBER(pulse_host_api, api, http_send)) ---- */
    /* Sends one HTTP request through the host's egress guard: the host resolves the name, refuses
     * loopback, private, link-local, shared and metadata addresses unless an administrator allowed them,
     * connects to the address it checked, and never follows redirects (a 3xx is returned as is).
     * Returns PULSE_OK when a response arrived (whatever its status), PULSE_ERR_DENIED when the guard
     * refused the target, PULSE_ERR_INVALID for a malformed URL or scheme other than http/https,
     * PULSE_ERR_UNAVAILABLE when no response arrived (connect failure, reset, timeout, or a name that does
     * not resolve now: a DNS outage passes, so a sender retries). */
    pulse_result (*http_send)(pulse_host* host, const pulse_http_call* call, pulse_http_reply* reply);

    /* ---- ABI 1.3 (test with PULSE_HAS_MEMBER(pulse_host_api, api, egress_resolve)) ---- */
    /* For senders that dial something other than HTTP (SMTP, SNMP, MQTT): resolves a tenant-chosen host
     * (a DNS name, an IPv4 or IPv6 literal, or [IPv6]; NUL-terminated) and applies http_send's egress guard
     * to every address it resolves to. On PULSE_OK, address receives the numeric address to dial
     * ("203.0.113.7", "2001:db8::7"), NUL-terminated: connect to exactly that address, and present the
     * name as given (TLS server name, certificate check), so no second resolution takes place that DNS
     * rebinding could answer differently. Call it for every attempt: what a name resolves to changes.
     * Returns PULSE_ERR_DENIED when the guard refuses the name (it is, or resolves to, a loopback, private,
     * link-local, shared, metadata or other special-purpose address not on egress.allow: permanent),
     * PULSE_ERR_UNAVAILABLE when it does not resolve now (a DNS outage passes: retry), PULSE_ERR_INVALID
     * for an empty or malformed name or an address buffer under PULSE_ADDRESS_CAP bytes. error (may be
     * NULL) receives the reason, NUL-terminated.
     * OWNERSHIP: address and error are caller-owned. */
    pulse_result (*egress_resolve)(pulse_host* host, const char* name, char* address, size_t address_cap,
                                   char* error, size_t error_cap);
} pulse_host_api;

/* The smallest address buffer egress_resolve accepts: an IPv6 address as text and its NUL. */
#define PULSE_ADDRESS_CAP 46

/* ---- kind: ingest ------------------------------------------------------------------------------- */

/* Operations of an ingest component. An ingest instance does its work on threads it starts in start()
 * and joins in stop().
 * OWNERSHIP: static, plugin-owned, valid while the library is loaded.
 * THREADING: health() may be called from any thread, concurrently with the instance's own threads. */
typedef struct pulse_ingest_ops {
    uint32_t struct_size;
    /* Writes a short NUL-terminated status into buf ("connected", "reconnecting: ..."). Returns PULSE_OK
     * when the channel is healthy, PULSE_ERR_UNAVAILABLE when it is not (readiness then fails). */
    pulse_result (*health)(void* instance, char* buf, size_t buf_cap);
} pulse_ingest_ops;

/* ---- kind: rule --------------------------------------------------------------------------------- */

typedef uint32_t pulse_value_type;
#define PULSE_VALUE_NUMBER 0
#define PULSE_VALUE_BOOL 1 /* value is 0.0 or 1.0 */

/* One reading of one metric of one device.
 * OWNERSHIP: host-owned, borrowed for the call; copy what you keep.
 * THREADING: plain data. */
typedef struct pulse_sample {
    uint32_t struct_size;
    pulse_str tenant;
    pulse_str device;
    pulse_str metric;
    double value;
    pulse_value_type value_type;
    int64_t ts_ms; /* reading time, ms since the epoch, UTC */
} pulse_sample;

typedef uint32_t pulse_transition;
#define PULSE_TRANSITION_NONE 0    /* nothing changed for this device */
#define PULSE_TRANSITION_FIRING 1  /* the condition now holds: open (or update) the alert */
#define PULSE_TRANSITION_CLEARED 2 /* the condition no longer holds: the alert may auto-close */

/* What a rule concluded for one device.
 * OWNERSHIP: the struct is host-owned (zeroed, struct_size set); the strings the plugin points into it
 * are plugin-owned and valid until the next call on the same instance.
 * THREADING: plain data. */
typedef struct pulse_rule_verdict {
    uint32_t struct_size;
    pulse_transition transition;
    pulse_str tenant; /* the device the verdict is about */
    pulse_str device;
    double observed;   /* the value that caused the transition */
    pulse_str summary; /* human-readable, e.g. "temperature 81.2 > 80" */
} pulse_rule_verdict;

/* Receives verdicts produced by tick().
 * OWNERSHIP: ctx is host-owned; the verdict is borrowed for the call.
 * THREADING: called on the thread that called tick(), before tick() returns. */
typedef void (*pulse_rule_emit_fn)(void* ctx, const pulse_rule_verdict* verdict);

/* Operations of a rule component. One instance is one configured rule.
 * OWNERSHIP: static, plugin-owned.
 * THREADING: as declared by the component (serial: never two calls at once on one instance). */
typedef struct pulse_rule_ops {
    uint32_t struct_size;
    /* Evaluates one sample in scope of the rule. Fills verdict (transition NONE when nothing changes). */
    pulse_result (*evaluate)(void* instance, const pulse_sample* sample, pulse_rule_verdict* verdict);
    /* Advances time (hold-for windows, missing heartbeats). May be NULL for purely sample-driven rules. */
    pulse_result (*tick)(void* instance, int64_t now_ms, pulse_rule_emit_fn emit, void* emit_ctx);
    /* ABI 1.2, may be NULL. Tells the rule that a device in its scope exists and when it was last seen
     * (ms since the epoch, 0 when never), so that a rule about silence (no heartbeat) also watches devices
     * that never report again after the host started. Called after start() for every device in scope,
     * and again when a device joins the scope. */
    pulse_result (*track)(void* instance, pulse_str tenant, pulse_str device, int64_t last_seen_ms);
    /* ---- ABI 1.4 (test with PULSE_HAS_MEMBER(pulse_rule_ops, ops, restore)); both may be NULL ---- */
    /* Writes what the rule holds about one device that a restart must not lose (a hold-for in progress,
     * a condition firing) as a JSON text through out, or nothing when the device is idle (nothing to keep).
     * At most 4096 bytes. The host calls it for devices the rule just evaluated or ticked, stores the text
     * in PostgreSQL, and hands it to restore() of this rule in a new instance after a restart, and to the
     * same rule in the other pulsed instances that share the devices' readings. Keep it small and stable:
     * a text equal to the one stored last is not written again. */
    pulse_result (*save)(void* instance, pulse_str tenant, pulse_str device, const pulse_writer* out);
    /* Replaces the rule's state of one device by a text its save() wrote (empty: idle). Called after
     * start() and track(), and whenever another instance stored a newer state of that device. Ignore a text
     * you cannot read (return PULSE_ERR_INVALID): the device then starts idle. */
    pulse_result (*restore)(void* instance, pulse_str tenant, pulse_str device, pulse_str state_json);
} pulse_rule_ops;

/* ---- kind: sender ------------------------------------------------------------------------------- */

/* One notification to deliver.
 * OWNERSHIP: host-owned, borrowed for the call.
 * THREADING: plain data. */
typedef struct pulse_delivery {
    uint32_t struct_size;
    pulse_str idempotency_key; /* stable across retries of this delivery */
    pulse_str payload_json;    /* the alert event document (see docs/plugin-guide.md) */
    uint32_t attempt;          /* 1 for the first attempt */
    int64_t deadline_ms;       /* give up and return PULSE_RETRY after this wall-clock time */
} pulse_delivery;

/* The outcome details of deliver().
 * OWNERSHIP: host-owned; detail points to a host buffer of detail_cap bytes the plugin may fill with a
 * NUL-terminated message (never secrets).
 * THREADING: plain data. */
typedef struct pulse_delivery_result {
    uint32_t struct_size;
    int32_t status_code;    /* the peer's status (HTTP status, SMTP reply), 0 when not applicable */
    int64_t retry_after_ms; /* with PULSE_RETRY: the earliest retry the peer asked for, -1 if none */
    char* detail;
    size_t detail_cap;
} pulse_delivery_result;

/* Operations of a sender component. One instance is one notification channel.
 * Returns PULSE_OK when delivered, PULSE_RETRY for a transient failure, a negative code for a
 * permanent one (not retried).
 * OWNERSHIP: static, plugin-owned.
 * THREADING: as declared by the component. */
typedef struct pulse_sender_ops {
    uint32_t struct_size;
    pulse_result (*deliver)(void* instance, const pulse_delivery* delivery, pulse_delivery_result* result);
} pulse_sender_ops;

/* ---- kind: report ------------------------------------------------------------------------------- */

/* Operations of a report component.
 * OWNERSHIP: static, plugin-owned; the writer is host-owned and borrowed for the call.
 * THREADING: as declared by the component. */
typedef struct pulse_report_ops {
    uint32_t struct_size;
    const char* content_type;  /* MIME type of the output, e.g. "text/csv" */
    const char* params_schema; /* JSON Schema of the run parameters, NUL-terminated */
    /* Renders the report for params (JSON, validated against params_schema) into out. */
    pulse_result (*generate)(void* instance, const char* params_json, size_t params_len,
                             const pulse_writer* out, char* err, size_t err_cap);
} pulse_report_ops;

/* ---- kind: action ------------------------------------------------------------------------------- */

/* A job to run against one device.
 * OWNERSHIP: host-owned, borrowed for the call.
 * THREADING: plain data. */
typedef struct pulse_action_request {
    uint32_t struct_size;
    pulse_str job_id;
    pulse_str tenant;
    pulse_str device;
    pulse_str params_json;
} pulse_action_request;

/* Progress reports of a running job.
 * OWNERSHIP: host-owned, borrowed for the call to execute().
 * THREADING: report() may be called from any thread until execute() returns. */
typedef struct pulse_action_progress {
    uint32_t struct_size;
    void* ctx;
    void (*report)(void* ctx, uint32_t percent, const char* message, size_t len);
} pulse_action_progress;

/* Operations of an action component.
 * OWNERSHIP: static, plugin-owned.
 * THREADING: as declared by the component. */
typedef struct pulse_action_ops {
    uint32_t struct_size;
    const char* params_schema; /* JSON Schema of the job parameters, NUL-terminated */
    /* Runs the job; writes its result document (JSON) into result. */
    pulse_result (*execute)(void* instance, const pulse_action_request* request,
                            const pulse_action_progress* progress, const pulse_writer* result, char* err,
                            size_t err_cap);
} pulse_action_ops;

/* ---- components and the plugin descriptor ------------------------------------------------------- */

/* One component type a plugin provides. (kind, type) is unique across all loaded plugins.
 * OWNERSHIP: static, plugin-owned, valid while the library is loaded (it is never unloaded).
 * THREADING: create() and destroy() are lifecycle calls, always serial; start() and stop() too. */
typedef struct pulse_component {
    uint32_t struct_size;
    pulse_kind kind;
    const char* type;          /* [a-z][a-z0-9_]*, e.g. "webhook", "threshold" */
    const char* description;   /* one line for --list-plugins and the UI */
    const char* config_schema; /* JSON Schema of the instance config, NUL-terminated */
    pulse_threading threading;
    /* Creates an instance from its config (JSON, already validated against config_schema). On failure
     * returns a negative code and writes a NUL-terminated reason into err. The instance keeps api and
     * host for its lifetime. */
    pulse_result (*create)(const pulse_host_api* api, pulse_host* host, const char* config_json,
                           size_t config_len, void** instance, char* err, size_t err_cap);
    /* Starts the instance's own threads or connections; may be NULL. */
    pulse_result (*start)(void* instance, char* err, size_t err_cap);
    /* Stops and joins everything start() started; may be NULL. No calls follow except destroy(). */
    void (*stop)(void* instance);
    /* Frees the instance. */
    void (*destroy)(void* instance);
    /* The kind's operation table (pulse_ingest_ops, pulse_rule_ops, ...), itself size-prefixed. */
    const void* ops;
} pulse_component;

/* What a plugin library provides.
 * OWNERSHIP: static, plugin-owned, valid while the library is loaded.
 * THREADING: read-only after the entry point returns. */
typedef struct pulse_plugin {
    uint32_t struct_size;
    uint32_t abi_major; /* the ABI the plugin was built against: PULSE_ABI_MAJOR */
    uint32_t abi_minor; /* PULSE_ABI_MINOR of the header it was built against */
    const char* name;   /* [a-z][a-z0-9_]*, unique among loaded plugins */
    const char* version;
    const char* description;
    const char* license;
    uint32_t component_count;
    const pulse_component* const* components;
} pulse_plugin;

/* The one exported symbol of ABI major 1. The host passes the range of ABI versions it speaks, packed
 * with PULSE_ABI_VERSION; the plugin returns its descriptor, or NULL to decline (for example when the
 * host is too old for it).
 * OWNERSHIP: the returned descriptor is plugin-owned and static.
 * THREADING: called once, from the thread that loads plugins. */
typedef const pulse_plugin* (*pulse_plugin_entry_v1_fn)(uint32_t host_abi_min, uint32_t host_abi_max);

/* Per-version behaviour:
 * 1.0  first release. Kinds ingest, rule, sender, report, action. Host API: log, counter_add, gauge_set,
 *      now_ms, instance_name, config_number, config_bool, config_string. The config passed to create()
 *      has been validated against config_schema and carries the schema's defaults.
 * 1.1  Host API: ingest_submit (device messages into the telemetry pipeline) and http_route (HTTP
 *      routes served by a plugin). Nothing else changed; 1.0 plugins load unchanged.
 * 1.2  Host API: http_send (outgoing HTTP through the host's egress guard; senders should use it rather
 *      than their own client so that tenant-chosen URLs cannot reach internal addresses). Result code
 *      PULSE_ERR_DENIED. Rule ops: track (devices in scope and their last-seen time). Senders: a
 *      negative result is permanent; the host also disables the channel when status_code is 410 (Gone).
 *      Rule instances are created by the host from the rules stored in the database, one per rule, and
 *      see samples only of devices in the rule's scope. 1.0 and 1.1 plugins load unchanged.
 * 1.3  Host API: egress_resolve (a tenant-chosen host name checked by the egress guard, for senders that
 *      dial SMTP, SNMP or MQTT themselves). Channel config fields with "format": "hostname" are checked
 *      by the same guard when a channel is saved, as "format": "uri" fields are. 1.0 to 1.2 plugins load
 *      unchanged.
 * 1.4  Rule ops: save and restore (a rule's per-device state kept in the database across restarts and
 *      shared by the instances splitting the devices' readings). Rules without them (1.0 to 1.3) still
 *      load and work; their state starts empty after a restart, as before.
 */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PULSE_PLUGIN_H */
