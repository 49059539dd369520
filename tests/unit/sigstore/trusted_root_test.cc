// Writing trusted roots, and trust given only as PEM CA certificates (SIGSTORE_ROOT_FILE).
#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/json.h"
#include "vouch/sigstore/trusted_root.h"

namespace vouch::sigstore {
namespace {

using vouch::testing::read_testdata;

TEST(TrustedRootJson, RoundTripsThePublicGoodRoot) {
  for (const char* file : {"sigstore-trust/trusted_root.production.json", "sigstore-trust/trusted_root.staging.json"}) {
    auto root = parse_trusted_root(read_testdata(file));
    ASSERT_TRUE(root.ok()) << root.error().message;
    std::string written = json::serialize(trusted_root_json(*root));
    auto again = parse_trusted_root(written);
    ASSERT_TRUE(again.ok()) << file << ": " << again.error().message;
    EXPECT_EQ(json::serialize(trusted_root_json(*again)), written) << file;
    ASSERT_EQ(again->tlogs.size(), root->tlogs.size());
    for (size_t i = 0; i < root->tlogs.size(); ++i) {
      EXPECT_EQ(again->tlogs[i].log_id, root->tlogs[i].log_id);
      EXPECT_TRUE(again->tlogs[i].key.equals(root->tlogs[i].key));
      EXPECT_EQ(again->tlogs[i].valid_for.start, root->tlogs[i].valid_for.start);
      EXPECT_EQ(again->tlogs[i].valid_for.end, root->tlogs[i].valid_for.end);
      EXPECT_EQ(again->tlogs[i].checkpoint_key_id, root->tlogs[i].checkpoint_key_id);
    }
    ASSERT_EQ(again->certificate_authorities.size(), root->certificate_authorities.size());
    for (size_t i = 0; i < root->certificate_authorities.size(); ++i) {
      EXPECT_EQ(again->certificate_authorities[i].chain.size(), root->certificate_authorities[i].chain.size());
      EXPECT_EQ(again->certificate_authorities[i].chain_verified, root->certificate_authorities[i].chain_verified);
    }
    EXPECT_EQ(again->ctlogs.size(), root->ctlogs.size());
    EXPECT_EQ(again->timestamp_authorities.size(), root->timestamp_authorities.size());
  }
}

TEST(TrustedRootJson, EmptyRootHasEveryList) {
  auto o = trusted_root_json(TrustedRoot{});
  EXPECT_EQ(o.at("mediaType").as_string(), kTrustedRootMediaType);
  for (const char* key : {"tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"})
    EXPECT_TRUE(o.at(key).as_array().empty()) << key;
}

TEST(TrustedRootFromCertificates, SelfSignedCertificatesAreRoots) {
  auto prod = parse_trusted_root(read_testdata("sigstore-trust/trusted_root.production.json"));
  ASSERT_TRUE(prod.ok());
  // Fulcio's current CA: an intermediate and its root.
  const auto& chain = prod->certificate_authorities.back().chain;
  ASSERT_GE(chain.size(), 2u);
  std::string pem;
  for (const auto& c : chain) pem += c.pem();
  auto root = trusted_root_from_certificates(pem);
  ASSERT_TRUE(root.ok()) << root.error().message;
  ASSERT_EQ(root->certificate_authorities.size(), 1u);
  const auto& ca = root->certificate_authorities.front();
  EXPECT_EQ(ca.chain.size(), chain.size());
  EXPECT_TRUE(ca.chain.back().is_self_signed());
  EXPECT_TRUE(ca.valid_for.contains(0));
  EXPECT_FALSE(ca.valid_for.end.has_value());

  auto only_intermediate = trusted_root_from_certificates(chain.front().pem());
  EXPECT_FALSE(only_intermediate.ok());
  EXPECT_FALSE(trusted_root_from_certificates("not PEM").ok());
}

}  // namespace
}  // namespace vouch::sigstore
