// Kyverno's ImageInfo as pkg/utils/image's GetImageInfo gives it (default registry docker.io,
// registry mutation on): what policies read in the `images` variable.
#include <gtest/gtest.h>

#include "vouch/policy/image_info.h"

namespace vouch::policy {
namespace {

struct Expected {
  const char* image;
  const char* registry;
  const char* path;
  const char* name;
  const char* tag;
  const char* digest;
  const char* reference;
  const char* reference_with_tag;
};

constexpr const char* kDigest = "sha256:128c6e3534b842a2eec139999b8ce8aa9a2af9907e2b9269550809d18cd832a3";

TEST(ImageInfo, FieldsAsKyverno) {
  const std::string at_digest = std::string("@") + kDigest;
  const std::string nginx_digest = "nginx" + at_digest;
  const std::string ghcr_digest = "ghcr.io/acme/app:1.0" + at_digest;
  const std::string ref_nginx_digest = "docker.io/library/nginx" + at_digest;
  const std::string ref_ghcr_digest = "ghcr.io/acme/app" + at_digest;
  const Expected cases[] = {
      // One segment: docker.io, "library/" in the path but not in the reference with tag.
      {"nginx", "docker.io", "library/nginx", "nginx", "latest", "", "docker.io/library/nginx:latest",
       "docker.io/nginx:latest"},
      {"nginx:1.25", "docker.io", "library/nginx", "nginx", "1.25", "", "docker.io/library/nginx:1.25",
       "docker.io/nginx:1.25"},
      {"docker.io/nginx", "docker.io", "library/nginx", "nginx", "latest", "", "docker.io/library/nginx:latest",
       "docker.io/nginx:latest"},
      {"library/nginx", "docker.io", "library/nginx", "nginx", "latest", "", "docker.io/library/nginx:latest",
       "docker.io/library/nginx:latest"},
      // Several segments: the path as written.
      {"bitnami/redis:7", "docker.io", "bitnami/redis", "redis", "7", "", "docker.io/bitnami/redis:7",
       "docker.io/bitnami/redis:7"},
      {"ghcr.io/acme/team/app:v2", "ghcr.io", "acme/team/app", "app", "v2", "", "ghcr.io/acme/team/app:v2",
       "ghcr.io/acme/team/app:v2"},
      // A registry is kept as written; a one-segment path gains "library/" on any registry.
      {"index.docker.io/library/busybox", "index.docker.io", "library/busybox", "busybox", "latest", "",
       "index.docker.io/library/busybox:latest", "index.docker.io/library/busybox:latest"},
      {"localhost:5000/app:dev", "localhost:5000", "library/app", "app", "dev", "", "localhost:5000/library/app:dev",
       "localhost:5000/app:dev"},
      {"localhost/app", "localhost", "library/app", "app", "latest", "", "localhost/library/app:latest",
       "localhost/app:latest"},
      // A digest: no default tag, the reference by digest, the reference with tag keeps an empty tag.
      {nginx_digest.c_str(), "docker.io", "library/nginx", "nginx", "", kDigest, ref_nginx_digest.c_str(),
       "docker.io/nginx:"},
      {ghcr_digest.c_str(), "ghcr.io", "acme/app", "app", "1.0", kDigest, ref_ghcr_digest.c_str(),
       "ghcr.io/acme/app:1.0"},
  };
  for (const auto& c : cases) {
    auto info = kyverno_image_info(c.image);
    ASSERT_TRUE(info.ok()) << c.image << ": " << info.error().message;
    EXPECT_EQ(info->registry, c.registry) << c.image;
    EXPECT_EQ(info->path, c.path) << c.image;
    EXPECT_EQ(info->name, c.name) << c.image;
    EXPECT_EQ(info->tag, c.tag) << c.image;
    EXPECT_EQ(info->digest, c.digest) << c.image;
    EXPECT_EQ(info->reference, c.reference) << c.image;
    EXPECT_EQ(info->reference_with_tag, c.reference_with_tag) << c.image;
  }
}

TEST(ImageInfo, JsonNamesKyvernoFields) {
  auto info = kyverno_image_info("ghcr.io/acme/app:1.0");
  ASSERT_TRUE(info.ok());
  auto json = info->to_json();
  EXPECT_EQ(json.at("registry"), "ghcr.io");
  EXPECT_EQ(json.at("path"), "acme/app");
  EXPECT_EQ(json.at("name"), "app");
  EXPECT_EQ(json.at("tag"), "1.0");
  EXPECT_EQ(json.at("digest"), "");
  EXPECT_EQ(json.at("reference"), "ghcr.io/acme/app:1.0");
  EXPECT_EQ(json.at("referenceWithTag"), "ghcr.io/acme/app:1.0");
}

TEST(ImageInfo, InvalidReferencesAreErrors) {
  EXPECT_FALSE(kyverno_image_info("").ok());
  EXPECT_FALSE(kyverno_image_info("nginx@sha256:short").ok());
  EXPECT_FALSE(kyverno_image_info("ghcr.io/Acme/app").ok());
}

}  // namespace
}  // namespace vouch::policy
