#pragma once

#include "storage/TelemetryStore.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace pulse::storage {

// PostgreSQL's binary wire form of values, as COPY (FORMAT binary) rows and binary array parameters
// both carry them: each value is its length (int32) then its bytes in network order; timestamps are
// microseconds since 2000-01-01.
class BinaryValues {
  public:
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

  protected:
    static constexpr int64_t kPgEpochOffsetUs = 946684800000000LL;
    void put16(uint16_t v) {
        char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
        buf_.append(b, 2);
    }
    void put32(uint32_t v) {
        char b[4];
        for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
        buf_.append(b, 4);
    }
    void put64(uint64_t v) {
        char b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
        buf_.append(b, 8);
    }
    std::string buf_;
};

// The payload of COPY ... FROM STDIN (FORMAT binary). Call row(n) before each row's n values, and
// finish() at the end.
class BinaryCopyEncoder : public BinaryValues {
  public:
    explicit BinaryCopyEncoder(size_t expectedBytes = 0) {
        buf_.reserve(expectedBytes + 21);
        buf_.append("PGCOPY\n\377\r\n\0", 11);
        put32(0);  // flags
        put32(0);  // header extension length
    }
    void row(uint16_t fields) { put16(fields); }
    const std::string& finish() {
        put16(0xFFFF);
        return buf_;
    }
};

// A one-dimensional array without NULLs in binary form (array_recv's input), for a parameter sent
// with format 1: exactly `count` values of the element type follow.
class BinaryArrayEncoder : public BinaryValues {
  public:
    // Element type OIDs (pg_type).
    static constexpr uint32_t kInt8 = 20, kInt4 = 23, kFloat8 = 701, kTimestamptz = 1184, kUuid = 2950;
    BinaryArrayEncoder(uint32_t elementOid, size_t count, size_t bytesPerValue) {
        buf_.reserve(20 + count * (4 + bytesPerValue));
        put32(1);  // dimensions
        put32(0);  // no NULLs
        put32(elementOid);
        put32(static_cast<uint32_t>(count));
        put32(1);  // lower bound
    }
    const std::string& finish() const { return buf_; }
};

}  // namespace pulse::storage
