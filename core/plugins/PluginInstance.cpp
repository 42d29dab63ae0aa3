#include "plugins/PluginInstance.h"

#include "logging/Logging.h"

#include <exception>

namespace pulse::plugins {
namespace {

constexpr size_t kErrorCap = 1024;

std::string bufferText(const char* buf, size_t cap) {
    size_t n = 0;
    while (n < cap && buf[n]) ++n;  // never trust the plugin to have terminated it
    return std::string(buf, n);
}

RuleVerdict copyVerdict(const pulse_rule_verdict& v) {
    auto s = [](pulse_str x) { return x.data ? std::string(x.data, x.len) : std::string(); };
    return RuleVerdict{v.transition, s(v.tenant), s(v.device), v.observed, s(v.summary)};
}

}  // namespace

PluginInstance::PluginInstance(std::string name, std::shared_ptr<const ComponentInfo> component,
                               metrics::MetricsRegistry* metrics, HostServices services)
    : component_(std::move(component)) {
    host_.services = services;
    host_.owner = this;
    host_.plugin = component_->plugin;
    host_.instance = std::move(name);
    host_.log = logging::get("plugin:" + host_.instance);
    host_.metrics = metrics;
}

PluginInstance::~PluginInstance() {
    stop();
    if (instance_) {
        guarded("destroy", [&] {
            component_->fns.destroy(instance_);
            return PULSE_OK;
        });
        instance_ = nullptr;
    }
}

template <class Fn>
pulse_result PluginInstance::guarded(const char* operation, Fn&& fn) {
    std::unique_lock<std::mutex> lock(serial_, std::defer_lock);
    if (component_->threading == PULSE_THREADING_SERIAL) lock.lock();
    try {
        return fn();
    } catch (const std::exception& e) {
        host_.log->error("{}() of {} threw an exception: {}; the call failed", operation,
                         component_->qualifiedType(), e.what());
    } catch (...) {
        host_.log->error("{}() of {} threw an exception; the call failed", operation,
                         component_->qualifiedType());
    }
    return PULSE_ERR_INTERNAL;
}

pulse_result PluginInstance::call(const char* operation, const std::function<pulse_result()>& fn) {
    return guarded(operation, fn);
}

pulse_result PluginInstance::create(const std::string& configJson, std::string& error) {
    std::string completed;
    try {
        host_.config = component_->configSchema->withDefaults(json::parseJson(configJson));
        completed = json::toJsonText(host_.config);
    } catch (const std::exception& e) {
        error = std::string("config: ") + e.what();
        return PULSE_ERR_CONFIG;
    }
    char err[kErrorCap] = {0};
    void* created = nullptr;
    pulse_result rc = guarded("create", [&] {
        return component_->fns.create(hostApi(), &host_, completed.data(), completed.size(), &created, err,
                                      sizeof err);
    });
    if (rc == PULSE_OK && !created) {
        error = "create() returned success but no instance";
        return PULSE_ERR_INTERNAL;
    }
    if (rc != PULSE_OK) {
        error = bufferText(err, sizeof err);
        if (error.empty()) error = "create() failed with code " + std::to_string(rc);
        return rc < 0 ? rc : PULSE_ERR_GENERIC;
    }
    instance_ = created;
    return PULSE_OK;
}

pulse_result PluginInstance::start(std::string& error) {
    if (!instance_) return PULSE_ERR_INVALID;
    if (!component_->fns.start) {
        started_ = true;
        return PULSE_OK;
    }
    char err[kErrorCap] = {0};
    pulse_result rc = guarded("start", [&] { return component_->fns.start(instance_, err, sizeof err); });
    if (rc != PULSE_OK) {
        error = bufferText(err, sizeof err);
        if (error.empty()) error = "start() failed with code " + std::to_string(rc);
        return rc < 0 ? rc : PULSE_ERR_GENERIC;
    }
    started_ = true;
    return PULSE_OK;
}

void PluginInstance::stop() {
    if (!instance_ || !started_) return;
    started_ = false;
    if (component_->fns.stop)
        guarded("stop", [&] {
            component_->fns.stop(instance_);
            return PULSE_OK;
        });
}

pulse_result PluginInstance::health(std::string& status) {
    if (component_->kind != PULSE_KIND_INGEST || !instance_) return PULSE_ERR_UNSUPPORTED;
    if (!component_->ingest.health) {
        status = "running";
        return PULSE_OK;
    }
    char buf[512] = {0};
    pulse_result rc =
        guarded("health", [&] { return component_->ingest.health(instance_, buf, sizeof buf); });
    status = bufferText(buf, sizeof buf);
    return rc;
}

pulse_result PluginInstance::evaluate(const pulse_sample& sample, RuleVerdict& verdict) {
    if (component_->kind != PULSE_KIND_RULE || !instance_) return PULSE_ERR_UNSUPPORTED;
    return guarded("evaluate", [&] {
        pulse_rule_verdict v{};
        v.struct_size = sizeof v;
        pulse_result rc = component_->rule.evaluate(instance_, &sample, &v);
        // Copied under the serial lock, before the next call reuses the plugin's buffer; the common case
        // (nothing changed) copies nothing.
        if (v.transition == PULSE_TRANSITION_NONE)
            verdict.transition = PULSE_TRANSITION_NONE;
        else
            verdict = copyVerdict(v);
        return rc;
    });
}

pulse_result PluginInstance::evaluateAll(const pulse_sample* samples, size_t count, VerdictSink onVerdict,
                                         void* ctx) {
    if (component_->kind != PULSE_KIND_RULE || !instance_) return PULSE_ERR_UNSUPPORTED;
    return guarded("evaluate", [&] {
        pulse_result worst = PULSE_OK;
        for (size_t i = 0; i < count; ++i) {
            pulse_rule_verdict v{};
            v.struct_size = sizeof v;
            pulse_result rc = component_->rule.evaluate(instance_, &samples[i], &v);
            if (rc != PULSE_OK) {
                worst = rc;
                continue;
            }
            if (v.transition != PULSE_TRANSITION_NONE) onVerdict(ctx, i, copyVerdict(v));
        }
        return worst;
    });
}

pulse_result PluginInstance::tick(int64_t nowMs, const std::function<void(const RuleVerdict&)>& emit) {
    if (component_->kind != PULSE_KIND_RULE || !instance_) return PULSE_ERR_UNSUPPORTED;
    if (!component_->rule.tick) return PULSE_OK;
    struct Ctx {
        const std::function<void(const RuleVerdict&)>* emit;
    } ctx{&emit};
    auto thunk = [](void* c, const pulse_rule_verdict* v) {
        if (v) (*static_cast<Ctx*>(c)->emit)(copyVerdict(*v));
    };
    return guarded("tick", [&] { return component_->rule.tick(instance_, nowMs, thunk, &ctx); });
}

pulse_result PluginInstance::track(std::string_view tenant, std::string_view device, int64_t lastSeenMs) {
    if (component_->kind != PULSE_KIND_RULE || !instance_) return PULSE_ERR_UNSUPPORTED;
    if (!component_->rule.track) return PULSE_OK;
    return guarded("track", [&] {
        return component_->rule.track(instance_, pulse_str{tenant.data(), tenant.size()},
                                      pulse_str{device.data(), device.size()}, lastSeenMs);
    });
}

std::optional<std::string> PluginInstance::saveState(std::string_view tenant, std::string_view device) {
    if (component_->kind != PULSE_KIND_RULE || !instance_ || !component_->rule.save) return std::nullopt;
    constexpr size_t kMaxState = 4096;  // pulse_rule_ops::save
    struct Sink {
        std::string text;
        bool tooLong = false;
    } sink;
    pulse_writer out{sizeof(pulse_writer), &sink,
                     [](void* ctx, const void* data, size_t len) -> pulse_result {
                         auto* s = static_cast<Sink*>(ctx);
                         if (s->text.size() + len > kMaxState) {
                             s->tooLong = true;
                             return PULSE_ERR_INVALID;
                         }
                         s->text.append(static_cast<const char*>(data), len);
                         return PULSE_OK;
                     }};
    pulse_result rc = guarded("save", [&] {
        return component_->rule.save(instance_, pulse_str{tenant.data(), tenant.size()},
                                     pulse_str{device.data(), device.size()}, &out);
    });
    if (rc != PULSE_OK || sink.tooLong) return std::nullopt;
    return std::move(sink.text);
}

pulse_result PluginInstance::restoreState(std::string_view tenant, std::string_view device,
                                          std::string_view state) {
    if (component_->kind != PULSE_KIND_RULE || !instance_) return PULSE_ERR_UNSUPPORTED;
    if (!component_->rule.restore) return PULSE_OK;
    return guarded("restore", [&] {
        return component_->rule.restore(instance_, pulse_str{tenant.data(), tenant.size()},
                                        pulse_str{device.data(), device.size()},
                                        pulse_str{state.data(), state.size()});
    });
}

DeliveryOutcome PluginInstance::deliver(const pulse_delivery& delivery) {
    DeliveryOutcome out;
    if (component_->kind != PULSE_KIND_SENDER || !instance_) {
        out.code = PULSE_ERR_UNSUPPORTED;
        return out;
    }
    char detail[kErrorCap] = {0};
    pulse_delivery_result r{};
    r.struct_size = sizeof r;
    r.retry_after_ms = -1;
    r.detail = detail;
    r.detail_cap = sizeof detail;
    out.code = guarded("deliver", [&] { return component_->sender.deliver(instance_, &delivery, &r); });
    out.statusCode = r.status_code;
    out.retryAfterMs = r.retry_after_ms;
    out.detail = bufferText(detail, sizeof detail);
    if (out.code == PULSE_ERR_INTERNAL && out.detail.empty()) out.detail = "the sender failed internally";
    return out;
}

pulse_result PluginInstance::generate(const std::string& paramsJson, const pulse_writer& out,
                                      std::string& error) {
    if (component_->kind != PULSE_KIND_REPORT || !instance_) return PULSE_ERR_UNSUPPORTED;
    char err[kErrorCap] = {0};
    pulse_result rc = guarded("generate", [&] {
        return component_->report.generate(instance_, paramsJson.data(), paramsJson.size(), &out, err,
                                           sizeof err);
    });
    error = bufferText(err, sizeof err);
    return rc;
}

pulse_result PluginInstance::execute(const pulse_action_request& request,
                                     const pulse_action_progress& progress, const pulse_writer& result,
                                     std::string& error) {
    if (component_->kind != PULSE_KIND_ACTION || !instance_) return PULSE_ERR_UNSUPPORTED;
    char err[kErrorCap] = {0};
    pulse_result rc = guarded("execute", [&] {
        return component_->action.execute(instance_, &request, &progress, &result, err, sizeof err);
    });
    error = bufferText(err, sizeof err);
    return rc;
}

}  // namespace pulse::plugins
