#include "vouch/tuf/metadata.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"

namespace vouch::tuf {
namespace {

namespace bj = boost::json;

Status append_canonical(const bj::value& v, std::string& out) {
  switch (v.kind()) {
    case bj::kind::null: out += "null"; return ok_status();
    case bj::kind::bool_: out += v.get_bool() ? "true" : "false"; return ok_status();
    case bj::kind::int64: out += std::to_string(v.get_int64()); return ok_status();
    case bj::kind::uint64: out += std::to_string(v.get_uint64()); return ok_status();
    case bj::kind::double_: {
      // Canonical JSON has integers only; a whole double (1.0) is written as the integer.
      double d = v.get_double();
      if (d != static_cast<double>(static_cast<int64_t>(d)) || d > 9.0e15 || d < -9.0e15)
        return invalid_input("canonical JSON has no form for a non-integer number");
      out += std::to_string(static_cast<int64_t>(d));
      return ok_status();
    }
    case bj::kind::string: {
      out += '"';
      for (char c : v.get_string()) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      return ok_status();
    }
    case bj::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        VOUCH_RETURN_IF_ERROR(append_canonical(e, out));
      }
      out += ']';
      return ok_status();
    }
    case bj::kind::object: {
      std::vector<const bj::key_value_pair*> members;
      for (const auto& kv : v.get_object()) members.push_back(&kv);
      std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ',';
        first = false;
        VOUCH_RETURN_IF_ERROR(append_canonical(bj::value(kv->key()), out));
        out += ':';
        VOUCH_RETURN_IF_ERROR(append_canonical(kv->value(), out));
      }
      out += '}';
      return ok_status();
    }
  }
  return internal_error("unknown JSON kind");
}

// A P-256 SubjectPublicKeyInfo is this fixed header followed by the 65-byte uncompressed point.
constexpr std::string_view kP256SpkiHeader = "3059301306072a8648ce3d020106082a8648ce3d030107034200";

const bj::object* object_at(const bj::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

Result<const bj::object*> required_object(const bj::object& o, std::string_view key, std::string_view where) {
  const bj::object* v = object_at(o, key);
  if (!v) return invalid_input(fmt::format("{}: \"{}\" is missing or not an object", where, key));
  return v;
}

Result<std::string> required_string(const bj::object& o, std::string_view key, std::string_view where) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return invalid_input(fmt::format("{}: \"{}\" is missing or not a string", where, key));
  return std::string(v->get_string());
}

Result<int64_t> required_int(const bj::object& o, std::string_view key, std::string_view where) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v->get_uint64());
  return invalid_input(fmt::format("{}: \"{}\" is missing or not an integer", where, key));
}

Result<std::map<std::string, std::string>> parse_hashes(const bj::object& o, std::string_view where) {
  std::map<std::string, std::string> out;
  for (const auto& [alg, h] : o) {
    if (!h.is_string() || h.get_string().empty())
      return invalid_input(fmt::format("{}.hashes.{}: not a hex string", where, std::string_view(alg)));
    auto bytes = hex_decode(h.get_string());
    if (!bytes.ok()) return invalid_input(fmt::format("{}.hashes.{}: not a hex string", where, std::string_view(alg)));
    out[std::string(alg)] = hex_encode(*bytes);
  }
  return out;
}

Result<MetaFile> parse_meta_file(const bj::value& v, std::string_view where) {
  if (!v.is_object()) return invalid_input(fmt::format("{}: not an object", where));
  const auto& o = v.get_object();
  MetaFile m;
  VOUCH_ASSIGN_OR_RETURN(m.version, required_int(o, "version", where));
  if (m.version <= 0) return invalid_input(fmt::format("{}: version must be positive", where));
  if (o.contains("length")) {
    VOUCH_ASSIGN_OR_RETURN(int64_t length, required_int(o, "length", where));
    if (length < 0) return invalid_input(fmt::format("{}: negative length", where));
    m.length = length;
  }
  if (auto* h = o.if_contains("hashes")) {
    if (!h->is_object() || h->get_object().empty())
      return invalid_input(fmt::format("{}.hashes: not a non-empty object", where));
    VOUCH_ASSIGN_OR_RETURN(m.hashes, parse_hashes(h->get_object(), where));
  }
  return m;
}

Result<std::vector<std::string>> string_list(const bj::object& o, std::string_view key, std::string_view where,
                                             bool required) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (!v) {
    if (required) return invalid_input(fmt::format("{}: \"{}\" is missing", where, key));
    return out;
  }
  if (!v->is_array()) return invalid_input(fmt::format("{}.{}: not an array", where, key));
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return invalid_input(fmt::format("{}.{}: not an array of strings", where, key));
    out.emplace_back(e.get_string());
  }
  return out;
}

bool key_scheme_supported(const bj::object& o) {
  auto str = [&](std::string_view key) -> std::string_view {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  std::string_view type = str("keytype"), scheme = str("scheme");
  if (type == "ed25519") return scheme == "ed25519";
  if (type == "ecdsa" || type == "ecdsa-sha2-nistp256" || type == "ecdsa-sha2-nistp384")
    return scheme == "ecdsa-sha2-nistp256" || scheme == "ecdsa-sha2-nistp384";
  if (type == "rsa") return scheme == "rsassa-pss-sha256" || scheme == "rsa-pkcs1v15-sha256";
  return false;
}

Result<std::map<std::string, Key>> parse_keys(const bj::value* v, std::string_view where) {
  if (!v || !v->is_object()) return invalid_input(fmt::format("{}: \"keys\" is missing or not an object", where));
  std::map<std::string, Key> keys;
  for (const auto& [id, k] : v->get_object()) {
    std::string key_where = fmt::format("{}.keys.{}", where, std::string_view(id).substr(0, 16));
    // A key of a type this client does not know is left out rather than failing the document,
    // as the specification allows: it cannot count towards a threshold.
    if (!k.is_object() || !key_scheme_supported(k.get_object())) continue;
    VOUCH_ASSIGN_OR_RETURN(Key key, Key::parse(k, key_where));
    keys.emplace(std::string(id), std::move(key));
  }
  return keys;
}

Result<Role> parse_role(const bj::object& o, std::string_view where) {
  Role r;
  VOUCH_ASSIGN_OR_RETURN(r.keyids, string_list(o, "keyids", where, true));
  VOUCH_ASSIGN_OR_RETURN(int64_t threshold, required_int(o, "threshold", where));
  if (threshold < 1 || threshold > 1000) return invalid_input(fmt::format("{}: threshold must be at least 1", where));
  r.threshold = static_cast<int>(threshold);
  std::set<std::string> distinct(r.keyids.begin(), r.keyids.end());
  if (distinct.size() != r.keyids.size()) return invalid_input(fmt::format("{}: a key ID is listed twice", where));
  return r;
}

Result<TargetFile> parse_target_file(std::string_view name, const bj::value& v) {
  std::string where = fmt::format("targets metadata: targets.{}", std::string_view(name).substr(0, 64));
  if (!v.is_object()) return invalid_input(where + ": not an object");
  TargetFile t;
  t.name = std::string(name);
  VOUCH_ASSIGN_OR_RETURN(t.length, required_int(v.get_object(), "length", where));
  if (t.length < 0) return invalid_input(where + ": negative length");
  const bj::object* hashes = object_at(v.get_object(), "hashes");
  if (!hashes || hashes->empty()) return invalid_input(where + ": \"hashes\" is missing or empty");
  VOUCH_ASSIGN_OR_RETURN(t.hashes, parse_hashes(*hashes, where));
  if (auto* c = v.get_object().if_contains("custom")) t.custom = *c;
  return t;
}

// The document's envelope and common fields; `type` must match `_type`.
template <typename T>
Result<Metadata<T>> parse_envelope(std::string bytes, std::string_view type, size_t max_bytes) {
  if (bytes.size() > max_bytes)
    return invalid_input(fmt::format("{} metadata: {} bytes exceeds the limit of {}", type, bytes.size(), max_bytes));
  auto doc = json::parse(bytes, {.max_bytes = max_bytes, .max_depth = 32});
  if (!doc.ok()) return std::move(doc).error().context(fmt::format("{} metadata", type));
  if (!doc->is_object()) return invalid_input(fmt::format("{} metadata: not a JSON object", type));
  auto& o = doc->get_object();
  auto* s = o.if_contains("signed");
  auto* sigs = o.if_contains("signatures");
  if (!s || !s->is_object()) return invalid_input(fmt::format("{} metadata: \"signed\" is missing or not an object", type));
  if (!sigs || !sigs->is_array())
    return invalid_input(fmt::format("{} metadata: \"signatures\" is missing or not an array", type));
  Metadata<T> m;
  m.bytes = std::move(bytes);
  m.signed_json = s->get_object();
  std::set<std::string> seen;
  for (const auto& sv : sigs->get_array()) {
    if (!sv.is_object()) return invalid_input(fmt::format("{} metadata: a signature is not an object", type));
    Signature sig;
    VOUCH_ASSIGN_OR_RETURN(sig.keyid, required_string(sv.get_object(), "keyid", fmt::format("{} signatures", type)));
    VOUCH_ASSIGN_OR_RETURN(sig.sig, required_string(sv.get_object(), "sig", fmt::format("{} signatures", type)));
    if (!seen.insert(sig.keyid).second)
      return invalid_input(fmt::format("{} metadata: two signatures by key {}", type, sig.keyid.substr(0, 16)));
    m.signatures.push_back(std::move(sig));
  }
  const auto& so = m.signed_json;
  std::string where = fmt::format("{} metadata", type);
  VOUCH_ASSIGN_OR_RETURN(m.role.type, required_string(so, "_type", where));
  if (m.role.type != type)
    return invalid_input(fmt::format("{}: _type is \"{}\", expected \"{}\"", where, m.role.type.substr(0, 32), type));
  VOUCH_ASSIGN_OR_RETURN(m.role.spec_version, required_string(so, "spec_version", where));
  if (!m.role.spec_version.starts_with("1."))
    return invalid_input(fmt::format("{}: unsupported spec_version \"{}\"", where, m.role.spec_version.substr(0, 32)));
  VOUCH_ASSIGN_OR_RETURN(m.role.version, required_int(so, "version", where));
  if (m.role.version <= 0) return invalid_input(fmt::format("{}: version must be positive", where));
  VOUCH_ASSIGN_OR_RETURN(std::string expires, required_string(so, "expires", where));
  auto t = parse_rfc3339(expires);
  if (!t.ok()) return std::move(t).error().context(where + ": expires");
  m.role.expires = *t;
  return m;
}

}  // namespace

Result<std::string> canonical_json(const boost::json::value& v) {
  std::string out;
  VOUCH_RETURN_IF_ERROR(append_canonical(v, out));
  return out;
}

Result<Key> Key::parse(const boost::json::value& v, std::string_view where) {
  if (!v.is_object()) return invalid_input(fmt::format("{}: not an object", where));
  const auto& o = v.get_object();
  Key k;
  VOUCH_ASSIGN_OR_RETURN(k.keytype, required_string(o, "keytype", where));
  VOUCH_ASSIGN_OR_RETURN(k.scheme, required_string(o, "scheme", where));
  const bj::object* keyval = object_at(o, "keyval");
  if (!keyval) return invalid_input(fmt::format("{}: \"keyval\" is missing or not an object", where));
  VOUCH_ASSIGN_OR_RETURN(k.public_value, required_string(*keyval, "public", std::string(where) + ".keyval"));
  auto bad_key = [&](const Error& e) {
    return invalid_input(fmt::format("{}: {} key is not valid: {}", where, k.scheme, e.message));
  };
  if (k.keytype == "ed25519" && k.scheme == "ed25519") {
    auto raw = hex_decode(k.public_value);
    if (!raw.ok() || raw->size() != 32) return invalid_input(fmt::format("{}: ed25519 key is not 32 bytes of hex", where));
    auto key = crypto::PublicKey::from_raw_ed25519(*raw);
    if (!key.ok()) return bad_key(key.error());
    k.key = std::move(*key);
  } else if ((k.keytype == "ecdsa" || k.keytype == "ecdsa-sha2-nistp256" || k.keytype == "ecdsa-sha2-nistp384") &&
             (k.scheme == "ecdsa-sha2-nistp256" || k.scheme == "ecdsa-sha2-nistp384")) {
    Result<crypto::PublicKey> key = invalid_input("empty");
    if (k.public_value.find("-----BEGIN") != std::string::npos) {
      key = crypto::PublicKey::from_pem(k.public_value);
    } else {
      auto point = hex_decode(k.public_value);
      if (!point.ok() || point->size() != 65 || k.scheme != "ecdsa-sha2-nistp256")
        return invalid_input(fmt::format("{}: ecdsa key is neither PEM nor a hex P-256 point", where));
      key = crypto::PublicKey::from_der(*hex_decode(std::string(kP256SpkiHeader) + k.public_value));
    }
    if (!key.ok()) return bad_key(key.error());
    bool p256 = key->type() == crypto::KeyType::kEcdsaP256;
    if ((k.scheme == "ecdsa-sha2-nistp256") != p256 || (!p256 && key->type() != crypto::KeyType::kEcdsaP384))
      return invalid_input(fmt::format("{}: the key's curve does not match the scheme {}", where, k.scheme));
    k.key = std::move(*key);
  } else if (k.keytype == "rsa" && (k.scheme == "rsassa-pss-sha256" || k.scheme == "rsa-pkcs1v15-sha256")) {
    auto key = crypto::PublicKey::from_pem(k.public_value);
    if (!key.ok()) return bad_key(key.error());
    if (key->type() != crypto::KeyType::kRsa) return invalid_input(fmt::format("{}: not an RSA key", where));
    k.key = std::move(*key);
  } else {
    return invalid_input(fmt::format("{}: unsupported key type {} with scheme {}", where, k.keytype.substr(0, 32),
                                     k.scheme.substr(0, 32)));
  }
  return k;
}

Result<Key> Key::from_public_key(const crypto::PublicKey& public_key) {
  Key k;
  k.key = public_key;
  switch (public_key.type()) {
    case crypto::KeyType::kEcdsaP256: k.keytype = "ecdsa", k.scheme = "ecdsa-sha2-nistp256"; break;
    case crypto::KeyType::kEcdsaP384: k.keytype = "ecdsa", k.scheme = "ecdsa-sha2-nistp384"; break;
    case crypto::KeyType::kEd25519: k.keytype = "ed25519", k.scheme = "ed25519"; break;
    // crypto::PrivateKey signs RSA with PKCS#1 v1.5, so that is the scheme a key it holds signs with.
    case crypto::KeyType::kRsa: k.keytype = "rsa", k.scheme = "rsa-pkcs1v15-sha256"; break;
    default: return invalid_input("TUF has no scheme for this key type");
  }
  k.public_value = public_key.type() == crypto::KeyType::kEd25519 ? hex_encode(public_key.raw_ed25519()) : public_key.pem();
  return k;
}

boost::json::object Key::to_json() const {
  return bj::object{{"keytype", keytype}, {"scheme", scheme}, {"keyval", bj::object{{"public", public_value}}}};
}

std::string Key::key_id() const { return hex_encode(crypto::sha256(*canonical_json(to_json()))); }

Status Key::verify(std::string_view message, std::string_view signature_hex) const {
  auto sig = hex_decode(signature_hex);
  if (!sig.ok() || sig->empty()) return verification_failed("the signature is not hex");
  crypto::HashAlgorithm hash = scheme == "ecdsa-sha2-nistp384" ? crypto::HashAlgorithm::kSha384 : crypto::HashAlgorithm::kSha256;
  crypto::RsaPadding padding = scheme == "rsassa-pss-sha256" ? crypto::RsaPadding::kPss : crypto::RsaPadding::kPkcs1v15;
  return key.verify(as_bytes(message), *sig, hash, padding);
}

bool DelegatedRole::matches(std::string_view target_name) const {
  if (!path_hash_prefixes.empty()) {
    std::string h = hex_encode(crypto::sha256(target_name));
    for (const auto& p : path_hash_prefixes)
      if (h.starts_with(p)) return true;
    return false;
  }
  auto split = [](std::string_view s) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
      size_t slash = s.find('/', start);
      parts.emplace_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
      if (slash == std::string_view::npos) return parts;
      start = slash + 1;
    }
  };
  auto name_parts = split(target_name);
  for (const auto& pattern : paths) {
    auto pattern_parts = split(pattern);
    if (pattern_parts.size() != name_parts.size()) continue;
    bool all = true;
    for (size_t i = 0; i < name_parts.size() && all; ++i)
      all = ::fnmatch(pattern_parts[i].c_str(), name_parts[i].c_str(), 0) == 0;
    if (all) return true;
  }
  return false;
}

Result<Metadata<Root>> parse_root(std::string bytes) {
  VOUCH_ASSIGN_OR_RETURN(auto m, parse_envelope<Root>(std::move(bytes), "root", kMaxRootBytes));
  const auto& so = m.signed_json;
  auto* cs = so.if_contains("consistent_snapshot");
  if (!cs || !cs->is_bool()) return invalid_input("root metadata: \"consistent_snapshot\" is missing or not a boolean");
  m.role.consistent_snapshot = cs->get_bool();
  VOUCH_ASSIGN_OR_RETURN(m.role.keys, parse_keys(so.if_contains("keys"), "root metadata"));
  const bj::object* roles = object_at(so, "roles");
  if (!roles) return invalid_input("root metadata: \"roles\" is missing or not an object");
  for (const char* name : {"root", "timestamp", "snapshot", "targets"}) {
    const bj::object* r = object_at(*roles, name);
    if (!r) return invalid_input(fmt::format("root metadata: roles.{} is missing", name));
    VOUCH_ASSIGN_OR_RETURN(m.role.roles[name], parse_role(*r, fmt::format("root metadata: roles.{}", name)));
  }
  return m;
}

Result<Metadata<Timestamp>> parse_timestamp(std::string bytes) {
  VOUCH_ASSIGN_OR_RETURN(auto m, parse_envelope<Timestamp>(std::move(bytes), "timestamp", kMaxTimestampBytes));
  const bj::object* meta = object_at(m.signed_json, "meta");
  if (!meta || meta->size() != 1 || !meta->contains("snapshot.json"))
    return invalid_input("timestamp metadata: meta must list snapshot.json and nothing else");
  VOUCH_ASSIGN_OR_RETURN(m.role.snapshot, parse_meta_file(meta->at("snapshot.json"), "timestamp metadata: meta.snapshot.json"));
  return m;
}

Result<Metadata<Snapshot>> parse_snapshot(std::string bytes) {
  VOUCH_ASSIGN_OR_RETURN(auto m, parse_envelope<Snapshot>(std::move(bytes), "snapshot", kMaxSnapshotBytes));
  VOUCH_ASSIGN_OR_RETURN(const bj::object* meta, required_object(m.signed_json, "meta", "snapshot metadata"));
  for (const auto& [name, v] : *meta) {
    VOUCH_ASSIGN_OR_RETURN(m.role.meta[std::string(name)],
                           parse_meta_file(v, fmt::format("snapshot metadata: meta.{}", std::string_view(name).substr(0, 64))));
  }
  if (!m.role.meta.contains("targets.json")) return invalid_input("snapshot metadata: meta does not list targets.json");
  return m;
}

Result<Metadata<Targets>> parse_targets(std::string bytes) {
  VOUCH_ASSIGN_OR_RETURN(auto m, parse_envelope<Targets>(std::move(bytes), "targets", kMaxTargetsBytes));
  VOUCH_ASSIGN_OR_RETURN(const bj::object* targets, required_object(m.signed_json, "targets", "targets metadata"));
  for (const auto& [name, v] : *targets) {
    VOUCH_ASSIGN_OR_RETURN(TargetFile t, parse_target_file(name, v));
    m.role.targets.emplace(t.name, std::move(t));
  }
  if (const bj::value* d = m.signed_json.if_contains("delegations")) {
    if (!d->is_object()) return invalid_input("targets metadata: \"delegations\" is not an object");
    Delegations del;
    VOUCH_ASSIGN_OR_RETURN(del.keys, parse_keys(d->get_object().if_contains("keys"), "targets metadata: delegations"));
    const bj::value* roles = d->get_object().if_contains("roles");
    if (!roles || !roles->is_array()) return invalid_input("targets metadata: delegations.roles is missing or not an array");
    std::set<std::string> names;
    for (const auto& rv : roles->get_array()) {
      if (!rv.is_object()) return invalid_input("targets metadata: a delegated role is not an object");
      const auto& ro = rv.get_object();
      DelegatedRole r;
      VOUCH_ASSIGN_OR_RETURN(r.name, required_string(ro, "name", "targets metadata: delegations.roles"));
      std::string where = fmt::format("targets metadata: delegated role \"{}\"", r.name.substr(0, 64));
      if (r.name.empty() || !names.insert(r.name).second || r.name == "root" || r.name == "timestamp" ||
          r.name == "snapshot" || r.name == "targets")
        return invalid_input(where + ": empty, repeated or a top-level role's name");
      VOUCH_ASSIGN_OR_RETURN(Role base, parse_role(ro, where));
      r.keyids = std::move(base.keyids);
      r.threshold = base.threshold;
      if (auto* t = ro.if_contains("terminating")) {
        if (!t->is_bool()) return invalid_input(where + ": terminating is not a boolean");
        r.terminating = t->get_bool();
      }
      bool has_paths = ro.contains("paths"), has_prefixes = ro.contains("path_hash_prefixes");
      if (has_paths == has_prefixes)
        return invalid_input(where + ": exactly one of paths and path_hash_prefixes must be given");
      VOUCH_ASSIGN_OR_RETURN(r.paths, string_list(ro, "paths", where, false));
      VOUCH_ASSIGN_OR_RETURN(r.path_hash_prefixes, string_list(ro, "path_hash_prefixes", where, false));
      del.roles.push_back(std::move(r));
    }
    m.role.delegations = std::move(del);
  }
  return m;
}

Status verify_threshold(const boost::json::object& signed_json, const std::vector<Signature>& signatures,
                        const std::map<std::string, Key>& keys, const Role& role, std::string_view what) {
  VOUCH_ASSIGN_OR_RETURN(std::string message, canonical_json(signed_json));
  std::set<std::string> valid;
  for (const auto& sig : signatures) {
    if (std::find(role.keyids.begin(), role.keyids.end(), sig.keyid) == role.keyids.end()) continue;
    auto key = keys.find(sig.keyid);
    if (key == keys.end()) continue;
    if (key->second.verify(message, sig.sig).ok()) valid.insert(sig.keyid);
  }
  // Two key IDs for one key count once (the specification counts keys, not IDs).
  std::vector<const crypto::PublicKey*> distinct;
  for (const auto& id : valid) {
    const crypto::PublicKey& k = keys.at(id).key;
    if (std::none_of(distinct.begin(), distinct.end(), [&](const crypto::PublicKey* d) { return d->equals(k); }))
      distinct.push_back(&k);
  }
  if (static_cast<int>(distinct.size()) < role.threshold)
    return verification_failed(fmt::format("{}: {} valid signature(s) from the role's keys, threshold {}", what,
                                           distinct.size(), role.threshold));
  return ok_status();
}

Result<std::string> sign_document(const boost::json::object& signed_json, const std::vector<SigningKey>& keys) {
  VOUCH_ASSIGN_OR_RETURN(std::string message, canonical_json(signed_json));
  bj::array sigs;
  for (const auto& k : keys) {
    // Each key with the digest of its scheme (SHA-384 for P-384), as Key::verify checks it.
    VOUCH_ASSIGN_OR_RETURN(Bytes sig, k.key.sign(as_bytes(message)));
    sigs.push_back(bj::object{{"keyid", k.keyid}, {"sig", hex_encode(sig)}});
  }
  bj::object doc{{"signatures", std::move(sigs)}, {"signed", signed_json}};
  return json::pretty(doc);
}


}  // namespace vouch::tuf
