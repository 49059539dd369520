// Decoding of protobuf wire format into CEL messages, for google.protobuf.Any payloads. Only
// declared message types decode; unknown fields are skipped, malformed input is an error.
#include "wire.h"

#include <cstring>

#include <fmt/format.h>

namespace vouch::cel {
namespace {

constexpr int kMaxDepth = 32;

struct Reader {
  std::string_view s;
  size_t pos = 0;
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= s.size()) return false;
      uint8_t b = static_cast<uint8_t>(s[pos++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool fixed(int n, uint64_t& v) {
    if (pos + static_cast<size_t>(n) > s.size()) return false;
    v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(s[pos + static_cast<size_t>(k)]);
    pos += static_cast<size_t>(n);
    return true;
  }
  bool bytes(std::string_view& out) {
    uint64_t n;
    if (!varint(n) || n > s.size() - pos) return false;
    out = s.substr(pos, n);
    pos += n;
    return true;
  }
};

Value decode_message(const std::string& type, std::string_view data, const Environment::State& env, int depth);

// One scalar of `kind` from a value read with `wire_type`.
Value scalar(FieldType::Kind kind, int wire_type, Reader& r) {
  using K = FieldType::Kind;
  uint64_t v = 0;
  if (wire_type == 0) {
    if (!r.varint(v)) return Value::error("malformed varint");
  } else if (wire_type == 1) {
    if (!r.fixed(8, v)) return Value::error("malformed fixed64");
  } else if (wire_type == 5) {
    if (!r.fixed(4, v)) return Value::error("malformed fixed32");
  } else {
    return Value::error("unexpected wire type");
  }
  switch (kind) {
    case K::kBool: return Value::boolean(v != 0);
    case K::kInt32: case K::kEnum:
      return Value::integer(wire_type == 5 ? static_cast<int32_t>(static_cast<uint32_t>(v)) : static_cast<int32_t>(v));
    case K::kInt64: return Value::integer(static_cast<int64_t>(v));
    case K::kUint32: return Value::uint(static_cast<uint32_t>(v));
    case K::kUint64: return Value::uint(v);
    case K::kFloat: {
      uint32_t bits = static_cast<uint32_t>(v);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return Value::dbl(f);
    }
    case K::kDouble: {
      double d;
      std::memcpy(&d, &v, sizeof d);
      return Value::dbl(d);
    }
    default: return Value::error("unexpected scalar field");
  }
}

Value element(const FieldType& f, int wire_type, Reader& r, const Environment::State& env, int depth) {
  using K = FieldType::Kind;
  if (f.kind == K::kString || f.kind == K::kBytes || f.kind == K::kMessage) {
    std::string_view b;
    if (wire_type != 2 || !r.bytes(b)) return Value::error("malformed length-delimited field");
    if (f.kind == K::kString) return Value::string(std::string(b));
    if (f.kind == K::kBytes) return Value::bytes(std::string(b));
    return decode_message(f.message_type, b, env, depth + 1);
  }
  return scalar(f.kind, wire_type, r);
}

Value decode_well_known(const std::string& type, std::string_view data, const Environment::State& env, int depth) {
  Reader r{data};
  uint64_t seconds = 0, nanos = 0;
  std::string type_url;
  std::string payload;
  Value wrapped;
  bool has_value = false;
  while (r.pos < data.size()) {
    uint64_t tag;
    if (!r.varint(tag)) return Value::error("malformed tag");
    int number = static_cast<int>(tag >> 3), wt = static_cast<int>(tag & 7);
    if (type == "google.protobuf.Timestamp" || type == "google.protobuf.Duration") {
      if (wt != 0 || !r.varint(number == 1 ? seconds : nanos)) return Value::error("malformed time field");
      continue;
    }
    if (type == "google.protobuf.Any") {
      std::string_view b;
      if (wt != 2 || !r.bytes(b)) return Value::error("malformed Any");
      (number == 1 ? type_url : payload) = std::string(b);
      continue;
    }
    static const std::map<std::string, FieldType::Kind, std::less<>> kWrappers = {
        {"google.protobuf.BoolValue", FieldType::Kind::kBool},     {"google.protobuf.Int32Value", FieldType::Kind::kInt32},
        {"google.protobuf.Int64Value", FieldType::Kind::kInt64},   {"google.protobuf.UInt32Value", FieldType::Kind::kUint32},
        {"google.protobuf.UInt64Value", FieldType::Kind::kUint64}, {"google.protobuf.FloatValue", FieldType::Kind::kFloat},
        {"google.protobuf.DoubleValue", FieldType::Kind::kDouble}, {"google.protobuf.StringValue", FieldType::Kind::kString},
        {"google.protobuf.BytesValue", FieldType::Kind::kBytes}};
    auto it = kWrappers.find(type);
    if (it == kWrappers.end()) return Value::error(fmt::format("decoding {} is not supported", type));
    FieldType f;
    f.kind = it->second;
    wrapped = element(f, wt, r, env, depth);
    has_value = true;
    if (wrapped.is_error()) return wrapped;
  }
  if (type == "google.protobuf.Timestamp") return Value::timestamp({static_cast<int64_t>(seconds), static_cast<int32_t>(nanos)});
  if (type == "google.protobuf.Duration") return Value::duration({static_cast<int64_t>(seconds), static_cast<int32_t>(nanos)});
  if (type == "google.protobuf.Any") return unpack_any(type_url, payload, env, depth + 1);
  if (!has_value) return Value::null();
  return wrapped;
}

Value decode_message(const std::string& type, std::string_view data, const Environment::State& env, int depth) {
  if (depth > kMaxDepth) return Value::error("message nested too deeply");
  auto mt = env.messages.find(type);
  if (mt == env.messages.end()) {
    if (type.rfind("google.protobuf.", 0) == 0) return decode_well_known(type, data, env, depth);
    return Value::error(fmt::format("unknown message type {}", type));
  }
  Reader r{data};
  std::map<std::string, Value> set;
  std::map<std::string, List> lists;
  std::map<std::string, Map> maps;
  while (r.pos < data.size()) {
    uint64_t tag;
    if (!r.varint(tag)) return Value::error("malformed tag");
    int number = static_cast<int>(tag >> 3), wt = static_cast<int>(tag & 7);
    const FieldType* f = nullptr;
    for (const auto& field : mt->second.fields)
      if (field.number == number) f = &field;
    if (!f) {
      uint64_t skip;
      std::string_view b;
      bool ok = wt == 0 ? r.varint(skip) : wt == 1 ? r.fixed(8, skip) : wt == 5 ? r.fixed(4, skip) : wt == 2 && r.bytes(b);
      if (!ok) return Value::error("malformed unknown field");
      continue;
    }
    if (f->kind == FieldType::Kind::kList) {
      const FieldType& e = *f->element;
      bool packable = e.kind != FieldType::Kind::kString && e.kind != FieldType::Kind::kBytes &&
                      e.kind != FieldType::Kind::kMessage;
      if (packable && wt == 2) {
        std::string_view b;
        if (!r.bytes(b)) return Value::error("malformed packed field");
        Reader inner{b};
        int inner_wt = (e.kind == FieldType::Kind::kDouble) ? 1 : (e.kind == FieldType::Kind::kFloat) ? 5 : 0;
        while (inner.pos < b.size()) {
          Value v = scalar(e.kind, inner_wt, inner);
          if (v.is_error()) return v;
          lists[f->name].push_back(std::move(v));
        }
        continue;
      }
      Value v = element(e, wt, r, env, depth);
      if (v.is_error()) return v;
      lists[f->name].push_back(std::move(v));
      continue;
    }
    if (f->kind == FieldType::Kind::kMap) {
      std::string_view b;
      if (wt != 2 || !r.bytes(b)) return Value::error("malformed map entry");
      Reader entry{b};
      Value key, value;
      while (entry.pos < b.size()) {
        uint64_t etag;
        if (!entry.varint(etag)) return Value::error("malformed map entry");
        const FieldType& ft = (etag >> 3) == 1 ? *f->key : *f->element;
        Value v = element(ft, static_cast<int>(etag & 7), entry, env, depth);
        if (v.is_error()) return v;
        ((etag >> 3) == 1 ? key : value) = std::move(v);
      }
      maps[f->name].insert(std::move(key), std::move(value));
      continue;
    }
    Value v = element(*f, wt, r, env, depth);
    if (v.is_error()) return v;
    set[f->name] = std::move(v);
  }
  Message m;
  m.type_name = type;
  for (const auto& field : mt->second.fields) {
    if (auto it = set.find(field.name); it != set.end()) m.fields.emplace_back(field.name, it->second);
    if (auto it = lists.find(field.name); it != lists.end()) m.fields.emplace_back(field.name, Value::list(it->second));
    if (auto it = maps.find(field.name); it != maps.end()) m.fields.emplace_back(field.name, Value::map(it->second));
  }
  return Value::message(std::move(m));
}

}  // namespace

Value unpack_any(const std::string& type_url, const std::string& payload, const Environment::State& env, int depth) {
  std::string type = type_url.substr(type_url.rfind('/') == std::string::npos ? 0 : type_url.rfind('/') + 1);
  if (type.empty() || (!env.messages.count(type) && type.rfind("google.protobuf.", 0) != 0)) {
    // Without a type to decode into, an Any compares by its bytes.
    Message m;
    m.type_name = "google.protobuf.Any";
    m.fields.emplace_back("type_url", Value::string(type_url));
    m.fields.emplace_back("value", Value::bytes(payload));
    return Value::message(std::move(m));
  }
  return decode_message(type, payload, env, depth);
}

}  // namespace vouch::cel
