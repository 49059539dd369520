// Cataloging an image in one pass over its layers. Every layer is read once, several at a time,
// and each of its files is offered to the catalogers as the layer streams by (the catalogers are
// const and shared by the threads). Once the squashed view is known, the outcomes of the files it
// keeps are taken in the order a walk over image_source() gives them (layer by layer, tar order,
// hard links beside their content) and the rest dropped, so the document is that walk's. With
// every layer in scope (syft's all-layers), the view is followed as each layer is applied.
#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "catalog_walk.h"
#include "vouch/oci/image.h"
#include "vouch/oci/squash.h"
#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

// Content being read for the catalogers is taken out of this budget: reading layers side by
// side must not add up their large executables in memory. A larger file waits until it is alone.
constexpr size_t kContentBudget = size_t{16} << 20;
// Buffers come in 2 MiB steps, aligned, as huge pages where the system allows: a large
// executable then costs a few page faults rather than thousands (each is dear in a VM).
constexpr size_t kBufferGranule = size_t{2} << 20;

// Memory for files' content, mapped whole: kept from file to file (pages touched once), and
// when given up unmapped at once rather than left in malloc's arenas.
class ContentBuffer {
 public:
  ContentBuffer() = default;
  ContentBuffer(ContentBuffer&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)), mapped_(std::exchange(o.mapped_, 0)), data_(std::exchange(o.data_, nullptr)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  ContentBuffer& operator=(ContentBuffer&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(mapped_, o.mapped_);
    std::swap(data_, o.data_);
    std::swap(capacity_, o.capacity_);
    return *this;
  }
  ~ContentBuffer() { release(); }

  Status reserve(size_t bytes) {
    if (bytes <= capacity_) return ok_status();
    release();
    size_t size = (bytes + kBufferGranule - 1) / kBufferGranule * kBufferGranule;
    size_t mapped = size + kBufferGranule;  // room to align
    void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return internal_error(fmt::format("cannot map {} bytes for a file's content", mapped));
    base_ = p;
    mapped_ = mapped;
    auto at = (reinterpret_cast<uintptr_t>(p) + kBufferGranule - 1) & ~(uintptr_t{kBufferGranule} - 1);
    data_ = reinterpret_cast<char*>(at);
    capacity_ = size;
    ::madvise(data_, capacity_, MADV_HUGEPAGE);  // advice only: without it, small pages
    return ok_status();
  }
  char* data() { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void release() {
    if (base_) ::munmap(base_, mapped_);
    base_ = nullptr;
    mapped_ = 0;
    data_ = nullptr;
    capacity_ = 0;
  }

  void* base_ = nullptr;
  size_t mapped_ = 0;
  char* data_ = nullptr;
  size_t capacity_ = 0;
};

// The budget and the spare buffers, shared by the threads reading layers.
class ContentPool {
 public:
  ContentBuffer take(size_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    freed_.wait(lock, [&] { return in_use_ == 0 || in_use_ + bytes <= kContentBudget; });
    in_use_ += bytes;
    if (spare_.empty()) return ContentBuffer();
    // The largest spare: a file that does not fit grows it.
    auto it = std::max_element(spare_.begin(), spare_.end(),
                               [](const ContentBuffer& a, const ContentBuffer& b) { return a.capacity() < b.capacity(); });
    ContentBuffer buf = std::move(*it);
    spare_.erase(it);
    spare_bytes_ -= buf.capacity();
    return buf;
  }

  void give_back(ContentBuffer buf, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ -= bytes;
      if (spare_bytes_ + buf.capacity() <= kContentBudget) {
        spare_bytes_ += buf.capacity();
        spare_.push_back(std::move(buf));
      }
    }
    freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  size_t in_use_ = 0;
  std::vector<ContentBuffer> spare_;
  size_t spare_bytes_ = 0;
};

// What oci::read_all says of content past the limit, for a file the catalogers read.
Error too_large(const std::string& path, size_t max_bytes) {
  return invalid_input(fmt::format("{}: larger than the limit of {} bytes", path, max_bytes));
}

// What the pass keeps of a file's content besides its outcome, so that the same content shown
// under another name (a hard link, a path under a parent symlink) can be offered again without
// reading it: whether it was read, its leading bytes, and what content-only catalogers kept.
struct ContentTrace {
  bool loaded = false;
  std::string head;
  std::vector<std::pair<size_t, std::optional<std::string>>> extracts;
};

// A regular file as its layer streams by.
class StreamedContent final : public detail::LoadedContent {
 public:
  StreamedContent(oci::BlobReader& reader, const SourceFile& f, ContentPool& pool, size_t head_bytes,
                  ContentTrace& trace)
      : reader_(reader), file_(f), pool_(pool), head_bytes_(head_bytes), trace_(trace) {}
  ~StreamedContent() override {
    if (taken_) pool_.give_back(std::move(buffer_), size_);
  }

  Status load(size_t max_bytes) override {
    if (file_.size < 0 || static_cast<uint64_t>(file_.size) > max_bytes) return too_large(file_.path, max_bytes);
    size_t size = static_cast<size_t>(file_.size);
    buffer_ = pool_.take(size);
    taken_ = true;
    size_ = size;
    VOUCH_RETURN_IF_ERROR(buffer_.reserve(std::max<size_t>(size, 1)));
    auto* data = reinterpret_cast<uint8_t*>(buffer_.data());
    size_t got = 0;
    while (got < size) {
      auto n = reader_.read(std::span<uint8_t>(data + got, size - got));
      if (!n.ok()) return stream_failed(std::move(n).error());
      if (*n == 0) break;
      got += *n;
    }
    uint8_t more[1];
    auto n = reader_.read(more);
    if (!n.ok()) return stream_failed(std::move(n).error());
    if (*n != 0) return invalid_input(fmt::format("{}: more content than its tar header says", file_.path));
    content_ = std::string_view(buffer_.data(), got);
    trace_.loaded = true;
    trace_.head.assign(content_.substr(0, head_bytes_));
    return ok_status();
  }

  Result<std::optional<std::string>> extract(const Cataloger& c, size_t index, const SourceFile& f) override {
    auto kept = c.extract(f, content_);
    if (kept.ok() && c.extract_uses_content_only()) trace_.extracts.emplace_back(index, *kept);
    return kept;
  }

  // A failure of the layer stream itself: the layer's error, not the file's.
  const std::optional<Error>& stream_error() const { return stream_error_; }

 private:
  Status stream_failed(Error e) {
    stream_error_ = e;
    return e;
  }

  oci::BlobReader& reader_;
  const SourceFile& file_;
  ContentPool& pool_;
  size_t head_bytes_;
  ContentTrace& trace_;
  ContentBuffer buffer_;
  bool taken_ = false;
  size_t size_ = 0;
  std::optional<Error> stream_error_;
};

// The content of a file offered under another name, from what the pass kept of it. missing()
// tells when a cataloger needs more than that: the layer is then read again.
class TracedContent final : public detail::OfferedContent {
 public:
  TracedContent(const ContentTrace& trace, const SourceFile& f, size_t size) : trace_(trace), file_(f), size_(size) {}

  Status load(size_t max_bytes) override {
    if (size_ > max_bytes) return too_large(file_.path, max_bytes);
    if (!trace_.loaded) return gone();
    return ok_status();
  }
  size_t size() const override { return size_; }
  bool starts_with(std::string_view magic) const override { return std::string_view(trace_.head).starts_with(magic); }
  Result<std::optional<std::string>> extract(const Cataloger& c, size_t index, const SourceFile&) override {
    if (c.extract_uses_content_only())
      for (const auto& [i, kept] : trace_.extracts)
        if (i == index) return kept;
    return gone();
  }
  bool missing() const { return missing_; }

 private:
  Error gone() {
    missing_ = true;
    return internal_error("content not kept");
  }

  const ContentTrace& trace_;
  const SourceFile& file_;
  size_t size_;
  bool missing_ = false;
};

// An entry of a layer as the pass saw it, with the outcome of offering it under its own name.
struct Occurrence {
  std::string path;  // in the layer's tar
  oci::FileType type = oci::FileType::kRegular;
  uint32_t mode = 0;
  int64_t size = 0;
  detail::FileOutcome outcome;
  ContentTrace trace;
};

// Content held in memory (a layer read again, or the empty content of a non-regular entry);
// `size` is that of content too large to be held.
class MemoryContent final : public detail::LoadedContent {
 public:
  MemoryContent(std::string_view content, const SourceFile& f, size_t size) : file_(f), size_(size) { content_ = content; }
  Status load(size_t max_bytes) override {
    if (size_ > max_bytes) return too_large(file_.path, max_bytes);
    return ok_status();
  }

 private:
  const SourceFile& file_;
  size_t size_;
};

// Whether `f` is the entry as its layer named it.
bool same_file(const SourceFile& f, size_t file_layer, const Occurrence& o, size_t layer) {
  return o.type == oci::FileType::kRegular && file_layer == layer && f.size == o.size && f.mode == o.mode &&
         f.path.size() == o.path.size() + 1 && std::string_view(f.path).substr(1) == o.path;
}

// A file of the walk, in walk order, and what offering it gave.
struct Slot {
  SourceFile file;
  detail::FileOutcome outcome;
};

// Gives `slot` (a file of the view whose content is entry `o` of layer `li`, named `e` in the
// view) its outcome: the pass's when the view names it as the layer did, else worked out from
// what the pass kept of the content. False when a cataloger needs that content again (the
// layer is then read again for it).
bool outcome_from_pass(const detail::Router& router, Occurrence& o, size_t li, const oci::FileEntry& e, Slot& slot) {
  const SourceFile& f = slot.file;
  if (same_file(f, e.layer, o, li)) {
    slot.outcome = std::move(o.outcome);
  } else if (!router.interested(f)) {
    // Nothing to offer.
  } else if (o.type != oci::FileType::kRegular) {
    MemoryContent empty({}, f, 0);
    slot.outcome = router.offer(f, empty);
  } else {
    TracedContent traced(o.trace, f, static_cast<size_t>(std::max<int64_t>(o.size, 0)));
    detail::FileOutcome outcome = router.offer(f, traced);
    if (traced.missing()) return false;
    slot.outcome = std::move(outcome);
  }
  return true;
}

// Files whose layer must be read again: layer -> entry index in the layer -> slots.
using ReadAgain = std::map<size_t, std::map<size_t, std::vector<size_t>>>;

// Reads those layers again and offers those files their content.
Status read_again(const oci::FileView& view, const detail::Router& router, const ReadAgain& again,
                  std::vector<Slot>& slots) {
  for (const auto& layer_again : again) {
    const size_t li = layer_again.first;
    const auto& entries = layer_again.second;
    size_t k = 0;
    VOUCH_RETURN_IF_ERROR(view.visit_layer(li, [&](const oci::LayerEntry& e, oci::BlobReader& content) -> Status {
      auto it = entries.find(k++);
      if (it == entries.end()) return ok_status();
      // Nothing larger than the largest read a cataloger makes is held: its offers fail on the size alone.
      size_t size = static_cast<size_t>(std::max<int64_t>(e.size, 0));
      std::string data;
      if (size <= router.max_read()) {
        VOUCH_ASSIGN_OR_RETURN(data, oci::read_all(content, router.max_read(), slots[it->second.front()].file.path));
        size = data.size();
      }
      for (size_t s : it->second) {
        MemoryContent c(data, slots[s].file, size);
        slots[s].outcome = router.offer(slots[s].file, c);
      }
      return ok_status();
    }));
  }
  return ok_status();
}

// Which regular file provides the content of view entry `e` (itself, or a hard link's target):
// (layer, name in that layer's tar); nullopt for anything else.
std::optional<std::pair<size_t, std::string>> content_source(const oci::FileView& view, const oci::FileEntry& e) {
  if (e.type == oci::FileType::kRegular) return std::make_pair(e.layer, e.layer_path);
  if (e.type != oci::FileType::kHardlink) return std::nullopt;
  auto t = view.entries().find(e.link_target);
  if (t == view.entries().end() || t->second.type != oci::FileType::kRegular) return std::nullopt;
  return std::make_pair(t->second.layer, t->second.layer_path);
}

// --scope all-layers: the pass of catalog_image, with the view followed as each layer is
// applied. A file of a layer's view is (its path, the layer that provides it): the first view
// that shows it gives it a slot, later views that still show it only note that they do. For
// each view, the files whose outcome keeps something for a parser are noted; the parsers then
// run once for each view that differs from the one below in those files, and the packages
// they give are merged by id (the id hashes each location's path and layer).
Result<Sbom> catalog_layers(oci::Store& store, const oci::Manifest& image, const oci::LayerVisitor& visit,
                            oci::SquashOptions options, std::vector<std::vector<Occurrence>>& seen,
                            std::unique_ptr<ContentPool>& pool, const detail::Router& router,
                            const std::vector<std::string>& digests, std::string name, const FileObserver& observer,
                            const std::vector<std::unique_ptr<Cataloger>>& catalogers) {
  std::vector<Slot> slots;
  ReadAgain again;
  // A slot the parsers may read, with what tells whether a view still shows it.
  struct Candidate {
    size_t slot;
    std::string path;  // in the view
    size_t layer;
    oci::FileType type;
  };
  std::vector<Candidate> candidates;
  std::vector<std::vector<size_t>> shown(digests.size());  // per view: the candidates it shows
  // Entry index of a path in a layer's tar (the last entry of that name), for hard links to a
  // lower layer's file; built the first time such a link needs it.
  std::map<size_t, std::unordered_map<std::string, size_t>> tar_index;

  options.layer_applied = [&](size_t li, const oci::FileView& view) -> Status {
    // The files this layer brings into the view, by the layer entry that holds their content.
    std::map<std::pair<size_t, std::string>, std::vector<const oci::FileEntry*>> wanted;
    for (const auto& [path, e] : view.entries()) {
      if (e.layer != li) continue;
      if (auto source = content_source(view, e)) wanted[*source].push_back(&e);
    }
    // Their entries, in layer and tar order: a name given twice in a tar is what its last entry holds.
    std::map<std::pair<size_t, size_t>, const std::vector<const oci::FileEntry*>*> sources;
    std::unordered_map<std::string_view, size_t> own;
    for (size_t k = 0; k < seen[li].size(); ++k)
      if (wanted.count({li, seen[li][k].path})) own[seen[li][k].path] = k;
    for (const auto& [key, entries] : wanted) {
      size_t k;
      if (key.first == li) {
        auto it = own.find(key.second);
        if (it == own.end()) continue;
        k = it->second;
      } else {
        auto [index, fresh] = tar_index.try_emplace(key.first);
        if (fresh)
          for (size_t j = 0; j < seen[key.first].size(); ++j) index->second[seen[key.first][j].path] = j;
        auto it = index->second.find(key.second);
        if (it == index->second.end()) continue;
        k = it->second;
      }
      sources[{key.first, k}] = &entries;
    }
    for (const auto& [at, entries] : sources) {
      Occurrence& o = seen[at.first][at.second];
      for (const oci::FileEntry* e : *entries) {
        Slot slot{SourceFile{"/" + e->path, e->size, e->mode, digests[e->layer]}, {}};
        bool pending = !outcome_from_pass(router, o, at.first, *e, slot);
        if (pending) again[at.first][at.second].push_back(slots.size());
        if (pending || !slot.outcome.kept.empty()) candidates.push_back(Candidate{slots.size(), e->path, e->layer, e->type});
        slots.push_back(std::move(slot));
      }
    }
    for (size_t c = 0; c < candidates.size(); ++c) {
      auto it = view.entries().find(candidates[c].path);
      if (it != view.entries().end() && it->second.layer == candidates[c].layer && it->second.type == candidates[c].type)
        shown[li].push_back(c);
    }
    return ok_status();
  };
  VOUCH_ASSIGN_OR_RETURN(oci::FileView view, oci::squash_image(store, image, visit, options));
  pool.reset();
  std::map<size_t, std::unordered_map<std::string, size_t>>().swap(tar_index);
  std::vector<std::vector<Occurrence>>().swap(seen);
  VOUCH_RETURN_IF_ERROR(read_again(view, router, again, slots));

  std::vector<std::string> warnings;
  for (Slot& slot : slots) {
    if (observer) observer(slot.file);
    for (auto& w : slot.outcome.warnings) warnings.push_back(std::move(w));
    if (slot.outcome.error) return std::move(*slot.outcome.error);
  }

  // The views that differ in what the parsers read, lowest first.
  std::vector<std::vector<size_t>> views;
  for (auto& ids : shown) {
    std::erase_if(ids, [&](size_t c) { return slots[candidates[c].slot].outcome.kept.empty(); });
    if (ids.empty() || (!views.empty() && views.back() == ids)) continue;
    views.push_back(std::move(ids));
  }
  std::vector<std::vector<size_t>>().swap(shown);
  // The last view each candidate is in: that view's parse may take what was kept instead of a copy.
  std::vector<size_t> last_view(candidates.size(), 0);
  for (size_t v = 0; v < views.size(); ++v)
    for (size_t c : views[v]) last_view[c] = v;

  std::optional<Distro> distro;
  std::set<std::string> warned(warnings.begin(), warnings.end());
  std::vector<Package> packages;
  std::set<std::string> ids;
  for (size_t v = 0; v < views.size(); ++v) {
    auto parse = [&](size_t at) -> Result<CatalogContext> {
      std::vector<std::vector<FoundFile>> found(catalogers.size());
      // Once the distro is known no view is parsed again, so a view that is the last to show a
      // file takes what was kept of it.
      for (size_t c : views[at]) {
        Slot& slot = slots[candidates[c].slot];
        const bool take = distro && last_view[c] == at;
        for (auto& [i, kept] : slot.outcome.kept) found[i].push_back(FoundFile{slot.file, take ? std::move(kept) : kept});
      }
      CatalogContext ctx;
      VOUCH_RETURN_IF_ERROR(detail::run_parsers(std::move(found), catalogers, ctx, distro));
      detail::assign_ids(ctx.packages, true);
      return ctx;
    };
    auto merge = [&](CatalogContext& ctx) {
      for (auto& w : ctx.warnings)
        if (warned.insert(w).second) warnings.push_back(std::move(w));
      for (auto& p : ctx.packages)
        if (ids.insert(p.id).second) packages.push_back(std::move(p));
    };
    VOUCH_ASSIGN_OR_RETURN(CatalogContext ctx, parse(v));
    if (!distro && ctx.distro) {
      // The first os-release in layer order names the distro of every layer's packages (syft's
      // choice): the views below, parsed without one, are parsed again with it. This view's
      // parsers already saw it (the os-release cataloger runs first).
      distro = ctx.distro;
      packages.clear();
      ids.clear();
      for (size_t below = 0; below < v; ++below) {
        VOUCH_ASSIGN_OR_RETURN(CatalogContext again_ctx, parse(below));
        merge(again_ctx);
      }
    }
    merge(ctx);
  }
  std::vector<Slot>().swap(slots);
  // Whether the final filesystem still shows each location (syft annotates it so).
  for (auto& p : packages)
    for (auto& l : p.locations) {
      auto it = view.entries().find(l.path.starts_with('/') ? l.path.substr(1) : l.path);
      l.visible = it != view.entries().end() && digests[it->second.layer] == l.layer_digest;
    }
  Sbom sbom;
  sbom.name = std::move(name);
  sbom.distro = distro;
  sbom.packages = std::move(packages);
  sbom.warnings = std::move(warnings);
  detail::finish_packages(sbom);
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
  return sbom;
}

}  // namespace

Result<Sbom> catalog_image(oci::Store& store, const std::optional<oci::Platform>& platform, std::string name,
                           const FileObserver& observer, ImageScope scope) {
  return catalog_image(store, platform, std::move(name), observer, default_catalogers(), 0, scope);
}

Result<Sbom> catalog_image(oci::Store& store, const std::optional<oci::Platform>& platform, std::string name,
                           const FileObserver& observer, const std::vector<std::unique_ptr<Cataloger>>& catalogers,
                           unsigned threads, ImageScope scope) {
  VOUCH_ASSIGN_OR_RETURN(oci::ResolvedImage image, oci::resolve_image(store, platform));
  const detail::Router router(catalogers);
  std::vector<std::string> digests;
  for (const auto& l : image.image.layers) digests.push_back(l.digest.str());

  // The pass: every entry of every layer, regular files offered under their names in the layer.
  std::vector<std::vector<Occurrence>> seen(digests.size());
  auto pool = std::make_unique<ContentPool>();
  oci::LayerVisitor visit = [&](const oci::LayerEntry& e, oci::BlobReader& content) -> Status {
    Occurrence o;
    o.path = e.path;
    o.type = e.type;
    o.mode = e.mode;
    o.size = e.size;
    if (e.type == oci::FileType::kRegular) {
      SourceFile f{"/" + e.path, e.size, e.mode, digests[e.layer]};
      StreamedContent streamed(content, f, *pool, router.magic_bytes(), o.trace);
      o.outcome = router.offer(f, streamed);
      if (streamed.stream_error()) return *streamed.stream_error();
    }
    seen[e.layer].push_back(std::move(o));
    return ok_status();
  };
  oci::SquashOptions options;
  options.threads = threads;
  if (scope == ImageScope::kAllLayers)
    return catalog_layers(store, image.image, visit, options, seen, pool, router, digests, std::move(name), observer,
                          catalogers);
  VOUCH_ASSIGN_OR_RETURN(oci::FileView view, oci::squash_image(store, image.image, visit, options));
  pool.reset();  // its buffers go back to the system before the parsers run

  // Which layer entries provide the content of the view's files, and to which files (as
  // FileView::visit_files pairs them).
  std::map<std::pair<size_t, std::string>, std::vector<const oci::FileEntry*>> wanted;
  for (const auto& [path, e] : view.entries()) {
    if (e.type == oci::FileType::kRegular) {
      wanted[{e.layer, e.layer_path}].push_back(&e);
    } else if (e.type == oci::FileType::kHardlink) {
      auto t = view.entries().find(e.link_target);
      if (t != view.entries().end() && t->second.type == oci::FileType::kRegular)
        wanted[{t->second.layer, t->second.layer_path}].push_back(&e);
    }
  }

  // The walk, in order: each file's outcome from the pass, or worked out from what the pass
  // kept of its content, or (rarely) left for a second read of its layer.
  std::vector<Slot> slots;
  ReadAgain again;
  for (size_t li = 0; li < seen.size(); ++li) {
    for (size_t k = 0; k < seen[li].size(); ++k) {
      Occurrence& o = seen[li][k];
      auto it = wanted.find({li, o.path});
      if (it == wanted.end()) continue;
      for (const oci::FileEntry* e : it->second) {
        Slot slot{SourceFile{"/" + e->path, e->size, e->mode, digests[e->layer]}, {}};
        if (!outcome_from_pass(router, o, li, *e, slot)) again[li][k].push_back(slots.size());
        slots.push_back(std::move(slot));
      }
    }
    std::vector<Occurrence>().swap(seen[li]);
  }
  VOUCH_RETURN_IF_ERROR(read_again(view, router, again, slots));

  std::vector<std::vector<FoundFile>> found(catalogers.size());
  std::vector<std::string> warnings;
  for (Slot& slot : slots) {
    if (observer) observer(slot.file);
    for (auto& w : slot.outcome.warnings) warnings.push_back(std::move(w));
    if (slot.outcome.error) return std::move(*slot.outcome.error);
    for (auto& [i, kept] : slot.outcome.kept) found[i].push_back(FoundFile{slot.file, std::move(kept)});
  }
  std::vector<Slot>().swap(slots);
  auto sbom = detail::finish_catalog(std::move(name), std::move(found), std::move(warnings), catalogers);
#ifdef __GLIBC__
  // What the layer threads kept for the parsers was allocated in their malloc arenas, which the
  // caller's allocations do not reuse; now that it is freed, it goes back to the system.
  ::malloc_trim(0);
#endif
  return sbom;
}

}  // namespace vouch::sbom
