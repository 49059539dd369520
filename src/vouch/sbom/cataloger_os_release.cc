// The distro, from /etc/os-release (else /usr/lib/os-release), as os-release(5) describes it.
#include <fmt/format.h>

#include "cataloger_common.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom {
namespace detail {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string os_package_purl(std::string_view purl_type, std::string_view fallback_namespace, const Package& p,
                            const std::optional<Distro>& distro) {
  Purl base;
  base.type = std::string(purl_type);
  base.namespace_ = distro && !distro->id.empty() ? distro->id : std::string(fallback_namespace);
  base.name = p.name;
  base.version = p.version;
  std::string upstream = p.source_name;
  if (!upstream.empty() && !p.source_version.empty()) upstream += "@" + p.source_version;
  std::string distro_q;
  if (distro && !distro->id.empty())
    distro_q = distro->version_id.empty() ? distro->id : distro->id + "-" + distro->version_id;
  return format_purl(base, {{"arch", p.architecture}, {"upstream", upstream}, {"distro", distro_q}});
}

}  // namespace detail

namespace {

// Shell-like value: optional single or double quotes, backslash escapes inside double quotes.
std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    char q = v.front();
    v = v.substr(1, v.size() - 2);
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (q == '"' && v[i] == '\\' && i + 1 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return std::string(v);
}

class OsReleaseCataloger : public Cataloger {
 public:
  std::string name() const override { return "os-release"; }
  std::vector<std::string> globs() const override { return {"/etc/os-release", "/usr/lib/os-release"}; }
  size_t max_file_bytes() const override { return 64 << 10; }
  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    // /etc/os-release wins over /usr/lib/os-release (files come in path order).
    for (const auto& f : files) {
      Distro d;
      for (std::string_view line : detail::split_lines(f.content)) {
        line = detail::trim(line);
        if (line.empty() || line.front() == '#') continue;
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view key = line.substr(0, eq);
        std::string value = unquote(line.substr(eq + 1));
        if (key == "ID") d.id = value;
        else if (key == "VERSION_ID") d.version_id = value;
        else if (key == "PRETTY_NAME") d.pretty_name = value;
      }
      if (d.id.empty()) continue;
      ctx.distro = d;
      return ok_status();
    }
    return ok_status();
  }
};

}  // namespace

std::unique_ptr<Cataloger> os_release_cataloger() { return std::make_unique<OsReleaseCataloger>(); }

}  // namespace vouch::sbom
