// Who must have signed: a certificate identity (SAN) and OIDC issuer, each matched exactly or
// by an RE2 regular expression the way cosign matches them (an unanchored search, as Go's
// regexp.MatchString does; anchor the pattern with ^…$ to match it whole).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/crypto/x509.h"

namespace re2 {
class RE2;
}

namespace vouch::sigstore {

class StringMatcher {
 public:
  static StringMatcher exact(std::string value);
  static Result<StringMatcher> regexp(const std::string& pattern);
  bool matches(std::string_view s) const;
  std::string describe() const;  // "'x'" or "regexp 'x'"

 private:
  std::string text_;
  std::shared_ptr<const re2::RE2> regex_;
};

struct CertificateIdentity {
  StringMatcher subject_alternative_name;
  StringMatcher issuer;
};

// What the certificate says about its subject.
struct CertificateSubject {
  std::vector<std::string> sans;  // every SAN value: URIs, emails, otherName, DNS
  std::string issuer;              // OIDC issuer from the Fulcio extension
};

Result<CertificateSubject> certificate_subject(const crypto::Certificate& cert);

// Passes when the certificate matches at least one of the identities.
Status check_identity(const CertificateSubject& subject, const std::vector<CertificateIdentity>& identities);

}  // namespace vouch::sigstore
