// Alpine packages: /lib/apk/db/installed, as apk writes it: one "X:value" line per field,
// packages separated by blank lines; F: names a directory and the R: lines after it its files.
#include <fmt/format.h>

#include "cataloger_common.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

class ApkCataloger : public Cataloger {
 public:
  std::string name() const override { return "apk"; }
  std::vector<std::string> globs() const override { return {"/lib/apk/db/installed"}; }
  size_t max_file_bytes() const override { return size_t{128} << 20; }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    for (const auto& f : files) {
      Package cur;
      std::string dir;
      auto flush = [&]() {
        if (!cur.name.empty()) {
          cur.type = type::kApk;
          cur.locations.push_back(Location{f.file.path, f.file.layer_digest});
          cur.purl = detail::os_package_purl("apk", "alpine", cur, ctx.distro);
          ctx.packages.push_back(std::move(cur));
        }
        cur = Package{};
        dir.clear();
      };
      size_t lineno = 0;
      for (std::string_view line : detail::split_lines(f.content)) {
        ++lineno;
        if (line.empty()) {
          flush();
          continue;
        }
        if (line.size() < 2 || line[1] != ':')
          return invalid_input(fmt::format("{}:{}: expected 'X:value'", f.file.path, lineno));
        std::string value(line.substr(2));
        switch (line[0]) {
          case 'P': cur.name = value; break;
          case 'V': cur.version = value; break;
          case 'A': cur.architecture = value; break;
          case 'o': cur.source_name = value; break;
          case 'L':
            if (!value.empty()) cur.licenses = {value};
            break;
          case 'F': dir = value; break;
          case 'R': cur.files.push_back("/" + (dir.empty() ? value : dir + "/" + value)); break;
          default: break;
        }
      }
      flush();
    }
    return ok_status();
  }
};

}  // namespace

std::unique_ptr<Cataloger> apk_cataloger() { return std::make_unique<ApkCataloger>(); }

}  // namespace vouch::sbom
