#include "vouch/oci/squash.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

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

std::string layer_name(size_t li, const Descriptor& d) { return fmt::format("layer {} ({})", li, d.digest.str()); }

// A tar entry as its layer holds it, kept until the layer is applied over the ones below.
struct RawEntry {
  enum class Kind : uint8_t { kSkip, kWhiteout, kFile, kHardlink };
  Kind kind = Kind::kSkip;
  FileType type = FileType::kRegular;
  uint32_t mode = 0;
  int64_t uid = 0, gid = 0, size = 0, mtime = 0;
  std::string path;  // clean tar name
  std::string link;  // symlink: the target as written; hard link: its clean target
  std::optional<Error> link_error;  // a hard link target refused (reported when applied)
};

// A layer's entries in tar order and how reading ended: ok, or the error that stopped it after
// the last entry kept.
struct LayerTable {
  std::vector<RawEntry> entries;
  Status end;
};

// Reads a layer's tar once: every entry into `table` (when given), and every entry that
// carries content (not a hard link, not a whiteout) handed to `visitor` (when given) with its
// content. `stop` is asked between entries whether the result is still wanted.
Status read_layer(BlobReader& blob, size_t li, const std::string& what, const SquashLimits& limits,
                  const LayerVisitor* visitor, LayerTable* table, const std::function<bool()>& stop) {
  VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, detail::open_layer_reader(blob));
  LayerReader reader(a.get(), limits.max_layer_bytes, what);
  size_t count = 0;
  for (;;) {
    if (stop && stop()) return internal_error(fmt::format("{}: not read (a layer below failed)", what));
    archive_entry* e = nullptr;
    bool eof = false;
    VOUCH_RETURN_IF_ERROR(reader.next(&e, eof));
    if (eof) break;
    // The image-wide count is checked when the layers are applied; one layer alone never needs more.
    if (++count > limits.max_entries)
      return invalid_input(fmt::format("{}: more than {} entries in the image", what, limits.max_entries));
    const char* raw = archive_entry_pathname(e);
    auto parts = detail::safe_entry_path(raw ? raw : "");
    RawEntry r;
    if (!parts.ok()) {
      // Counted first, as the entry is when the layers are applied.
      if (table) table->entries.push_back(std::move(r));
      return std::move(parts).error().context(what);
    }
    if (parts->empty()) {  // "./"
      if (table) table->entries.push_back(std::move(r));
      continue;
    }
    r.path = join(*parts, parts->size());
    const std::string& base = parts->back();
    if (base.starts_with(".wh.")) {
      r.kind = RawEntry::Kind::kWhiteout;
      if (table) table->entries.push_back(std::move(r));
      if (base.size() == 4) return ok_status();  // a whiteout without a name: an error once applied
      continue;
    }
    r.mode = archive_entry_perm(e);
    r.uid = archive_entry_uid(e);
    r.gid = archive_entry_gid(e);
    r.mtime = archive_entry_mtime(e);
    r.size = archive_entry_size(e);
    if (const char* hl = archive_entry_hardlink(e)) {
      r.kind = RawEntry::Kind::kHardlink;
      auto target = detail::safe_entry_path(hl);
      bool refused = !target.ok();
      if (refused) r.link_error = std::move(target).error();
      else r.link = join(*target, target->size());
      if (table) table->entries.push_back(std::move(r));
      if (refused) return ok_status();  // an error once applied
      continue;
    }
    r.kind = RawEntry::Kind::kFile;
    r.type = type_of(archive_entry_filetype(e));
    if (r.type == FileType::kSymlink) {
      const char* t = archive_entry_symlink(e);
      r.link = t ? t : "";
    }
    if (visitor) {
      LayerEntry le;
      le.layer = li;
      le.path = r.path;
      le.type = r.type;
      le.mode = r.mode;
      le.size = r.size;
      EntryContent content(reader);
      VOUCH_RETURN_IF_ERROR((*visitor)(le, content));
    }
    if (table) table->entries.push_back(std::move(r));
  }
  return drain(blob);
}

std::pair<std::string, std::string> split_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {std::string(), path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Applies one layer's entries over the view so far, as extracting the layer would.
Status apply_layer(std::map<std::string, FileEntry>& entries, const LayerTable& table, size_t li, const std::string& what,
                   const SquashLimits& limits, size_t& count, size_t& symlinks) {
  for (const RawEntry& r : table.entries) {
    if (++count > limits.max_entries)
      return invalid_input(fmt::format("{}: more than {} entries in the image", what, limits.max_entries));
    if (r.kind == RawEntry::Kind::kSkip) continue;
    auto [dir, base] = split_dir(r.path);
    if (!dir.empty() && symlinks > 0) {
      // A parent that is a symlink in the image so far is followed, as extracting the
      // layer would (merged /usr: "bin/ls" lands in "usr/bin/ls"), inside the root only.
      auto parent = resolve_parent(entries, dir);
      if (!parent.ok()) return std::move(parent).error().context(what);
      dir = *parent;
    }
    std::string path = dir.empty() ? base : dir + "/" + base;
    if (r.kind == RawEntry::Kind::kWhiteout) {
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
    f.layer_path = r.path;
    f.layer = li;
    f.mode = r.mode;
    f.uid = r.uid;
    f.gid = r.gid;
    f.mtime = r.mtime;
    f.size = r.size;
    if (r.kind == RawEntry::Kind::kHardlink) {
      if (r.link_error) return Error(*r.link_error).context(fmt::format("{}: hard link '{}'", what, path));
      const std::string& tpath = r.link;
      auto it = entries.find(tpath);
      if (it == entries.end() && symlinks > 0 && tpath.find('/') != std::string::npos) {
        auto [tdir, tbase] = split_dir(tpath);
        auto parent = resolve_parent(entries, tdir);
        if (!parent.ok()) return std::move(parent).error().context(what);
        it = entries.find(parent->empty() ? tbase : *parent + "/" + tbase);
      }
      if (it == entries.end() || (it->second.type != FileType::kRegular && it->second.type != FileType::kHardlink))
        return invalid_input(fmt::format("{}: hard link '{}' to '{}', which is not a file in the image", what, path, tpath));
      f.type = FileType::kHardlink;
      f.link_target = it->second.type == FileType::kHardlink ? it->second.link_target : it->first;
      f.size = it->second.size;
    } else {
      f.type = r.type;
      if (f.type == FileType::kSymlink) {
        ++symlinks;
        f.link_target = r.link;
      }
    }
    auto existing = entries.find(path);
    if (existing != entries.end() && existing->second.type == FileType::kDirectory && f.type != FileType::kDirectory) {
      // A directory replaced by a file: its contents go too.
      for (auto c = entries.lower_bound(path + "/"); c != entries.end() && under(c->first, path);) c = entries.erase(c);
    }
    entries[path] = std::move(f);
  }
  return table.end;
}

// Opens and reads one layer into its table.
LayerTable read_layer_table(Store& store, std::mutex* store_mutex, const Descriptor& d, size_t li,
                            const SquashLimits& limits, const LayerVisitor* visitor, const std::function<bool()>& stop) {
  LayerTable table;
  if (!is_layer_media_type(d.media_type)) {
    table.end = invalid_input(fmt::format("layer {} ({}): media type '{}' is not a layer", li, d.digest.str(), d.media_type));
    return table;
  }
  Result<std::unique_ptr<BlobReader>> blob = [&] {
    if (!store_mutex) return store.open_blob(d);
    std::lock_guard<std::mutex> lock(*store_mutex);
    return store.open_blob(d);
  }();
  if (!blob.ok()) {
    table.end = std::move(blob).error();
    return table;
  }
  table.end = read_layer(**blob, li, layer_name(li, d), limits, visitor, &table, stop);
  return table;
}

}  // namespace

Result<FileView> squash_image(Store& store, const Manifest& image, const SquashLimits& limits) {
  SquashOptions options;
  options.limits = limits;
  return squash_image(store, image, LayerVisitor(), options);
}

Result<FileView> squash_image(Store& store, const Manifest& image, const LayerVisitor& visitor,
                              const SquashOptions& options) {
  if (image.is_index()) return invalid_input("squash: an index; resolve a platform first");
  FileView view;
  view.store_ = &store;
  view.layers_ = image.layers;
  view.limits_ = options.limits;
  const SquashLimits& limits = options.limits;
  const LayerVisitor* visit = visitor ? &visitor : nullptr;
  const size_t n = image.layers.size();
  size_t count = 0, symlinks = 0;
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (threads <= 1 || n <= 1) {
    for (size_t li = 0; li < n; ++li) {
      LayerTable t = read_layer_table(store, nullptr, image.layers[li], li, limits, visit, {});
      VOUCH_RETURN_IF_ERROR(apply_layer(view.entries_, t, li, layer_name(li, image.layers[li]), limits, count, symlinks));
      if (options.layer_applied) VOUCH_RETURN_IF_ERROR(options.layer_applied(li, view));
    }
    return view;
  }

  // Layers are read on `threads` threads, the largest first so that the last one to start is
  // short; they are applied here in order as they complete. A layer that fails stops the
  // layers above it (their result can no longer matter), never those below.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return image.layers[a].size > image.layers[b].size; });
  std::vector<std::optional<LayerTable>> tables(n);
  std::mutex tables_mutex, store_mutex;
  std::condition_variable ready;
  std::atomic<size_t> next_job{0};
  std::atomic<size_t> lowest_failed{n};
  auto lower_failed = [&](size_t li) {
    size_t cur = lowest_failed.load();
    while (li < cur && !lowest_failed.compare_exchange_weak(cur, li)) {
    }
  };
  auto worker = [&] {
    for (;;) {
      size_t k = next_job.fetch_add(1);
      if (k >= n) return;
      size_t li = order[k];
      auto stop = [&lowest_failed, li] { return lowest_failed.load() < li; };
      LayerTable t;
      if (stop()) t.end = internal_error("not read (a layer below failed)");
      else t = read_layer_table(store, &store_mutex, image.layers[li], li, limits, visit, stop);
      if (!t.end.ok()) lower_failed(li);
      {
        std::lock_guard<std::mutex> lock(tables_mutex);
        tables[li] = std::move(t);
      }
      ready.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < std::min<size_t>(threads, n); ++i) pool.emplace_back(worker);
  Status result;
  for (size_t li = 0; li < n && result.ok(); ++li) {
    LayerTable t;
    {
      std::unique_lock<std::mutex> lock(tables_mutex);
      ready.wait(lock, [&] { return tables[li].has_value(); });
      t = std::move(*tables[li]);
      tables[li].reset();
    }
    result = apply_layer(view.entries_, t, li, layer_name(li, image.layers[li]), limits, count, symlinks);
    if (result.ok() && options.layer_applied) result = options.layer_applied(li, view);
    if (!result.ok()) lower_failed(li);
  }
  for (auto& t : pool) t.join();
  if (!result.ok()) return std::move(result).error();
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
    VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, detail::open_layer_reader(*blob));
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

Status FileView::visit_layer(size_t layer, const LayerVisitor& visitor) const {
  if (layer >= layers_.size()) return invalid_input(fmt::format("layer {}: the image has {} layers", layer, layers_.size()));
  VOUCH_ASSIGN_OR_RETURN(auto blob, store_->open_blob(layers_[layer]));
  return read_layer(*blob, layer, layer_name(layer, layers_[layer]), limits_, &visitor, nullptr, {});
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
  VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, detail::open_layer_reader(*blob));
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
