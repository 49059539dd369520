// Cataloging: finding the packages installed in a directory tree or an image.
//
// Catalogers are generic: each declares the paths it wants (globs) and a parser. One walk over
// a file source reads every wanted file once and hands it to the catalogers that asked; the
// parsers then run in a fixed order (the distro first, since OS package URLs name it).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/oci/squash.h"
#include "vouch/sbom/package.h"

namespace vouch::sbom {

// A regular file of a source, as the walk sees it.
struct SourceFile {
  std::string path;          // absolute inside the source ("/var/lib/dpkg/status")
  int64_t size = 0;
  uint32_t mode = 0;         // permission bits (0755)
  std::string layer_digest;  // images: the layer that provides the file
};

// True for a regular file with an execute bit that is large enough to be an executable.
bool is_executable_candidate(const SourceFile& f);

// Reads the content of the file being visited, at most max_bytes (an error beyond).
using ContentReader = std::function<Result<std::string>(size_t max_bytes)>;

class FileSource {
 public:
  virtual ~FileSource() = default;
  virtual std::string describe() const = 0;
  // Calls `visit` for every regular file; symbolic links are never followed.
  virtual Status walk(const std::function<Status(const SourceFile&, const ContentReader&)>& visit) const = 0;
};

// A directory tree (`dir:PATH`): regular files under `root`; symbolic links are not followed,
// so nothing outside the tree is read.
std::unique_ptr<FileSource> directory_source(std::string root);
// The squashed view of an image. `view` must outlive the source.
std::unique_ptr<FileSource> image_source(const oci::FileView& view, std::vector<std::string> layer_digests,
                                         std::string name);

// A file a cataloger asked for, with its content.
struct FoundFile {
  SourceFile file;
  std::string content;
};

// What the parsers share: the distro (set by the os-release cataloger) and the packages so far.
struct CatalogContext {
  std::optional<Distro> distro;
  std::vector<Package> packages;
  // One line each: files a cataloger could not read as what they claim to be (a malformed
  // package.json deep in node_modules), or saw but did not read (an unsupported database
  // format, a binary too large). They do not stop the catalog; they end up in Sbom::warnings.
  std::vector<std::string> warnings;
};

class Cataloger {
 public:
  virtual ~Cataloger() = default;
  virtual std::string name() const = 0;
  // fnmatch(3) patterns over absolute paths, '*' not crossing '/'; a leading "**/" matches
  // at any depth.
  virtual std::vector<std::string> globs() const = 0;
  // The most a wanted file may hold (larger files are an error naming the file).
  virtual size_t max_file_bytes() const { return size_t{64} << 20; }
  // Parses every file this cataloger asked for (in path order) into ctx.
  virtual Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const = 0;

  // Files found by content rather than path (executables can be anywhere): a file the globs
  // do not match is also wanted when wants_file() accepts its metadata and its content starts
  // with one of magics(). Such a file larger than max_file_bytes() is skipped with a warning.
  virtual bool wants_file(const SourceFile&) const { return false; }
  virtual std::vector<std::string> magics() const { return {}; }
  // Called during the walk for every file this cataloger gets: what to keep of its content for
  // parse() (std::nullopt drops the file). Catalogers of large files (binaries, archives) keep
  // only the part they read, so that the walk does not hold every binary in memory.
  virtual Result<std::optional<std::string>> extract(const SourceFile&, std::string_view content) const {
    return std::optional<std::string>(content);
  }
  // Whether a successful extract() depends on the content alone (the SourceFile only names the
  // file in errors). A walk over an image then gives a file whose content it has seen under
  // another name (a hard link) what extract() kept of it there, instead of reading it again.
  virtual bool extract_uses_content_only() const { return false; }
};

std::unique_ptr<Cataloger> os_release_cataloger();
std::unique_ptr<Cataloger> dpkg_cataloger();
std::unique_ptr<Cataloger> apk_cataloger();
// Language ecosystems and binaries.
std::unique_ptr<Cataloger> npm_cataloger();
std::unique_ptr<Cataloger> python_cataloger();
std::unique_ptr<Cataloger> gem_cataloger();
std::unique_ptr<Cataloger> composer_cataloger();
std::unique_ptr<Cataloger> dotnet_cataloger();
std::unique_ptr<Cataloger> rpm_cataloger();
std::unique_ptr<Cataloger> go_binary_cataloger();
std::unique_ptr<Cataloger> cargo_lock_cataloger();
std::unique_ptr<Cataloger> cargo_auditable_cataloger();
std::unique_ptr<Cataloger> java_archive_cataloger();
// Every cataloger, in the order they run.
std::vector<std::unique_ptr<Cataloger>> default_catalogers();

// True when the absolute `path` matches `glob` as Cataloger::globs() describes.
bool glob_match(std::string_view glob, std::string_view path);

// Sets owner_id of every language package whose evidence files (locations) are among the files
// an OS package installed (Package::files): Debian's python3-yaml owns PyYAML's metadata.
// /bin, /sbin and /lib* paths also match their /usr counterparts (merged /usr) and the other
// way round. The first owner in package order wins.
void assign_owners(std::vector<Package>& packages);

// Walks `source` once and runs the catalogers, then assign_owners(). Package ids are assigned deterministically
// ("<type>-<name>-<hash of purl, name, version and location>"), packages sorted by
// (type, name, version, id).
Result<Sbom> catalog(const FileSource& source, const std::vector<std::unique_ptr<Cataloger>>& catalogers);

// Called for every file a walk visits (progress displays).
using FileObserver = std::function<void(const SourceFile&)>;

// `inner`, with `observer` told of every file its walk visits.
std::unique_ptr<FileSource> observed_source(std::unique_ptr<FileSource> inner, FileObserver observer);

// Which files of an image are catalogued (syft's --scope).
enum class ImageScope {
  kSquashed,   // the final filesystem
  kAllLayers,  // the filesystem as it stood after each layer: files later deleted or rewritten too
};

// Catalogs the image `store` names (the manifest for `platform` out of an index) with the
// default catalogers, over its squashed view; `name` becomes the SBOM's name. `observer`,
// when given, is told of every file walked (after the layers have been read).
//
// The layers are read once each, several at a time (oci::squash_image with a visitor): every
// file is offered to the catalogers as its layer streams by, and once the view is known the
// outcomes of the files it keeps are taken in the order of a walk over image_source(), so the
// result is the same document. A file the view shows under another name than its layer's
// (a hard link, a path under a parent symlink) is given what was kept of its content under
// the first name; only when a cataloger needs its content again is that layer read again.
//
// kAllLayers searches every layer's squashed tree (layers 0..i, for every i), as syft's
// all-layers resolver does, in the same single pass: the view is followed as each layer is
// applied. A file is one location per (path, layer that provides it): a package read from a
// file no later layer touched is reported once, one read from a file a later layer rewrote is
// reported again with that layer, and one whose files a later layer deleted is still reported.
// Ids then hash each location's layer with its path, so those stay distinct packages. The
// parsers run once per layer that changed what they read; the distro is the lowest layer's
// (syft takes the first os-release in layer order) and applies to every layer.
Result<Sbom> catalog_image(oci::Store& store, const std::optional<oci::Platform>& platform, std::string name,
                           const FileObserver& observer = {}, ImageScope scope = ImageScope::kSquashed);
// The same with these catalogers, reading `threads` layers at a time (0: one per core).
Result<Sbom> catalog_image(oci::Store& store, const std::optional<oci::Platform>& platform, std::string name,
                           const FileObserver& observer, const std::vector<std::unique_ptr<Cataloger>>& catalogers,
                           unsigned threads = 0, ImageScope scope = ImageScope::kSquashed);

}  // namespace vouch::sbom
