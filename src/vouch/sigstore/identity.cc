#include "vouch/sigstore/identity.h"

#include <re2/re2.h>

#include "vouch/crypto/fulcio.h"

namespace vouch::sigstore {

StringMatcher StringMatcher::exact(std::string value) {
  StringMatcher m;
  m.text_ = std::move(value);
  return m;
}

Result<StringMatcher> StringMatcher::regexp(const std::string& pattern) {
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  if (!re->ok()) return invalid_input(fmt::format("invalid regular expression '{}': {}", pattern, re->error()));
  StringMatcher m;
  m.text_ = pattern;
  m.regex_ = std::move(re);
  return m;
}

bool StringMatcher::matches(std::string_view s) const {
  if (regex_) return RE2::PartialMatch(s, *regex_);
  return s == text_;
}

std::string StringMatcher::describe() const {
  return regex_ ? fmt::format("regexp '{}'", text_) : fmt::format("'{}'", text_);
}

Result<CertificateSubject> certificate_subject(const crypto::Certificate& cert) {
  CertificateSubject s;
  auto sans = cert.subject_alt_names();
  for (auto* list : {&sans.uris, &sans.emails, &sans.other_names, &sans.dns_names})
    s.sans.insert(s.sans.end(), list->begin(), list->end());
  auto ext = crypto::parse_fulcio_extensions(cert);
  if (!ext.ok()) return std::move(ext).error();
  s.issuer = ext->issuer;
  return s;
}

Status check_identity(const CertificateSubject& subject, const std::vector<CertificateIdentity>& identities) {
  if (identities.empty()) return invalid_input("identity: no certificate identity to verify against");
  for (const auto& id : identities) {
    if (!id.issuer.matches(subject.issuer)) continue;
    for (const auto& san : subject.sans)
      if (id.subject_alternative_name.matches(san)) return ok_status();
  }
  const auto& want = identities.front();
  return verification_failed(fmt::format(
      "identity: certificate identity {} from issuer '{}' does not match the expected identity {} and issuer {}",
      subject.sans.empty() ? std::string("(none)") : fmt::format("'{}'", subject.sans.front()), subject.issuer,
      want.subject_alternative_name.describe(), want.issuer.describe()));
}

}  // namespace vouch::sigstore
