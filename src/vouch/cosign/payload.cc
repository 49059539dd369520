#include "vouch/cosign/payload.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/intoto/predicate.h"
#include "vouch/intoto/statement.h"

namespace vouch::cosign {

namespace bj = boost::json;

std::string cosign_repository_name(const oci::Reference& ref) {
  if (ref.registry.empty()) return ref.repository;  // an OCI layout: its path
  std::string registry = ref.registry == oci::kDefaultDomain ? std::string("index.docker.io") : ref.registry;
  return registry + "/" + ref.repository;
}

std::string location_name(const oci::Reference& ref) {
  return ref.registry.empty() ? "oci:" + ref.repository : ref.name();
}

std::string go_json_string(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9).
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out += static_cast<char>(c);
  }
  out += '"';
  return out;
}

namespace {
std::string annotation_object(const std::map<std::string, std::string>& annotations) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : annotations) {  // std::map: sorted by key, as Go sorts map keys
    if (!first) out += ',';
    first = false;
    out += go_json_string(k) + ":" + go_json_string(v);
  }
  return out + "}";
}
}  // namespace

std::string simple_signing_payload(std::string_view docker_reference, const oci::Digest& digest,
                                   const std::map<std::string, std::string>& annotations) {
  return fmt::format(
      "{{\"critical\":{{\"identity\":{{\"docker-reference\":{}}},\"image\":{{\"docker-manifest-digest\":{}}},"
      "\"type\":{}}},\"optional\":{}}}",
      go_json_string(docker_reference), go_json_string(digest.str()), go_json_string(kSimpleSigningType),
      annotations.empty() ? std::string("null") : annotation_object(annotations));
}

Result<SimpleSigning> parse_simple_signing(ByteView payload) {
  json::ParseLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_depth = 32;
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, json::parse(as_chars(payload), limits));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("simple-signing payload is not a JSON object");
  VOUCH_ASSIGN_OR_RETURN(json::Node critical, root.get("critical"));
  VOUCH_ASSIGN_OR_RETURN(json::Node identity, critical.get("identity"));
  VOUCH_ASSIGN_OR_RETURN(json::Node image, critical.get("image"));
  SimpleSigning s;
  VOUCH_ASSIGN_OR_RETURN(s.docker_reference, identity.get_string("docker-reference"));
  VOUCH_ASSIGN_OR_RETURN(std::string digest, image.get_string("docker-manifest-digest"));
  auto parsed = oci::Digest::parse(digest);
  if (!parsed.ok()) return invalid_input(fmt::format("critical.image.docker-manifest-digest: {}", parsed.error().message));
  s.manifest_digest = *parsed;
  VOUCH_ASSIGN_OR_RETURN(s.type, critical.get_string("type"));
  if (auto opt = root.find("optional")) {
    if (!opt->is_object()) return opt->error("must be an object or null");
    s.optional = opt->raw().as_object();
  }
  s.json = std::move(doc);
  return s;
}

std::string sign_statement(const oci::Digest& digest, const std::map<std::string, std::string>& annotations) {
  return fmt::format(
      "{{\"_type\":{},\"subject\":[{{\"digest\":{{{}:{}}},\"annotations\":{}}}],\"predicateType\":{},\"predicate\":{{}}}}",
      go_json_string(intoto::kStatementV1), go_json_string(digest.algorithm()), go_json_string(digest.hex()),
      annotation_object(annotations), go_json_string(intoto::kCosignSignPredicate));
}

std::string legacy_rekor_bundle(const tlog::RekorLogEntry& entry) {
  bj::object payload{{"body", base64_encode(as_bytes(entry.body))},
                     {"integratedTime", entry.integrated_time},
                     {"logIndex", entry.log_index},
                     {"logID", hex_encode(entry.log_id)}};
  bj::object doc;
  doc["SignedEntryTimestamp"] = entry.signed_entry_timestamp ? base64_encode(*entry.signed_entry_timestamp) : std::string();
  doc["Payload"] = std::move(payload);
  return json::serialize(doc);
}

Result<tlog::RekorLogEntry> parse_legacy_rekor_bundle(std::string_view text) {
  json::ParseLimits limits;
  limits.max_bytes = 4 << 20;
  limits.max_depth = 16;
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, json::parse(text, limits));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("Rekor bundle annotation is not a JSON object");
  tlog::RekorLogEntry e;
  VOUCH_ASSIGN_OR_RETURN(Bytes set, root.get_bytes("SignedEntryTimestamp"));
  if (!set.empty()) e.signed_entry_timestamp = std::move(set);
  VOUCH_ASSIGN_OR_RETURN(json::Node payload, root.get("Payload"));
  VOUCH_ASSIGN_OR_RETURN(Bytes body, payload.get_bytes("body"));
  e.body = to_string(body);
  VOUCH_ASSIGN_OR_RETURN(e.integrated_time, payload.get_int64("integratedTime"));
  VOUCH_ASSIGN_OR_RETURN(e.log_index, payload.get_int64("logIndex"));
  VOUCH_ASSIGN_OR_RETURN(std::string log_id, payload.get_string("logID"));
  auto id = hex_decode(log_id);
  if (!id.ok()) return invalid_input(fmt::format("Payload.logID: {}", id.error().message));
  e.log_id = std::move(id).value();
  return e;
}

}  // namespace vouch::cosign
