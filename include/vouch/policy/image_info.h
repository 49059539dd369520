// Kyverno's ImageInfo (pkg/utils/image): an image reference split the way policies see it, in
// the `images` variable and when verifyImages matches imageReferences.
//
//   auto info = kyverno_image_info("nginx");
//   // registry "docker.io", path "library/nginx", name "nginx", tag "latest",
//   // reference "docker.io/library/nginx:latest", referenceWithTag "docker.io/nginx:latest"
//
// The reference is parsed by oci's parser (the docker grammar); the fields then follow
// Kyverno where it differs from docker's normalisation: the registry is kept as written
// ("index.docker.io" stays), a one-segment path gains "library/" on every registry, the
// reference-with-tag uses the path as written, and a reference with neither tag nor digest
// has the tag "latest". (Kyverno's default-registry settings are at their defaults:
// docker.io, mutation on.)
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy {

struct ImageInfo {
  std::string registry;            // "docker.io", "ghcr.io", "localhost:5000"
  std::string path;                // "library/nginx", "acme/app"
  std::string name;                // the last segment of the path: "nginx"
  std::string tag;                 // "1.25", "latest" when neither tag nor digest is given
  std::string digest;              // "sha256:…" or empty
  std::string reference;           // registry/path@digest, else registry/path:tag
  std::string reference_with_tag;  // registry/path-as-written:tag (tag empty for a digest only)

  // {"registry", "path", "name", "tag", "digest", "reference", "referenceWithTag"}, as Kyverno
  // puts it in the `images` variable.
  boost::json::object to_json() const;
};

// An error when `image` is not a valid reference.
Result<ImageInfo> kyverno_image_info(std::string_view image);

}  // namespace vouch::policy
