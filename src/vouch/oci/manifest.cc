#include "vouch/oci/manifest.h"

#include <sys/utsname.h>

#include "vouch/base/json.h"

namespace vouch::oci {
namespace bj = boost::json;
using json::Node;

namespace {

constexpr size_t kMaxDescriptors = 10000;
constexpr size_t kMaxAnnotations = 1000;

Result<std::map<std::string, std::string>> parse_annotations(const Node& n) {
  std::map<std::string, std::string> out;
  if (!n.is_object()) return n.error("expected an object of strings");
  if (n.raw().get_object().size() > kMaxAnnotations) return n.error("too many annotations");
  for (const auto& kv : n.raw().get_object()) {
    if (!kv.value().is_string()) return invalid_input(fmt::format("{}.{}: expected a string", n.path(), std::string(kv.key())));
    out[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return out;
}

Result<Platform> parse_platform_json(const Node& n) {
  Platform p;
  VOUCH_ASSIGN_OR_RETURN(p.os, n.get_string("os"));
  VOUCH_ASSIGN_OR_RETURN(p.architecture, n.get_string("architecture"));
  if (auto v = n.find("variant")) { VOUCH_ASSIGN_OR_RETURN(p.variant, v->string()); }
  if (auto v = n.find("os.version")) { VOUCH_ASSIGN_OR_RETURN(p.os_version, v->string()); }
  if (auto v = n.find("os.features")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, v->array());
    for (const auto& i : items) {
      VOUCH_ASSIGN_OR_RETURN(std::string s, i.string());
      p.os_features.push_back(s);
    }
  }
  return p;
}

std::string normalize_arch(std::string arch, std::string& variant) {
  if (arch == "aarch64") arch = "arm64";
  if (arch == "x86_64" || arch == "x86-64") arch = "amd64";
  if (arch == "arm64" && variant.empty()) variant = "v8";
  if (arch == "arm" && variant.empty()) variant = "v7";
  return arch;
}

}  // namespace

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Result<Platform> parse_platform(std::string_view text) {
  Platform p;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.emplace_back(text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (const auto& part : parts)
    if (part.empty() || part.size() > 64)
      return invalid_input(fmt::format("platform '{}': expected os/arch[/variant]", text.substr(0, 100)));
  if (parts.size() > 3) return invalid_input(fmt::format("platform '{}': expected os/arch[/variant]", text.substr(0, 100)));
  p.os = parts[0];
  if (parts.size() >= 2) {
    p.architecture = parts[1];
  } else {
    p.architecture = host_platform().architecture;
  }
  if (parts.size() == 3) p.variant = parts[2];
  return p;
}

Platform host_platform() {
  Platform p;
  p.os = "linux";
  utsname u{};
  std::string machine = uname(&u) == 0 ? u.machine : "x86_64";
  if (machine == "x86_64") p.architecture = "amd64";
  else if (machine == "aarch64") { p.architecture = "arm64"; p.variant = "v8"; }
  else if (machine.starts_with("armv7")) { p.architecture = "arm"; p.variant = "v7"; }
  else if (machine.starts_with("armv6")) { p.architecture = "arm"; p.variant = "v6"; }
  else if (machine == "i686" || machine == "i386") p.architecture = "386";
  else if (machine == "ppc64le") p.architecture = "ppc64le";
  else if (machine == "s390x") p.architecture = "s390x";
  else if (machine == "riscv64") p.architecture = "riscv64";
  else p.architecture = machine;
  return p;
}

bool platform_matches(const Platform& wanted, const Platform& candidate) {
  if (wanted.os != candidate.os) return false;
  std::string wv = wanted.variant, cv = candidate.variant;
  bool want_any_variant = wv.empty();
  std::string wa = normalize_arch(wanted.architecture, wv);
  std::string ca = normalize_arch(candidate.architecture, cv);
  if (wa != ca) return false;
  if (want_any_variant && wanted.architecture != "arm64" && wanted.architecture != "arm") return true;
  return wv == cv;
}

bj::object Descriptor::to_json() const {
  bj::object o;
  o["mediaType"] = media_type;
  if (!artifact_type.empty()) o["artifactType"] = artifact_type;
  o["digest"] = digest.str();
  o["size"] = size;
  if (!urls.empty()) {
    bj::array a;
    for (const auto& u : urls) a.push_back(bj::value(u));
    o["urls"] = std::move(a);
  }
  if (!annotations.empty()) {
    bj::object a;
    for (const auto& [k, v] : annotations) a[k] = v;
    o["annotations"] = std::move(a);
  }
  if (platform) {
    bj::object p{{"architecture", platform->architecture}, {"os", platform->os}};
    if (!platform->variant.empty()) p["variant"] = platform->variant;
    if (!platform->os_version.empty()) p["os.version"] = platform->os_version;
    o["platform"] = std::move(p);
  }
  if (data) o["data"] = base64_encode(as_bytes(*data));
  return o;
}

Result<Descriptor> parse_descriptor(const bj::value& value, std::string_view path) {
  Node n(&value, std::string(path));
  if (!n.is_object()) return n.error("expected a descriptor object");
  Descriptor d;
  VOUCH_ASSIGN_OR_RETURN(d.media_type, n.get_string("mediaType"));
  VOUCH_ASSIGN_OR_RETURN(std::string digest, n.get_string("digest"));
  auto dg = Digest::parse(digest);
  if (!dg.ok()) return std::move(dg).error().context(fmt::format("{}.digest", path));
  d.digest = *dg;
  VOUCH_ASSIGN_OR_RETURN(d.size, n.get_int64("size"));
  if (d.size < 0) return invalid_input(fmt::format("{}.size: negative", path));
  if (auto u = n.find("urls")) {
    VOUCH_ASSIGN_OR_RETURN(auto items, u->array());
    for (const auto& i : items) {
      VOUCH_ASSIGN_OR_RETURN(std::string s, i.string());
      d.urls.push_back(s);
    }
  }
  if (auto a = n.find("annotations")) { VOUCH_ASSIGN_OR_RETURN(d.annotations, parse_annotations(*a)); }
  if (auto p = n.find("platform")) { VOUCH_ASSIGN_OR_RETURN(d.platform, parse_platform_json(*p)); }
  if (auto a = n.find("artifactType")) { VOUCH_ASSIGN_OR_RETURN(d.artifact_type, a->string()); }
  if (auto data = n.find("data")) {
    VOUCH_ASSIGN_OR_RETURN(std::string b64, data->string());
    auto raw = base64_decode(b64);
    if (!raw.ok()) return invalid_input(fmt::format("{}.data: {}", path, raw.error().message));
    std::string content = to_string(*raw);
    if (static_cast<int64_t>(content.size()) != d.size)
      return verification_failed(fmt::format("{}.data: {} bytes, but size says {}", path, content.size(), d.size));
    auto st = d.digest.verify(as_bytes(content), fmt::format("{}.data", path));
    if (!st.ok()) return std::move(st).error();
    d.data = std::move(content);
  }
  return d;
}

Descriptor Manifest::descriptor() const {
  Descriptor d;
  d.media_type = media_type;
  d.digest = digest;
  d.size = static_cast<int64_t>(bytes.size());
  d.artifact_type = effective_artifact_type();
  if (kind == ManifestKind::kImage && !artifact_type.empty()) d.artifact_type = artifact_type;
  return d;
}

std::string Manifest::effective_artifact_type() const {
  if (!artifact_type.empty()) return artifact_type;
  if (config && kind == ManifestKind::kImage) return config->media_type;
  return {};
}

Result<Manifest> parse_manifest(std::string bytes, std::string_view content_type) {
  if (bytes.size() > kMaxManifestBytes)
    return invalid_input(fmt::format("manifest of {} bytes exceeds the limit of {} bytes", bytes.size(), kMaxManifestBytes));
  // Content-Type may carry parameters ("; charset=utf-8").
  std::string ct(content_type.substr(0, content_type.find(';')));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  if (ct == media_type::kDockerSchema1 || ct == media_type::kDockerSchema1Signed)
    return invalid_input("manifest: Docker schema 1 manifests are not supported (deprecated since 2017); "
                         "re-push the image with a current client");
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, json::parse(bytes, {.max_bytes = kMaxManifestBytes, .max_depth = 32}));
  Node root = Node::root(doc);
  if (!root.is_object()) return invalid_input("manifest: expected a JSON object");
  Manifest m;
  VOUCH_ASSIGN_OR_RETURN(m.schema_version, root.get_int64("schemaVersion"));
  if (m.schema_version == 1)
    return invalid_input("manifest: Docker schema 1 manifests are not supported (deprecated since 2017); "
                         "re-push the image with a current client");
  if (m.schema_version != 2)
    return invalid_input(fmt::format("manifest: unsupported schemaVersion {}", m.schema_version));
  if (auto mt = root.find("mediaType")) {
    VOUCH_ASSIGN_OR_RETURN(m.media_type, mt->string());
    if (!ct.empty() && ct != m.media_type && ct != "application/json" && ct != "application/octet-stream")
      return invalid_input(fmt::format("manifest: mediaType '{}' does not match the content type '{}'", m.media_type, ct));
  } else {
    m.media_type = ct;
  }
  bool has_manifests = root.has("manifests");
  bool has_layers = root.has("layers") || root.has("config");
  if (m.media_type.empty()) {
    // OCI allows an absent mediaType; decide by structure.
    if (has_manifests && has_layers) return invalid_input("manifest: has both 'manifests' and 'layers'; ambiguous");
    m.media_type = std::string(has_manifests ? media_type::kOciIndex : media_type::kOciManifest);
  }
  if (m.media_type == media_type::kOciIndex || m.media_type == media_type::kDockerManifestList) {
    m.kind = ManifestKind::kIndex;
    if (has_layers) return invalid_input("manifest: an index must not have 'config' or 'layers'");
  } else if (m.media_type == media_type::kOciManifest || m.media_type == media_type::kDockerManifest) {
    m.kind = ManifestKind::kImage;
    if (has_manifests) return invalid_input("manifest: an image manifest must not have 'manifests'");
  } else {
    return invalid_input(fmt::format("manifest: unsupported media type '{}'", m.media_type));
  }
  if (auto a = root.find("artifactType")) { VOUCH_ASSIGN_OR_RETURN(m.artifact_type, a->string()); }
  if (auto a = root.find("annotations")) { VOUCH_ASSIGN_OR_RETURN(m.annotations, parse_annotations(*a)); }
  if (auto s = root.find("subject")) { VOUCH_ASSIGN_OR_RETURN(m.subject, parse_descriptor(s->raw(), "subject")); }
  if (m.kind == ManifestKind::kIndex) {
    VOUCH_ASSIGN_OR_RETURN(Node list, root.get("manifests"));
    VOUCH_ASSIGN_OR_RETURN(auto items, list.array());
    if (items.size() > kMaxDescriptors) return invalid_input("manifest: more than 10000 manifests in an index");
    for (const auto& i : items) {
      VOUCH_ASSIGN_OR_RETURN(Descriptor d, parse_descriptor(i.raw(), i.path()));
      m.manifests.push_back(std::move(d));
    }
  } else {
    VOUCH_ASSIGN_OR_RETURN(Node config, root.get("config"));
    VOUCH_ASSIGN_OR_RETURN(m.config, parse_descriptor(config.raw(), "config"));
    if (auto layers = root.find("layers")) {
      VOUCH_ASSIGN_OR_RETURN(auto items, layers->array());
      if (items.size() > kMaxDescriptors) return invalid_input("manifest: more than 10000 layers");
      for (const auto& i : items) {
        VOUCH_ASSIGN_OR_RETURN(Descriptor d, parse_descriptor(i.raw(), i.path()));
        m.layers.push_back(std::move(d));
      }
    } else if (m.media_type == media_type::kDockerManifest) {
      return invalid_input("layers: missing");
    }
  }
  m.digest = Digest::sha256_of(as_bytes(bytes));
  m.bytes = std::move(bytes);
  return m;
}

Result<Descriptor> select_platform(const Manifest& index, const Platform& wanted) {
  if (!index.is_index()) return internal_error("select_platform: not an index");
  std::vector<std::string> available;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    // Attestation manifests (buildkit) carry platform unknown/unknown.
    if (d.platform->os == "unknown") continue;
    available.push_back(d.platform->str());
    if (platform_matches(wanted, *d.platform)) return d;
  }
  std::string list;
  for (const auto& a : available) list += (list.empty() ? "" : ", ") + a;
  return not_found(fmt::format("no image for platform {} in index {} (available: {})", wanted.str(), index.digest.str(),
                               list.empty() ? "none" : list));
}

bool is_layer_media_type(std::string_view mt) {
  return mt.starts_with("application/vnd.oci.image.layer.") || mt.starts_with("application/vnd.docker.image.rootfs.");
}

std::optional<Compression> compression_of(std::string_view mt) {
  if (mt.ends_with("+gzip") || mt.ends_with(".tar.gzip")) return Compression::kGzip;
  if (mt.ends_with("+zstd")) return Compression::kZstd;
  if (mt.ends_with(".tar") || mt.ends_with("v1.tar")) return Compression::kNone;
  return std::nullopt;
}

Compression sniff_compression(ByteView head) {
  if (head.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Compression::kGzip;
  if (head.size() >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return Compression::kZstd;
  return Compression::kNone;
}

}  // namespace vouch::oci
