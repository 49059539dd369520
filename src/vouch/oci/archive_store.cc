// docker-archive: the tarball `docker save` writes (manifest.json, <id>.json config,
// <id>/layer.tar uncompressed layers, or blobs/sha256/<hex> since docker 25).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "archive_util.h"
#include "store_common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::oci::detail {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;
using json::Node;

constexpr int64_t kMaxLayerBytes = int64_t{16} << 30;  // uncompressed, per layer (decompression bombs)

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

struct Entry {
  int64_t size = 0;
  std::string symlink;  // normalized target inside the archive, when a symlink
  Bytes head;
  std::optional<Digest> compressed_digest;
  std::optional<int64_t> offset;  // where its data starts in the file (uncompressed archives)
};

// An entry's data read straight from the archive file at its offset.
class RangeReader final : public BlobReader {
 public:
  RangeReader(std::FILE* f, int64_t size, std::string what) : f_(f), left_(size), what_(std::move(what)) {}
  ~RangeReader() override { std::fclose(f_); }
  Result<size_t> read(std::span<uint8_t> out) override {
    if (left_ == 0 || out.empty()) return size_t{0};
    size_t want = static_cast<size_t>(std::min<int64_t>(left_, static_cast<int64_t>(out.size())));
    size_t n = std::fread(out.data(), 1, want, f_);
    if (n == 0) return io_error(fmt::format("{}: {}", what_, std::ferror(f_) ? "read error" : "the file ends early"));
    left_ -= static_cast<int64_t>(n);
    return n;
  }

 private:
  std::FILE* f_;
  int64_t left_;
  std::string what_;
};

// Reads the archive's entry data until EOF; owns the archive handle and its source.
class EntryReader final : public BlobReader {
 public:
  EntryReader(std::unique_ptr<BlobReader> file, ArchivePtr a) : file_(std::move(file)), a_(std::move(a)) {}
  Result<size_t> read(std::span<uint8_t> out) override {
    la_ssize_t n = archive_read_data(a_.get(), out.data(), out.size());
    if (n < 0) return io_error(archive_error(a_.get()));
    return static_cast<size_t>(n);
  }

 private:
  std::unique_ptr<BlobReader> file_;
  ArchivePtr a_;
};

class ArchiveStore final : public Store {
 public:
  explicit ArchiveStore(ImageRef ref) : ref_(std::move(ref)) {}

  std::string describe() const override { return ref_.str(); }

  Status init_read() {
    VOUCH_RETURN_IF_ERROR(scan());
    auto it = entries_.find("manifest.json");
    if (it == entries_.end()) return invalid_input(fmt::format("{}: no manifest.json; not a docker-archive", ref_.path));
    VOUCH_ASSIGN_OR_RETURN(auto reader, open_entry("manifest.json"));
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_all(*reader, kMaxManifestBytes, ref_.path + ": manifest.json"));
    auto doc = json::parse(text, {.max_bytes = kMaxManifestBytes, .max_depth = 16});
    if (!doc.ok()) return std::move(doc).error().context(ref_.path + ": manifest.json");
    Node root = Node::root(*doc);
    auto images = root.array();
    if (!images.ok()) return std::move(images).error().context(ref_.path + ": manifest.json");
    std::optional<Node> chosen;
    std::string wanted;
    if (ref_.tag) {
      auto r = parse_reference(*ref_.tag);
      if (!r.ok()) return std::move(r).error();
      wanted = r->str();
    }
    for (const auto& img : *images) {
      if (wanted.empty()) {
        if (images->size() != 1)
          return invalid_input(fmt::format("{}: holds {} images; name one as docker-archive:FILE:NAME:TAG", ref_.path,
                                           images->size()));
        chosen = img;
        break;
      }
      if (auto tags = img.find("RepoTags")) {
        VOUCH_ASSIGN_OR_RETURN(auto list, tags->array());
        for (const auto& t : list) {
          VOUCH_ASSIGN_OR_RETURN(std::string s, t.string());
          auto r = parse_reference(s);
          if (r.ok() && r->str() == wanted) chosen = img;
        }
      }
    }
    if (!chosen) return not_found(fmt::format("{}: no image tagged '{}'", ref_.path, *ref_.tag));
    auto st = build_manifest(*chosen);
    if (!st.ok()) return std::move(st).error().context(ref_.path + ": manifest.json");
    return ok_status();
  }

  Status init_write() {
    fs::path p(ref_.path);
    tmpdir_ = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    tmpdir_ /= fmt::format(".{}.tmp-{}", p.filename().string(), std::random_device{}());
    std::error_code ec;
    fs::create_directories(tmpdir_, ec);
    if (ec) return io_error(fmt::format("{}: {}", tmpdir_.string(), ec.message()));
    writing_ = true;
    return ok_status();
  }

  ~ArchiveStore() override {
    if (!tmpdir_.empty()) {
      std::error_code ec;
      fs::remove_all(tmpdir_, ec);
    }
  }

  Result<Manifest> get_root() override {
    if (writing_) return not_found(fmt::format("{}: nothing written yet", ref_.path));
    return manifest_;
  }
  Result<std::optional<Manifest>> get_tagged(std::string_view) override { return std::optional<Manifest>(); }
  Result<Manifest> get_manifest(const Descriptor& d) override {
    if (!writing_ && d.digest == manifest_.digest) return manifest_;
    return not_found(fmt::format("{}: manifest {} is not in the archive", ref_.path, d.digest.str()));
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const Descriptor& d) override {
    auto it = blob_names_.find(d.digest.str());
    if (it == blob_names_.end()) return not_found(fmt::format("{}: blob {} is not in the archive", ref_.path, d.digest.str()));
    VOUCH_ASSIGN_OR_RETURN(auto raw, open_entry(it->second));
    return verifying_reader(std::move(raw), d, fmt::format("{}: {}", ref_.path, it->second));
  }

  Result<bool> has_blob(const Descriptor& d) override { return written_.count(d.digest.str()) > 0; }

  Status put_blob(const Descriptor& d, BlobReader& from) override {
    if (is_layer_media_type(d.media_type)) {
      // Layers are stored uncompressed, as docker save does; the name is the diff ID.
      fs::path tmp = tmpdir_ / ("layer-" + d.digest.hex());
      VOUCH_ASSIGN_OR_RETURN(Digest diff_id, decompress_to(from, tmp));
      fs::path final_path = tmpdir_ / (diff_id.hex() + ".tar");
      std::error_code ec;
      fs::rename(tmp, final_path, ec);
      if (ec) return io_error(fmt::format("{}: {}", final_path.string(), ec.message()));
      written_[d.digest.str()] = diff_id.hex() + ".tar";
      return ok_status();
    }
    VOUCH_RETURN_IF_ERROR(write_blob_file(tmpdir_ / (d.digest.hex() + ".json"), from));
    written_[d.digest.str()] = d.digest.hex() + ".json";
    return ok_status();
  }

  Status put_manifest(const Manifest& m, const std::optional<std::string>&, bool root) override {
    if (!root) return ok_status();
    if (m.is_index())
      return invalid_input(fmt::format("{}: a docker-archive holds one image per tag; choose one with --platform", ref_.path));
    if (!m.config) return invalid_input("manifest without a config");
    root_manifest_ = m;
    return ok_status();
  }

  Status commit() override {
    if (!writing_) return ok_status();
    if (!root_manifest_) return invalid_input(fmt::format("{}: no image was written", ref_.path));
    bj::object image;
    auto cfg = written_.find(root_manifest_->config->digest.str());
    if (cfg == written_.end()) return internal_error("docker-archive: config blob missing");
    image["Config"] = cfg->second;
    bj::array tags;
    if (ref_.tag) {
      VOUCH_ASSIGN_OR_RETURN(Reference named, parse_reference(*ref_.tag));
      tags.push_back(bj::value(named.str()));
    }
    image["RepoTags"] = std::move(tags);
    bj::array layers;
    std::vector<std::string> files{cfg->second};
    for (const auto& l : root_manifest_->layers) {
      auto it = written_.find(l.digest.str());
      if (it == written_.end()) return internal_error("docker-archive: layer blob missing");
      layers.push_back(bj::value(it->second));
      files.push_back(it->second);
    }
    image["Layers"] = std::move(layers);
    std::string manifest_json = json::serialize(bj::array{image});
    VOUCH_RETURN_IF_ERROR(write_file_atomic(tmpdir_ / "manifest.json", manifest_json));
    files.insert(files.begin(), "manifest.json");
    return write_tar(files);
  }

 private:
  Result<std::unique_ptr<BlobReader>> open_file() { return open_file_reader(ref_.path); }

  Status scan() {
    VOUCH_ASSIGN_OR_RETURN(auto file, open_file());
    file.reset();
    VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, open_archive_file(ref_.path));
    archive_entry* e = nullptr;
    size_t count = 0;
    for (;;) {
      int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return invalid_input(fmt::format("{}: {}", ref_.path, archive_error(a.get())));
      if (++count > 100000) return invalid_input(fmt::format("{}: more than 100000 entries", ref_.path));
      const char* raw_name = archive_entry_pathname(e);
      auto parts = safe_entry_path(raw_name ? raw_name : "");
      if (!parts.ok()) return std::move(parts).error().context(ref_.path);
      std::string name = join(*parts);
      Entry entry;
      entry.size = archive_entry_size(e);
      // An uncompressed archive's entry can be read in place later, without reading through
      // the entries before it.
      if (archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE && archive_entry_filetype(e) == AE_IFREG &&
          archive_entry_sparse_count(e) == 0 && archive_entry_size_is_set(e))
        entry.offset = archive_filter_bytes(a.get(), 0);
      if (archive_entry_filetype(e) == AE_IFLNK) {
        const char* target = archive_entry_symlink(e);
        std::string t = target ? target : "";
        std::vector<std::string> base(parts->begin(), parts->end());
        if (!base.empty()) base.pop_back();
        if (t.starts_with("/")) return invalid_input(fmt::format("{}: entry '{}': absolute symlink refused", ref_.path, name));
        size_t start = 0;
        while (start <= t.size()) {
          size_t slash = t.find('/', start);
          std::string part = t.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
          if (part == "..") {
            if (base.empty()) return invalid_input(fmt::format("{}: entry '{}': symlink leaves the archive", ref_.path, name));
            base.pop_back();
          } else if (!part.empty() && part != ".") {
            base.push_back(part);
          }
          if (slash == std::string::npos) break;
          start = slash + 1;
        }
        entry.symlink = join(base);
      } else if (archive_entry_filetype(e) == AE_IFREG) {
        uint8_t head[4];
        la_ssize_t n = archive_read_data(a.get(), head, sizeof head);
        if (n < 0) return invalid_input(fmt::format("{}: {}", ref_.path, archive_error(a.get())));
        entry.head.assign(head, head + n);
        if (sniff_compression(entry.head) != Compression::kNone && !name.starts_with("blobs/")) {
          // A compressed layer under a docker-save name: its digest is that of the bytes, read
          // in place when the archive is not compressed (libarchive then seeks past them).
          if (entry.offset) {
            VOUCH_ASSIGN_OR_RETURN(entry.compressed_digest, digest_range(*entry.offset, entry.size, name));
          } else {
            Digester dg;
            dg.update(entry.head);
            std::vector<uint8_t> buf(256 * 1024);
            for (;;) {
              la_ssize_t m = archive_read_data(a.get(), buf.data(), buf.size());
              if (m < 0) return invalid_input(fmt::format("{}: {}", ref_.path, archive_error(a.get())));
              if (m == 0) break;
              dg.update(ByteView(buf.data(), static_cast<size_t>(m)));
            }
            entry.compressed_digest = dg.finish();
          }
        }
      }
      // A name seen twice is read as before, by the first entry of that name.
      if (entries_.count(name)) entry.offset.reset();
      entries_[name] = std::move(entry);
    }
    return ok_status();
  }

  // The digest of `size` bytes at `offset` in the archive file, read in place.
  Result<Digest> digest_range(int64_t offset, int64_t size, const std::string& name) {
    std::FILE* f = std::fopen(ref_.path.c_str(), "rb");
    if (!f) return not_found(fmt::format("{}: cannot open", ref_.path));
    RangeReader reader(f, size, fmt::format("{}: {}", ref_.path, name));
    if (::fseeko(f, offset, SEEK_SET) != 0) return io_error(fmt::format("{}: cannot seek to '{}'", ref_.path, name));
    Digester dg;
    std::vector<uint8_t> buf(1024 * 1024);
    for (;;) {
      VOUCH_ASSIGN_OR_RETURN(size_t n, reader.read(buf));
      if (n == 0) break;
      dg.update(ByteView(buf.data(), n));
    }
    return dg.finish();
  }

  Result<std::string> resolve(std::string name) {
    for (int hops = 0; hops < 8; ++hops) {
      auto it = entries_.find(name);
      if (it == entries_.end()) return not_found(fmt::format("{}: no entry '{}'", ref_.path, name));
      if (it->second.symlink.empty()) return name;
      name = it->second.symlink;
    }
    return invalid_input(fmt::format("{}: symlink loop at '{}'", ref_.path, name));
  }

  Result<std::unique_ptr<BlobReader>> open_entry(const std::string& wanted) {
    VOUCH_ASSIGN_OR_RETURN(std::string name, resolve(wanted));
    if (const Entry& entry = entries_.at(name); entry.offset) {
      std::FILE* f = std::fopen(ref_.path.c_str(), "rb");
      if (!f) return not_found(fmt::format("{}: cannot open", ref_.path));
      if (::fseeko(f, *entry.offset, SEEK_SET) != 0) {
        std::fclose(f);
        return io_error(fmt::format("{}: cannot seek to '{}'", ref_.path, name));
      }
      return std::unique_ptr<BlobReader>(std::make_unique<RangeReader>(f, entry.size, fmt::format("{}: {}", ref_.path, name)));
    }
    VOUCH_ASSIGN_OR_RETURN(auto file, open_file());
    VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, open_archive_reader(*file, true));
    archive_entry* e = nullptr;
    for (;;) {
      int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return invalid_input(fmt::format("{}: {}", ref_.path, archive_error(a.get())));
      auto parts = safe_entry_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
      if (parts.ok() && join(*parts) == name)
        return std::unique_ptr<BlobReader>(std::make_unique<EntryReader>(std::move(file), std::move(a)));
    }
    return not_found(fmt::format("{}: no entry '{}'", ref_.path, name));
  }

  Status build_manifest(const Node& image) {
    VOUCH_ASSIGN_OR_RETURN(std::string config_name, image.get_string("Config"));
    VOUCH_ASSIGN_OR_RETURN(auto config_parts, safe_entry_path(config_name));
    VOUCH_ASSIGN_OR_RETURN(std::string cfg_resolved, resolve(join(config_parts)));
    VOUCH_ASSIGN_OR_RETURN(auto cfg_reader, open_entry(cfg_resolved));
    VOUCH_ASSIGN_OR_RETURN(std::string config, read_all(*cfg_reader, 16 << 20, ref_.path + ": " + config_name));
    Digest config_digest = Digest::sha256_of(as_bytes(config));
    blob_names_[config_digest.str()] = cfg_resolved;
    auto cfg_doc = json::parse(config, {.max_bytes = 16 << 20, .max_depth = 64});
    if (!cfg_doc.ok()) return std::move(cfg_doc).error().context(config_name);
    std::vector<std::string> diff_ids;
    if (auto rootfs = Node::root(*cfg_doc).find("rootfs"))
      if (auto ids = rootfs->find("diff_ids")) {
        VOUCH_ASSIGN_OR_RETURN(auto list, ids->array());
        for (const auto& i : list) {
          VOUCH_ASSIGN_OR_RETURN(std::string s, i.string());
          diff_ids.push_back(s);
        }
      }
    VOUCH_ASSIGN_OR_RETURN(Node layers, image.get("Layers"));
    VOUCH_ASSIGN_OR_RETURN(auto layer_list, layers.array());
    if (layer_list.size() != diff_ids.size())
      return invalid_input(fmt::format("{} layers but the config lists {} diff_ids", layer_list.size(), diff_ids.size()));
    bj::array layer_json;
    for (size_t i = 0; i < layer_list.size(); ++i) {
      VOUCH_ASSIGN_OR_RETURN(std::string lname, layer_list[i].string());
      VOUCH_ASSIGN_OR_RETURN(auto parts, safe_entry_path(lname));
      VOUCH_ASSIGN_OR_RETURN(std::string resolved, resolve(join(parts)));
      const Entry& entry = entries_[resolved];
      Compression c = sniff_compression(entry.head);
      std::string mt(c == Compression::kGzip ? media_type::kDockerLayerGzip
                     : c == Compression::kZstd ? media_type::kOciLayerZstd
                                               : media_type::kDockerLayer);
      Digest d;
      if (entry.compressed_digest) {
        d = *entry.compressed_digest;
      } else {
        auto parsed = Digest::parse(diff_ids[i]);
        if (!parsed.ok()) return std::move(parsed).error().context(fmt::format("rootfs.diff_ids[{}]", i));
        d = *parsed;
      }
      blob_names_[d.str()] = resolved;
      layer_json.push_back(bj::object{{"mediaType", mt}, {"size", entry.size}, {"digest", d.str()}});
    }
    bj::object m;
    m["schemaVersion"] = 2;
    m["mediaType"] = std::string(media_type::kDockerManifest);
    m["config"] = bj::object{{"mediaType", std::string(media_type::kDockerConfig)},
                             {"size", static_cast<int64_t>(config.size())},
                             {"digest", config_digest.str()}};
    m["layers"] = std::move(layer_json);
    VOUCH_ASSIGN_OR_RETURN(manifest_, parse_manifest(json::serialize(m)));
    return ok_status();
  }

  Result<Digest> decompress_to(BlobReader& from, const fs::path& out) {
    VOUCH_ASSIGN_OR_RETURN(ArchivePtr a, open_archive_reader(from, false));
    archive_entry* e = nullptr;
    if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
      return invalid_input(fmt::format("layer: {}", archive_error(a.get())));
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error(fmt::format("{}: cannot create", out.string()));
    Digester dg;
    int64_t written = 0;
    std::vector<uint8_t> buf(256 * 1024);
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) {
        ::close(fd);
        return invalid_input(fmt::format("layer: {}", archive_error(a.get())));
      }
      if (n == 0) break;
      written += n;
      if (written > kMaxLayerBytes) {
        ::close(fd);
        return invalid_input(fmt::format("layer: expands past the limit of {} bytes", kMaxLayerBytes));
      }
      dg.update(ByteView(buf.data(), static_cast<size_t>(n)));
      if (::write(fd, buf.data(), static_cast<size_t>(n)) != n) {
        ::close(fd);
        return io_error(fmt::format("{}: write failed", out.string()));
      }
    }
    ::close(fd);
    return dg.finish();
  }

  Status write_tar(const std::vector<std::string>& files) {
    std::string tmp = ref_.path + fmt::format(".tmp-{}", std::random_device{}());
    archive* w = archive_write_new();
    archive_write_set_format_pax_restricted(w);
    Status result;
    if (archive_write_open_filename(w, tmp.c_str()) != ARCHIVE_OK) {
      result = io_error(fmt::format("{}: {}", tmp, archive_error(w)));
    }
    std::vector<char> buf(256 * 1024);
    for (const auto& name : files) {
      if (!result.ok()) break;
      fs::path src = tmpdir_ / name;
      std::error_code ec;
      auto size = fs::file_size(src, ec);
      if (ec) { result = io_error(fmt::format("{}: {}", src.string(), ec.message())); break; }
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name.c_str());
      archive_entry_set_size(e, static_cast<la_int64_t>(size));
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_write_header(w, e);
      archive_entry_free(e);
      std::FILE* f = std::fopen(src.c_str(), "rb");
      if (!f) { result = io_error(fmt::format("{}: cannot open", src.string())); break; }
      size_t n;
      while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
        if (archive_write_data(w, buf.data(), n) < 0) { result = io_error(archive_error(w)); break; }
      std::fclose(f);
    }
    if (archive_write_close(w) != ARCHIVE_OK && result.ok()) result = io_error(fmt::format("{}: {}", tmp, archive_error(w)));
    archive_write_free(w);
    if (result.ok() && std::rename(tmp.c_str(), ref_.path.c_str()) != 0)
      result = io_error(fmt::format("{}: rename failed", ref_.path));
    if (!result.ok()) ::unlink(tmp.c_str());
    return result;
  }

  ImageRef ref_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> blob_names_;  // digest -> entry name
  Manifest manifest_;
  // writing
  bool writing_ = false;
  fs::path tmpdir_;
  std::map<std::string, std::string> written_;  // digest -> file name in tmpdir_
  std::optional<Manifest> root_manifest_;
};

}  // namespace

Result<std::unique_ptr<Store>> make_archive_store(const ImageRef& ref, bool for_writing) {
  auto s = std::make_unique<ArchiveStore>(ref);
  VOUCH_RETURN_IF_ERROR(for_writing ? s->init_write() : s->init_read());
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace vouch::oci::detail
