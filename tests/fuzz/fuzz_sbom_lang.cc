// libFuzzer target: the language catalogers (the input as a package-lock.json, an installed
// package.json, Python METADATA and a lone egg-info, a gemspec, a Composer installed.json and a
// .deps.json) and the license expression normaliser. Cataloging never fails on such input (a
// malformed file is a one-line warning), and normalising an expression twice changes nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vouch/sbom/catalog.h"
#include "vouch/sbom/license.h"

namespace {

class MemorySource : public vouch::sbom::FileSource {
 public:
  explicit MemorySource(std::vector<std::pair<std::string, std::string>> files) : files_(std::move(files)) {}
  std::string describe() const override { return "memory"; }
  vouch::Status walk(const std::function<vouch::Status(const vouch::sbom::SourceFile&,
                                                       const vouch::sbom::ContentReader&)>& visit) const override {
    for (const auto& [path, content] : files_) {
      vouch::sbom::SourceFile f{path, static_cast<int64_t>(content.size()), 0644, ""};
      const std::string& c = content;
      vouch::sbom::ContentReader read = [&c](size_t max) -> vouch::Result<std::string> {
        if (c.size() > max) return vouch::invalid_input("too large");
        return c;
      };
      VOUCH_RETURN_IF_ERROR(visit(f, read));
    }
    return vouch::ok_status();
  }

 private:
  std::vector<std::pair<std::string, std::string>> files_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  MemorySource source({
      {"/p/package-lock.json", text},
      {"/p/node_modules/a/package.json", text},
      {"/sp/a-1.dist-info/METADATA", text},
      {"/sp/a-1.dist-info/RECORD", text},
      {"/sp/b-1.egg-info", text},
      {"/g/specifications/a-1.gemspec", text},
      {"/v/vendor/composer/installed.json", text},
      {"/d/a.deps.json", text},
  });
  auto sbom = vouch::sbom::catalog(source, vouch::sbom::default_catalogers());
  if (!sbom.ok()) __builtin_trap();
  for (const auto& w : sbom->warnings)
    if (w.find('\n') != std::string::npos) __builtin_trap();
  std::string once = vouch::sbom::spdx_license_expression(text);
  if (vouch::sbom::spdx_license_expression(once) != once) __builtin_trap();
  return 0;
}
