// Ruby gems as installed: specifications/NAME-VERSION.gemspec, the Ruby that RubyGems writes
// for every installed gem ("s.name = \"rake\".freeze", "s.version = \"13.0.6\"",
// "s.licenses = [\"MIT\".freeze]"). Only these literal assignments are read; nothing is run.
#include <re2/re2.h>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "cataloger_lang.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/license.h"

namespace vouch::sbom {
namespace {

// The double- or single-quoted string literals of a Ruby expression, in order.
std::vector<std::string> string_literals(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); ++i) {
    char q = s[i];
    if (q != '"' && q != '\'') continue;
    std::string lit;
    size_t j = i + 1;
    for (; j < s.size() && s[j] != q; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) ++j;
      lit += s[j];
    }
    if (j >= s.size()) break;  // unterminated: ignore the rest
    out.push_back(std::move(lit));
    i = j;
  }
  return out;
}

class GemCataloger : public Cataloger {
 public:
  std::string name() const override { return "gem"; }
  std::vector<std::string> globs() const override { return {"**/specifications/*.gemspec"}; }
  size_t max_file_bytes() const override { return size_t{4} << 20; }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    static const RE2 assignment(R"(^\s*[A-Za-z_]\w*\.(name|version|licenses?)\s*=\s*(.*)$)");
    for (const auto& f : files) {
      Package p;
      std::vector<std::string> licenses;
      for (std::string_view line : detail::split_lines(f.content)) {
        std::string field, value;
        if (!RE2::FullMatch(line, assignment, &field, &value)) continue;
        std::vector<std::string> lits = string_literals(value);
        if (lits.empty()) continue;
        if (field == "name" && p.name.empty()) p.name = lits.front();
        else if (field == "version" && p.version.empty()) p.version = lits.front();
        else if (field == "license" || field == "licenses") licenses.insert(licenses.end(), lits.begin(), lits.end());
      }
      if (p.name.empty() || p.version.empty()) {
        detail::skip_file(ctx, f, "no name or no version assignment");
        continue;
      }
      p.type = type::kGem;
      p.purl = detail::language_purl("gem", "", p.name, p.version);
      for (const auto& l : licenses) {
        std::string e = spdx_license_expression(l);
        if (!e.empty()) p.licenses.push_back(std::move(e));
      }
      p.locations.push_back(detail::location_of(f));
      ctx.packages.push_back(std::move(p));
    }
    return ok_status();
  }
};

}  // namespace

std::unique_ptr<Cataloger> gem_cataloger() { return std::make_unique<GemCataloger>(); }

}  // namespace vouch::sbom
