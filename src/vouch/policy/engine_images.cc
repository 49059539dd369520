// Image extraction (Kyverno's pkg/utils/api image extraction): the images of a Pod or a Pod
// controller, and the `images` variable.
#include "engine_internal.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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

namespace {

// Kyverno's extract(): walks `fields` ("*" = every element of a list or member of a map), then
// reads the image from `value` of the object reached, keyed by `key` or its JSON pointer.
Status extract_images(const bj::value& node, std::vector<std::string>& path, const ImageExtractor& e, size_t depth,
                      EvalContext& ctx, std::vector<ContainerImage>& out) {
  if (node.is_null()) return ok_status();
  if (depth < e.fields.size() && e.fields[depth] == "*") {
    if (node.is_array()) {
      for (size_t i = 0; i < node.get_array().size(); ++i) {
        path.push_back(std::to_string(i));
        VOUCH_RETURN_IF_ERROR(extract_images(node.get_array()[i], path, e, depth + 1, ctx, out));
        path.pop_back();
      }
      return ok_status();
    }
    if (node.is_object()) {
      for (const auto& [k, v] : node.get_object()) {
        path.emplace_back(k);
        VOUCH_RETURN_IF_ERROR(extract_images(v, path, e, depth + 1, ctx, out));
        path.pop_back();
      }
      return ok_status();
    }
    return invalid_input(fmt::format("/{}: invalid type", fmt::join(path, "/")));
  }
  if (!node.is_object()) return invalid_input(fmt::format("/{}: invalid image config", fmt::join(path, "/")));
  const bj::object& o = node.get_object();
  if (depth < e.fields.size()) {
    const bj::value* next = o.if_contains(e.fields[depth]);
    if (!next) return ok_status();
    path.push_back(e.fields[depth]);
    auto st = extract_images(*next, path, e, depth + 1, ctx, out);
    path.pop_back();
    return st;
  }
  std::string pointer = fmt::format("/{}/{}", fmt::join(path, "/"), e.value);
  std::string key = pointer;
  if (!e.key.empty()) {
    const bj::value* k = o.if_contains(e.key);
    if (!k || !k->is_string()) return invalid_input(fmt::format("{}: invalid key", pointer));
    key = std::string(k->get_string());
  }
  const bj::value* v = o.if_contains(e.value);
  if (!v || !v->is_string()) return ok_status();
  std::string image(v->get_string());
  if (image.find_first_not_of(" \t\n") == std::string::npos) return ok_status();
  if (!e.jmes_path.empty()) {
    VOUCH_ASSIGN_OR_RETURN(bj::value r, ctx.search(e.jmes_path, bj::value(image)));
    if (!r.is_string())
      return invalid_input(fmt::format("jmespath {} must produce a string, but produced {}", e.jmes_path, bj::serialize(r)));
    image = std::string(r.get_string());
  }
  auto info = kyverno_image_info(image);
  if (!info.ok()) return invalid_input(fmt::format("invalid image '{}' ({})", image, info.error().message));
  out.push_back({e.name, key, image, pointer});
  return ok_status();
}

}  // namespace

Result<std::vector<ContainerImage>> rule_images(const Rule& rule, const bj::value& resource, EvalContext& ctx) {
  auto it = rule.image_extractors.find(str_at(resource, {"kind"}));
  if (it == rule.image_extractors.end()) return container_images(resource);
  std::vector<ContainerImage> out;
  for (const auto& e : it->second) {
    std::vector<std::string> path;
    VOUCH_RETURN_IF_ERROR(extract_images(resource, path, e, 0, ctx, out));
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
