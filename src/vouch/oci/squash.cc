#include "vouch/oci/squash.h"

#include <set>

#include "archive_util.h"

namespace vouch::oci {
namespace {

using detail::ArchivePtr;

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && i < parts.size(); ++i) s += (s.empty() ? "" : "/") + parts[i];
  return s;
}

bool under(const std::string& path, const std::string& dir) {
  if (dir.empty()) return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

FileType type_of(mode_t t) {
  switch (t) {
    case AE_IFDIR: return FileType::kDirectory;
    case AE_IFLNK: return FileType::kSymlink;
    case AE_IFCHR: return FileType::kCharDevice;
    case AE_IFBLK: return FileType::kBlockDevice;
    case AE_IFIFO: return FileType::kFifo;
    case AE_IFSOCK: return FileType::kSocket;
    default: return FileType::kRegular;
  }
}

// Counts expanded bytes and refuses a layer that inflates past the limit.
class LayerReader {
 public:
  LayerReader(archive* a, int64_t limit, std::string what) : a_(a), limit_(limit), what_(std::move(what)) {}
  Result<size_t> read(std::span<uint8_t> out) {
    la_ssize_t n = archive_read_data(a_, out.data(), out.size());
    if (n < 0) return invalid_input(fmt::format("{}: {}", what_, detail::archive_error(a_)));
    total_ += n;
    if (total_ > limit_) return invalid_input(fmt::format("{}: expands past the limit of {} bytes", what_, limit_));
    return static_cast<size_t>(n);
  }
  Status next(archive_entry** e, bool& eof) {
    int r = archive_read_next_header(a_, e);
    eof = r == ARCHIVE_EOF;
    // Everything decompressed so far, skipped entry data included.
    total_ = std::max<int64_t>(total_, archive_filter_bytes(a_, 0));
    if (total_ > limit_) return invalid_input(fmt::format("{}: expands past the limit of {} bytes", what_, limit_));
    if (eof) return ok_status();
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return invalid_input(fmt::format("{}: {}", what_, detail::archive_error(a_)));
    // Refuse before skipping or reading an entry that would take the layer past the limit.
    if (archive_entry_size(*e) > limit_ - total_)
      return invalid_input(fmt::format("{}: expands past the limit of {} bytes", what_, limit_));
    return ok_status();
  }

 private:
  archive* a_;
  int64_t limit_;
  int64_t total_ = 0;
  std::string what_;
};

class EntryContent final : public BlobReader {
 public:
  explicit EntryContent(LayerReader& r) : r_(r) {}
  Result<size_t> read(std::span<uint8_t> out) override { return r_.read(out); }

 private:
  LayerReader& r_;
};

// Pushes the components of `p` onto `pending` so that the first component is on top
// (pending is walked from the back); empty and "." components are dropped.
void push_components(std::vector<std::string>& pending, std::string_view p) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string_view part = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(*it);
}

// Where a tar entry's directory lands when the layer is extracted over the image so far:
// symlinks among existing components are followed (inside the root: ".." stops at "/",
// absolute targets start at the root); missing components are kept as written.
Result<std::string> resolve_parent(const std::map<std::string, FileEntry>& entries, std::string_view dir) {
  std::vector<std::string> pending, resolved;
  auto push = [&](std::string_view p) { push_components(pending, p); };
  push(dir);
  int hops = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.back());
    pending.pop_back();
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    resolved.push_back(part);
    auto it = entries.find(join(resolved, resolved.size()));
    if (it == entries.end() || it->second.type != FileType::kSymlink) continue;
    if (++hops > 40) return invalid_input(fmt::format("{}: too many levels of symbolic links", dir));
    resolved.pop_back();
    if (it->second.link_target.starts_with("/")) resolved.clear();
    push(it->second.link_target);
  }
  return join(resolved, resolved.size());
}

// Reads what libarchive left of the blob so that its digest is checked to the last byte.
Status drain(BlobReader& blob) {
  std::vector<uint8_t> sink(64 * 1024);
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(size_t n, blob.read(sink));
    if (n == 0) return ok_status();
  }
}

}  // namespace

Result<FileView> squash_image(Store& store, const Manifest& image, const SquashLimits& limits) {
  if (image.is_index()) return invalid_input("squash: an index; resolve a platform first");
  FileView view;
  view.store_ = &store;
  view.layers_ = image.layers;
  view.limits_ = limits;
  auto& entries = view.entries_;
  size_t count = 0;
  size_t symlinks = 0;
  for (size_t li = 0; li < image.layers.size(); ++li) {
    const Descriptor& d = image.layers[li];
    if (!is_layer_media_type(d.media_type))
      return invalid_input(fmt::format("layer {} ({}): media type '{}' is not a layer", li, d.digest.str(), d.media_type));
    std::string what = fmt::format("layer {} ({})", li, d.digest.str());
    VOUCH_ASSIGN_OR_RETURN(auto blob, store.open_blob(d));
    VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, detail::open_archive_reader(*blob, true));
    LayerReader reader(a.get(), limits.max_layer_bytes, what);
    std::set<std::string> opaque_dirs;
    for (;;) {
      archive_entry* e = nullptr;
      bool eof = false;
      VOUCH_RETURN_IF_ERROR(reader.next(&e, eof));
      if (eof) break;
      if (++count > limits.max_entries)
        return invalid_input(fmt::format("{}: more than {} entries in the image", what, limits.max_entries));
      const char* raw = archive_entry_pathname(e);
      auto parts = detail::safe_entry_path(raw ? raw : "");
      if (!parts.ok()) return std::move(parts).error().context(what);
      if (parts->empty()) continue;  // "./"
      std::string dir = join(*parts, parts->size() - 1);
      const std::string& base = parts->back();
      if (!dir.empty() && symlinks > 0) {
        // A parent that is a symlink in the image so far is followed, as extracting the
        // layer would (merged /usr: "bin/ls" lands in "usr/bin/ls"), inside the root only.
        auto parent = resolve_parent(entries, dir);
        if (!parent.ok()) return std::move(parent).error().context(what);
        dir = *parent;
      }
      std::string path = dir.empty() ? base : dir + "/" + base;
      if (base.starts_with(".wh.")) {
        if (base == ".wh..wh..opq") {
          // Opaque: hide everything below `dir` that lower layers provided.
          for (auto it = entries.lower_bound(dir.empty() ? std::string() : dir + "/"); it != entries.end();) {
            if (!under(it->first, dir)) break;
            if (it->second.layer < li) it = entries.erase(it);
            else ++it;
          }
        } else {
          std::string target = (dir.empty() ? "" : dir + "/") + base.substr(4);
          if (base.size() == 4) return invalid_input(fmt::format("{}: whiteout without a name at '{}'", what, path));
          auto it = entries.find(target);
          if (it != entries.end() && it->second.layer < li) entries.erase(it);
          for (auto c = entries.lower_bound(target + "/"); c != entries.end() && under(c->first, target);) {
            if (c->second.layer < li) c = entries.erase(c);
            else ++c;
          }
        }
        continue;
      }
      FileEntry f;
      f.path = path;
      f.layer_path = join(*parts, parts->size());
      f.layer = li;
      f.mode = archive_entry_perm(e);
      f.uid = archive_entry_uid(e);
      f.gid = archive_entry_gid(e);
      f.mtime = archive_entry_mtime(e);
      f.size = archive_entry_size(e);
      if (const char* hl = archive_entry_hardlink(e)) {
        auto target = detail::safe_entry_path(hl);
        if (!target.ok()) return std::move(target).error().context(fmt::format("{}: hard link '{}'", what, path));
        std::string tpath = join(*target, target->size());
        auto it = entries.find(tpath);
        if (it == entries.end() && symlinks > 0 && target->size() > 1) {
          auto parent = resolve_parent(entries, join(*target, target->size() - 1));
          if (!parent.ok()) return std::move(parent).error().context(what);
          it = entries.find(parent->empty() ? target->back() : *parent + "/" + target->back());
        }
        if (it == entries.end() || (it->second.type != FileType::kRegular && it->second.type != FileType::kHardlink))
          return invalid_input(fmt::format("{}: hard link '{}' to '{}', which is not a file in the image", what, path, tpath));
        f.type = FileType::kHardlink;
        f.link_target = it->second.type == FileType::kHardlink ? it->second.link_target : it->first;
        f.size = it->second.size;
      } else {
        f.type = type_of(archive_entry_filetype(e));
        if (f.type == FileType::kSymlink) {
          ++symlinks;
          const char* t = archive_entry_symlink(e);
          f.link_target = t ? t : "";
        }
      }
      auto existing = entries.find(path);
      if (existing != entries.end() && existing->second.type == FileType::kDirectory && f.type != FileType::kDirectory) {
        // A directory replaced by a file: its contents go too.
        for (auto c = entries.lower_bound(path + "/"); c != entries.end() && under(c->first, path);) c = entries.erase(c);
      }
      entries[path] = std::move(f);
    }
    VOUCH_RETURN_IF_ERROR(drain(*blob));
  }
  return view;
}

Result<std::optional<FileEntry>> FileView::lookup(std::string_view path, bool follow_final_symlink) const {
  std::vector<std::string> pending;  // components still to walk, reversed
  auto push_path = [&](std::string_view p) { push_components(pending, p); };
  push_path(path);
  std::vector<std::string> resolved;
  int hops = 0;
  while (!pending.empty()) {
    std::string part = pending.back();
    pending.pop_back();
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();  // never above the root
      continue;
    }
    resolved.push_back(part);
    std::string cur = join(resolved, resolved.size());
    auto it = entries_.find(cur);
    if (it == entries_.end()) {
      // Directories may exist only implicitly (a parent of an entry).
      auto child = entries_.lower_bound(cur + "/");
      if (child != entries_.end() && under(child->first, cur)) continue;
      return std::optional<FileEntry>();
    }
    if (it->second.type == FileType::kSymlink && (!pending.empty() || follow_final_symlink)) {
      if (++hops > 40) return invalid_input(fmt::format("{}: too many levels of symbolic links", path));
      resolved.pop_back();
      const std::string& target = it->second.link_target;
      if (target.starts_with("/")) resolved.clear();
      push_path(target);
      continue;
    }
    if (pending.empty()) return std::optional<FileEntry>(it->second);
  }
  FileEntry root_dir;
  root_dir.path = join(resolved, resolved.size());
  root_dir.type = FileType::kDirectory;
  return std::optional<FileEntry>(root_dir);
}

Status FileView::visit_files(const Visitor& visitor) const {
  // Which (layer, path) pairs provide content for the final view, and who reads them.
  std::map<std::pair<size_t, std::string>, std::vector<const FileEntry*>> wanted;
  for (const auto& [path, e] : entries_) {
    if (e.type == FileType::kRegular) {
      wanted[{e.layer, e.layer_path}].push_back(&e);
    } else if (e.type == FileType::kHardlink) {
      auto t = entries_.find(e.link_target);
      if (t != entries_.end() && t->second.type == FileType::kRegular)
        wanted[{t->second.layer, t->second.layer_path}].push_back(&e);
    }
  }
  for (size_t li = 0; li < layers_.size(); ++li) {
    auto first = wanted.lower_bound({li, std::string()});
    if (first == wanted.end() || first->first.first != li) continue;
    std::string what = fmt::format("layer {} ({})", li, layers_[li].digest.str());
    VOUCH_ASSIGN_OR_RETURN(auto blob, store_->open_blob(layers_[li]));
    VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, detail::open_archive_reader(*blob, true));
    LayerReader reader(a.get(), limits_.max_layer_bytes, what);
    for (;;) {
      archive_entry* e = nullptr;
      bool eof = false;
      VOUCH_RETURN_IF_ERROR(reader.next(&e, eof));
      if (eof) break;
      if (archive_entry_hardlink(e)) continue;
      auto parts = detail::safe_entry_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
      if (!parts.ok()) return std::move(parts).error().context(what);
      auto it = wanted.find({li, join(*parts, parts->size())});
      if (it == wanted.end()) continue;
      // The first reader gets the stream; hard links to it share what was read.
      if (it->second.size() == 1) {
        EntryContent content(reader);
        VOUCH_RETURN_IF_ERROR(visitor(*it->second[0], content));
      } else {
        EntryContent content(reader);
        VOUCH_ASSIGN_OR_RETURN(std::string data, read_all(content, static_cast<size_t>(limits_.max_layer_bytes), what));
        for (const FileEntry* f : it->second) {
          auto r = view_reader(data);
          VOUCH_RETURN_IF_ERROR(visitor(*f, *r));
        }
      }
    }
    VOUCH_RETURN_IF_ERROR(drain(*blob));
  }
  return ok_status();
}

Result<std::string> FileView::read_file(std::string_view path, size_t max_bytes) const {
  VOUCH_ASSIGN_OR_RETURN(auto entry, lookup(path));
  if (!entry) return not_found(fmt::format("{}: no such file in the image", path));
  std::string target = entry->type == FileType::kHardlink ? entry->link_target : entry->path;
  auto it = entries_.find(target);
  if (it == entries_.end() || it->second.type != FileType::kRegular)
    return invalid_input(fmt::format("{}: not a regular file", path));
  const FileEntry& f = it->second;
  if (f.size > static_cast<int64_t>(max_bytes))
    return invalid_input(fmt::format("{}: {} bytes exceeds the limit of {}", path, f.size, max_bytes));
  std::string what = fmt::format("layer {} ({})", f.layer, layers_[f.layer].digest.str());
  VOUCH_ASSIGN_OR_RETURN(auto blob, store_->open_blob(layers_[f.layer]));
  VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, detail::open_archive_reader(*blob, true));
  LayerReader reader(a.get(), limits_.max_layer_bytes, what);
  for (;;) {
    archive_entry* e = nullptr;
    bool eof = false;
    VOUCH_RETURN_IF_ERROR(reader.next(&e, eof));
    if (eof) break;
    auto parts = detail::safe_entry_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    if (!parts.ok() || join(*parts, parts->size()) != f.layer_path || archive_entry_hardlink(e)) continue;
    EntryContent content(reader);
    VOUCH_ASSIGN_OR_RETURN(std::string data, read_all(content, max_bytes, f.path));
    // The rest of the layer is read too: content counts only once its digest checks out.
    for (;;) {
      bool more_eof = false;
      VOUCH_RETURN_IF_ERROR(reader.next(&e, more_eof));
      if (more_eof) break;
    }
    VOUCH_RETURN_IF_ERROR(drain(*blob));
    return data;
  }
  return not_found(fmt::format("{}: not found in {}", f.path, what));
}

}  // namespace vouch::oci
