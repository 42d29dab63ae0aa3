#include "pipeline/TelemetryDecoder.h"

#include <simdjson.h>

#include <cmath>

namespace pulse::pipeline {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

struct Context {
    int64_t nowUs;
    const DecodeLimits& limits;
    Decoded& out;

    bool fail(int status, std::string field, std::string error) {
        out.ok = false;
        out.status = status;
        out.field = std::move(field);
        out.error = std::move(error);
        return false;
    }
};

bool validName(std::string_view name, size_t max) {
    if (name.empty() || name.size() > max) return false;
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

bool readTimestamp(Context& ctx, element ts, const std::string& field, int64_t& outUs) {
    double v;
    if (ts.type() == element_type::INT64)
        v = static_cast<double>(int64_t(ts));
    else if (ts.type() == element_type::UINT64)
        v = static_cast<double>(uint64_t(ts));
    else if (ts.type() == element_type::DOUBLE)
        v = double(ts);
    else
        return ctx.fail(400, field, "ts must be a number (Unix time in milliseconds or seconds)");
    if (!std::isfinite(v) || v <= 0) return ctx.fail(400, field, "ts must be a positive Unix time");
    double ms = v < 1e11 ? v * 1000.0 : v;  // seconds until year 5138; milliseconds after 1973
    if (ms > 9.2e15) return ctx.fail(400, field, "ts is out of range");
    outUs = static_cast<int64_t>(ms * 1000.0);
    if (outUs > ctx.nowUs + ctx.limits.maxFutureMs * 1000)
        return ctx.fail(400, field,
                        "ts is more than " + std::to_string(ctx.limits.maxFutureMs / 1000) +
                            " s in the future (device clock?)");
    if (outUs < ctx.nowUs - ctx.limits.maxAgeMs * 1000)
        return ctx.fail(400, field,
                        "ts is older than the retention window of " +
                            std::to_string(ctx.limits.maxAgeMs / 86400000) + " days");
    return true;
}

bool addValue(Context& ctx, std::string_view name, element value, int64_t tsUs, const std::string& field) {
    if (!validName(name, ctx.limits.maxMetricName))
        return ctx.fail(400, field,
                        "metric names are 1 to " + std::to_string(ctx.limits.maxMetricName) +
                            " characters without control characters");
    Reading r;
    switch (value.type()) {
        case element_type::INT64:
            r.value = static_cast<double>(int64_t(value));
            break;
        case element_type::UINT64:
            r.value = static_cast<double>(uint64_t(value));
            break;
        case element_type::DOUBLE:
            r.value = double(value);
            break;
        case element_type::BOOL:
            r.value = bool(value) ? 1.0 : 0.0;
            r.isBool = true;
            break;
        default:
            ctx.out.ignored.emplace_back(name);
            return true;
    }
    if (!std::isfinite(r.value)) return ctx.fail(400, field, "value is not a finite number");
    if (ctx.out.readings.size() >= ctx.limits.maxReadings)
        return ctx.fail(413, field,
                        "more than " + std::to_string(ctx.limits.maxReadings) + " readings in one message");
    r.metric = std::string(name);
    r.tsUs = tsUs;
    ctx.out.readings.push_back(std::move(r));
    return true;
}

bool addMetrics(Context& ctx, object metrics, int64_t tsUs, const std::string& prefix) {
    for (auto [key, value] : metrics)
        if (!addValue(ctx, key, value, tsUs, prefix + std::string(key))) return false;
    return true;
}

bool decodeObject(Context& ctx, object obj, const std::string& at) {
    int64_t tsUs = ctx.nowUs;
    element ts, values;
    bool hasTs = obj["ts"].get(ts) == simdjson::SUCCESS;
    if (hasTs && !readTimestamp(ctx, ts, at + "ts", tsUs)) return false;
    for (const char* nested : {"values", "metrics"}) {
        if (obj[nested].get(values) == simdjson::SUCCESS) {
            if (values.type() != element_type::OBJECT)
                return ctx.fail(400, at + nested,
                                std::string(nested) + " must be an object of metric: value");
            if (obj.size() > (hasTs ? 2u : 1u))
                return ctx.fail(400, at,
                                std::string("an object with \"") + nested + "\" takes only \"ts\" beside it");
            return addMetrics(ctx, object(values), tsUs, at + nested + ".");
        }
    }
    for (auto [key, value] : obj) {
        if (key == "ts") continue;
        if (!addValue(ctx, key, value, tsUs, at + std::string(key))) return false;
    }
    return true;
}

}  // namespace

Decoded decodeTelemetry(std::string_view payload, int64_t nowUs, const DecodeLimits& limits) {
    Decoded out;
    Context ctx{nowUs, limits, out};
    thread_local simdjson::dom::parser parser;
    element doc;
    auto error = parser.parse(payload.data(), payload.size()).get(doc);
    if (error) {
        ctx.fail(400, "", std::string("invalid JSON: ") + simdjson::error_message(error));
        return out;
    }
    if (doc.type() == element_type::OBJECT) {
        decodeObject(ctx, object(doc), "");
    } else if (doc.type() == element_type::ARRAY) {
        size_t i = 0;
        for (element item : simdjson::dom::array(doc)) {
            std::string at = "[" + std::to_string(i++) + "]";
            if (item.type() != element_type::OBJECT) {
                ctx.fail(400, at, "each item of a batch must be an object");
                break;
            }
            if (!decodeObject(ctx, object(item), at + ".")) break;
        }
    } else {
        ctx.fail(400, "", "the payload must be a JSON object or an array of objects");
    }
    if (out.ok && out.readings.empty() && out.ignored.empty())
        ctx.fail(400, "", "the payload holds no readings");
    if (!out.ok) out.readings.clear();
    return out;
}

}  // namespace pulse::pipeline
