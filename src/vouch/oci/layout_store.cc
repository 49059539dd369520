// OCI image layouts (oci-layout, index.json, blobs/<alg>/<hex>) and containers/image's dir:
// directories (version, manifest.json, <hex> blobs, <hex>.manifest.json instances).
#include <filesystem>

#include "store_common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::oci::detail {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;
constexpr std::string_view kRefName = "org.opencontainers.image.ref.name";
constexpr std::string_view kEmptyIndex =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}";

class LayoutStore final : public Store {
 public:
  LayoutStore(ImageRef ref) : ref_(std::move(ref)), root_(ref_.path) {}

  Status init(bool for_writing) {
    std::error_code ec;
    if (!fs::exists(root_ / "index.json", ec)) {
      if (!for_writing) return not_found(fmt::format("{}: not an OCI image layout (no index.json)", root_.string()));
      // Created on the first write, so that a copy that fails early leaves nothing behind.
      VOUCH_ASSIGN_OR_RETURN(index_, parse_manifest(std::string(kEmptyIndex)));
      pending_create_ = true;
      return ok_status();
    }
    return load_index();
  }

  Status ensure_created() {
    if (!pending_create_) return ok_status();
    std::error_code ec;
    fs::create_directories(root_ / "blobs" / "sha256", ec);
    if (ec) return io_error(fmt::format("{}: {}", root_.string(), ec.message()));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(root_ / "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(root_ / "index.json", kEmptyIndex));
    pending_create_ = false;
    return ok_status();
  }

  // The index entry `cosign save` marks with kind=<kind>, if exactly one is.
  const Descriptor* cosign_entry(std::string_view kind) const {
    const Descriptor* found = nullptr;
    for (const auto& e : index_.manifests) {
      auto it = e.annotations.find(std::string(kCosignKind));
      if (it == e.annotations.end() || it->second != kind) continue;
      if (found) return nullptr;
      found = &e;
    }
    return found;
  }

  std::string describe() const override { return ref_.str(); }
  bool supports_tags() const override { return true; }

  Result<Manifest> get_root() override {
    if (ref_.digest) {
      Descriptor d;
      d.digest = *ref_.digest;
      d.size = -1;
      for (const auto& e : index_.manifests)
        if (e.digest == *ref_.digest) d = e;
      return get_manifest(d);
    }
    if (ref_.tag) {
      VOUCH_ASSIGN_OR_RETURN(auto m, get_tagged(*ref_.tag));
      if (!m) return not_found(fmt::format("{}: no image tagged '{}' in index.json", root_.string(), *ref_.tag));
      return *m;
    }
    if (index_.manifests.size() == 1) return get_manifest(index_.manifests[0]);
    // A layout written by `cosign save` (or `vouch save`): the entry marked as the image.
    if (const Descriptor* image = cosign_entry(kCosignImage); image) return get_manifest(*image);
    if (const Descriptor* index = cosign_entry(kCosignImageIndex); index) return get_manifest(*index);
    VOUCH_ASSIGN_OR_RETURN(auto latest, get_tagged("latest"));
    if (latest) return *latest;
    return invalid_input(fmt::format("{}: the layout holds {} images; name one as oci:PATH:TAG or oci:PATH@DIGEST",
                                     root_.string(), index_.manifests.size()));
  }

  Result<std::optional<Manifest>> get_tagged(std::string_view tag) override {
    for (const auto& e : index_.manifests) {
      auto it = e.annotations.find(std::string(kRefName));
      if (it != e.annotations.end() && it->second == tag) {
        VOUCH_ASSIGN_OR_RETURN(Manifest m, get_manifest(e));
        return std::optional<Manifest>(std::move(m));
      }
    }
    // cosign's layout names its signature and attestation images by `kind` rather than by
    // tag; they are the .sig and .att of the entry marked as the image (or index).
    for (auto [suffix, kind] : {std::pair{std::string_view(".sig"), kCosignSigs}, std::pair{std::string_view(".att"), kCosignAtts}}) {
      if (!tag.ends_with(suffix)) continue;
      const Descriptor* subject = cosign_entry(kCosignImage);
      if (!subject) subject = cosign_entry(kCosignImageIndex);
      const Descriptor* attached = cosign_entry(kind);
      if (subject && attached && digest_tag(subject->digest, suffix) == tag) {
        VOUCH_ASSIGN_OR_RETURN(Manifest m, get_manifest(*attached));
        return std::optional<Manifest>(std::move(m));
      }
    }
    return std::optional<Manifest>();
  }

  Result<Manifest> get_manifest(const Descriptor& d) override {
    fs::path p = blob_path(d.digest);
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) return not_found(fmt::format("{}: manifest {} is not in the layout", root_.string(), d.digest.str()));
    Descriptor expected = d;
    if (expected.size < 0) expected.size = static_cast<int64_t>(size);
    VOUCH_ASSIGN_OR_RETURN(auto raw, open_file_reader(p));
    auto reader = verifying_reader(std::move(raw), expected, fmt::format("{}: manifest {}", root_.string(), d.digest.str()));
    return manifest_from_reader(*reader, expected, root_.string());
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const Descriptor& d) override {
    fs::path p = blob_path(d.digest);
    auto raw = open_file_reader(p);
    if (!raw.ok()) return not_found(fmt::format("{}: blob {} is not in the layout", root_.string(), d.digest.str()));
    return verifying_reader(std::move(raw).value(), d, fmt::format("{}: blob {}", root_.string(), d.digest.str()));
  }

  Result<std::vector<Descriptor>> referrers(const Digest& subject) override {
    std::vector<Descriptor> out;
    for (const auto& e : index_.manifests) {
      if (e.media_type != media_type::kOciManifest && e.media_type != media_type::kOciIndex) continue;
      auto m = get_manifest(e);
      if (!m.ok()) continue;  // an unreadable entry is not a referrer of anything
      if (m->subject && m->subject->digest == subject) {
        Descriptor d = m->descriptor();
        d.annotations = m->annotations;
        out.push_back(d);
      }
    }
    // The referrers tag schema, as registries without the API keep it.
    VOUCH_ASSIGN_OR_RETURN(auto tagged, get_tagged(digest_tag(subject)));
    if (tagged && tagged->is_index())
      for (const auto& d : tagged->manifests) {
        bool seen = false;
        for (const auto& o : out) seen = seen || o.digest == d.digest;
        if (!seen) out.push_back(d);
      }
    return out;
  }

  Result<bool> has_blob(const Descriptor& d) override { return blob_file_intact(blob_path(d.digest), d); }

  Status put_blob(const Descriptor& d, BlobReader& from) override {
    VOUCH_RETURN_IF_ERROR(ensure_created());
    return write_blob_file(blob_path(d.digest), from);
  }

  Status put_manifest(const Manifest& m, const std::optional<std::string>& tag, bool root) override {
    auto st = m.digest.verify(as_bytes(m.bytes), "manifest");
    if (!st.ok()) return st;
    VOUCH_RETURN_IF_ERROR(ensure_created());
    VOUCH_RETURN_IF_ERROR(write_file_atomic(blob_path(m.digest), m.bytes));
    std::optional<std::string> name = tag;
    if (root && !name && ref_.tag) name = ref_.tag;
    Descriptor d = m.descriptor();
    d.artifact_type = m.artifact_type;
    if (!name) {
      // Untagged manifests are reachable through their parent; the root of an untagged copy
      // and referrers are listed in index.json so that they can be found.
      if (!m.subject && !root) return ok_status();
      for (const auto& e : index_.manifests)
        if (e.digest == m.digest) return ok_status();
    } else {
      d.annotations[std::string(kRefName)] = *name;
    }
    std::vector<Descriptor> kept;
    for (auto& e : index_.manifests) {
      auto it = e.annotations.find(std::string(kRefName));
      if (name && it != e.annotations.end() && it->second == *name) continue;
      kept.push_back(e);
    }
    kept.push_back(d);
    index_.manifests = std::move(kept);
    return save_index();
  }

 private:
  fs::path blob_path(const Digest& d) const { return root_ / "blobs" / d.algorithm() / d.hex(); }

  Status load_index() {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(root_ / "index.json", kMaxManifestBytes));
    auto idx = parse_manifest(std::move(text), media_type::kOciIndex);
    if (!idx.ok()) return std::move(idx).error().context((root_ / "index.json").string());
    if (!idx->is_index()) return invalid_input(fmt::format("{}: index.json is not an index", root_.string()));
    index_ = std::move(idx).value();
    return ok_status();
  }

  Status save_index() {
    bj::object o;
    o["schemaVersion"] = 2;
    o["mediaType"] = std::string(media_type::kOciIndex);
    bj::array arr;
    for (const auto& d : index_.manifests) arr.push_back(d.to_json());
    o["manifests"] = std::move(arr);
    return write_file_atomic(root_ / "index.json", json::serialize(o));
  }

  ImageRef ref_;
  fs::path root_;
  Manifest index_;
  bool pending_create_ = false;
};

// containers/image's dir: transport.
class DirStore final : public Store {
 public:
  explicit DirStore(ImageRef ref) : ref_(std::move(ref)), root_(ref_.path) {}

  Status init(bool for_writing) {
    std::error_code ec;
    if (for_writing) {
      pending_create_ = true;  // on the first write
      return ok_status();
    }
    if (!fs::exists(root_ / "manifest.json", ec))
      return not_found(fmt::format("{}: not a dir: image (no manifest.json)", root_.string()));
    return ok_status();
  }

  std::string describe() const override { return ref_.str(); }

  Result<Manifest> get_root() override {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(root_ / "manifest.json", kMaxManifestBytes));
    auto m = parse_manifest(std::move(text));
    if (!m.ok()) return std::move(m).error().context((root_ / "manifest.json").string());
    return m;
  }

  Result<std::optional<Manifest>> get_tagged(std::string_view) override { return std::optional<Manifest>(); }

  Result<Manifest> get_manifest(const Descriptor& d) override {
    fs::path p = root_ / (d.digest.hex() + ".manifest.json");
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      // The root manifest may be asked for by digest.
      VOUCH_ASSIGN_OR_RETURN(Manifest root, get_root());
      if (root.digest == d.digest) return root;
      return not_found(fmt::format("{}: manifest {} is not in the directory", root_.string(), d.digest.str()));
    }
    Descriptor expected = d;
    if (expected.size < 0) expected.size = static_cast<int64_t>(fs::file_size(p, ec));
    VOUCH_ASSIGN_OR_RETURN(auto raw, open_file_reader(p));
    auto reader = verifying_reader(std::move(raw), expected, fmt::format("{}: manifest {}", root_.string(), d.digest.str()));
    return manifest_from_reader(*reader, expected, root_.string());
  }

  Result<std::unique_ptr<BlobReader>> open_blob(const Descriptor& d) override {
    auto raw = open_file_reader(root_ / d.digest.hex());
    if (!raw.ok()) return not_found(fmt::format("{}: blob {} is not in the directory", root_.string(), d.digest.str()));
    return verifying_reader(std::move(raw).value(), d, fmt::format("{}: blob {}", root_.string(), d.digest.str()));
  }

  Result<bool> has_blob(const Descriptor& d) override { return blob_file_intact(root_ / d.digest.hex(), d); }
  Status ensure_created() {
    if (!pending_create_) return ok_status();
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) return io_error(fmt::format("{}: {}", root_.string(), ec.message()));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(root_ / "version", "Directory Transport Version: 1.1\n"));
    pending_create_ = false;
    return ok_status();
  }
  Status put_blob(const Descriptor& d, BlobReader& from) override {
    VOUCH_RETURN_IF_ERROR(ensure_created());
    return write_blob_file(root_ / d.digest.hex(), from);
  }
  Status put_manifest(const Manifest& m, const std::optional<std::string>&, bool root) override {
    VOUCH_RETURN_IF_ERROR(ensure_created());
    return write_file_atomic(root_ / (root ? std::string("manifest.json") : m.digest.hex() + ".manifest.json"), m.bytes);
  }

 private:
  ImageRef ref_;
  fs::path root_;
  bool pending_create_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> make_layout_store(const ImageRef& ref, bool for_writing) {
  auto s = std::make_unique<LayoutStore>(ref);
  VOUCH_RETURN_IF_ERROR(s->init(for_writing));
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<Store>> make_dir_store(const ImageRef& ref, bool for_writing) {
  auto s = std::make_unique<DirStore>(ref);
  VOUCH_RETURN_IF_ERROR(s->init(for_writing));
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace vouch::oci::detail
