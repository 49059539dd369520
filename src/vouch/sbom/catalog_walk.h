// How a walk offers one file to the catalogers, shared by the walk over a FileSource and the
// single pass over an image's layers: which catalogers want the file (by path, or by metadata
// and leading bytes), its content read once for all of them, and what each keeps of it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom::detail {

// What one file gave the catalogers.
struct FileOutcome {
  std::vector<std::pair<size_t, std::string>> kept;  // (cataloger index, what its extract() kept)
  std::vector<std::string> warnings;                 // Sbom::warnings lines, in order
  std::optional<Error> error;                        // stops the catalog
};

// The content of the file being offered, read at most once and only if a cataloger wants it.
class OfferedContent {
 public:
  virtual ~OfferedContent() = default;
  // Reads the content, at most max_bytes: an error beyond, or when it cannot be read.
  virtual Status load(size_t max_bytes) = 0;
  // After load():
  virtual size_t size() const = 0;
  virtual bool starts_with(std::string_view magic) const = 0;
  // What cataloger `index` keeps of the content: its extract().
  virtual Result<std::optional<std::string>> extract(const Cataloger& c, size_t index, const SourceFile& f) = 0;
};

// Content held in memory once loaded, by a function that reads it.
class LoadedContent : public OfferedContent {
 public:
  size_t size() const override { return content_.size(); }
  bool starts_with(std::string_view magic) const override { return content_.starts_with(magic); }
  Result<std::optional<std::string>> extract(const Cataloger& c, size_t, const SourceFile& f) override {
    return c.extract(f, content_);
  }

 protected:
  std::string_view content_;
};

class Router {
 public:
  explicit Router(const std::vector<std::unique_ptr<Cataloger>>& catalogers);

  const std::vector<std::unique_ptr<Cataloger>>& catalogers() const { return catalogers_; }
  // Whether a cataloger may want `f` (by its path or its metadata); nothing is read otherwise.
  bool interested(const SourceFile& f) const;
  // The longest magic a cataloger looks for: the leading bytes that decide a by-content wish.
  size_t magic_bytes() const { return magic_bytes_; }
  // The most any file is read for: the largest max_file_bytes().
  size_t max_read() const { return read_limit_.empty() ? 0 : read_limit_.front(); }
  // Offers `f` to every cataloger, in order, as catalog() does.
  FileOutcome offer(const SourceFile& f, OfferedContent& content) const;

 private:
  bool path_wanted(size_t i, const std::string& path) const;

  const std::vector<std::unique_ptr<Cataloger>>& catalogers_;
  std::vector<std::vector<std::string>> globs_;
  std::vector<std::vector<std::string>> magics_;
  std::vector<size_t> read_limit_;  // per cataloger: the largest max_file_bytes() from it on
  size_t magic_bytes_ = 0;
};

// The parsers over what was found (each cataloger's files in path order) into `ctx`. With
// `fixed_distro`, every parser sees that distro whatever os-release the files hold.
Status run_parsers(std::vector<std::vector<FoundFile>> found, const std::vector<std::unique_ptr<Cataloger>>& catalogers,
                   CatalogContext& ctx, const std::optional<Distro>& fixed_distro);
// Deterministic ids ("<type>-<name>-<hash of purl, name, version and locations>"), owner and
// dependency ids renamed to match. `layers_in_ids`: a location is its path and its layer, so
// that the same package read from two layers' copies of a file gets two ids.
void assign_ids(std::vector<Package>& packages, bool layers_in_ids);
// Owners, the order (type, name, version, id) and CPEs.
void finish_packages(Sbom& sbom);

// The second half of a catalog, once the walk is done: the parsers over what was found (each
// cataloger's files in path order), then ids, owners, order and CPEs.
Result<Sbom> finish_catalog(std::string name, std::vector<std::vector<FoundFile>> found, std::vector<std::string> warnings,
                            const std::vector<std::unique_ptr<Cataloger>>& catalogers);

}  // namespace vouch::sbom::detail
