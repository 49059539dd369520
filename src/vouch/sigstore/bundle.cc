#include "vouch/sigstore/bundle.h"

#include "vouch/base/json.h"

namespace vouch::sigstore {
namespace {

using json::Node;
namespace bj = boost::json;

Result<BundleVersion> version_from_media_type(std::string_view mt) {
  if (mt == "application/vnd.dev.sigstore.bundle+json;version=0.1") return BundleVersion::kV01;
  if (mt == "application/vnd.dev.sigstore.bundle+json;version=0.2") return BundleVersion::kV02;
  if (mt == "application/vnd.dev.sigstore.bundle+json;version=0.3" || mt == kBundleMediaTypeV03)
    return BundleVersion::kV03;
  return invalid_input(fmt::format("mediaType: unsupported bundle media type '{}'", mt.substr(0, 100)));
}

Result<crypto::Certificate> parse_certificate(const Node& n) {
  VOUCH_ASSIGN_OR_RETURN(Bytes der, n.get_bytes("rawBytes"));
  auto cert = crypto::Certificate::from_der(der);
  if (!cert.ok()) return std::move(cert).error().context(n.path());
  return cert;
}

// protojson leaves out an int64 that is zero: an absent logIndex is entry 0, as the first entry of a
// log is written by sigstore-js and every other protojson encoder.
Result<int64_t> int64_or_zero(const Node& n, std::string_view key) {
  auto v = n.find(key);
  if (!v) return int64_t{0};
  return v->int64();
}

Result<InclusionProof> parse_inclusion_proof(const Node& n) {
  InclusionProof p;
  VOUCH_ASSIGN_OR_RETURN(p.log_index, int64_or_zero(n, "logIndex"));
  VOUCH_ASSIGN_OR_RETURN(p.root_hash, n.get_bytes("rootHash"));
  VOUCH_ASSIGN_OR_RETURN(p.tree_size, n.get_int64("treeSize"));
  if (p.log_index < 0) return n.error("logIndex is negative");
  if (p.tree_size < 0) return n.error("treeSize is negative");
  if (auto hashes = n.find("hashes")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, hashes->array());
    if (items.size() > 64) return hashes->error("more than 64 proof hashes");
    for (const auto& h : items) {
      VOUCH_ASSIGN_OR_RETURN(Bytes b, h.bytes());
      p.hashes.push_back(std::move(b));
    }
  }
  if (auto cp = n.find("checkpoint")) {
    VOUCH_ASSIGN_OR_RETURN(std::string env, cp->get_string("envelope"));
    p.checkpoint = std::move(env);
  }
  return p;
}

Result<TlogEntry> parse_tlog_entry(const Node& n) {
  TlogEntry e;
  VOUCH_ASSIGN_OR_RETURN(e.log_index, int64_or_zero(n, "logIndex"));
  if (e.log_index < 0) return n.error("logIndex is negative");
  VOUCH_ASSIGN_OR_RETURN(Node log_id, n.get("logId"));
  VOUCH_ASSIGN_OR_RETURN(e.log_id, log_id.get_bytes("keyId"));
  VOUCH_ASSIGN_OR_RETURN(Node kv, n.get("kindVersion"));
  VOUCH_ASSIGN_OR_RETURN(e.kind, kv.get_string("kind"));
  VOUCH_ASSIGN_OR_RETURN(e.version, kv.get_string("version"));
  if (auto t = n.find("integratedTime")) {
    VOUCH_ASSIGN_OR_RETURN(e.integrated_time, t->int64());
    if (e.integrated_time < 0) return t->error("integratedTime is negative");
  }
  if (auto promise = n.find("inclusionPromise")) {
    VOUCH_ASSIGN_OR_RETURN(Bytes set, promise->get_bytes("signedEntryTimestamp"));
    e.signed_entry_timestamp = std::move(set);
  }
  if (auto proof = n.find("inclusionProof")) {
    VOUCH_ASSIGN_OR_RETURN(InclusionProof p, parse_inclusion_proof(*proof));
    e.inclusion_proof = std::move(p);
  }
  VOUCH_ASSIGN_OR_RETURN(e.canonicalized_body, n.get_bytes("canonicalizedBody"));
  return e;
}

Result<VerificationMaterial> parse_material(const Node& n, BundleVersion version) {
  VerificationMaterial m;
  int kinds = 0;
  if (auto pk = n.find("publicKey")) {
    ++kinds;
    m.public_key_hint = Bytes{};
    if (auto hint = pk->find("hint")) {
      VOUCH_ASSIGN_OR_RETURN(std::string h, hint->string());
      m.public_key_hint = to_bytes(h);
    }
  }
  if (auto chain = n.find("x509CertificateChain")) {
    ++kinds;
    VOUCH_ASSIGN_OR_RETURN(Node certs, chain->get("certificates"));
    VOUCH_ASSIGN_OR_RETURN(auto items, certs.array());
    if (items.empty()) return certs.error("certificate chain is empty");
    if (items.size() > 10) return certs.error("certificate chain longer than 10");
    for (const auto& c : items) {
      VOUCH_ASSIGN_OR_RETURN(crypto::Certificate cert, parse_certificate(c));
      m.certificate_chain.push_back(std::move(cert));
    }
  }
  if (auto cert = n.find("certificate")) {
    ++kinds;
    VOUCH_ASSIGN_OR_RETURN(crypto::Certificate c, parse_certificate(*cert));
    m.certificate = std::move(c);
  }
  if (kinds != 1) return n.error("expected exactly one of publicKey, x509CertificateChain, certificate");
  if (version == BundleVersion::kV03 && !m.certificate_chain.empty())
    return n.error("a v0.3 bundle must carry a single certificate, not x509CertificateChain");
  if (auto entries = n.find("tlogEntries")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, entries->array());
    if (items.size() > 32) return entries->error("more than 32 entries");
    for (const auto& e : items) {
      VOUCH_ASSIGN_OR_RETURN(TlogEntry entry, parse_tlog_entry(e));
      m.tlog_entries.push_back(std::move(entry));
    }
  }
  if (auto tvd = n.find("timestampVerificationData")) {
    if (auto ts = tvd->find("rfc3161Timestamps")) {
      VOUCH_ASSIGN_OR_RETURN(auto items, ts->array());
      if (items.size() > 32) return ts->error("more than 32 timestamps");
      for (const auto& t : items) {
        VOUCH_ASSIGN_OR_RETURN(Bytes der, t.get_bytes("signedTimestamp"));
        m.rfc3161_timestamps.push_back(std::move(der));
      }
    }
  }
  return m;
}

Result<MessageSignature> parse_message_signature(const Node& n) {
  MessageSignature s;
  if (auto md = n.find("messageDigest")) {
    VOUCH_ASSIGN_OR_RETURN(std::string alg, md->get_string("algorithm"));
    auto h = crypto::hash_from_name(alg);
    if (!h.ok()) return md->error(h.error().message);
    s.digest_algorithm = *h;
    VOUCH_ASSIGN_OR_RETURN(s.digest, md->get_bytes("digest"));
    if (s.digest.size() != crypto::hash_size(*h)) return md->error("digest length does not match its algorithm");
  }
  VOUCH_ASSIGN_OR_RETURN(s.signature, n.get_bytes("signature"));
  if (s.signature.empty()) return n.error("signature is empty");
  return s;
}

Result<DsseEnvelope> parse_dsse(const Node& n) {
  DsseEnvelope e;
  VOUCH_ASSIGN_OR_RETURN(e.payload, n.get_bytes("payload"));
  VOUCH_ASSIGN_OR_RETURN(e.payload_type, n.get_string("payloadType"));
  VOUCH_ASSIGN_OR_RETURN(Node sigs, n.get("signatures"));
  VOUCH_ASSIGN_OR_RETURN(auto items, sigs.array());
  if (items.empty()) return sigs.error("no signatures");
  if (items.size() > 16) return sigs.error("more than 16 signatures");
  for (const auto& s : items) {
    DsseSignature sig;
    VOUCH_ASSIGN_OR_RETURN(sig.sig, s.get_bytes("sig"));
    if (auto keyid = s.find("keyid")) {
      VOUCH_ASSIGN_OR_RETURN(sig.keyid, keyid->string());
    }
    e.signatures.push_back(std::move(sig));
  }
  return e;
}

}  // namespace

const crypto::Certificate* VerificationMaterial::leaf() const {
  if (certificate) return &*certificate;
  if (!certificate_chain.empty()) return &certificate_chain.front();
  return nullptr;
}

ByteView signature_bytes(const SignatureContent& content) {
  if (const auto* m = std::get_if<MessageSignature>(&content)) return m->signature;
  const auto& d = std::get<DsseEnvelope>(content);
  return d.signatures.empty() ? ByteView{} : ByteView(d.signatures.front().sig);
}

VerificationContent Bundle::verification_content() const {
  VerificationContent v;
  if (material.certificate)
    v.certificates = std::span<const crypto::Certificate>(&*material.certificate, 1);
  else
    v.certificates = material.certificate_chain;
  if (material.public_key_hint) v.public_key_hint = ByteView(*material.public_key_hint);
  return v;
}

Result<Bundle> parse_bundle(std::string_view text) {
  auto parsed = json::parse(text, {.max_bytes = 32 * 1024 * 1024, .max_depth = 32});
  if (!parsed.ok()) return std::move(parsed).error().context("bundle");
  Node root = Node::root(*parsed);
  auto result = [&]() -> Result<Bundle> {
    if (!root.is_object()) return root.error("expected a JSON object");
    Bundle b;
    VOUCH_ASSIGN_OR_RETURN(b.media_type, root.get_string("mediaType"));
    VOUCH_ASSIGN_OR_RETURN(b.version, version_from_media_type(b.media_type));
    VOUCH_ASSIGN_OR_RETURN(Node vm, root.get("verificationMaterial"));
    VOUCH_ASSIGN_OR_RETURN(b.material, parse_material(vm, b.version));
    auto ms = root.find("messageSignature");
    auto dsse = root.find("dsseEnvelope");
    if (ms.has_value() == dsse.has_value())
      return root.error("expected exactly one of messageSignature, dsseEnvelope");
    if (ms) {
      VOUCH_ASSIGN_OR_RETURN(MessageSignature s, parse_message_signature(*ms));
      b.content = std::move(s);
    } else {
      VOUCH_ASSIGN_OR_RETURN(DsseEnvelope e, parse_dsse(*dsse));
      b.content = std::move(e);
    }
    return b;
  }();
  if (!result.ok()) return std::move(result).error().context("bundle");
  return result;
}

std::string serialize_bundle(const Bundle& b) {
  bj::object vm;
  if (b.material.certificate) {
    vm["certificate"] = bj::object{{"rawBytes", base64_encode(b.material.certificate->der())}};
  } else if (!b.material.certificate_chain.empty()) {
    bj::array certs;
    for (const auto& c : b.material.certificate_chain) certs.push_back(bj::object{{"rawBytes", base64_encode(c.der())}});
    vm["x509CertificateChain"] = bj::object{{"certificates", std::move(certs)}};
  } else {
    bj::object pk;
    if (b.material.public_key_hint && !b.material.public_key_hint->empty())
      pk["hint"] = std::string(as_chars(*b.material.public_key_hint));
    vm["publicKey"] = std::move(pk);
  }
  bj::array entries;
  for (const auto& e : b.material.tlog_entries) {
    bj::object o;
    o["logIndex"] = std::to_string(e.log_index);
    o["logId"] = bj::object{{"keyId", base64_encode(e.log_id)}};
    o["kindVersion"] = bj::object{{"kind", e.kind}, {"version", e.version}};
    o["integratedTime"] = std::to_string(e.integrated_time);
    if (e.signed_entry_timestamp)
      o["inclusionPromise"] = bj::object{{"signedEntryTimestamp", base64_encode(*e.signed_entry_timestamp)}};
    if (e.inclusion_proof) {
      const auto& p = *e.inclusion_proof;
      bj::array hashes;
      for (const auto& h : p.hashes) hashes.push_back(bj::value(base64_encode(h)));
      bj::object proof{{"logIndex", std::to_string(p.log_index)},
                       {"rootHash", base64_encode(p.root_hash)},
                       {"treeSize", std::to_string(p.tree_size)},
                       {"hashes", std::move(hashes)}};
      if (p.checkpoint) proof["checkpoint"] = bj::object{{"envelope", *p.checkpoint}};
      o["inclusionProof"] = std::move(proof);
    }
    o["canonicalizedBody"] = base64_encode(e.canonicalized_body);
    entries.push_back(std::move(o));
  }
  vm["tlogEntries"] = std::move(entries);
  if (!b.material.rfc3161_timestamps.empty()) {
    bj::array ts;
    for (const auto& t : b.material.rfc3161_timestamps) ts.push_back(bj::object{{"signedTimestamp", base64_encode(t)}});
    vm["timestampVerificationData"] = bj::object{{"rfc3161Timestamps", std::move(ts)}};
  }
  bj::object root;
  root["mediaType"] = b.media_type.empty() ? std::string(kBundleMediaTypeV03) : b.media_type;
  root["verificationMaterial"] = std::move(vm);
  if (const auto* m = std::get_if<MessageSignature>(&b.content)) {
    bj::object ms;
    if (m->digest_algorithm) {
      std::string alg = *m->digest_algorithm == crypto::HashAlgorithm::kSha256   ? "SHA2_256"
                        : *m->digest_algorithm == crypto::HashAlgorithm::kSha384 ? "SHA2_384"
                                                                                 : "SHA2_512";
      ms["messageDigest"] = bj::object{{"algorithm", alg}, {"digest", base64_encode(m->digest)}};
    }
    ms["signature"] = base64_encode(m->signature);
    root["messageSignature"] = std::move(ms);
  } else {
    const auto& d = std::get<DsseEnvelope>(b.content);
    bj::array sigs;
    for (const auto& s : d.signatures) sigs.push_back(bj::object{{"sig", base64_encode(s.sig)}, {"keyid", s.keyid}});
    root["dsseEnvelope"] = bj::object{
        {"payload", base64_encode(d.payload)}, {"payloadType", d.payload_type}, {"signatures", std::move(sigs)}};
  }
  return json::pretty(root);
}

}  // namespace vouch::sigstore
