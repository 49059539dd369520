#include "vouch/sigstore/trusted_material.h"

namespace vouch::sigstore {
namespace {

template <typename T, typename F>
std::vector<const T*> gather(const std::vector<std::shared_ptr<const TrustedMaterial>>& members, F get) {
  std::vector<const T*> out;
  for (const auto& m : members) {
    auto part = get(*m);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace

std::string LogInstance::origin() const {
  // As Go's url.Hostname(): no scheme, user info, port or path.
  std::string_view url = base_url;
  if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (url.starts_with('[')) return std::string(url.substr(1, url.find(']') - 1));
  return std::string(url.substr(0, url.find(':')));
}

std::vector<const CertificateAuthority*> TrustedMaterial::fulcio_certificate_authorities_at(UnixSeconds at) const {
  std::vector<const CertificateAuthority*> out;
  for (const auto* ca : fulcio_certificate_authorities())
    if (ca->valid_for.contains(at)) out.push_back(ca);
  return out;
}

TrustedMaterialCollection::TrustedMaterialCollection(std::vector<std::shared_ptr<const TrustedMaterial>> members)
    : members_(std::move(members)) {}

void TrustedMaterialCollection::add(std::shared_ptr<const TrustedMaterial> member) {
  members_.push_back(std::move(member));
}

std::vector<const CertificateAuthority*> TrustedMaterialCollection::fulcio_certificate_authorities() const {
  return gather<CertificateAuthority>(members_, [](const TrustedMaterial& m) { return m.fulcio_certificate_authorities(); });
}

const LogInstance* TrustedMaterialCollection::find_tlog(ByteView log_id) const {
  for (const auto& m : members_)
    if (const LogInstance* log = m->find_tlog(log_id)) return log;
  return nullptr;
}

std::vector<const LogInstance*> TrustedMaterialCollection::certificate_transparency_logs() const {
  return gather<LogInstance>(members_, [](const TrustedMaterial& m) { return m.certificate_transparency_logs(); });
}

std::vector<const CertificateAuthority*> TrustedMaterialCollection::timestamping_authorities() const {
  return gather<CertificateAuthority>(members_, [](const TrustedMaterial& m) { return m.timestamping_authorities(); });
}

}  // namespace vouch::sigstore
