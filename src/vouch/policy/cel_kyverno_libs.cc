// Kyverno's small CEL libraries of the ValidatingPolicy environment (kyverno/sdk
// extensions/cel/libs): hash, math.round, user, json and yaml.parse; and CEL values as JSON.
#include <cmath>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "cel_internal.h"
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

}  // namespace

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
}

}  // namespace vouch::policy::cel_internal
