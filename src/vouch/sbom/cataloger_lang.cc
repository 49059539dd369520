#include "cataloger_lang.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/sbom/license.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom::detail {

namespace bj = boost::json;

Location location_of(const FoundFile& f) { return Location{f.file.path, f.file.layer_digest}; }

void skip_file(CatalogContext& ctx, const FoundFile& f, std::string_view why) {
  std::string line = fmt::format("{}: {}", f.file.path, why);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  ctx.warnings.push_back(std::move(line));
}

Result<bj::value> parse_json_file(const FoundFile& f) {
  return json::parse(f.content, json::ParseLimits{kMaxManifestBytes, kMaxManifestDepth});
}

std::string json_string(const bj::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const bj::value* m = v.as_object().if_contains(key);
  if (!m || !m->is_string()) return {};
  return std::string(m->as_string());
}

std::string language_purl(std::string_view purl_type, std::string_view namespace_, std::string_view name,
                          std::string_view version) {
  Purl p;
  p.type = std::string(purl_type);
  p.namespace_ = std::string(namespace_);
  p.name = std::string(name);
  p.version = std::string(version);
  return p.to_string();
}

std::string dirname(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  return std::string(path.substr(0, slash));
}

std::string basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::vector<std::string> manifest_licenses(const bj::value* v) {
  std::vector<std::string> out;
  if (!v) return out;
  auto add = [&](const bj::value& e) {
    std::string text;
    if (e.is_string()) text = std::string(e.as_string());
    else if (e.is_object()) text = json_string(e, "type");
    std::string expr = spdx_license_expression(text);
    if (!expr.empty()) out.push_back(std::move(expr));
  };
  if (v->is_array()) {
    for (const auto& e : v->as_array()) add(e);
  } else {
    add(*v);
  }
  return out;
}

}  // namespace vouch::sbom::detail
