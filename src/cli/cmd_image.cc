// inspect, copy, tree: reading images from registries, OCI layouts, docker-archives and dir:
// directories, moving them between any two with everything attached, and listing attachments.
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/image.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/squash.h"
#include "vouch/oci/store.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

struct RegistryFlags {
  bool allow_insecure = false;
  std::string platform;
  std::string username;
  std::string password;
  size_t chunk_size = 0;
  TimeoutFlag timeout;

  void add(CLI::App* cmd, bool with_platform = true) {
    timeout.add(cmd);
    cmd->add_flag("--allow-insecure-registry", allow_insecure,
                  "Allow plain HTTP and unverified TLS for registries other than localhost");
    if (with_platform)
      cmd->add_option("--platform", platform, "os/arch[/variant] to pick from an index (default: this machine's)");
    cmd->add_option("--username", username, "Registry user name (default: from ~/.docker/config.json)");
    cmd->add_option("--password", password, "Registry password (default: from ~/.docker/config.json)");
  }
  oci::StoreOptions store_options() const {
    oci::StoreOptions o;
    o.allow_insecure = allow_insecure;
    o.username = username;
    o.password = password;
    o.chunk_size = chunk_size;
    o.timeout = timeout.duration();
    return o;
  }
  Result<std::optional<oci::Platform>> parsed_platform() const {
    if (platform.empty()) return std::optional<oci::Platform>();
    VOUCH_ASSIGN_OR_RETURN(oci::Platform p, oci::parse_platform(platform));
    return std::optional<oci::Platform>(p);
  }
};

Result<std::unique_ptr<oci::Store>> open(const std::string& text, const RegistryFlags& flags, bool write) {
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(text));
  return oci::open_store(ref, flags.store_options(), write);
}

Result<bj::value> parse_json_value(const std::string& text) { return json::parse(text); }

struct InspectOptions {
  RegistryFlags flags;
  std::string output = "table";
  bool raw = false;
  bool files = false;
  std::string image;
};

std::string_view type_name(oci::FileType t) {
  switch (t) {
    case oci::FileType::kRegular: return "file";
    case oci::FileType::kDirectory: return "dir";
    case oci::FileType::kSymlink: return "symlink";
    case oci::FileType::kHardlink: return "hardlink";
    case oci::FileType::kCharDevice: return "char";
    case oci::FileType::kBlockDevice: return "block";
    case oci::FileType::kFifo: return "fifo";
    case oci::FileType::kSocket: return "socket";
  }
  return "?";
}

// The squashed file view, with the sha256 of every regular file (read from the layer streams).
Result<bj::array> list_files(oci::Store& store, const oci::Manifest& image) {
  VOUCH_ASSIGN_OR_RETURN(oci::FileView view, oci::squash_image(store, image));
  std::map<std::string, std::string> digests;
  VOUCH_RETURN_IF_ERROR(view.visit_files([&](const oci::FileEntry& f, oci::BlobReader& content) -> Status {
    oci::Digester dg;
    std::vector<uint8_t> buf(256 * 1024);
    for (;;) {
      VOUCH_ASSIGN_OR_RETURN(size_t n, content.read(buf));
      if (n == 0) break;
      dg.update(ByteView(buf.data(), n));
    }
    digests[f.path] = dg.finish().str();
    return ok_status();
  }));
  bj::array out;
  for (const auto& [path, e] : view.entries()) {
    bj::object o{{"path", "/" + path}, {"type", type_name(e.type)}, {"mode", fmt::format("{:04o}", e.mode)},
                 {"size", e.size}, {"layer", e.layer}};
    if (!e.link_target.empty()) o["linkTarget"] = e.type == oci::FileType::kHardlink ? "/" + e.link_target : e.link_target;
    if (auto it = digests.find(path); it != digests.end()) o["digest"] = it->second;
    out.push_back(std::move(o));
  }
  return out;
}

// For a BuildKit attestation manifest in an index, the digest of the image it describes.
std::string attestation_subject(const oci::Descriptor& d) {
  if (!oci::is_buildkit_attestation(d)) return {};
  auto it = d.annotations.find(std::string(oci::kBuildKitReferenceDigest));
  return it == d.annotations.end() ? "?" : it->second;
}

Status inspect(const InspectOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, open(o.image, o.flags, false));
  VOUCH_ASSIGN_OR_RETURN(auto platform, o.flags.parsed_platform());
  if (o.raw) {
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
    std::cout << root.bytes << std::flush;
    return ok_status();
  }
  VOUCH_ASSIGN_OR_RETURN(oci::ResolvedImage img, oci::resolve_image(*store, platform));
  VOUCH_ASSIGN_OR_RETURN(bj::value manifest_json, parse_json_value(img.image.bytes));
  VOUCH_ASSIGN_OR_RETURN(bj::value config_json, parse_json_value(img.config));
  bj::array platforms;
  if (img.root.is_index())
    for (const auto& d : img.root.manifests) {
      bj::object entry{{"platform", d.platform ? d.platform->str() : ""}, {"digest", d.digest.str()},
                       {"mediaType", d.media_type}, {"size", d.size}};
      if (std::string subject = attestation_subject(d); !subject.empty()) entry["attestationFor"] = subject;
      platforms.push_back(std::move(entry));
    }
  std::string os, arch, variant;
  if (config_json.is_object()) {
    const auto& c = config_json.as_object();
    if (auto* v = c.if_contains("os"); v && v->is_string()) os = v->as_string();
    if (auto* v = c.if_contains("architecture"); v && v->is_string()) arch = v->as_string();
    if (auto* v = c.if_contains("variant"); v && v->is_string()) variant = v->as_string();
  }
  int64_t total = 0;
  for (const auto& l : img.image.layers) total += l.size;
  std::optional<bj::array> files;
  if (o.files) { VOUCH_ASSIGN_OR_RETURN(files, list_files(*store, img.image)); }
  if (o.output == "json") {
    bj::object out;
    out["reference"] = store->describe();
    out["digest"] = img.root.digest.str();
    out["mediaType"] = img.root.media_type;
    if (img.root.is_index()) {
      out["index"] = bj::object{{"digest", img.root.digest.str()}, {"mediaType", img.root.media_type}};
      out["platforms"] = std::move(platforms);
    }
    out["manifestDigest"] = img.image.digest.str();
    out["configDigest"] = img.image.config->digest.str();
    out["platform"] = os + "/" + arch + (variant.empty() ? "" : "/" + variant);
    out["manifest"] = manifest_json;
    out["config"] = config_json;
    if (files) out["files"] = std::move(*files);
    print_json(out);
    return ok_status();
  }
  fmt::print("Reference:   {}\n", store->describe());
  fmt::print("Digest:      {}\n", img.root.digest.str());
  fmt::print("Media type:  {}\n", img.root.media_type);
  if (img.root.is_index()) {
    fmt::print("Platforms:\n");
    for (const auto& d : img.root.manifests) {
      std::string subject = attestation_subject(d);
      fmt::print("  {:<20} {}{}\n", d.platform ? d.platform->str() : "-", d.digest.str(),
                 subject.empty() ? "" : "  (BuildKit attestations of " + subject + ", unsigned)");
    }
    fmt::print("Manifest:    {}\n", img.image.digest.str());
  }
  fmt::print("Platform:    {}/{}{}\n", os, arch, variant.empty() ? "" : "/" + variant);
  fmt::print("Config:      {}\n", img.image.config->digest.str());
  if (!img.image.artifact_type.empty()) fmt::print("Artifact:    {}\n", img.image.artifact_type);
  fmt::print("Layers:      {} ({} bytes)\n", img.image.layers.size(), total);
  for (const auto& l : img.image.layers) fmt::print("  {}  {:>12}  {}\n", l.digest.str(), l.size, l.media_type);
  if (files) {
    fmt::print("Files:       {}\n", files->size());
    for (const auto& v : *files) {
      const auto& f = v.as_object();
      std::string extra;
      if (auto* t = f.if_contains("linkTarget")) extra = " -> " + std::string(t->as_string());
      fmt::print("  {:<8} {:>4} {:>10}  {}{}\n", std::string(f.at("type").as_string()), std::string(f.at("mode").as_string()),
                 f.at("size").as_int64(), std::string(f.at("path").as_string()), extra);
    }
  }
  return ok_status();
}

struct CopyCmdOptions {
  RegistryFlags flags;
  bool no_attachments = false;
  std::string output = "text";
  std::string src, dst;
};

Status copy(const CopyCmdOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto platform, o.flags.parsed_platform());
  VOUCH_ASSIGN_OR_RETURN(auto src, open(o.src, o.flags, false));
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef dst_ref, oci::parse_image_ref(o.dst));
  if (dst_ref.transport == oci::Transport::kDockerArchive && !platform) {
    // A docker-archive holds one image: pick this machine's platform from an index.
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, src->get_root());
    if (root.is_index()) platform = oci::host_platform();
  }
  VOUCH_ASSIGN_OR_RETURN(auto dst, oci::open_store(dst_ref, o.flags.store_options(), true));
  oci::CopyOptions co;
  co.platform = platform;
  co.attachments = !o.no_attachments;
  VOUCH_ASSIGN_OR_RETURN(oci::CopyReport r, oci::copy_image(*src, *dst, co));
  if (o.output == "json") {
    bj::array att;
    for (const auto& a : r.attachments) att.push_back(bj::value(a));
    print_json(bj::object{{"source", src->describe()},
                          {"destination", dst->describe()},
                          {"digest", r.root.str()},
                          {"manifests", r.manifests},
                          {"blobsCopied", r.blobs_copied},
                          {"blobsPresent", r.blobs_present},
                          {"bytesCopied", r.bytes_copied},
                          {"attachments", std::move(att)}});
  } else {
    fmt::print(stderr, "Copied {} ({} manifests, {} blobs copied, {} already present, {} attachments)\n", r.root.str(),
               r.manifests, r.blobs_copied, r.blobs_present, r.attachments.size());
  }
  return ok_status();
}

// ---------------------------------------------------------------- save / load

struct SaveLoadOptions {
  RegistryFlags flags;
  std::string dir;
  std::string image;
  std::string output = "text";
};

// Marks the layout as `cosign save` does, so that `cosign load` and `cosign verify
// --local-image` read it: the image (or index) and its .sig and .att images by `kind`.
Status mark_cosign_layout(const std::filesystem::path& dir, const oci::Manifest& root) {
  auto index_path = dir / "index.json";
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(index_path, 4 << 20));
  VOUCH_ASSIGN_OR_RETURN(bj::value index, json::parse(text));
  auto* manifests = index.is_object() ? index.get_object().if_contains("manifests") : nullptr;
  if (!manifests || !manifests->is_array()) return invalid_input(fmt::format("{}: no manifests", index_path.string()));
  const std::string sig = oci::digest_tag(root.digest, ".sig"), att = oci::digest_tag(root.digest, ".att");
  for (auto& e : manifests->get_array()) {
    if (!e.is_object()) continue;
    auto& o = e.get_object();
    auto* annotations = o.if_contains("annotations");
    std::string name, digest = o.contains("digest") && o.at("digest").is_string() ? std::string(o.at("digest").get_string()) : "";
    if (annotations && annotations->is_object())
      if (auto* n = annotations->get_object().if_contains("org.opencontainers.image.ref.name"); n && n->is_string())
        name = std::string(n->get_string());
    std::string_view kind;
    if (digest == root.digest.str()) kind = root.is_index() ? oci::kCosignImageIndex : oci::kCosignImage;
    else if (name == sig) kind = oci::kCosignSigs;
    else if (name == att) kind = oci::kCosignAtts;
    if (kind.empty()) continue;
    if (!annotations || !annotations->is_object()) o["annotations"] = bj::object{};
    o["annotations"].as_object()[std::string(oci::kCosignKind)] = std::string(kind);
  }
  return write_file_atomic(index_path, json::serialize(index));
}

Status save(const SaveLoadOptions& o) {
  std::error_code ec;
  if (std::filesystem::exists(o.dir, ec) && !std::filesystem::is_empty(o.dir, ec))
    return invalid_input(fmt::format("--dir {}: exists and is not empty; save into a new directory", o.dir));
  VOUCH_ASSIGN_OR_RETURN(auto platform, o.flags.parsed_platform());
  VOUCH_ASSIGN_OR_RETURN(auto src, open(o.image, o.flags, false));
  oci::ImageRef dst_ref;
  dst_ref.transport = oci::Transport::kOciLayout;
  dst_ref.path = o.dir;
  VOUCH_ASSIGN_OR_RETURN(auto dst, oci::open_store(dst_ref, o.flags.store_options(), true));
  oci::CopyOptions co;
  co.platform = platform;
  auto copied = oci::copy_image(*src, *dst, co);
  if (copied.ok()) {
    oci::Descriptor root_d;
    root_d.digest = copied->root;
    root_d.size = -1;
    auto root = dst->get_manifest(root_d);
    auto marked = root.ok() ? mark_cosign_layout(o.dir, *root) : Status(root.error());
    if (!marked.ok()) copied = marked.error();
  }
  if (!copied.ok()) {
    std::filesystem::remove_all(o.dir, ec);  // nothing half-written is left
    return copied.error();
  }
  if (o.output == "json") {
    bj::array att;
    for (const auto& a : copied->attachments) att.push_back(bj::value(a));
    print_json(bj::object{{"image", src->describe()}, {"dir", o.dir}, {"digest", copied->root.str()}, {"attachments", std::move(att)}});
  } else {
    fmt::print(stderr, "Saved {} with {} attachment(s) to {}\n", copied->root.str(), copied->attachments.size(), o.dir);
  }
  return ok_status();
}

Status load(const SaveLoadOptions& o) {
  oci::ImageRef src_ref;
  src_ref.transport = oci::Transport::kOciLayout;
  src_ref.path = o.dir;
  VOUCH_ASSIGN_OR_RETURN(auto src, oci::open_store(src_ref, o.flags.store_options(), false));
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef dst_ref, oci::parse_image_ref(o.image));
  if (dst_ref.transport != oci::Transport::kRegistry)
    return invalid_input(fmt::format("{}: load writes to a registry (use `vouch copy` for other destinations)", o.image));
  VOUCH_ASSIGN_OR_RETURN(auto dst, oci::open_store(dst_ref, o.flags.store_options(), true));
  VOUCH_ASSIGN_OR_RETURN(oci::CopyReport r, oci::copy_image(*src, *dst, oci::CopyOptions{}));
  if (o.output == "json") {
    bj::array att;
    for (const auto& a : r.attachments) att.push_back(bj::value(a));
    print_json(bj::object{{"dir", o.dir}, {"image", dst->describe()}, {"digest", r.root.str()}, {"attachments", std::move(att)}});
  } else {
    fmt::print(stderr, "Loaded {} with {} attachment(s) into {}\n", r.root.str(), r.attachments.size(), dst->describe());
  }
  return ok_status();
}

struct TreeOptions {
  RegistryFlags flags;
  std::string output = "text";
  std::string image;
};

Status tree(const TreeOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, open(o.image, o.flags, false));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  VOUCH_ASSIGN_OR_RETURN(auto attachments, oci::list_attachments(*store, root.digest));
  VOUCH_ASSIGN_OR_RETURN(auto buildkit, oci::buildkit_attestations(*store, root));
  auto platform_of = [&](const oci::Digest& d) {
    for (const auto& m : root.manifests)
      if (m.digest == d && m.platform) return m.platform->str();
    return std::string("-");
  };
  auto predicate_type = [](const oci::Descriptor& layer) {
    auto it = layer.annotations.find(std::string(oci::kInTotoPredicateTypeAnnotation));
    return it == layer.annotations.end() ? std::string("?") : it->second;
  };
  std::string name = store->describe();
  if (size_t at = name.find('@'); at != std::string::npos) name = name.substr(0, at);
  else if (size_t colon = name.rfind(':'); colon != std::string::npos && name.find('/', colon) == std::string::npos &&
                                           name.rfind('/') < colon)
    name = name.substr(0, colon);
  if (o.output == "json") {
    bj::array arr;
    for (const auto& a : attachments) {
      bj::array layers;
      for (const auto& l : a.layers) layers.push_back(l.to_json());
      arr.push_back(bj::object{{"kind", a.kind}, {"tag", a.tag}, {"manifest", a.manifest.to_json()}, {"layers", std::move(layers)}});
    }
    for (const auto& b : buildkit) {
      bj::array layers;
      for (const auto& l : b.statements) layers.push_back(l.to_json());
      arr.push_back(bj::object{{"kind", "buildkit-attestation"}, {"signed", false}, {"subject", b.subject.str()},
                               {"platform", platform_of(b.subject)}, {"manifest", b.manifest.to_json()},
                               {"layers", std::move(layers)}});
    }
    print_json(bj::object{{"image", store->describe()}, {"digest", root.digest.str()}, {"attachments", std::move(arr)}});
    return ok_status();
  }
  if (attachments.empty() && buildkit.empty()) {
    fmt::print("No Supply Chain Security Related Artifacts found for image {},\n start creating one with simply\n "
               "vouch sign --key <key> {}\n", store->describe(), store->describe());
    return ok_status();
  }
  fmt::print("📦 Supply Chain Security Related artifacts for an image: {}\n", store->describe());
  for (const auto& a : attachments) {
    if (a.kind == "referrer") {
      fmt::print("└── 🔗 {} artifacts via OCI referrer: {}@{}\n", a.manifest.artifact_type, name, a.manifest.digest.str());
    } else {
      std::string_view icon = a.kind == "signature" ? "🔐 Signatures" : a.kind == "attestation" ? "💾 Attestations" : "📦 SBOMs";
      fmt::print("└── {} for an image tag: {}:{}\n", icon, name, a.tag);
    }
    for (const auto& l : a.layers) fmt::print("   └── 🍒 {}\n", l.digest.str());
  }
  for (const auto& b : buildkit) {
    fmt::print("└── 📜 BuildKit attestations (unsigned, in the index) for the {} image: {}@{}\n", platform_of(b.subject),
               name, b.subject.str());
    for (const auto& l : b.statements) fmt::print("   └── 🍒 {} {}\n", l.digest.str(), predicate_type(l));
  }
  return ok_status();
}

}  // namespace

void register_image_commands(CLI::App& app, int& exit_code) {
  auto io = std::make_shared<InspectOptions>();
  auto* inspect_cmd = app.add_subcommand(
      "inspect",
      "Show an image's manifest, config and platforms. IMAGE is registry/repo[:tag][@digest],\n"
      "oci:PATH[:tag|@digest], docker-archive:FILE[:name:tag] or dir:PATH. Every manifest and blob\n"
      "read is checked against its digest.");
  io->flags.add(inspect_cmd);
  add_output_flag(inspect_cmd, io->output, {"table", "json"});
  inspect_cmd->add_flag("--raw", io->raw, "Print the manifest the reference names, byte for byte");
  inspect_cmd->add_flag("--files", io->files,
                        "List the squashed file view (layers applied in order, whiteouts honoured) with each file's sha256");
  inspect_cmd->add_option("IMAGE", io->image, "The image")->required();
  on_run(inspect_cmd, exit_code, [io] { return inspect(*io); });

  auto co = std::make_shared<CopyCmdOptions>();
  auto* copy_cmd = app.add_subcommand(
      "copy",
      "Copy an image between any two locations (registry, oci:, docker-archive:, dir:), keeping its\n"
      "digests, with its signatures, attestations and SBOMs (sha256-<hex>.sig/.att/.sbom tags) and\n"
      "OCI referrers. An index is copied whole unless --platform picks one image.");
  co->flags.add(copy_cmd);
  copy_cmd->add_option("--chunk-size", co->flags.chunk_size, "Upload blobs to registries in chunks of this many bytes");
  copy_cmd->add_flag("--no-attachments", co->no_attachments, "Copy the image only");
  add_output_flag(copy_cmd, co->output);
  copy_cmd->add_option("SRC", co->src, "Source image")->required();
  copy_cmd->add_option("DST", co->dst, "Destination")->required();
  on_run(copy_cmd, exit_code, [co] { return copy(*co); });

  auto sv = std::make_shared<SaveLoadOptions>();
  auto* save_cmd = app.add_subcommand(
      "save",
      "Save an image with its signatures, attestations, SBOM and referrers to a directory, as cosign save does:\n"
      "an OCI image layout whose index marks the image (kind dev.cosignproject.cosign/image or imageIndex) and\n"
      "its .sig and .att images (dev.cosignproject.cosign/sigs, atts), so `cosign load` and\n"
      "`cosign verify --local-image` read it too. Every blob is checked against its digest on the way.\n"
      "Exit 0, 2 on bad input (the directory must be new or empty; nothing is left after a failure).");
  sv->flags.add(save_cmd);
  save_cmd->add_option("--dir", sv->dir, "The directory to write")->required();
  add_output_flag(save_cmd, sv->output);
  save_cmd->add_option("IMAGE", sv->image, "registry/repo[:tag|@digest] (or another transport)")->required();
  on_run(save_cmd, exit_code, [sv] { return save(*sv); });

  auto ld = std::make_shared<SaveLoadOptions>();
  auto* load_cmd = app.add_subcommand(
      "load",
      "Push an image saved with `vouch save` or `cosign save` (--dir) to a registry under IMAGE, with its\n"
      "signatures and attestations at IMAGE's sha256-<hex>.sig/.att tags, as cosign load does.\n"
      "Exit 0, 2 on bad input.");
  ld->flags.add(load_cmd, false);
  load_cmd->add_option("--dir", ld->dir, "The saved directory")->required();
  add_output_flag(load_cmd, ld->output);
  load_cmd->add_option("IMAGE", ld->image, "registry/repo[:tag] to push to")->required();
  on_run(load_cmd, exit_code, [ld] { return load(*ld); });

  auto to = std::make_shared<TreeOptions>();
  auto* tree_cmd = app.add_subcommand(
      "tree", "List what is attached to an image: signatures, attestations, SBOMs and OCI referrers (as cosign tree).");
  to->flags.add(tree_cmd, false);
  add_output_flag(tree_cmd, to->output);
  tree_cmd->add_option("IMAGE", to->image, "The image")->required();
  on_run(tree_cmd, exit_code, [to] { return tree(*to); });
}

}  // namespace vouch::cli
