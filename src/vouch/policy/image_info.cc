// Kyverno's ImageInfo over oci's reference parser.
#include "vouch/policy/image_info.h"

#include <fmt/format.h>

#include <string>
#include <unordered_map>

#include "vouch/oci/reference.h"

namespace vouch::policy {

namespace {

// Whether the first segment of `image` names a registry, by Kyverno's rule (which adds the
// default registry otherwise): it holds '.' or ':', is "localhost", or has upper case.
bool names_registry(std::string_view image) {
  size_t slash = image.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view first = image.substr(0, slash);
  if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") return true;
  for (char c : first)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

}  // namespace

boost::json::object ImageInfo::to_json() const {
  return boost::json::object{{"registry", registry}, {"name", name},     {"path", path},
                             {"tag", tag},           {"digest", digest}, {"reference", reference},
                             {"referenceWithTag", reference_with_tag}};
}

namespace {

Result<ImageInfo> parse_image_info(std::string_view image) {
  VOUCH_ASSIGN_OR_RETURN(oci::Reference ref, oci::parse_reference_no_default_tag(image));
  bool explicit_registry = names_registry(image);
  std::string_view written = explicit_registry ? image.substr(image.find('/') + 1) : image;
  ImageInfo info;
  info.registry = explicit_registry ? std::string(image.substr(0, image.find('/'))) : std::string(oci::kDefaultDomain);
  // The path as written: docker's normalisation adds "library/" to a one-segment docker.io
  // path, which Kyverno's reference-with-tag does not have.
  std::string path = ref.repository;
  if (path.starts_with("library/") && !written.starts_with("library/")) path = path.substr(8);
  info.name = path.substr(path.rfind('/') + 1);
  if (ref.tag) info.tag = *ref.tag;
  if (ref.digest) info.digest = ref.digest->str();
  if (info.tag.empty() && info.digest.empty()) info.tag = std::string(oci::kDefaultTag);
  info.reference_with_tag = fmt::format("{}/{}:{}", info.registry, path, info.tag);
  info.path = path.find('/') == std::string::npos ? "library/" + path : path;
  info.reference = info.digest.empty() ? fmt::format("{}/{}:{}", info.registry, info.path, info.tag)
                                       : fmt::format("{}/{}@{}", info.registry, info.path, info.digest);
  return info;
}

}  // namespace

Result<ImageInfo> kyverno_image_info(std::string_view image) {
  // The docker reference grammar is a large regular expression, and the same few images come
  // back in every request (each container, each rule): remembered per thread, bounded.
  constexpr size_t kMaxRemembered = 4096;
  thread_local std::unordered_map<std::string, Result<ImageInfo>> remembered;
  std::string key(image);
  if (auto it = remembered.find(key); it != remembered.end()) return it->second;
  if (remembered.size() >= kMaxRemembered) remembered.clear();
  return remembered.emplace(std::move(key), parse_image_info(image)).first->second;
}

}  // namespace vouch::policy
