// ValidatingPolicy's Envoy and HTTP evaluation modes (kyverno-authz): the policy judges an
// authorization request (Envoy's ext_authz CheckRequest, or kyverno-authz's HTTP CheckRequest)
// and its validations answer with a response (allowed or denied) or null; the first response
// decides. The requests are typed as their protobuf / Go types are, so unset fields read their
// defaults; unknown fields are refused, as protojson refuses them.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cmath>

#include "cel_internal.h"
#include "vouch/base/bytes.h"

namespace vouch::policy::cel_internal {
namespace {

namespace bj = boost::json;
using Args = std::span<const cel::Value>;
using K = cel::Kind;
using FK = cel::FieldType::Kind;

// Message type names, as kyverno-authz's environment names them.
constexpr const char* kCheckRequest = "envoy.service.auth.v3.CheckRequest";
constexpr const char* kAttributeContext = "envoy.service.auth.v3.AttributeContext";
constexpr const char* kPeer = "envoy.service.auth.v3.AttributeContext.Peer";
constexpr const char* kRequest = "envoy.service.auth.v3.AttributeContext.Request";
constexpr const char* kHttpRequest = "envoy.service.auth.v3.AttributeContext.HttpRequest";
constexpr const char* kTlsSession = "envoy.service.auth.v3.AttributeContext.TLSSession";
constexpr const char* kAddress = "envoy.config.core.v3.Address";
constexpr const char* kSocketAddress = "envoy.config.core.v3.SocketAddress";
constexpr const char* kPipe = "envoy.config.core.v3.Pipe";
constexpr const char* kMetadata = "envoy.config.core.v3.Metadata";
constexpr const char* kHeaderMap = "envoy.config.core.v3.HeaderMap";
constexpr const char* kHeaderValue = "envoy.config.core.v3.HeaderValue";
constexpr const char* kHeaderValueOption = "envoy.config.core.v3.HeaderValueOption";
constexpr const char* kQueryParameter = "envoy.config.core.v3.QueryParameter";
constexpr const char* kOkHttpResponse = "envoy.service.auth.v3.OkHttpResponse";
constexpr const char* kDeniedHttpResponse = "envoy.service.auth.v3.DeniedHttpResponse";
constexpr const char* kCheckResponse = "envoy.service.auth.v3.CheckResponse";
constexpr const char* kHttpStatus = "envoy.type.v3.HttpStatus";
constexpr const char* kRpcStatus = "google.rpc.Status";

constexpr const char* kHttpCheckRequest = "http.CheckRequest";
constexpr const char* kHttpAttributes = "http.CheckRequestAttributes";
constexpr const char* kHttpResponse = "http.CheckResponse";
constexpr const char* kHttpOk = "http.CheckResponseOk";
constexpr const char* kHttpDenied = "http.CheckResponseDenied";
constexpr const char* kJwtToken = "jwt.Token";

cel::FieldType scalar(std::string name, FK kind) {
  cel::FieldType f;
  f.name = std::move(name);
  f.kind = kind;
  return f;
}
cel::FieldType message(std::string name, std::string type) {
  cel::FieldType f = scalar(std::move(name), FK::kMessage);
  f.message_type = std::move(type);
  return f;
}
cel::FieldType repeated(std::string name, cel::FieldType element) {
  cel::FieldType f = scalar(std::move(name), FK::kList);
  f.element = std::make_shared<cel::FieldType>(std::move(element));
  return f;
}
cel::FieldType map_of(std::string name, cel::FieldType element) {
  cel::FieldType f = scalar(std::move(name), FK::kMap);
  f.key = std::make_shared<cel::FieldType>(scalar("key", FK::kString));
  f.element = std::make_shared<cel::FieldType>(std::move(element));
  return f;
}
cel::FieldType oneof(cel::FieldType f) {
  f.in_oneof = true;
  return f;
}

const std::vector<cel::MessageType>& authz_types() {
  static const std::vector<cel::MessageType> types = {
      {kCheckRequest, false, {message("attributes", kAttributeContext)}},
      {kAttributeContext,
       false,
       {message("source", kPeer), message("destination", kPeer), message("request", kRequest),
        map_of("context_extensions", scalar("", FK::kString)), message("metadata_context", kMetadata),
        message("route_metadata_context", kMetadata), message("tls_session", kTlsSession)}},
      {kPeer,
       false,
       {message("address", kAddress), scalar("service", FK::kString), map_of("labels", scalar("", FK::kString)),
        scalar("principal", FK::kString), scalar("certificate", FK::kString)}},
      {kRequest, false, {message("time", "google.protobuf.Timestamp"), message("http", kHttpRequest)}},
      {kHttpRequest,
       false,
       {scalar("id", FK::kString), scalar("method", FK::kString), map_of("headers", scalar("", FK::kString)),
        message("header_map", kHeaderMap), scalar("path", FK::kString), scalar("host", FK::kString),
        scalar("scheme", FK::kString), scalar("query", FK::kString), scalar("fragment", FK::kString),
        scalar("size", FK::kInt64), scalar("protocol", FK::kString), scalar("body", FK::kString),
        scalar("raw_body", FK::kBytes)}},
      {kTlsSession, false, {scalar("sni", FK::kString)}},
      {kAddress, false, {oneof(message("socket_address", kSocketAddress)), oneof(message("pipe", kPipe))}},
      {kSocketAddress,
       false,
       {scalar("protocol", FK::kEnum), scalar("address", FK::kString), oneof(scalar("port_value", FK::kUint32)),
        oneof(scalar("named_port", FK::kString)), scalar("resolver_name", FK::kString), scalar("ipv4_compat", FK::kBool)}},
      {kPipe, false, {scalar("path", FK::kString), scalar("mode", FK::kUint32)}},
      {kMetadata, false, {map_of("filter_metadata", message("", "google.protobuf.Struct"))}},
      {kHeaderMap, false, {repeated("headers", message("", kHeaderValue))}},
      {kHeaderValue, false, {scalar("key", FK::kString), scalar("value", FK::kString), scalar("raw_value", FK::kBytes)}},
      {kHeaderValueOption,
       false,
       {message("header", kHeaderValue), scalar("append_action", FK::kEnum), scalar("keep_empty_value", FK::kBool)}},
      {kQueryParameter, false, {scalar("key", FK::kString), scalar("value", FK::kString)}},
      {kOkHttpResponse,
       false,
       {repeated("headers", message("", kHeaderValueOption)), repeated("headers_to_remove", scalar("", FK::kString)),
        repeated("response_headers_to_add", message("", kHeaderValueOption)),
        repeated("query_parameters_to_set", message("", kQueryParameter)),
        repeated("query_parameters_to_remove", scalar("", FK::kString))}},
      {kHttpStatus, false, {scalar("code", FK::kEnum)}},
      {kDeniedHttpResponse,
       false,
       {message("status", kHttpStatus), repeated("headers", message("", kHeaderValueOption)), scalar("body", FK::kString)}},
      {kRpcStatus, false, {scalar("code", FK::kInt32), scalar("message", FK::kString)}},
      {kCheckResponse,
       false,
       {message("status", kRpcStatus), oneof(message("denied_response", kDeniedHttpResponse)),
        oneof(message("ok_response", kOkHttpResponse)), message("dynamic_metadata", "google.protobuf.Struct")}},
      {kHttpCheckRequest, false, {message("attributes", kHttpAttributes)}},
      {kHttpAttributes,
       false,
       {scalar("method", FK::kString), map_of("header", repeated("", scalar("", FK::kString))), scalar("host", FK::kString),
        scalar("protocol", FK::kString), scalar("contentLength", FK::kInt64), scalar("body", FK::kBytes),
        scalar("scheme", FK::kString), scalar("path", FK::kString), map_of("query", repeated("", scalar("", FK::kString))),
        scalar("fragment", FK::kString)}},
      {kHttpResponse, false, {message("ok", kHttpOk), message("denied", kHttpDenied)}},
      {kHttpOk, false, {}},
      {kHttpDenied, false, {scalar("reason", FK::kString)}},
      {kJwtToken, false, {message("Claims", "google.protobuf.Struct"), scalar("Valid", FK::kBool)}},
  };
  return types;
}

const cel::MessageType* type_named(std::string_view name) {
  for (const auto& t : authz_types())
    if (t.name == name) return &t;
  return nullptr;
}

// protojson's lowerCamelCase name of a proto field ("raw_body" -> "rawBody").
std::string json_name(std::string_view proto_name) {
  std::string out;
  bool upper = false;
  for (char c : proto_name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

Result<cel::Value> from_payload(const cel::FieldType& f, const bj::value& v, const std::string& where, bool proto, int depth);

// An integer as protojson takes one: a JSON integer, or a decimal string of one ("-12").
std::optional<int64_t> integer_of(const bj::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return v.get_uint64() <= static_cast<uint64_t>(INT64_MAX) ? std::optional<int64_t>(static_cast<int64_t>(v.get_uint64())) : std::nullopt;
  if (!v.is_string()) return std::nullopt;
  std::string_view s = v.get_string();
  size_t digits = s.starts_with('-') ? 1 : 0;
  if (s.size() == digits || s.size() > 20) return std::nullopt;
  for (size_t i = digits; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  try {
    return std::stoll(std::string(s));
  } catch (...) {
    return std::nullopt;  // out of range
  }
}

Result<cel::Value> message_from_payload(const std::string& type, const bj::value& v, const std::string& where, bool proto,
                                        int depth) {
  if (depth > 32) return invalid_input(fmt::format("{}: nested too deeply", where));
  if (type == "google.protobuf.Timestamp") {
    if (!v.is_string()) return invalid_input(fmt::format("{}: expected an RFC 3339 timestamp", where));
    auto t = cel::parse_timestamp(v.get_string());
    if (!t.ok()) return invalid_input(fmt::format("{}: {}", where, t.error().message));
    return cel::Value::timestamp(*t);
  }
  if (type == "google.protobuf.Struct") {
    if (!v.is_object()) return invalid_input(fmt::format("{}: expected an object", where));
    return cel::from_json(v);
  }
  const cel::MessageType* mt = type_named(type);
  if (!mt) return invalid_input(fmt::format("{}: {} is not supported", where, type));
  if (!v.is_object()) return invalid_input(fmt::format("{}: expected an object", where));
  cel::Message m;
  m.type_name = type;
  bool oneof_set = false;  // each message here has at most one oneof
  for (const auto& [key, value] : v.get_object()) {
    const cel::FieldType* field = nullptr;
    for (const auto& f : mt->fields)
      if (f.name == key || (proto && json_name(f.name) == key)) field = &f;
    if (!field) return invalid_input(fmt::format("{}: unknown field {:?}", where, std::string(key)));
    // As protojson: a field given twice (by both its names) or two members of a oneof is an error.
    if (m.find(field->name)) return invalid_input(fmt::format("{}: field {} given twice", where, field->name));
    if (value.is_null()) continue;
    if (field->in_oneof) {
      if (oneof_set) return invalid_input(fmt::format("{}: more than one member of a oneof is set", where));
      oneof_set = true;
    }
    VOUCH_ASSIGN_OR_RETURN(cel::Value c, from_payload(*field, value, where + "." + std::string(key), proto, depth + 1));
    m.fields.emplace_back(field->name, std::move(c));
  }
  return cel::Value::message(std::move(m));
}

Result<cel::Value> from_payload(const cel::FieldType& f, const bj::value& v, const std::string& where, bool proto, int depth) {
  auto bad = [&](std::string_view what) { return invalid_input(fmt::format("{}: expected {}", where, what)); };
  switch (f.kind) {
    case FK::kString:
      if (!v.is_string()) return bad("a string");
      return cel::Value::string(std::string(v.get_string()));
    case FK::kBool:
      if (!v.is_bool()) return bad("a boolean");
      return cel::Value::boolean(v.get_bool());
    case FK::kInt32: case FK::kInt64: case FK::kEnum: {
      // protojson takes integers as numbers or decimal strings; enums also by name, which vouch
      // maps for the one enum read here (SocketAddress.protocol: TCP or UDP).
      if (f.kind == FK::kEnum && v.is_string()) {
        if (v.get_string() == "TCP") return cel::Value::integer(0);
        if (v.get_string() == "UDP") return cel::Value::integer(1);
        return bad("a known enum value");
      }
      auto n = integer_of(v);
      if (!n || (f.kind != FK::kInt64 && (*n < INT32_MIN || *n > INT32_MAX))) return bad("an integer in range");
      return cel::Value::integer(*n);
    }
    case FK::kUint32: case FK::kUint64: {
      // (The one unsigned field read here, port_value, is 32 bits.)
      auto n = integer_of(v);
      if (!n || *n < 0 || (f.kind == FK::kUint32 && *n > static_cast<int64_t>(UINT32_MAX)))
        return bad("an unsigned integer in range");
      return cel::Value::uint(static_cast<uint64_t>(*n));
    }
    case FK::kBytes: {
      if (!v.is_string()) return bad("base64 bytes");
      auto decoded = base64_decode(v.get_string());
      if (!decoded.ok()) return bad("base64 bytes");
      return cel::Value::bytes(std::string(as_chars(*decoded)));
    }
    case FK::kFloat: case FK::kDouble:
      if (!v.is_number()) return bad("a number");
      return cel::Value::dbl(v.to_number<double>());
    case FK::kMessage: return message_from_payload(f.message_type, v, where, proto, depth);
    case FK::kList: {
      if (!v.is_array()) return bad("a list");
      cel::List out;
      for (size_t i = 0; i < v.get_array().size(); ++i) {
        VOUCH_ASSIGN_OR_RETURN(cel::Value c, from_payload(*f.element, v.get_array()[i], fmt::format("{}[{}]", where, i), proto, depth + 1));
        out.push_back(std::move(c));
      }
      return cel::Value::list(std::move(out));
    }
    case FK::kMap: {
      if (!v.is_object()) return bad("an object");
      cel::Map out;
      for (const auto& [k, x] : v.get_object()) {
        VOUCH_ASSIGN_OR_RETURN(cel::Value c, from_payload(*f.element, x, where + "." + std::string(k), proto, depth + 1));
        out.insert(cel::Value::string(std::string(k)), std::move(c));
      }
      return cel::Value::map(std::move(out));
    }
  }
  return bad("a supported value");
}

// Builders for the response messages.
cel::Value msg(const char* type, std::vector<std::pair<std::string, cel::Value>> fields = {}) {
  cel::Message m;
  m.type_name = type;
  m.fields = std::move(fields);
  return cel::Value::message(std::move(m));
}

bool is_msg(const cel::Value& v, const char* type) { return v.is(K::kMessage) && v.as_message().type_name == type; }

// The message with `value` appended to its repeated field `field`.
cel::Value appended(const cel::Value& m, const std::string& field, cel::Value value) {
  cel::Message out = m.as_message();
  for (auto& [name, v] : out.fields) {
    if (name != field) continue;
    cel::List l = v.as_list();
    l.push_back(std::move(value));
    v = cel::Value::list(std::move(l));
    return cel::Value::message(std::move(out));
  }
  out.fields.emplace_back(field, cel::Value::list({std::move(value)}));
  return cel::Value::message(std::move(out));
}

cel::Value with_field(const cel::Value& m, const std::string& field, cel::Value value) {
  cel::Message out = m.as_message();
  for (auto& [name, v] : out.fields) {
    if (name == field) {
      v = std::move(value);
      return cel::Value::message(std::move(out));
    }
  }
  out.fields.emplace_back(field, std::move(value));
  return cel::Value::message(std::move(out));
}

cel::Value header_option(const std::string& key, const std::string& value) {
  return msg(kHeaderValueOption, {{"header", msg(kHeaderValue, {{"key", cel::Value::string(key)}, {"value", cel::Value::string(value)}})}});
}

// A receiver overload on one message type (others: no such overload, so the next may try).
void on(cel::Environment& env, std::string name, const char* type, std::vector<std::optional<K>> more,
        std::function<cel::Value(Args)> fn) {
  std::vector<std::optional<K>> args{K::kMessage};
  args.insert(args.end(), more.begin(), more.end());
  env.add_overload({.name = std::move(name), .receiver = true, .args = std::move(args), .fn = [type, fn](Args a) {
                      if (!is_msg(a[0], type)) return cel::Value::no_overload("receiver");
                      return fn(a);
                    }});
}

// http.CheckRequestAttributes.Header(name): the values of a header, found as Go's
// textproto.MIMEHeader finds them (by canonical name).
std::string canonical_header(std::string_view key) {
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    else if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    upper = c == '-';
  }
  return out;
}

// jwt.Decode(token, key) with a string key (kyverno-authz pkg/cel/libs/jwt): the key is an HMAC
// secret (jwk.Import of raw bytes makes a symmetric key), so the token must be HS256, HS384 or
// HS512 and its signature must verify, else the call is an error. Valid is whether exp, nbf and
// iat hold now; Claims are the token's claims with numbers as doubles (protobuf Struct).
cel::Value jwt_decode(const std::string& token, const std::string& key) {
  size_t first = token.find('.');
  size_t second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos)
    return cel::Value::error("jwt.Decode: not a compact JWS (three dot-separated parts)");
  auto header_bytes = base64url_decode(std::string_view(token).substr(0, first));
  auto payload_bytes = base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
  auto signature = base64url_decode(std::string_view(token).substr(second + 1));
  if (!header_bytes.ok() || !payload_bytes.ok() || !signature.ok()) return cel::Value::error("jwt.Decode: invalid base64url");
  std::error_code ec;
  bj::value header = bj::parse(as_chars(*header_bytes), ec);
  if (ec || !header.is_object()) return cel::Value::error("jwt.Decode: the header is not a JSON object");
  const bj::value* alg = header.get_object().if_contains("alg");
  const EVP_MD* md = nullptr;
  if (alg && *alg == "HS256") md = EVP_sha256();
  else if (alg && *alg == "HS384") md = EVP_sha384();
  else if (alg && *alg == "HS512") md = EVP_sha512();
  if (!md) return cel::Value::error("jwt.Decode: could not verify message using any of the signatures or keys");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  std::string_view signing_input = std::string_view(token).substr(0, second);
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(signing_input.data()),
            signing_input.size(), mac, &mac_len) ||
      mac_len != signature->size() || CRYPTO_memcmp(mac, signature->data(), mac_len) != 0)
    return cel::Value::error("jwt.Decode: could not verify message using any of the signatures or keys");
  bj::value claims = bj::parse(as_chars(*payload_bytes), ec);
  if (ec || !claims.is_object()) return cel::Value::error("jwt.Decode: the claims are not a JSON object");
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  bool valid = true;
  auto number = [&](const char* name) -> std::optional<double> {
    const bj::value* v = claims.get_object().if_contains(name);
    if (!v) return std::nullopt;
    if (!v->is_number()) {
      valid = false;
      return std::nullopt;
    }
    return v->to_number<double>();
  };
  if (auto exp = number("exp"); exp && static_cast<double>(now) >= *exp) valid = false;
  if (auto nbf = number("nbf"); nbf && static_cast<double>(now) < *nbf) valid = false;
  if (auto iat = number("iat"); iat && static_cast<double>(now) < *iat) valid = false;
  // Struct numbers are doubles; the time claims are whole seconds.
  for (const char* t : {"exp", "nbf", "iat"})
    if (bj::value* v = claims.get_object().if_contains(t); v && v->is_number()) *v = std::floor(v->to_number<double>());
  numbers_as_doubles(claims);
  // A single audience is read as a list, as the JWT library reads it.
  if (bj::value* aud = claims.get_object().if_contains("aud"); aud && aud->is_string()) *aud = bj::array{*aud};
  return msg(kJwtToken, {{"Claims", cel::from_json(claims)}, {"Valid", cel::Value::boolean(valid)}});
}

}  // namespace

void add_authz_libraries(cel::Environment& env) {
  for (const auto& t : authz_types()) env.add_message_type(t);
  // Envoy (kyverno-authz pkg/cel/libs/authz/envoy).
  env.add_overload({.name = "envoy.Allowed", .args = {}, .fn = [](Args) { return msg(kOkHttpResponse); }});
  env.add_overload({.name = "envoy.Denied", .args = {K::kInt}, .fn = [](Args a) {
                      return msg(kDeniedHttpResponse, {{"status", msg(kHttpStatus, {{"code", a[0]}})}});
                    }});
  env.add_overload({.name = "envoy.Header", .args = {K::kString, K::kString},
                    .fn = [](Args a) { return header_option(a[0].as_string(), a[1].as_string()); }});
  env.add_overload({.name = "envoy.QueryParam", .args = {K::kString, K::kString}, .fn = [](Args a) {
                      return msg(kQueryParameter, {{"key", a[0]}, {"value", a[1]}});
                    }});
  on(env, "WithBody", kDeniedHttpResponse, {K::kString}, [](Args a) { return with_field(a[0], "body", a[1]); });
  for (const char* type : {kOkHttpResponse, kDeniedHttpResponse}) {
    on(env, "WithHeader", type, {K::kMessage}, [](Args a) {
      if (!is_msg(a[1], kHeaderValueOption)) return cel::Value::no_overload("WithHeader");
      return appended(a[0], "headers", a[1]);
    });
    on(env, "WithHeader", type, {K::kString, K::kString},
       [](Args a) { return appended(a[0], "headers", header_option(a[1].as_string(), a[2].as_string())); });
  }
  on(env, "WithoutHeader", kOkHttpResponse, {K::kString}, [](Args a) { return appended(a[0], "headers_to_remove", a[1]); });
  on(env, "WithResponseHeader", kOkHttpResponse, {K::kMessage}, [](Args a) {
    if (!is_msg(a[1], kHeaderValueOption)) return cel::Value::no_overload("WithResponseHeader");
    return appended(a[0], "response_headers_to_add", a[1]);
  });
  on(env, "WithResponseHeader", kOkHttpResponse, {K::kString, K::kString}, [](Args a) {
    return appended(a[0], "response_headers_to_add", header_option(a[1].as_string(), a[2].as_string()));
  });
  on(env, "WithQueryParam", kOkHttpResponse, {K::kMessage}, [](Args a) {
    if (!is_msg(a[1], kQueryParameter)) return cel::Value::no_overload("WithQueryParam");
    return appended(a[0], "query_parameters_to_set", a[1]);
  });
  on(env, "WithQueryParam", kOkHttpResponse, {K::kString, K::kString}, [](Args a) {
    return appended(a[0], "query_parameters_to_set", msg(kQueryParameter, {{"key", a[1]}, {"value", a[2]}}));
  });
  on(env, "WithoutQueryParam", kOkHttpResponse, {K::kString},
     [](Args a) { return appended(a[0], "query_parameters_to_remove", a[1]); });
  on(env, "KeepEmptyValue", kHeaderValueOption, {}, [](Args a) { return with_field(a[0], "keep_empty_value", cel::Value::boolean(true)); });
  on(env, "KeepEmptyValue", kHeaderValueOption, {K::kBool}, [](Args a) { return with_field(a[0], "keep_empty_value", a[1]); });
  on(env, "Response", kOkHttpResponse, {}, [](Args a) {
    return msg(kCheckResponse, {{"status", msg(kRpcStatus, {{"code", cel::Value::integer(0)}})}, {"ok_response", a[0]}});
  });
  on(env, "Response", kDeniedHttpResponse, {}, [](Args a) {
    // google.rpc.Code PERMISSION_DENIED
    return msg(kCheckResponse, {{"status", msg(kRpcStatus, {{"code", cel::Value::integer(7)}})}, {"denied_response", a[0]}});
  });
  on(env, "WithMessage", kCheckResponse, {K::kString}, [](Args a) {
    const cel::Value* status = a[0].as_message().find("status");
    cel::Value s = status ? *status : msg(kRpcStatus);
    return with_field(a[0], "status", with_field(s, "message", a[1]));
  });
  on(env, "WithMetadata", kCheckResponse, {K::kMap}, [](Args a) { return with_field(a[0], "dynamic_metadata", a[1]); });

  env.add_overload({.name = "jwt.Decode", .args = {K::kString, K::kString},
                    .fn = [](Args a) { return jwt_decode(a[0].as_string(), a[1].as_string()); }});
  // HTTP (kyverno-authz pkg/cel/libs/authz/http).
  env.add_overload({.name = "http.Allowed", .args = {}, .fn = [](Args) { return msg(kHttpOk); }});
  env.add_overload({.name = "http.Denied", .args = {K::kString}, .fn = [](Args a) { return msg(kHttpDenied, {{"reason", a[0]}}); }});
  on(env, "Header", kHttpAttributes, {K::kString}, [](Args a) {
    const cel::Value* headers = a[0].as_message().find("header");
    const cel::Value* values = headers ? headers->as_map().find(cel::Value::string(canonical_header(a[1].as_string()))) : nullptr;
    return values ? *values : cel::Value::list({});
  });
  on(env, "QueryParam", kHttpAttributes, {K::kString}, [](Args a) {
    const cel::Value* query = a[0].as_message().find("query");
    const cel::Value* values = query ? query->as_map().find(a[1]) : nullptr;
    return values ? *values : cel::Value::list({});
  });
  on(env, "Response", kHttpOk, {}, [](Args a) { return msg(kHttpResponse, {{"ok", a[0]}}); });
  on(env, "Response", kHttpDenied, {}, [](Args a) { return msg(kHttpResponse, {{"denied", a[0]}}); });
}

Result<cel::Value> authz_request(std::string_view mode, const bj::value& payload) {
  // Envoy's request is read as protojson reads it (proto or lowerCamelCase names); the HTTP
  // request as Go's encoding/json reads kyverno-authz's struct (its JSON names).
  // The header keys stay as written, as Go's json.Unmarshal leaves them (Header() looks up the
  // canonical name, so a payload should write them canonically, as net/http would have).
  if (mode == "Envoy") return message_from_payload(kCheckRequest, payload, "payload", true, 0);
  return message_from_payload(kHttpCheckRequest, payload, "payload", false, 0);
}

std::optional<AuthzDecision> authz_decision(std::string_view mode, const cel::Value& response) {
  if (mode == "Envoy") {
    if (!is_msg(response, kCheckResponse)) return std::nullopt;
    const cel::Message& m = response.as_message();
    if (m.find("ok_response")) return AuthzDecision{RuleStatus::kPass, "request allowed"};
    if (const cel::Value* denied = m.find("denied_response")) {
      int64_t code = 0;
      if (const cel::Value* status = denied->as_message().find("status"))
        if (const cel::Value* c = status->as_message().find("code")) code = c->as_int();
      return AuthzDecision{RuleStatus::kFail, fmt::format("request denied with status code {}", code)};
    }
    return std::nullopt;
  }
  if (!is_msg(response, kHttpResponse)) return std::nullopt;
  const cel::Message& m = response.as_message();
  if (m.find("ok")) return AuthzDecision{RuleStatus::kPass, "request allowed"};
  if (const cel::Value* denied = m.find("denied")) {
    const cel::Value* reason = denied->as_message().find("reason");
    return AuthzDecision{RuleStatus::kFail, fmt::format("request denied, reason: {}", reason ? reason->as_string() : "")};
  }
  return std::nullopt;
}

std::string authz_response_type(std::string_view mode) { return mode == "Envoy" ? kCheckResponse : kHttpResponse; }

}  // namespace vouch::policy::cel_internal
