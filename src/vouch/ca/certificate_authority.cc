#include "vouch/ca/certificate_authority.h"

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/crypto/certificate_builder.h"

namespace vouch::ca {
namespace {

namespace fs = std::filesystem;

struct CaFiles {
  fs::path root, root_key, intermediate, intermediate_key;
  explicit CaFiles(const fs::path& dir)
      : root(dir / "root.pem"),
        root_key(dir / "root_key.pem"),
        intermediate(dir / "intermediate.pem"),
        intermediate_key(dir / "intermediate_key.pem") {}
  std::vector<const fs::path*> all() const { return {&root, &root_key, &intermediate, &intermediate_key}; }
};

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found;
}

Result<crypto::Certificate> load_certificate(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(path));
  auto cert = crypto::Certificate::from_pem(pem);
  if (!cert.ok()) return std::move(cert).error().context(path.string());
  return cert;
}

Result<crypto::PrivateKey> load_key(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(path));
  auto key = crypto::PrivateKey::from_pem(pem);
  if (!key.ok()) return std::move(key).error().context(path.string());
  return key;
}

class FileCertificateAuthority final : public CertificateAuthority {
 public:
  FileCertificateAuthority(CaOptions options, crypto::PrivateKey intermediate_key, std::vector<crypto::Certificate> chain,
                           bool created)
      : options_(std::move(options)),
        intermediate_key_(std::move(intermediate_key)),
        chain_(std::move(chain)),
        created_(created) {
    for (const auto& c : chain_) chain_der_.push_back(c.der());
  }

  const std::vector<crypto::Certificate>& chain() const override { return chain_; }
  bool created() const override { return created_; }

  Result<IssuedCertificate> issue(const Principal& principal, const crypto::PublicKey& key) override {
    VOUCH_RETURN_IF_ERROR(check_subject_key(key));
    crypto::CertificateTemplate t;
    VOUCH_ASSIGN_OR_RETURN(t.serial, crypto::random_serial_number());
    const UnixSeconds now = options_.now();
    t.not_before = now;
    t.not_after = now + options_.leaf_lifetime.count();
    // A leaf must not outlive the CA that vouches for it.
    if (t.not_after > chain_.front().not_after())
      return internal_error(fmt::format("the CA's intermediate expires at {}, before a new certificate would",
                                        format_rfc3339(chain_.front().not_after())));
    t.public_key = key;
    t.key_usage.digital_signature = true;
    t.code_signing_eku = true;
    if (principal.san_kind == Principal::SanKind::kEmail) {
      t.subject_alt_names.emails.push_back(principal.san);
    } else {
      t.subject_alt_names.uris.push_back(principal.san);
    }
    t.fulcio = principal.extensions;
    IssuedCertificate out;
    out.chain = chain_;
    if (!options_.submit_precertificate) {
      VOUCH_ASSIGN_OR_RETURN(out.leaf, crypto::sign_certificate(t, intermediate_key_, chain_.front()));
      return out;
    }
    t.ct_poison = true;
    VOUCH_ASSIGN_OR_RETURN(crypto::Certificate precert, crypto::sign_certificate(t, intermediate_key_, chain_.front()));
    std::vector<Bytes> submission{precert.der()};
    submission.insert(submission.end(), chain_der_.begin(), chain_der_.end());
    auto sct = options_.submit_precertificate(submission);
    if (!sct.ok()) return std::move(sct).error().context("CT log");
    t.ct_poison = false;
    VOUCH_ASSIGN_OR_RETURN(Bytes list, crypto::serialize_sct_list({*sct}));
    t.sct_list = std::move(list);
    VOUCH_ASSIGN_OR_RETURN(out.leaf, crypto::sign_certificate(t, intermediate_key_, chain_.front()));
    out.sct_embedded = true;
    return out;
  }

 private:
  CaOptions options_;
  crypto::PrivateKey intermediate_key_;
  std::vector<crypto::Certificate> chain_;
  std::vector<Bytes> chain_der_;
  bool created_;
};

Status create_ca(const CaOptions& options, const CaFiles& files) {
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey root_key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP384));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey intermediate_key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP384));
  crypto::CaPairOptions pair_options;
  pair_options.root_subject = {{"O", options.organization}, {"CN", options.common_name}};
  pair_options.intermediate_subject = {{"O", options.organization}, {"CN", options.common_name + " intermediate"}};
  // Backdated a little, as CAs do, so that a verifier whose clock lags still accepts it.
  pair_options.not_before = options.now() - 300;
  pair_options.not_after = options.now() + std::chrono::duration_cast<std::chrono::seconds>(options.ca_lifetime).count();
  VOUCH_ASSIGN_OR_RETURN(crypto::CaPair pair, crypto::create_ca_pair(root_key, intermediate_key, pair_options));
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return io_error(fmt::format("{}: {}", options.dir.string(), ec.message()));
  // Keys first: a certificate on disk always has its key beside it.
  VOUCH_RETURN_IF_ERROR(write_file_atomic(files.root_key, root_key.pkcs8_pem(), 0600));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(files.intermediate_key, intermediate_key.pkcs8_pem(), 0600));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(files.intermediate, pair.intermediate.pem()));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(files.root, pair.root.pem()));
  return ok_status();
}

}  // namespace

Status check_subject_key(const crypto::PublicKey& key) {
  switch (key.type()) {
    case crypto::KeyType::kEcdsaP256:
    case crypto::KeyType::kEcdsaP384:
    case crypto::KeyType::kEcdsaP521:
    case crypto::KeyType::kEd25519:
      return ok_status();
    case crypto::KeyType::kRsa:
      if (key.bits() < 2048 || key.bits() > 4096)
        return invalid_input(fmt::format("RSA key of {} bits (2048 to 4096 are accepted)", key.bits()));
      return ok_status();
  }
  return invalid_input("unsupported key type");
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::open(CaOptions options) {
  if (options.dir.empty()) return invalid_input("certificate authority: no directory");
  if (options.leaf_lifetime <= std::chrono::seconds(0)) return invalid_input("certificate lifetime must be positive");
  CaFiles files(options.dir);
  size_t present = 0;
  for (const auto* p : files.all()) present += path_exists(*p) ? 1 : 0;
  bool created = false;
  if (present == 0) {
    VOUCH_RETURN_IF_ERROR(create_ca(options, files));
    created = true;
  } else if (present != files.all().size()) {
    std::string missing;
    for (const auto* p : files.all())
      if (!path_exists(*p)) missing += (missing.empty() ? "" : ", ") + p->filename().string();
    return invalid_input(fmt::format("{}: incomplete CA directory (missing {}); refusing to create a new CA over it",
                                     options.dir.string(), missing));
  }
  VOUCH_ASSIGN_OR_RETURN(crypto::Certificate root, load_certificate(files.root));
  VOUCH_ASSIGN_OR_RETURN(crypto::Certificate intermediate, load_certificate(files.intermediate));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey root_key, load_key(files.root_key));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey intermediate_key, load_key(files.intermediate_key));
  if (!root_key.public_key().equals(root.public_key()))
    return invalid_input(fmt::format("{}: key does not belong to {}", files.root_key.string(), files.root.string()));
  if (!intermediate_key.public_key().equals(intermediate.public_key()))
    return invalid_input(
        fmt::format("{}: key does not belong to {}", files.intermediate_key.string(), files.intermediate.string()));
  if (!intermediate.is_ca() || !root.is_ca()) return invalid_input(fmt::format("{}: a certificate is not a CA", options.dir.string()));
  auto path = crypto::verify_chain(intermediate, {}, {root}, options.now());
  if (!path.ok()) return std::move(path).error().context(fmt::format("{}: intermediate", options.dir.string()));
  std::unique_ptr<CertificateAuthority> ca = std::make_unique<FileCertificateAuthority>(
      std::move(options), std::move(intermediate_key), std::vector<crypto::Certificate>{intermediate, root}, created);
  return ca;
}

}  // namespace vouch::ca
