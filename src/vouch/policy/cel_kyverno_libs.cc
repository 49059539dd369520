// Kyverno's small CEL libraries of the ValidatingPolicy environment (kyverno/sdk
// extensions/cel/libs): hash, math.round, user, json, yaml.parse, time, transform, gzip, x509
// and random; and CEL values as JSON.
#include <zlib.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "cel_internal.h"
#include "kyverno_internal.h"
#include "regex_generator.h"
#include "vouch/base/bytes.h"
#include "vouch/policy/document.h"
#include "vouch/policy/jmespath.h"

namespace vouch::policy::cel_internal {
namespace {

using Args = std::span<const cel::Value>;
using K = cel::Kind;


// The hex digest of a string's bytes, as Go's crypto/{sha1,sha256,md5} and hex.EncodeToString.
cel::Value hex_digest(const EVP_MD* md, const std::string& text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out, &size, md, nullptr) != 1) return cel::Value::error("digest failed");
  return cel::Value::string(hex_encode(ByteView(out, size)));
}

// Kyverno's parseServiceAccount: "system:serviceaccount:<namespace>:<name>" as {namespace, name};
// anything else is {} (Go's omitempty leaves out the empty fields).
cel::Value service_account(const std::string& user) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  cel::Map out;
  if (user.starts_with(kPrefix)) {
    std::string_view rest = std::string_view(user).substr(kPrefix.size());
    if (size_t sep = rest.find(':'); sep != std::string_view::npos) {
      if (sep > 0) out.insert(cel::Value::string("namespace"), cel::Value::string(std::string(rest.substr(0, sep))));
      if (sep + 1 < rest.size()) out.insert(cel::Value::string("name"), cel::Value::string(std::string(rest.substr(sep + 1))));
    }
  }
  return cel::Value::map(std::move(out));
}

// json.unmarshal: a JSON text (boost::json's parser bounds its depth).
cel::Value unmarshalled(const std::string& text) {
  std::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return cel::Value::error(fmt::format("json.unmarshal: {}", ec.message()));
  return cel::from_json(v);
}

// yaml.parse: one YAML document, read with the policy documents' limits.
cel::Value parsed_yaml(const std::string& text) {
  auto doc = parse_document(text, "yaml.parse");
  if (!doc.ok()) return cel::Value::error(doc.error().message);
  return cel::from_json(*doc);
}

// json.marshal: the value as Go's encoding/json writes it (keys sorted, '<', '>', '&', U+2028 and
// U+2029 escaped).
cel::Value marshalled(const cel::Value& v) {
  auto json = to_json(v);
  if (!json.ok()) return cel::Value::error(fmt::format("json.marshal: {}", json.error().message));
  auto text = jmespath::to_json_text(*json);
  if (!text.ok()) return cel::Value::error(fmt::format("json.marshal: {}", text.error().message));
  std::string out;
  out.reserve(text->size());
  for (size_t i = 0; i < text->size(); ++i) {
    const char c = (*text)[i];
    // Outside strings JSON has none of these, so every one is inside a string.
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xe2' && i + 2 < text->size() && (*text)[i + 1] == '\x80' &&
             ((*text)[i + 2] == '\xa8' || (*text)[i + 2] == '\xa9')) {
      out += (*text)[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";  // U+2028, U+2029 in UTF-8
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return cel::Value::string(std::move(out));
}

// time.truncate: Go's Time.Truncate, which rounds down to a multiple of the duration since
// Go's zero time (January 1, year 1, UTC); a duration that is not positive changes nothing.
cel::Value truncated(cel::Timestamp t, cel::Duration d) {
  const __int128 span = static_cast<__int128>(d.seconds) * 1'000'000'000 + d.nanos;
  if (span <= 0) return cel::Value::timestamp(t);
  constexpr int64_t kZeroToUnix = 62'135'596'800;  // seconds from year 1 to 1970
  const __int128 since_zero = (static_cast<__int128>(t.seconds) + kZeroToUnix) * 1'000'000'000 + t.nanos;
  __int128 rem = since_zero % span;
  if (rem < 0) rem += span;
  const __int128 unix_nanos = static_cast<__int128>(t.seconds) * 1'000'000'000 + t.nanos - rem;
  __int128 secs = unix_nanos / 1'000'000'000;
  __int128 nanos = unix_nanos % 1'000'000'000;
  if (nanos < 0) nanos += 1'000'000'000, secs -= 1;
  return cel::Value::timestamp({static_cast<int64_t>(secs), static_cast<int32_t>(nanos)});
}

// time.toCron: "minute hour day month weekday" of the time in UTC.
cel::Value cron_of(cel::Timestamp t) {
  using namespace std::chrono;
  const sys_seconds at{seconds(t.seconds)};
  const auto day = floor<days>(at);
  const year_month_day ymd{day};
  const hh_mm_ss hms{at - day};
  const weekday wd{day};
  return cel::Value::string(fmt::format("{} {} {} {} {}", hms.minutes().count(), hms.hours().count(),
                                        static_cast<unsigned>(ymd.day()), static_cast<unsigned>(ymd.month()),
                                        wd.c_encoding()));
}

// transform.listObjToMap(keys, values, keyName, valueName): {keys[i][keyName]: values[i][valueName]}.
cel::Value list_objects_to_map(Args a) {
  const cel::List& keys = a[0].as_list();
  const cel::List& values = a[1].as_list();
  if (keys.size() != values.size())
    return cel::Value::error(fmt::format("listObjToMap must take lists of equal length. list1: {}, list2: {}", keys.size(),
                                         values.size()));
  const cel::Value key_name = cel::Value::string(a[2].as_string());
  const cel::Value value_name = cel::Value::string(a[3].as_string());
  cel::Map out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].is(K::kMap)) return cel::Value::error("listObjToMap: the key object list holds a non-object");
    const cel::Value* key = keys[i].as_map().find(key_name);
    if (!key || !key->is(K::kString))
      return cel::Value::error("the passed key name cannot be handled as a string in the key object list");
    if (!values[i].is(K::kMap))
      return cel::Value::error("object cannot be handled as a map string to any in the value object list");
    const cel::Value* value = values[i].as_map().find(value_name);
    out.insert(*key, value ? *value : cel::Value::null());
  }
  return cel::Value::map(std::move(out));
}

constexpr size_t kMaxInflated = 16 * 1024 * 1024;

// gzip.decompress: the text a gzip stream holds (bounded: a small input cannot inflate past 16 MiB).
cel::Value gunzipped(const std::string& data) {
  if (data.empty()) return cel::Value::error("gzip: EOF");
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return cel::Value::error("gzip: inflate set-up failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  // Members one after another are one content, as Go's gzip reader reads them; anything after
  // a member that is not another member is an error.
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > kMaxInflated) {
      inflateEnd(&z);
      return cel::Value::error("gzip.decompress: the content exceeds 16 MiB");
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) {
        inflateEnd(&z);
        return cel::Value::string(std::move(out));
      }
      if (inflateReset(&z) != Z_OK) break;
    } else if (z.avail_in == 0 && z.avail_out != 0) {
      break;  // truncated
    }
  }
  inflateEnd(&z);
  return cel::Value::error("gzip: invalid or truncated stream");
}

// gzip.compress: Go's gzip writer's header (no time, no name, OS unknown) around a deflate stream.
cel::Value gzipped(const cel::Value& v) {
  if (!v.is(K::kString)) return cel::Value::error(fmt::format("gzip.compress: expected a string, got {}", v.type_name()));
  const std::string& text = v.as_string();
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return cel::Value::error("gzip: deflate set-up failed");
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  std::string body(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(body.data());
  z.avail_out = static_cast<uInt>(body.size());
  int rc = deflate(&z, Z_FINISH);
  body.resize(body.size() - z.avail_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return cel::Value::error("gzip: deflate failed");
  out += body;
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
  for (uint32_t word : {static_cast<uint32_t>(crc), static_cast<uint32_t>(text.size())})
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((word >> (8 * i)) & 0xff));
  return cel::Value::bytes(std::move(out));
}

// x509.decode: Kyverno encodes the certificate to JSON and decodes it into a map, so its
// numbers are doubles.
cel::Value x509_decoded(const std::string& pem) {
  auto decoded = jmespath::kyverno::cel_x509_decode(pem);
  if (!decoded.ok()) return cel::Value::error(decoded.error().message);
  numbers_as_doubles(*decoded);
  return cel::from_json(*decoded);
}

cel::Value random_matching(const std::string& pattern) {
  auto out = generate_matching(pattern);
  if (!out.ok()) return cel::Value::error(out.error().message);
  return cel::Value::string(std::move(*out));
}

}  // namespace

void numbers_as_doubles(boost::json::value& v) {
  if (v.is_int64()) v = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) v = static_cast<double>(v.get_uint64());
  else if (v.is_array()) for (auto& x : v.get_array()) numbers_as_doubles(x);
  else if (v.is_object()) for (auto& [k, x] : v.get_object()) numbers_as_doubles(x);
}

Result<boost::json::value> to_json(const cel::Value& v, int depth) {
  if (depth > 64) return invalid_input("value nested too deeply");
  switch (v.kind()) {
    case cel::Kind::kNull: return boost::json::value();
    case cel::Kind::kBool: return boost::json::value(v.as_bool());
    case cel::Kind::kInt: return boost::json::value(v.as_int());
    case cel::Kind::kUint: return boost::json::value(v.as_uint());
    case cel::Kind::kDouble: return boost::json::value(v.as_double());
    case cel::Kind::kString: return boost::json::value(v.as_string());
    case cel::Kind::kList: {
      boost::json::array a;
      for (const auto& x : v.as_list()) {
        VOUCH_ASSIGN_OR_RETURN(auto j, to_json(x, depth + 1));
        a.push_back(std::move(j));
      }
      return boost::json::value(std::move(a));
    }
    case cel::Kind::kMap: {
      boost::json::object o;
      for (const auto& [k, x] : v.as_map().entries()) {
        if (!k.is(cel::Kind::kString)) return invalid_input("map keys must be strings");
        VOUCH_ASSIGN_OR_RETURN(auto j, to_json(x, depth + 1));
        o[k.as_string()] = std::move(j);
      }
      return boost::json::value(std::move(o));
    }
    case cel::Kind::kError: return invalid_input(v.error_message());
    default: return invalid_input(fmt::format("a {} cannot be converted to JSON", v.type_name()));
  }
}

void add_kyverno_libraries(cel::Environment& env) {
  for (std::string prefix : {"", "hash."}) {
    env.add_overload({.name = prefix + "sha1", .args = {K::kString}, .fn = [](Args a) { return hex_digest(EVP_sha1(), a[0].as_string()); }});
    env.add_overload({.name = prefix + "sha256", .args = {K::kString}, .fn = [](Args a) { return hex_digest(EVP_sha256(), a[0].as_string()); }});
    env.add_overload({.name = prefix + "md5", .args = {K::kString}, .fn = [](Args a) { return hex_digest(EVP_md5(), a[0].as_string()); }});
  }
  // math.round(value, precision): rounded half away from zero at 10^-precision, as Go's math.Round.
  env.add_overload({.name = "math.round", .args = {K::kDouble, K::kInt}, .fn = [](Args a) {
                      const double shift = std::pow(10.0, static_cast<double>(a[1].as_int()));
                      return cel::Value::dbl(std::round(a[0].as_double() * shift) / shift);
                    }});
  for (std::string name : {"parseServiceAccount", "user.parseServiceAccount"})
    env.add_overload({.name = name, .args = {K::kString}, .fn = [](Args a) { return service_account(a[0].as_string()); }});
  env.add_overload({.name = "json.unmarshal", .args = {K::kString}, .fn = [](Args a) { return unmarshalled(a[0].as_string()); }});
  env.add_overload({.name = "yaml.parse", .args = {K::kString}, .fn = [](Args a) { return parsed_yaml(a[0].as_string()); }});
  env.add_overload({.name = "json.marshal", .args = {std::nullopt}, .fn = [](Args a) { return marshalled(a[0]); }});
  env.add_overload({.name = "time.now", .args = {}, .fn = [](Args) {
                      auto now = std::chrono::system_clock::now().time_since_epoch();
                      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
                      return cel::Value::timestamp({ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000)});
                    }});
  env.add_overload({.name = "time.truncate", .args = {K::kTimestamp, K::kDuration},
                    .fn = [](Args a) { return truncated(a[0].as_timestamp(), a[1].as_duration()); }});
  env.add_overload({.name = "time.toCron", .args = {K::kTimestamp}, .fn = [](Args a) { return cron_of(a[0].as_timestamp()); }});
  for (std::string name : {"listObjToMap", "transform.listObjToMap"})
    env.add_overload({.name = name, .args = {K::kList, K::kList, K::kString, K::kString}, .fn = list_objects_to_map});
  env.add_overload({.name = "gzip.decompress", .args = {K::kBytes}, .fn = [](Args a) { return gunzipped(a[0].as_bytes()); }});
  env.add_overload({.name = "gzip.compress", .args = {std::nullopt}, .fn = [](Args a) { return gzipped(a[0]); }});
  env.add_overload({.name = "x509.decode", .args = {K::kString}, .fn = [](Args a) { return x509_decoded(a[0].as_string()); }});
  for (std::string name : {"random", "random.random"}) {
    env.add_overload({.name = name, .args = {K::kString}, .fn = [](Args a) { return random_matching(a[0].as_string()); }});
    env.add_overload({.name = name, .args = {}, .fn = [](Args) { return random_matching("[0-9a-z]{8}"); }});
  }
}

}  // namespace vouch::policy::cel_internal
