// The same text offered to every language cataloger at once, as the files each one looks for
// (a package-lock.json, an installed package.json, Python METADATA, RECORD and a lone egg-info,
// a gemspec, a Composer installed.json and a .deps.json), for the robustness test and the
// fuzz target.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vouch/sbom/catalog.h"

namespace vouch::testing {

class MemorySource : public sbom::FileSource {
 public:
  explicit MemorySource(std::vector<std::pair<std::string, std::string>> files) : files_(std::move(files)) {}
  std::string describe() const override { return "memory"; }
  Status walk(const std::function<Status(const sbom::SourceFile&, const sbom::ContentReader&)>& visit) const override {
    for (const auto& [path, content] : files_) {
      sbom::SourceFile f{path, static_cast<int64_t>(content.size()), 0644, ""};
      const std::string& c = content;
      sbom::ContentReader read = [&c](size_t max) -> Result<std::string> {
        if (c.size() > max) return invalid_input("too large");
        return c;
      };
      VOUCH_RETURN_IF_ERROR(visit(f, read));
    }
    return ok_status();
  }

 private:
  std::vector<std::pair<std::string, std::string>> files_;
};

inline MemorySource language_files(const std::string& text) {
  return MemorySource({
      {"/p/package-lock.json", text},
      {"/p/node_modules/a/package.json", text},
      {"/sp/a-1.dist-info/METADATA", text},
      {"/sp/a-1.dist-info/RECORD", text},
      {"/sp/b-1.egg-info", text},
      {"/g/specifications/a-1.gemspec", text},
      {"/v/vendor/composer/installed.json", text},
      {"/d/a.deps.json", text},
  });
}

}  // namespace vouch::testing
