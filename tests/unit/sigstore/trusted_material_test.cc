// Trusted material from several roots: a bundle verifies when any root vouches for it, and
// fails when none does.
#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/sigstore/trusted_material.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore {
namespace {

using vouch::testing::read_testdata;

constexpr char kIdentity[] =
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main";
constexpr char kIssuer[] = "https://token.actions.githubusercontent.com";

std::string case_file(const std::string& name, const std::string& file) {
  return read_testdata("sigstore-conformance/bundle-verify/" + name + "/" + file);
}

std::shared_ptr<const TrustedRoot> load_root(const std::string& text) {
  auto root = parse_trusted_root(text);
  if (!root.ok()) throw std::runtime_error(root.error().message);
  return std::make_shared<const TrustedRoot>(std::move(root).value());
}

std::shared_ptr<const TrustedRoot> production() {
  return load_root(read_testdata("sigstore-trust/trusted_root.production.json"));
}
// A private root: its own CA, log, CT log and timestamp authority on localhost.
std::shared_ptr<const TrustedRoot> private_root() {
  return load_root(case_file("intoto-with-custom-trust-root", "trusted_root.json"));
}

Result<VerificationResult> verify_case(const std::string& name, const TrustedMaterial& trusted) {
  VOUCH_ASSIGN_OR_RETURN(Bundle bundle, parse_bundle(case_file(name, "bundle.sigstore.json")));
  std::string artifact = name == "intoto-with-custom-trust-root" ? case_file(name, "artifact")
                                                                 : read_testdata("sigstore-conformance/bundle-verify/a.txt");
  VerifyPolicy policy;
  policy.identities.push_back({StringMatcher::exact(kIdentity), StringMatcher::exact(kIssuer)});
  return verify_bundle(bundle, Artifact::from_bytes(artifact), trusted, policy);
}

TEST(TrustedMaterialCollection, VerifiesBundlesVouchedForByAnyMember) {
  TrustedMaterialCollection both({production(), private_root()});
  EXPECT_EQ(both.size(), 2u);
  for (const char* name : {"happy-path-v0.3", "happy-path-v0.1", "intoto-with-custom-trust-root"}) {
    auto r = verify_case(name, both);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error().message;
  }
  // Each member alone vouches only for its own bundles.
  EXPECT_TRUE(verify_case("happy-path-v0.3", *production()).ok());
  EXPECT_FALSE(verify_case("intoto-with-custom-trust-root", *production()).ok());
  EXPECT_FALSE(verify_case("happy-path-v0.3", *private_root()).ok());
}

TEST(TrustedMaterialCollection, FailsWhenNoMemberVouches) {
  // A bundle from the staging instance: neither production nor the private root trusts its log.
  TrustedMaterialCollection both({production(), private_root()});
  auto r = verify_case("rekor2-happy-path", both);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kVerification) << r.error().message;

  TrustedMaterialCollection none;
  auto empty = verify_case("happy-path-v0.3", none);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("is not a transparency log in the trusted root"), std::string::npos)
      << empty.error().message;
}

TEST(TrustedMaterialCollection, ListsWhatEveryMemberTrusts) {
  auto prod = production();
  auto priv = private_root();
  TrustedMaterialCollection both({prod, priv});
  EXPECT_EQ(both.fulcio_certificate_authorities().size(),
            prod->certificate_authorities.size() + priv->certificate_authorities.size());
  EXPECT_EQ(both.certificate_transparency_logs().size(), prod->ctlogs.size() + priv->ctlogs.size());
  EXPECT_EQ(both.timestamping_authorities().size(), prod->timestamp_authorities.size() + priv->timestamp_authorities.size());
  for (const auto& log : priv->tlogs) EXPECT_EQ(both.find_tlog(log.log_id), &log);
  for (const auto& log : prod->tlogs) EXPECT_EQ(both.find_tlog(log.log_id), &log);
  EXPECT_EQ(both.find_tlog(as_bytes(std::string_view("no such log"))), nullptr);
}

TEST(TrustedMaterial, CertificateAuthoritiesValidAtATime) {
  TrustedRoot root;
  CertificateAuthority old_ca, current_ca;
  old_ca.uri = "old";
  old_ca.valid_for = {100, 200};
  current_ca.uri = "current";
  current_ca.valid_for = {150, std::nullopt};
  root.certificate_authorities = {old_ca, current_ca};
  auto uris = [&](UnixSeconds t) {
    std::vector<std::string> out;
    for (const auto* ca : root.fulcio_certificate_authorities_at(t)) out.push_back(ca->uri);
    return out;
  };
  EXPECT_EQ(uris(50), std::vector<std::string>{});
  EXPECT_EQ(uris(120), std::vector<std::string>{"old"});
  EXPECT_EQ(uris(200), (std::vector<std::string>{"old", "current"}));
  EXPECT_EQ(uris(201), std::vector<std::string>{"current"});
}

}  // namespace
}  // namespace vouch::sigstore
