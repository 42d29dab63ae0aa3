/* The released layouts of ABI 1.x (x86_64, LP64). A change to a released line breaks every plugin built
 * before it: add members only at the end of a struct, bump PULSE_ABI_MINOR, and add the new lines below. */
#include <pulse/plugin.h>

#include <stddef.h>

#if defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(pulse_str) == 16, "pulse_str");
_Static_assert(sizeof(pulse_writer) == 24, "pulse_writer");
_Static_assert(offsetof(pulse_writer, write) == 16, "pulse_writer.write");
/* 1.0 */
_Static_assert(offsetof(pulse_host_api, config_string) + sizeof(void*) == 80, "pulse_host_api 1.0 prefix");
_Static_assert(offsetof(pulse_host_api, log) == 16, "pulse_host_api.log");
_Static_assert(offsetof(pulse_host_api, instance_name) == 48, "pulse_host_api.instance_name");
_Static_assert(offsetof(pulse_host_api, config_string) == 72, "pulse_host_api.config_string");
_Static_assert(sizeof(pulse_ingest_ops) == 16, "pulse_ingest_ops");
_Static_assert(sizeof(pulse_sample) == 80, "pulse_sample");
_Static_assert(offsetof(pulse_sample, value) == 56, "pulse_sample.value");
_Static_assert(offsetof(pulse_sample, ts_ms) == 72, "pulse_sample.ts_ms");
_Static_assert(sizeof(pulse_rule_verdict) == 64, "pulse_rule_verdict");
_Static_assert(offsetof(pulse_rule_verdict, summary) == 48, "pulse_rule_verdict.summary");
_Static_assert(offsetof(pulse_rule_ops, tick) + sizeof(void*) == 24, "pulse_rule_ops 1.0 prefix");
_Static_assert(sizeof(pulse_delivery) == 56, "pulse_delivery");
_Static_assert(offsetof(pulse_delivery, deadline_ms) == 48, "pulse_delivery.deadline_ms");
_Static_assert(sizeof(pulse_delivery_result) == 32, "pulse_delivery_result");
_Static_assert(sizeof(pulse_sender_ops) == 16, "pulse_sender_ops");
_Static_assert(sizeof(pulse_report_ops) == 32, "pulse_report_ops");
_Static_assert(sizeof(pulse_action_request) == 72, "pulse_action_request");
_Static_assert(sizeof(pulse_action_progress) == 24, "pulse_action_progress");
_Static_assert(sizeof(pulse_action_ops) == 24, "pulse_action_ops");
_Static_assert(sizeof(pulse_component) == 80, "pulse_component");
_Static_assert(offsetof(pulse_component, create) == 40, "pulse_component.create");
_Static_assert(offsetof(pulse_component, ops) == 72, "pulse_component.ops");
_Static_assert(sizeof(pulse_plugin) == 64, "pulse_plugin");
_Static_assert(offsetof(pulse_plugin, components) == 56, "pulse_plugin.components");
/* 1.1 */
_Static_assert(offsetof(pulse_host_api, http_route) + sizeof(void*) == 96, "pulse_host_api 1.1 prefix");
_Static_assert(offsetof(pulse_host_api, ingest_submit) == 80, "pulse_host_api.ingest_submit");
_Static_assert(offsetof(pulse_host_api, http_route) == 88, "pulse_host_api.http_route");
_Static_assert(sizeof(pulse_ingest_message) == 40, "pulse_ingest_message");
_Static_assert(sizeof(pulse_ingest_result) == 32, "pulse_ingest_result");
_Static_assert(sizeof(pulse_http_request) == 96, "pulse_http_request");
_Static_assert(offsetof(pulse_http_request, header) == 80, "pulse_http_request.header");
_Static_assert(sizeof(pulse_http_response) == 24, "pulse_http_response");
/* 1.2 */
_Static_assert(offsetof(pulse_host_api, http_send) + sizeof(void*) == 104, "pulse_host_api 1.2 prefix");
_Static_assert(offsetof(pulse_host_api, http_send) == 96, "pulse_host_api.http_send");
_Static_assert(sizeof(pulse_http_header) == 32, "pulse_http_header");
_Static_assert(sizeof(pulse_http_call) == 80, "pulse_http_call");
_Static_assert(offsetof(pulse_http_call, timeout_ms) == 72, "pulse_http_call.timeout_ms");
_Static_assert(sizeof(pulse_http_reply) == 56, "pulse_http_reply");
_Static_assert(offsetof(pulse_http_reply, error_cap) == 48, "pulse_http_reply.error_cap");
_Static_assert(offsetof(pulse_rule_ops, track) + sizeof(void*) == 32, "pulse_rule_ops 1.2 prefix");
_Static_assert(offsetof(pulse_rule_ops, track) == 24, "pulse_rule_ops.track");
/* 1.3 */
_Static_assert(sizeof(pulse_host_api) == 112, "pulse_host_api 1.3");
_Static_assert(offsetof(pulse_host_api, egress_resolve) == 104, "pulse_host_api.egress_resolve");
/* 1.4 */
_Static_assert(sizeof(pulse_rule_ops) == 48, "pulse_rule_ops 1.4");
_Static_assert(offsetof(pulse_rule_ops, save) == 32, "pulse_rule_ops.save");
_Static_assert(offsetof(pulse_rule_ops, restore) == 40, "pulse_rule_ops.restore");
#endif

/* Referenced by the unit tests so that the linker keeps this translation unit. */
int pulse_abi_layout_checked(void) {
    return PULSE_ABI_VERSION(PULSE_ABI_MAJOR, PULSE_ABI_MINOR) == 0x10004u;
}
