#pragma once

#include "storage/TelemetryStore.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace pulse::storage {

// Builds the payload of COPY ... FROM STDIN (FORMAT binary): network byte order, timestamps in
// microseconds since 2000-01-01. Call row(n) before each row's n fields, and finish() at the end.
class BinaryCopyEncoder {
  public:
    explicit BinaryCopyEncoder(size_t expectedBytes = 0) {
        buf_.reserve(expectedBytes + 21);
        buf_.append("PGCOPY\n\377\r\n\0", 11);
        put32(0);  // flags
        put32(0);  // header extension length
    }
    void row(uint16_t fields) { put16(fields); }
    void uuid(const Uuid& u) {
        put32(16);
        buf_.append(reinterpret_cast<const char*>(u.data()), 16);
    }
    void int64(int64_t v) {
        put32(8);
        put64(static_cast<uint64_t>(v));
    }
    void int32(int32_t v) {
        put32(4);
        put32(static_cast<uint32_t>(v));
    }
    void timestampUs(int64_t unixUs) { int64(unixUs - kPgEpochOffsetUs); }
    void float64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put32(8);
        put64(bits);
    }
    const std::string& finish() {
        put16(0xFFFF);
        return buf_;
    }

  private:
    static constexpr int64_t kPgEpochOffsetUs = 946684800000000LL;
    void put16(uint16_t v) {
        buf_.push_back(static_cast<char>(v >> 8));
        buf_.push_back(static_cast<char>(v));
    }
    void put32(uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) buf_.push_back(static_cast<char>(v >> s));
    }
    void put64(uint64_t v) {
        for (int s = 56; s >= 0; s -= 8) buf_.push_back(static_cast<char>(v >> s));
    }
    std::string buf_;
};

}  // namespace pulse::storage
