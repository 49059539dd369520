// Shared by the language catalogers (npm, Python, Ruby, PHP, .NET).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom::detail {

// The most a language manifest may hold and nest: lock files of large projects run to a few
// megabytes; anything beyond is not a manifest.
inline constexpr size_t kMaxManifestBytes = size_t{32} << 20;
inline constexpr unsigned kMaxManifestDepth = 64;

Location location_of(const FoundFile& f);

// Records that `f` was skipped: "PATH: WHY" on one line.
void skip_file(CatalogContext& ctx, const FoundFile& f, std::string_view why);

// Runs `packages_of(f)` on every file and keeps the packages of each file it accepts. A file it
// rejects with an input error is skipped with a warning naming it (skip_file) and the others are
// still read; any other error stops the catalog.
template <typename PackagesOf>
Status parse_each_file(const std::vector<FoundFile>& files, CatalogContext& ctx, PackagesOf packages_of) {
  for (const auto& f : files) {
    Result<std::vector<Package>> found = packages_of(f);
    if (!found.ok()) {
      if (found.error().code != ErrorCode::kInvalidInput) return std::move(found).error().context(f.file.path);
      skip_file(ctx, f, found.error().message);
      continue;
    }
    for (auto& p : *found) ctx.packages.push_back(std::move(p));
  }
  return ok_status();
}

// A cataloger of one kind of manifest, found by path and read one file at a time
// (parse_each_file).
class FileCataloger final : public Cataloger {
 public:
  using PackagesOf = Result<std::vector<Package>> (*)(const FoundFile&);
  FileCataloger(std::string name, std::vector<std::string> globs, size_t max_file_bytes, PackagesOf packages_of)
      : name_(std::move(name)), globs_(std::move(globs)), max_file_bytes_(max_file_bytes), packages_of_(packages_of) {}
  std::string name() const override { return name_; }
  std::vector<std::string> globs() const override { return globs_; }
  size_t max_file_bytes() const override { return max_file_bytes_; }
  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    return parse_each_file(files, ctx, packages_of_);
  }

 private:
  std::string name_;
  std::vector<std::string> globs_;
  size_t max_file_bytes_;
  PackagesOf packages_of_;
};

// Parses `f` as JSON within the limits above (errors do not name the file: skip_file does).
Result<boost::json::value> parse_json_file(const FoundFile& f);

// A string member of a JSON object, "" when absent or not a string.
std::string json_string(const boost::json::value& v, std::string_view key);

// A language package (no distro qualifiers): pkg:TYPE/NAMESPACE/NAME@VERSION.
std::string language_purl(std::string_view purl_type, std::string_view namespace_, std::string_view name,
                          std::string_view version);

std::string dirname(std::string_view path);
std::string basename(std::string_view path);

// The license field of a package manifest as one SPDX expression per entry: a string, an
// array of strings, {"type": "MIT"} or an array of such objects (npm's old forms).
std::vector<std::string> manifest_licenses(const boost::json::value* v);

}  // namespace vouch::sbom::detail
