// Artifacts pushed as OCI referrers (as `oras attach` pushes them): what is refused.
#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/oci/referrer.h"

namespace vouch::oci {
namespace {

TEST(OciReferrers, RefusesWhatIsNotAMediaTypeAndEmptyArtifacts) {
  vouch::testing::TempDir dir;
  auto ref = parse_image_ref("oci:" + (dir.path() / "l").string() + ":x").value();
  auto store = open_store(ref, {}, true).value();
  Descriptor subject;
  subject.media_type = std::string(media_type::kOciManifest);
  subject.digest = Digest::sha256_of(as_bytes(std::string("x")));
  subject.size = 1;
  ReferrerArtifact a;
  a.artifact_type = "sbom";
  a.files.push_back({"application/json", "{}", ""});
  auto r = push_referrer(*store, subject, a);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "artifact type \"sbom\" is not a media type (type/subtype)");
  a.artifact_type = "sbom/cyclone-dx";
  a.files.clear();
  EXPECT_EQ(push_referrer(*store, subject, a).error().message, "a referrer needs at least one file");
  a.files.push_back({"application json", "{}", ""});
  EXPECT_EQ(push_referrer(*store, subject, a).error().message,
            "media type \"application json\" is not a media type (type/subtype)");
}

}  // namespace
}  // namespace vouch::oci
