#include "vouch/ca/tsa.h"

#include <atomic>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/digest.h"
#include "vouch/net/prometheus.h"

namespace vouch::ca {
namespace {

constexpr size_t kMaxRequestBytes = 16 << 10;  // a TimeStampReq is a few hundred bytes

net::HttpResponse error_response(int status, std::string_view message) {
  net::HttpResponse r;
  r.status = status;
  r.body = json::serialize(boost::json::object{{"code", status}, {"message", message}}) + "\n";
  return r;
}

// The JSON request form (sigstore/timestamp-authority's, which sigstore-js and vouch send) as
// the DER request it stands for.
Result<Bytes> request_from_json(std::string_view body) {
  VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(body, {.max_bytes = kMaxRequestBytes, .max_depth = 4}));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("expected an object");
  for (const auto& m : doc.as_object())
    if (m.key() != "artifactHash" && m.key() != "hashAlgorithm" && m.key() != "nonce" && m.key() != "certificates" &&
        m.key() != "tsaPolicyOID")
      return root.error(fmt::format("unknown field \"{}\"", std::string_view(m.key())));
  VOUCH_ASSIGN_OR_RETURN(Bytes digest, root.get_bytes("artifactHash"));
  VOUCH_ASSIGN_OR_RETURN(std::string algorithm, root.get_string("hashAlgorithm"));
  auto hash = crypto::hash_from_name(algorithm);
  if (!hash.ok()) return invalid_input(fmt::format("hashAlgorithm \"{}\" is not sha256, sha384 or sha512", algorithm));
  bool certificates = false;
  if (auto c = root.find("certificates")) {
    VOUCH_ASSIGN_OR_RETURN(certificates, c->boolean());
  }
  std::optional<Bytes> nonce;
  if (auto n = root.find("nonce")) {
    VOUCH_ASSIGN_OR_RETURN(int64_t value, n->int64());
    if (value <= 0) return n->error("must be a positive integer");
    Bytes be;
    for (int shift = 56; shift >= 0; shift -= 8)
      if (!be.empty() || ((value >> shift) & 0xff)) be.push_back(static_cast<uint8_t>(value >> shift));
    nonce = std::move(be);
  }
  if (auto policy = root.find("tsaPolicyOID")) {
    VOUCH_ASSIGN_OR_RETURN(std::string oid, policy->string());
    // Only the authority's own policy is served; another is refused, never answered under ours.
    if (oid != crypto::TimestampSigningOptions{}.policy_oid)
      return invalid_input(fmt::format("tsaPolicyOID {} is not this authority's policy", oid));
  }
  return crypto::timestamp_request_for_digest(digest, *hash, certificates, nonce);
}

}  // namespace

Result<TsaOptions> load_tsa_material(const std::string& key_pem_path, const std::string& chain_pem_path) {
  VOUCH_ASSIGN_OR_RETURN(std::string key_pem, read_file(key_pem_path));
  VOUCH_ASSIGN_OR_RETURN(std::string chain_pem, read_file(chain_pem_path));
  auto key = crypto::PrivateKey::from_pem(key_pem);
  if (!key.ok()) return invalid_input(fmt::format("{}: {}", key_pem_path, key.error().message));
  auto chain = crypto::Certificate::all_from_pem(chain_pem);
  if (!chain.ok()) return invalid_input(fmt::format("{}: {}", chain_pem_path, chain.error().message));
  if (chain.value().empty()) return invalid_input(fmt::format("{}: no certificate", chain_pem_path));
  if (chain.value()[0].public_key().der() != key.value().public_key().der())
    return invalid_input(fmt::format("{}: the first certificate does not belong to the key in {}", chain_pem_path,
                                     key_pem_path));
  return TsaOptions{std::move(key).value(), std::move(chain).value(), {}};
}

Result<TsaOptions> load_or_create_tsa_material(const std::filesystem::path& dir, std::string_view organization) {
  const auto key_path = dir / "tsa_key.pem", chain_path = dir / "tsa_chain.pem";
  std::error_code ec;
  const bool have_key = std::filesystem::symlink_status(key_path, ec).type() != std::filesystem::file_type::not_found;
  const bool have_chain = std::filesystem::symlink_status(chain_path, ec).type() != std::filesystem::file_type::not_found;
  if (have_key && have_chain) return load_tsa_material(key_path.string(), chain_path.string());
  if (have_key || have_chain)
    return invalid_input(fmt::format("{}: only one of tsa_key.pem and tsa_chain.pem exists; refusing to replace it",
                                     dir.string()));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey root_key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP384));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  const UnixSeconds now = now_unix();
  crypto::CertificateTemplate root;
  root.subject = {{"O", std::string(organization)}, {"CN", std::string(organization) + " timestamping root"}};
  root.not_before = now - 300;
  root.not_after = now + 10LL * 365 * 86400;
  root.public_key = root_key.public_key();
  root.is_ca = true;
  root.path_len = 0;
  root.key_usage.cert_sign = true;
  root.key_usage.crl_sign = true;
  VOUCH_ASSIGN_OR_RETURN(crypto::Certificate root_cert, crypto::sign_certificate(root, root_key));
  crypto::CertificateTemplate leaf;
  leaf.subject = {{"O", std::string(organization)}, {"CN", std::string(organization) + " timestamping"}};
  leaf.not_before = root.not_before;
  leaf.not_after = root.not_after;
  leaf.public_key = key.public_key();
  leaf.key_usage.digital_signature = true;
  // extKeyUsage: SEQUENCE { id-kp-timeStamping }, critical as RFC 3161 section 2.3 requires.
  leaf.extra_extensions.push_back({"2.5.29.37", true, Bytes{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08}});
  VOUCH_ASSIGN_OR_RETURN(crypto::Certificate leaf_cert, crypto::sign_certificate(leaf, root_key, root_cert));
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(key_path, key.pkcs8_pem(), 0600));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(chain_path, leaf_cert.pem() + root_cert.pem()));
  return TsaOptions{std::move(key), {leaf_cert, root_cert}, {}};
}

struct TimestampAuthorityServer::Impl {
  TsaOptions options;
  std::string chain_pem;
  std::atomic<uint64_t> granted{0};
  std::atomic<uint64_t> refused{0};
};

TimestampAuthorityServer::TimestampAuthorityServer(TsaOptions options) : impl_(std::make_unique<Impl>()) {
  for (const auto& c : options.chain) impl_->chain_pem += c.pem();
  impl_->options = std::move(options);
}

TimestampAuthorityServer::~TimestampAuthorityServer() = default;

std::string TimestampAuthorityServer::chain_pem() const { return impl_->chain_pem; }

void TimestampAuthorityServer::handle(net::HttpRequest request, net::Responder respond) {
  if (request.path == "/healthz" || request.path == "/readyz") {
    respond({200, "text/plain", "ok\n", {}});
    return;
  }
  if (request.path == "/metrics") {
    net::PrometheusText text;
    text.counter("vouch_tsa_timestamps_granted_total", "Timestamps issued.", impl_->granted.load());
    text.counter("vouch_tsa_requests_refused_total", "Timestamp requests refused.", impl_->refused.load());
    respond({200, std::string(net::PrometheusText::kContentType), text.take(), {}});
    return;
  }
  if (request.path == "/api/v1/timestamp/certchain") {
    if (request.method != "GET") return respond(error_response(405, "use GET"));
    respond({200, "application/pem-certificate-chain", impl_->chain_pem, {}});
    return;
  }
  if (request.path != "/api/v1/timestamp") return respond(error_response(404, "not found"));
  if (request.method != "POST") return respond(error_response(405, "use POST"));
  if (request.body.size() > kMaxRequestBytes) {
    ++impl_->refused;
    return respond(error_response(413, "timestamp request larger than 16 KiB"));
  }
  Bytes der;
  if (request.content_type.rfind("application/timestamp-query", 0) == 0) {
    der = to_bytes(request.body);
  } else if (request.content_type.rfind("application/json", 0) == 0) {
    auto parsed = request_from_json(request.body);
    if (!parsed.ok()) {
      ++impl_->refused;
      return respond(error_response(400, "timestamp request: " + parsed.error().message));
    }
    der = std::move(*parsed);
  } else {
    ++impl_->refused;
    return respond(error_response(415, "Content-Type must be application/timestamp-query or application/json"));
  }
  auto reply = crypto::sign_timestamp(der, impl_->options.key, impl_->options.chain, impl_->options.signing);
  if (!reply.ok()) {
    ++impl_->refused;
    bool client_error = reply.error().code == ErrorCode::kInvalidInput;
    return respond(error_response(client_error ? 400 : 500, reply.error().message));
  }
  ++impl_->granted;
  respond({200, "application/timestamp-reply", to_string(*reply), {}});
}

}  // namespace vouch::ca
