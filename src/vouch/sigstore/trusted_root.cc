#include "vouch/sigstore/trusted_root.h"

#include "vouch/base/json.h"

namespace vouch::sigstore {
namespace {

using json::Node;

Result<ValidityWindow> parse_validity(const Node& parent) {
  VOUCH_ASSIGN_OR_RETURN(Node n, parent.get("validFor"));
  ValidityWindow w;
  // A window without a start would trust the key for all of the past: refuse it.
  VOUCH_ASSIGN_OR_RETURN(std::string start, n.get_string("start"));
  auto s = parse_rfc3339(start);
  if (!s.ok()) return n.error(s.error().message);
  w.start = *s;
  if (auto end = n.find("end")) {
    VOUCH_ASSIGN_OR_RETURN(std::string e, end->string());
    auto t = parse_rfc3339(e);
    if (!t.ok()) return end->error(t.error().message);
    if (*t < w.start) return n.error("end is before start");
    w.end = *t;
  }
  return w;
}

Result<crypto::PublicKey> parse_key(const Node& pk, std::string_view key_details) {
  VOUCH_ASSIGN_OR_RETURN(Bytes raw, pk.get_bytes("rawBytes"));
  auto key = crypto::PublicKey::from_der(raw);
  if (!key.ok() && key_details.starts_with("PKCS1_RSA")) key = crypto::PublicKey::from_pkcs1_rsa_der(raw);
  if (!key.ok()) return pk.error(key.error().message);
  return key;
}

Result<LogInstance> parse_log(const Node& n) {
  LogInstance log;
  VOUCH_ASSIGN_OR_RETURN(log.base_url, n.get_string("baseUrl"));
  if (auto h = n.find("hashAlgorithm")) {
    VOUCH_ASSIGN_OR_RETURN(std::string alg, h->string());
    auto parsed = crypto::hash_from_name(alg);
    if (!parsed.ok()) return h->error(parsed.error().message);
    log.hash_algorithm = *parsed;
  }
  VOUCH_ASSIGN_OR_RETURN(Node pk, n.get("publicKey"));
  if (auto kd = pk.find("keyDetails")) {
    VOUCH_ASSIGN_OR_RETURN(log.key_details, kd->string());
  }
  VOUCH_ASSIGN_OR_RETURN(log.key, parse_key(pk, log.key_details));
  VOUCH_ASSIGN_OR_RETURN(log.valid_for, parse_validity(pk));
  VOUCH_ASSIGN_OR_RETURN(Node id, n.get("logId"));
  VOUCH_ASSIGN_OR_RETURN(log.log_id, id.get_bytes("keyId"));
  if (auto cp = n.find("checkpointKeyId")) {
    VOUCH_ASSIGN_OR_RETURN(Bytes cid, cp->get_bytes("keyId"));
    log.checkpoint_key_id = std::move(cid);
  }
  return log;
}

Result<CertificateAuthority> parse_ca(const Node& n) {
  CertificateAuthority ca;
  if (auto uri = n.find("uri")) {
    VOUCH_ASSIGN_OR_RETURN(ca.uri, uri->string());
  }
  VOUCH_ASSIGN_OR_RETURN(Node chain, n.get("certChain"));
  VOUCH_ASSIGN_OR_RETURN(Node certs, chain.get("certificates"));
  VOUCH_ASSIGN_OR_RETURN(auto items, certs.array());
  if (items.empty()) return certs.error("empty certificate chain");
  for (const auto& c : items) {
    VOUCH_ASSIGN_OR_RETURN(Bytes der, c.get_bytes("rawBytes"));
    auto cert = crypto::Certificate::from_der(der);
    if (!cert.ok()) return c.error(cert.error().message);
    ca.chain.push_back(std::move(cert).value());
  }
  VOUCH_ASSIGN_OR_RETURN(ca.valid_for, parse_validity(n));
  std::vector<crypto::Certificate> middle(ca.chain.begin() + 1, ca.chain.end() - (ca.chain.size() > 1 ? 1 : 0));
  ca.chain_verified = ca.chain.size() == 1 ||
                      crypto::verify_chain(ca.chain.front(), middle, {ca.chain.back()}, std::nullopt).ok();
  return ca;
}

template <typename T, typename F>
Status parse_list(const Node& root, std::string_view key, std::vector<T>& out, F parse_one) {
  auto list = root.find(key);
  if (!list) return ok_status();
  VOUCH_ASSIGN_OR_RETURN(auto items, list->array());
  if (items.size() > 256) return list->error("more than 256 entries");
  for (const auto& item : items) {
    VOUCH_ASSIGN_OR_RETURN(T value, parse_one(item));
    out.push_back(std::move(value));
  }
  return ok_status();
}

}  // namespace

namespace {
template <typename T>
std::vector<const T*> pointers(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(&item);
  return out;
}
}  // namespace

std::vector<const CertificateAuthority*> TrustedRoot::fulcio_certificate_authorities() const {
  return pointers(certificate_authorities);
}

std::vector<const LogInstance*> TrustedRoot::certificate_transparency_logs() const { return pointers(ctlogs); }

std::vector<const CertificateAuthority*> TrustedRoot::timestamping_authorities() const {
  return pointers(timestamp_authorities);
}

const LogInstance* TrustedRoot::find_tlog(ByteView log_id) const {
  for (const auto& t : tlogs) {
    if (bytes_equal(t.log_id, log_id)) return &t;
    if (t.checkpoint_key_id && bytes_equal(*t.checkpoint_key_id, log_id)) return &t;
  }
  return nullptr;
}

Result<TrustedRoot> parse_trusted_root(std::string_view text) {
  auto parsed = json::parse(text, {.max_bytes = 16 * 1024 * 1024, .max_depth = 16});
  if (!parsed.ok()) return std::move(parsed).error().context("trusted root");
  Node root = Node::root(*parsed);
  auto result = [&]() -> Result<TrustedRoot> {
    if (!root.is_object()) return root.error("expected a JSON object");
    TrustedRoot tr;
    VOUCH_ASSIGN_OR_RETURN(tr.media_type, root.get_string("mediaType"));
    if (tr.media_type != "application/vnd.dev.sigstore.trustedroot+json;version=0.1" &&
        tr.media_type != "application/vnd.dev.sigstore.trustedroot.v0.1+json" &&
        tr.media_type != "application/vnd.dev.sigstore.trustedroot.v0.2+json")
      return invalid_input(fmt::format("mediaType: unsupported trusted root media type '{}'", tr.media_type.substr(0, 100)));
    VOUCH_RETURN_IF_ERROR(parse_list(root, "tlogs", tr.tlogs, parse_log));
    VOUCH_RETURN_IF_ERROR(parse_list(root, "certificateAuthorities", tr.certificate_authorities, parse_ca));
    VOUCH_RETURN_IF_ERROR(parse_list(root, "ctlogs", tr.ctlogs, parse_log));
    VOUCH_RETURN_IF_ERROR(parse_list(root, "timestampAuthorities", tr.timestamp_authorities, parse_ca));
    return tr;
  }();
  if (!result.ok()) return std::move(result).error().context("trusted root");
  return result;
}

namespace {

namespace bj = boost::json;

std::string hash_algorithm_name(crypto::HashAlgorithm alg) {
  switch (alg) {
    case crypto::HashAlgorithm::kSha256: return "SHA2_256";
    case crypto::HashAlgorithm::kSha384: return "SHA2_384";
    case crypto::HashAlgorithm::kSha512: return "SHA2_512";
  }
  return "SHA2_256";
}

bj::object validity_json(const ValidityWindow& w) {
  bj::object o{{"start", format_rfc3339(w.start)}};
  if (w.end) o["end"] = format_rfc3339(*w.end);
  return o;
}

bj::object log_json(const LogInstance& log) {
  bj::object o{{"baseUrl", log.base_url},
               {"hashAlgorithm", hash_algorithm_name(log.hash_algorithm)},
               {"publicKey", bj::object{{"rawBytes", base64_encode(log.key.der())},
                                        {"keyDetails", log.key_details},
                                        {"validFor", validity_json(log.valid_for)}}},
               {"logId", bj::object{{"keyId", base64_encode(log.log_id)}}}};
  if (log.checkpoint_key_id) o["checkpointKeyId"] = bj::object{{"keyId", base64_encode(*log.checkpoint_key_id)}};
  return o;
}

bj::object ca_json(const CertificateAuthority& ca) {
  bj::array certs;
  for (const auto& c : ca.chain) certs.push_back(bj::object{{"rawBytes", base64_encode(c.der())}});
  bj::object o;
  if (!ca.uri.empty()) o["uri"] = ca.uri;
  o["certChain"] = bj::object{{"certificates", std::move(certs)}};
  o["validFor"] = validity_json(ca.valid_for);
  return o;
}

template <typename T, typename F>
bj::array list_json(const std::vector<T>& items, F to_json) {
  bj::array out;
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

}  // namespace

bj::object trusted_root_json(const TrustedRoot& root) {
  return bj::object{{"mediaType", root.media_type.empty() ? std::string(kTrustedRootMediaType) : root.media_type},
                    {"tlogs", list_json(root.tlogs, log_json)},
                    {"certificateAuthorities", list_json(root.certificate_authorities, ca_json)},
                    {"ctlogs", list_json(root.ctlogs, log_json)},
                    {"timestampAuthorities", list_json(root.timestamp_authorities, ca_json)}};
}

Result<std::string> key_details_for(const crypto::PublicKey& key) {
  switch (key.type()) {
    case crypto::KeyType::kEcdsaP256: return std::string("PKIX_ECDSA_P256_SHA_256");
    case crypto::KeyType::kEcdsaP384: return std::string("PKIX_ECDSA_P384_SHA_384");
    case crypto::KeyType::kEd25519: return std::string("PKIX_ED25519");
    default: break;
  }
  return invalid_input(fmt::format("log key type {} is not supported in a trusted root", key_type_name(key.type())));
}

Result<TrustedRoot> trusted_root_from_certificates(std::string_view pem) {
  auto certs = crypto::Certificate::all_from_pem(pem);
  if (!certs.ok()) return std::move(certs).error();
  std::vector<crypto::Certificate> roots, intermediates;
  for (auto& c : *certs) (c.is_self_signed() ? roots : intermediates).push_back(std::move(c));
  if (roots.empty()) return invalid_input("no root certificate (a self-signed CA certificate) among the certificates");
  TrustedRoot tr;
  tr.media_type = std::string(kTrustedRootMediaType);
  for (auto& root : roots) {
    CertificateAuthority ca;
    ca.chain = intermediates;
    ca.chain.push_back(std::move(root));
    tr.certificate_authorities.push_back(std::move(ca));
  }
  return tr;
}

}  // namespace vouch::sigstore
