#include "vouch/intoto/dsse.h"
#include "vouch/tlog/entries.h"

#include <algorithm>
#include <cctype>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/ascii.h"
#include "vouch/base/canonical_json.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/pem.h"
#include "vouch/crypto/x509.h"

namespace vouch::tlog {
namespace {

namespace bj = boost::json;
using json::Node;

constexpr size_t kMaxSignatures = 16;

// A verifier as an entry names it: a PEM public key or certificate.
struct Signer {
  crypto::PublicKey key;
  std::optional<crypto::Certificate> cert;
  std::string canonical_pem;             // what the log records
  std::vector<std::string> index_keys;  // the search keys it adds: its canonical PEM's digest, its emails
};
using SignerPtr = std::shared_ptr<const Signer>;

// "-----BEGIN PUBLIC KEY-----", base64 in lines of 64, as OpenSSL writes a public key.
std::string public_key_pem(ByteView der) {
  const std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  out += "-----END PUBLIC KEY-----\n";
  return out;
}

SignerPtr make_signer(crypto::PublicKey key, std::optional<crypto::Certificate> cert, std::string canonical_pem) {
  auto s = std::make_shared<Signer>(Signer{std::move(key), std::move(cert), std::move(canonical_pem), {}});
  s->index_keys.push_back(hex_encode(crypto::sha256(s->canonical_pem)));
  if (s->cert) {
    for (const auto& e : s->cert->subject_alt_names().emails) s->index_keys.push_back(index_key_for_email(e));
  }
  return s;
}

Result<SignerPtr> read_signer(std::string_view text, const Node& where) {
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    auto cert = crypto::Certificate::from_pem(text);
    if (!cert.ok()) return where.error(fmt::format("not a valid PEM certificate: {}", cert.error().message));
    return make_signer(cert->public_key(), *cert, cert->pem());
  }
  // The common case, a lone SubjectPublicKeyInfo block in canonical DER, is read as PEM armor
  // and DER: the same key and canonical text as PublicKey::from_pem() and pem() give, without
  // pem()'s trip through OpenSSL's encoder look-ups.
  if (auto block = crypto::read_pem_block(text); block.ok() && block->type == "PUBLIC KEY" && block->headers.empty()) {
    if (auto key = crypto::PublicKey::from_der(block->der); key.ok() && bytes_equal(key->der(), block->der)) {
      std::string pem = public_key_pem(key->der());
      return make_signer(std::move(*key), std::nullopt, std::move(pem));
    }
  }
  auto key = crypto::PublicKey::from_pem(text);
  if (!key.ok()) return where.error(fmt::format("not a valid PEM public key or certificate: {}", key.error().message));
  std::string pem = key->pem();
  return make_signer(std::move(*key), std::nullopt, std::move(pem));
}

// Signers read before, by the exact text that named them. Reading a key or certificate costs
// several times its signature check (OpenSSL 3's decoder look-ups); one that signs many entries
// (a build system's key, a CA's intermediate) is read once, and keeps the contexts it verified
// with. Bounded: the least recently used goes first. Only what was read successfully is kept.
class SignerCache {
 public:
  SignerPtr find(std::string_view text) {
    std::lock_guard lock(mu_);
    auto it = index_.find(text);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void put(std::string_view text, SignerPtr signer) {
    std::lock_guard lock(mu_);
    if (index_.count(text)) return;
    order_.emplace_front(std::string(text), std::move(signer));
    index_.emplace(order_.front().first, order_.begin());
    if (order_.size() > kCapacity) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  static constexpr size_t kCapacity = 1024;
  std::mutex mu_;
  std::list<std::pair<std::string, SignerPtr>> order_;  // most recently used first
  std::unordered_map<std::string_view, std::list<std::pair<std::string, SignerPtr>>::iterator> index_;
};

Result<SignerPtr> parse_signer(ByteView pem, const Node& where) {
  static SignerCache cache;
  std::string_view text = as_chars(pem);
  if (SignerPtr known = cache.find(text)) return known;
  VOUCH_ASSIGN_OR_RETURN(SignerPtr signer, read_signer(text, where));
  cache.put(text, signer);
  return signer;
}

void add_signer_keys(const Signer& s, std::vector<std::string>& keys) {
  keys.insert(keys.end(), s.index_keys.begin(), s.index_keys.end());
}

Result<crypto::HashAlgorithm> hash_algorithm(const Node& hash, std::string* name_out, std::string* value_out) {
  VOUCH_ASSIGN_OR_RETURN(std::string alg, hash.get_string("algorithm"));
  VOUCH_ASSIGN_OR_RETURN(std::string value, hash.get_string("value"));
  crypto::HashAlgorithm a;
  if (alg == "sha256") {
    a = crypto::HashAlgorithm::kSha256;
  } else if (alg == "sha384") {
    a = crypto::HashAlgorithm::kSha384;
  } else if (alg == "sha512") {
    a = crypto::HashAlgorithm::kSha512;
  } else {
    return hash.error(fmt::format("unsupported hash algorithm '{}' (want sha256, sha384 or sha512)", alg));
  }
  auto bytes = hex_decode(value);
  if (!bytes.ok() || bytes->size() != crypto::hash_size(a))
    return hash.error(fmt::format("value is not a hex {} digest", alg));
  *name_out = alg;
  *value_out = value;
  return a;
}

Status verify_dsse_signature(const Signer& signer, ByteView pae, ByteView sig, const Node& where) {
  Status st = signer.key.type() == crypto::KeyType::kEd25519
                  ? signer.key.verify(pae, sig)
                  : signer.key.verify(pae, sig, crypto::HashAlgorithm::kSha256);
  if (!st.ok()) return verification_failed(fmt::format("{}: the signature does not verify over the DSSE envelope", where.path()));
  return ok_status();
}

// in-toto Statement subjects' digests, as search keys (best effort: a payload that is not a
// Statement adds none).
void add_intoto_subject_keys(std::string_view payload_type, ByteView payload, std::vector<std::string>& keys) {
  if (payload_type != "application/vnd.in-toto+json") return;
  auto v = json::parse(as_chars(payload), {.max_bytes = kMaxProposedEntryBytes, .max_depth = 32});
  if (!v.ok() || !v->is_object()) return;
  const auto* subjects = v->as_object().if_contains("subject");
  if (!subjects || !subjects->is_array()) return;
  for (const auto& s : subjects->as_array()) {
    if (!s.is_object()) continue;
    const auto* digest = s.as_object().if_contains("digest");
    if (!digest || !digest->is_object()) continue;
    for (const auto& [alg, value] : digest->as_object())
      if (value.is_string()) keys.push_back(index_key_for_hash(alg, value.as_string()));
  }
}

bj::object hash_object(std::string_view alg, std::string_view value) {
  return bj::object{{"algorithm", alg}, {"value", value}};
}

Result<CanonicalEntry> finish(std::string kind, std::string version, bj::object spec, std::vector<std::string> keys) {
  bj::object body{{"apiVersion", version}, {"kind", kind}, {"spec", std::move(spec)}};
  VOUCH_ASSIGN_OR_RETURN(std::string canonical, json::canonicalize(body));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return CanonicalEntry{std::move(kind), std::move(version), std::move(canonical), std::move(keys)};
}

Result<CanonicalEntry> hashedrekord_v001(const Node& spec) {
  VOUCH_ASSIGN_OR_RETURN(Node sig, spec.get("signature"));
  VOUCH_ASSIGN_OR_RETURN(Node content, sig.get("content"));
  VOUCH_ASSIGN_OR_RETURN(Bytes signature, content.bytes());
  if (signature.empty()) return content.error("empty signature");
  VOUCH_ASSIGN_OR_RETURN(Node pk, sig.get("publicKey"));
  VOUCH_ASSIGN_OR_RETURN(Node pk_content, pk.get("content"));
  VOUCH_ASSIGN_OR_RETURN(Bytes pem, pk_content.bytes());
  VOUCH_ASSIGN_OR_RETURN(SignerPtr signer_ptr, parse_signer(pem, pk_content));
  const Signer& signer = *signer_ptr;
  VOUCH_ASSIGN_OR_RETURN(Node data, spec.get("data"));
  VOUCH_ASSIGN_OR_RETURN(Node hash, data.get("hash"));
  std::string alg_name, value;
  VOUCH_ASSIGN_OR_RETURN(crypto::HashAlgorithm alg, hash_algorithm(hash, &alg_name, &value));
  if (signer.key.type() == crypto::KeyType::kEd25519)
    return pk_content.error("Ed25519 keys cannot sign a pre-computed digest (use an ECDSA or RSA key)");
  Bytes digest = *hex_decode(value);
  if (!signer.key.verify_digest(digest, signature, alg).ok())
    return verification_failed("spec.signature.content: the signature does not verify over spec.data.hash with "
                               "spec.signature.publicKey");
  std::vector<std::string> keys{index_key_for_hash(alg_name, value)};
  add_signer_keys(signer, keys);
  bj::object out_spec{
      {"data", bj::object{{"hash", hash_object(alg_name, value)}}},
      {"signature", bj::object{{"content", base64_encode(signature)},
                               {"publicKey", bj::object{{"content", base64_encode(as_bytes(signer.canonical_pem))}}}}}};
  return finish("hashedrekord", "0.0.1", std::move(out_spec), std::move(keys));
}

struct Envelope {
  std::string payload_type;
  Bytes payload;
  std::vector<std::pair<std::string, std::string>> signatures;  // (sig as written, keyid)
};

Result<Envelope> parse_envelope(std::string_view text, const Node& where) {
  auto v = json::parse(text, {.max_bytes = kMaxProposedEntryBytes, .max_depth = 16});
  if (!v.ok()) return where.error(fmt::format("not a DSSE envelope: {}", v.error().message));
  Node env(&*v, where.path());
  Envelope out;
  VOUCH_ASSIGN_OR_RETURN(out.payload_type, env.get_string("payloadType"));
  VOUCH_ASSIGN_OR_RETURN(std::string payload, env.get_string("payload"));
  auto decoded = protojson_bytes_decode(payload);
  if (!decoded.ok()) return where.error("payload is not base64");
  out.payload = std::move(*decoded);
  VOUCH_ASSIGN_OR_RETURN(Node sigs, env.get("signatures"));
  VOUCH_ASSIGN_OR_RETURN(auto items, sigs.array());
  if (items.empty()) return sigs.error("a DSSE envelope needs at least one signature");
  if (items.size() > kMaxSignatures) return sigs.error(fmt::format("more than {} signatures", kMaxSignatures));
  for (const auto& s : items) {
    VOUCH_ASSIGN_OR_RETURN(std::string sig, s.get_string("sig"));
    std::string keyid;
    if (auto k = s.find("keyid")) {
      VOUCH_ASSIGN_OR_RETURN(keyid, k->string());
    }
    out.signatures.emplace_back(std::move(sig), std::move(keyid));
  }
  return out;
}

Result<CanonicalEntry> dsse_v001(const Node& spec) {
  if (spec.has("envelopeHash") || spec.has("payloadHash") || spec.has("signatures"))
    return spec.error("envelopeHash, payloadHash and signatures are computed by the log; send proposedContent only");
  VOUCH_ASSIGN_OR_RETURN(Node proposed, spec.get("proposedContent"));
  VOUCH_ASSIGN_OR_RETURN(Node env_node, proposed.get("envelope"));
  VOUCH_ASSIGN_OR_RETURN(std::string envelope_text, env_node.string());
  VOUCH_ASSIGN_OR_RETURN(Envelope env, parse_envelope(envelope_text, env_node));
  VOUCH_ASSIGN_OR_RETURN(Node verifiers_node, proposed.get("verifiers"));
  VOUCH_ASSIGN_OR_RETURN(auto verifier_items, verifiers_node.array());
  if (verifier_items.empty()) return verifiers_node.error("at least one verifier is required");
  if (verifier_items.size() > kMaxSignatures) return verifiers_node.error("too many verifiers");
  std::vector<SignerPtr> signers;
  for (const auto& v : verifier_items) {
    VOUCH_ASSIGN_OR_RETURN(Bytes pem, v.bytes());
    VOUCH_ASSIGN_OR_RETURN(SignerPtr s, parse_signer(pem, v));
    signers.push_back(std::move(s));
  }
  Bytes pae = intoto::pae(env.payload_type, env.payload);
  std::vector<std::pair<std::string, const Signer*>> verified;  // sig text -> signer
  for (size_t i = 0; i < env.signatures.size(); ++i) {
    const std::string& sig_text = env.signatures[i].first;
    auto sig = protojson_bytes_decode(sig_text);
    const Signer* found = nullptr;
    if (sig.ok()) {
      for (const SignerPtr& s : signers) {
        Node where = env_node;
        if (verify_dsse_signature(*s, pae, *sig, where).ok()) {
          found = s.get();
          break;
        }
      }
    }
    if (!found)
      return verification_failed(fmt::format("{}: envelope signature {} does not verify with any of {}",
                                             env_node.path(), i, verifiers_node.path()));
    verified.emplace_back(sig_text, found);
  }
  std::sort(verified.begin(), verified.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  verified.erase(std::unique(verified.begin(), verified.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 verified.end());
  bj::array sigs;
  std::vector<std::string> keys;
  for (const auto& [sig, signer] : verified) {
    sigs.push_back(bj::object{{"signature", sig}, {"verifier", base64_encode(as_bytes(signer->canonical_pem))}});
    add_signer_keys(*signer, keys);
  }
  std::string payload_hash = hex_encode(crypto::sha256(env.payload));
  std::string envelope_hash = hex_encode(crypto::sha256(envelope_text));
  keys.push_back(index_key_for_hash("sha256", payload_hash));
  keys.push_back(index_key_for_hash("sha256", envelope_hash));
  add_intoto_subject_keys(env.payload_type, env.payload, keys);
  bj::object out_spec{{"envelopeHash", hash_object("sha256", envelope_hash)},
                      {"payloadHash", hash_object("sha256", payload_hash)},
                      {"signatures", std::move(sigs)}};
  return finish("dsse", "0.0.1", std::move(out_spec), std::move(keys));
}

Result<CanonicalEntry> intoto_v002(const Node& spec) {
  VOUCH_ASSIGN_OR_RETURN(Node content, spec.get("content"));
  VOUCH_ASSIGN_OR_RETURN(Node envelope, content.get("envelope"));
  VOUCH_ASSIGN_OR_RETURN(std::string payload_type, envelope.get_string("payloadType"));
  // intoto 0.0.2 carries the envelope's base64 strings base64-encoded once more.
  VOUCH_ASSIGN_OR_RETURN(Node payload_node, envelope.get("payload"));
  VOUCH_ASSIGN_OR_RETURN(Bytes payload_b64, payload_node.bytes());
  auto payload = protojson_bytes_decode(as_chars(payload_b64));
  if (!payload.ok()) return payload_node.error("does not hold a base64 DSSE payload");
  VOUCH_ASSIGN_OR_RETURN(Node hash, content.get("hash"));
  std::string alg_name, value;
  VOUCH_ASSIGN_OR_RETURN(crypto::HashAlgorithm alg, hash_algorithm(hash, &alg_name, &value));
  (void)alg;
  VOUCH_ASSIGN_OR_RETURN(Node sigs_node, envelope.get("signatures"));
  VOUCH_ASSIGN_OR_RETURN(auto items, sigs_node.array());
  if (items.empty()) return sigs_node.error("a DSSE envelope needs at least one signature");
  if (items.size() > kMaxSignatures) return sigs_node.error(fmt::format("more than {} signatures", kMaxSignatures));
  Bytes pae = intoto::pae(payload_type, *payload);
  bj::array sigs;
  std::vector<std::string> keys;
  for (const auto& s : items) {
    VOUCH_ASSIGN_OR_RETURN(Node sig_node, s.get("sig"));
    VOUCH_ASSIGN_OR_RETURN(Bytes sig_b64, sig_node.bytes());
    auto sig = protojson_bytes_decode(as_chars(sig_b64));
    if (!sig.ok()) return sig_node.error("does not hold a base64 signature");
    VOUCH_ASSIGN_OR_RETURN(Node pk_node, s.get("publicKey"));
    VOUCH_ASSIGN_OR_RETURN(Bytes pem, pk_node.bytes());
    VOUCH_ASSIGN_OR_RETURN(SignerPtr signer_ptr, parse_signer(pem, pk_node));
    const Signer& signer = *signer_ptr;
    VOUCH_RETURN_IF_ERROR(verify_dsse_signature(signer, pae, *sig, sig_node));
    bj::object item;
    if (auto k = s.find("keyid")) {
      VOUCH_ASSIGN_OR_RETURN(std::string keyid, k->string());
      if (!keyid.empty()) item["keyid"] = keyid;
    }
    item["publicKey"] = base64_encode(pem);
    item["sig"] = base64_encode(sig_b64);
    sigs.push_back(std::move(item));
    add_signer_keys(signer, keys);
  }
  std::string payload_hash = hex_encode(crypto::sha256(*payload));
  keys.push_back(index_key_for_hash(alg_name, value));
  keys.push_back(index_key_for_hash("sha256", payload_hash));
  add_intoto_subject_keys(payload_type, *payload, keys);
  bj::object out_spec{
      {"content", bj::object{{"envelope", bj::object{{"payloadType", payload_type}, {"signatures", std::move(sigs)}}},
                             {"hash", hash_object(alg_name, value)},
                             {"payloadHash", hash_object("sha256", payload_hash)}}}};
  return finish("intoto", "0.0.2", std::move(out_spec), std::move(keys));
}

}  // namespace

std::string index_key_for_hash(std::string_view algorithm, std::string_view hex_value) {
  return lower(fmt::format("{}:{}", algorithm, hex_value));
}

Result<std::string> index_key_for_public_key(ByteView pem_or_der) {
  std::string_view text = as_chars(pem_or_der);
  std::string canonical;
  if (text.find("-----BEGIN") != std::string_view::npos) {
    json::bj::value dummy;
    // A search names keys of its own choosing: read, not kept in the signers' cache.
    VOUCH_ASSIGN_OR_RETURN(SignerPtr s, read_signer(text, Node::root(dummy)));
    canonical = s->canonical_pem;
  } else if (auto cert = crypto::Certificate::from_der(pem_or_der); cert.ok()) {
    canonical = cert->pem();
  } else {
    auto key = crypto::PublicKey::from_der(pem_or_der);
    if (!key.ok()) return invalid_input("public key: neither PEM nor DER key or certificate");
    canonical = key->pem();
  }
  return hex_encode(crypto::sha256(canonical));
}

std::string index_key_for_email(std::string_view email) { return lower(email); }

const EntryKind* find_entry_kind(std::string_view kind, std::string_view api_version) {
  for (const EntryKind& k : kEntryKinds)
    if (k.kind == kind && k.api_version == api_version) return &k;
  return nullptr;
}

Result<CanonicalEntry> canonicalize_proposed_entry(std::string_view text) {
  if (text.size() > kMaxProposedEntryBytes)
    return invalid_input(fmt::format("entry is {} bytes, more than the limit of {}", text.size(), kMaxProposedEntryBytes));
  auto parsed = json::parse(text, {.max_bytes = kMaxProposedEntryBytes, .max_depth = 32});
  if (!parsed.ok()) return std::move(parsed).error().context("entry");
  if (!parsed->is_object()) return invalid_input("entry: not a JSON object");
  Node root = Node::root(*parsed);
  VOUCH_ASSIGN_OR_RETURN(std::string kind, root.get_string("kind"));
  VOUCH_ASSIGN_OR_RETURN(std::string version, root.get_string("apiVersion"));
  VOUCH_ASSIGN_OR_RETURN(Node spec, root.get("spec"));
  if (!spec.is_object()) return spec.error("not an object");
  const EntryKind* known = find_entry_kind(kind, version);
  if (known && known->logged) {
    if (kind == "hashedrekord") return hashedrekord_v001(spec);
    if (kind == "dsse") return dsse_v001(spec);
    if (kind == "intoto") return intoto_v002(spec);
  }
  std::string logged_kinds;
  for (const EntryKind& k : kEntryKinds) {
    if (!k.logged) continue;
    if (k.kind == kind) return invalid_input(fmt::format("apiVersion: {} {} is not supported", kind, version));
    logged_kinds += fmt::format("{}{}", logged_kinds.empty() ? "" : ", ", k.kind);
  }
  return invalid_input(fmt::format("kind: unsupported entry kind '{}' (want one of {})", kind, logged_kinds));
}

}  // namespace vouch::tlog
