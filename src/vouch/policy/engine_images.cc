// Image extraction (Kyverno's pkg/utils/api image extraction): the images of a Pod or a Pod
// controller, and the `images` variable.
#include "engine_internal.h"

#include <fmt/format.h>

namespace vouch::policy {

namespace engine_internal {

// ---------------------------------------------------------------- images

std::optional<ImageInfo> parse_image(const std::string& image) {
  if (image.empty()) return std::nullopt;
  ImageInfo i;
  std::string rest = image;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    i.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  size_t slash = rest.find('/');
  std::string first = slash == std::string::npos ? "" : rest.substr(0, slash);
  if (slash != std::string::npos && (first.find_first_of(".:") != std::string::npos || first == "localhost")) {
    i.registry = first;
    rest = rest.substr(slash + 1);
  } else {
    i.registry = "docker.io";
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    i.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (i.tag.empty() && i.digest.empty()) i.tag = "latest";
  i.path = rest;
  size_t last = rest.rfind('/');
  i.name = last == std::string::npos ? rest : rest.substr(last + 1);
  std::string base = i.registry + "/" + i.path;
  i.reference_with_tag = i.tag.empty() ? "" : base + ":" + i.tag;
  i.reference = !i.digest.empty() ? base + "@" + i.digest : base + ":" + i.tag;
  return i;
}

bj::object image_json(const ImageInfo& i) {
  return bj::object{{"registry", i.registry}, {"name", i.name},           {"path", i.path},
                    {"tag", i.tag},           {"digest", i.digest},       {"reference", i.reference},
                    {"referenceWithTag", i.reference_with_tag}};
}

// The pod spec of a Pod or a Pod controller, and its JSON pointer in the resource.
std::pair<const bj::object*, std::string> pod_spec_at(const bj::value& resource) {
  std::string kind = str_at(resource, {"kind"});
  if (kind == "Pod") return {obj_at(resource, {"spec"}), "/spec"};
  if (kind == "CronJob")
    return {obj_at(resource, {"spec", "jobTemplate", "spec", "template", "spec"}), "/spec/jobTemplate/spec/template/spec"};
  return {obj_at(resource, {"spec", "template", "spec"}), "/spec/template/spec"};
}

std::vector<ContainerImage> container_images(const bj::value& resource) {
  std::vector<ContainerImage> out;
  auto [spec, spec_pointer] = pod_spec_at(resource);
  if (!spec) return out;
  for (const char* group : {"initContainers", "containers", "ephemeralContainers"}) {
    auto* list = spec->if_contains(group);
    if (!list || !list->is_array()) continue;
    size_t index = 0;
    for (const auto& c : list->get_array()) {
      std::string image = str_at(c, {"image"});
      if (!image.empty())
        out.push_back({group, str_at(c, {"name"}), image, fmt::format("{}/{}/{}/image", spec_pointer, group, index)});
      ++index;
    }
  }
  return out;
}

bj::object images_variable(const bj::value& resource) {
  bj::object images;
  for (const auto& ci : container_images(resource)) {
    auto info = parse_image(ci.image);
    if (!info) continue;
    auto& group = images[ci.group];
    if (!group.is_object()) group = bj::object();
    group.get_object()[ci.container] = image_json(*info);
  }
  return images;
}

}  // namespace engine_internal

}  // namespace vouch::policy
