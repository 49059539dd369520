#include "vouch/notation/cbor.h"

#include <fmt/format.h>

namespace vouch::notation {
namespace {

class Decoder {
 public:
  Decoder(ByteView data, CborLimits limits) : data_(data), limits_(limits) {}

  Result<CborValue> item(unsigned depth) {
    if (depth > limits_.max_depth) return fail(fmt::format("nesting deeper than {}", limits_.max_depth));
    if (pos_ >= data_.size()) return fail("unexpected end of data");
    const size_t start = pos_;
    uint8_t initial = data_[pos_++];
    unsigned major = initial >> 5;
    unsigned info = initial & 0x1f;
    if (major == 7) return simple(info, start);
    VOUCH_ASSIGN_OR_RETURN(uint64_t arg, argument(info, start));
    CborValue v;
    switch (major) {
      case 0:
        if (arg > static_cast<uint64_t>(INT64_MAX)) return fail_at(start, "integer out of range");
        v.type = CborValue::Type::kInteger;
        v.integer = static_cast<int64_t>(arg);
        return v;
      case 1:
        if (arg > static_cast<uint64_t>(INT64_MAX)) return fail_at(start, "integer out of range");
        v.type = CborValue::Type::kInteger;
        v.integer = -1 - static_cast<int64_t>(arg);
        return v;
      case 2:
      case 3: {
        if (arg > data_.size() - pos_) return fail_at(start, "string longer than the data");
        v.type = major == 2 ? CborValue::Type::kBytes : CborValue::Type::kText;
        v.string.assign(reinterpret_cast<const char*>(data_.data() + pos_), static_cast<size_t>(arg));
        pos_ += static_cast<size_t>(arg);
        return v;
      }
      case 4: {
        VOUCH_RETURN_IF_ERROR(count(arg, 1, start));
        v.type = CborValue::Type::kArray;
        for (uint64_t i = 0; i < arg; ++i) {
          VOUCH_ASSIGN_OR_RETURN(auto element, item(depth + 1));
          v.items.push_back(std::move(element));
        }
        return v;
      }
      case 5: {
        VOUCH_RETURN_IF_ERROR(count(arg, 2, start));
        v.type = CborValue::Type::kMap;
        for (uint64_t i = 0; i < arg; ++i) {
          const size_t key_at = pos_;
          VOUCH_ASSIGN_OR_RETURN(auto key, item(depth + 1));
          if (key.type != CborValue::Type::kInteger && key.type != CborValue::Type::kText)
            return fail_at(key_at, "map key is neither an integer nor a text string");
          for (const auto& [k, unused] : v.entries) {
            if (k.type == key.type && k.integer == key.integer && k.string == key.string)
              return fail_at(key_at, "duplicate map key");
          }
          VOUCH_ASSIGN_OR_RETURN(auto value, item(depth + 1));
          v.entries.push_back({std::move(key), std::move(value)});
        }
        return v;
      }
      case 6: {
        v.type = CborValue::Type::kTag;
        v.tag = arg;
        VOUCH_ASSIGN_OR_RETURN(auto tagged, item(depth + 1));
        v.items.push_back(std::move(tagged));
        return v;
      }
    }
    return fail_at(start, "unknown major type");
  }

  size_t position() const { return pos_; }
  Error fail(std::string_view what) const { return fail_at(pos_, what); }
  Error fail_at(size_t at, std::string_view what) const {
    return invalid_input(fmt::format("CBOR: {} at byte {}", what, at));
  }

 private:
  Result<uint64_t> argument(unsigned info, size_t start) {
    if (info < 24) return static_cast<uint64_t>(info);
    if (info == 31) return fail_at(start, "indefinite length is not supported");
    if (info > 27) return fail_at(start, "reserved additional information");
    size_t n = size_t{1} << (info - 24);
    if (n > data_.size() - pos_) return fail_at(start, "unexpected end of data");
    uint64_t value = 0;
    for (size_t i = 0; i < n; ++i) value = (value << 8) | data_[pos_ + i];
    pos_ += n;
    return value;
  }

  Status count(uint64_t n, uint64_t per_entry, size_t start) {
    // Every element takes at least one byte, so a count beyond the rest of the data is a lie.
    if (n > (data_.size() - pos_) / per_entry) return fail_at(start, "more elements than the data can hold");
    items_ += static_cast<size_t>(n);
    if (items_ > limits_.max_items) return fail_at(start, fmt::format("more than {} elements", limits_.max_items));
    return ok_status();
  }

  Result<CborValue> simple(unsigned info, size_t start) {
    CborValue v;
    switch (info) {
      case 20:
      case 21:
        v.type = CborValue::Type::kBool;
        v.integer = info == 21;
        return v;
      case 22:
        v.type = CborValue::Type::kNull;
        return v;
    }
    return fail_at(start, "floating-point and simple values are not supported");
  }

  ByteView data_;
  CborLimits limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

}  // namespace

const CborValue* CborValue::find(int64_t label) const {
  for (const auto& [k, v] : entries)
    if (k.type == Type::kInteger && k.integer == label) return &v;
  return nullptr;
}

const CborValue* CborValue::find(std::string_view label) const {
  for (const auto& [k, v] : entries)
    if (k.type == Type::kText && k.string == label) return &v;
  return nullptr;
}

Result<CborValue> cbor_decode(ByteView data, CborLimits limits) {
  if (data.size() > limits.max_bytes)
    return invalid_input(fmt::format("CBOR: {} bytes exceed the limit of {}", data.size(), limits.max_bytes));
  Decoder decoder(data, limits);
  VOUCH_ASSIGN_OR_RETURN(auto value, decoder.item(0));
  if (decoder.position() != data.size()) return decoder.fail("trailing data after the item");
  return value;
}

void cbor_append_head(Bytes& out, unsigned major, uint64_t argument) {
  const uint8_t m = static_cast<uint8_t>(major << 5);
  if (argument < 24) {
    out.push_back(m | static_cast<uint8_t>(argument));
    return;
  }
  unsigned bytes = argument <= 0xff ? 1 : argument <= 0xffff ? 2 : argument <= 0xffffffffULL ? 4 : 8;
  out.push_back(m | static_cast<uint8_t>(bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
  for (unsigned i = bytes; i-- > 0;) out.push_back(static_cast<uint8_t>(argument >> (8 * i)));
}

void cbor_append_int(Bytes& out, int64_t value) {
  if (value >= 0) cbor_append_head(out, 0, static_cast<uint64_t>(value));
  else cbor_append_head(out, 1, static_cast<uint64_t>(-1 - value));
}

void cbor_append_bytes(Bytes& out, ByteView value) {
  cbor_append_head(out, 2, value.size());
  out.insert(out.end(), value.begin(), value.end());
}

void cbor_append_text(Bytes& out, std::string_view value) {
  cbor_append_head(out, 3, value.size());
  out.insert(out.end(), value.begin(), value.end());
}

}  // namespace vouch::notation
