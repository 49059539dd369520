// Image extraction (Kyverno's pkg/utils/api image extraction): the images of a Pod or a Pod
// controller, and the `images` variable.
#include "engine_internal.h"

#include <fmt/format.h>

#include "vouch/policy/image_info.h"

namespace vouch::policy {

namespace engine_internal {

// ---------------------------------------------------------------- images

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
    auto info = kyverno_image_info(ci.image);
    if (!info.ok()) continue;  // Kyverno does not extract an image it cannot parse
    auto& group = images[ci.group];
    if (!group.is_object()) group = bj::object();
    group.get_object()[ci.container] = info->to_json();
  }
  return images;
}

}  // namespace engine_internal

}  // namespace vouch::policy
