// What was signed, given as a digest: one that does not decode is an error, never an empty
// artifact.
#include <gtest/gtest.h>

#include "vouch/crypto/digest.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::sigstore {
namespace {

TEST(Artifact, DigestStringDecodes) {
  std::string hex = hex_encode(crypto::sha256(as_bytes(std::string_view("hello"))));
  auto a = Artifact::from_digest_string("sha256:" + hex);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_FALSE(a->has_bytes());
  EXPECT_EQ(hex_encode(*a->digest(crypto::HashAlgorithm::kSha256)), hex);
  // Only the given algorithm is known.
  EXPECT_FALSE(a->digest(crypto::HashAlgorithm::kSha512).ok());
  auto sha512 = Artifact::from_digest_string("sha512:" + std::string(128, 'a'));
  EXPECT_TRUE(sha512.ok());
}

TEST(Artifact, DigestThatDoesNotDecodeIsAnError) {
  for (std::string bad : {"sha256:" + std::string(64, 'z'),   // bad hex
                          "sha256:" + std::string(63, 'a'),   // odd length
                          "sha256:" + std::string(62, 'a'),   // too short
                          "sha256:" + std::string(128, 'a'),  // too long for the algorithm
                          std::string("sha256:"),             // empty
                          "md5:" + std::string(32, 'a'),      // unknown algorithm
                          "sha1:" + std::string(40, 'a'),     // unknown algorithm
                          std::string(64, 'a')}) {            // no algorithm
    auto a = Artifact::from_digest_string(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.error().code, ErrorCode::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace vouch::sigstore
