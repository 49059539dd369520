// download signature|attestation|sbom: what cosign stores beside an image, printed as
// `cosign download` prints it, one JSON document a line; attach sbom: an SBOM stored at
// sha256-<hex>.sbom as `cosign attach sbom` stores it.
#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/intoto/predicate.h"
#include "vouch/oci/blob.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/store.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxDownloadBytes = 64 << 20;

enum class What { kSignature, kAttestation, kSbom };

struct DownloadOptions {
  std::string ref;
  bool allow_insecure = false;
  std::string username, password;
  TimeoutFlag timeout;
};

Result<std::string> blob(oci::Store& store, const oci::Descriptor& d) {
  if (d.size < 0 || static_cast<uint64_t>(d.size) > kMaxDownloadBytes)
    return invalid_input(fmt::format("{}: {} bytes exceeds the limit of {}", d.digest.str(), d.size, kMaxDownloadBytes));
  VOUCH_ASSIGN_OR_RETURN(auto reader, store.open_blob(d));
  return oci::read_all(*reader, kMaxDownloadBytes, d.digest.str());
}

std::string one_line(std::string_view json_text) {
  auto parsed = json::parse(json_text);
  return parsed.ok() ? json::serialize(*parsed) : std::string(json_text);
}

// The Sigstore bundles attached as referrers: signatures (predicate type cosign/sign/v1) or
// attestations (any other).
Result<size_t> print_bundles(oci::Store& store, const oci::Digest& digest, What what) {
  VOUCH_ASSIGN_OR_RETURN(auto referrers, store.referrers(digest));
  size_t printed = 0;
  for (const auto& d : referrers) {
    if (d.media_type != oci::media_type::kOciManifest) continue;
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest m, store.get_manifest(d));
    if (m.effective_artifact_type() != cosign::media_type::kBundleV03 || m.layers.size() != 1) continue;
    auto pt = m.annotations.find(std::string(cosign::annotation::kBundlePredicateType));
    bool is_sign = pt != m.annotations.end() && pt->second == intoto::kCosignSignPredicate;
    if (is_sign != (what == What::kSignature)) continue;
    VOUCH_ASSIGN_OR_RETURN(std::string text, blob(store, m.layers.front()));
    fmt::print("{}\n", one_line(text));
    ++printed;
  }
  return printed;
}

// The classic layers: a signature as cosign's SignedPayload (Base64Signature, Payload, Cert and
// Chain as PEM, Bundle, RFC3161Timestamp); an attestation's DSSE envelope; an SBOM's content.
Result<size_t> print_classic(oci::Store& store, const oci::Digest& digest, What what) {
  std::string_view suffix = what == What::kSignature ? cosign::kSignatureTagSuffix
                            : what == What::kAttestation ? cosign::kAttestationTagSuffix
                                                         : std::string_view(".sbom");
  VOUCH_ASSIGN_OR_RETURN(auto manifest, store.get_tagged(oci::digest_tag(digest, suffix)));
  if (!manifest || manifest->is_index()) return size_t{0};
  for (const auto& layer : manifest->layers) {
    VOUCH_ASSIGN_OR_RETURN(std::string content, blob(store, layer));
    if (what == What::kSbom) {
      fmt::print("{}\n", content);
      continue;
    }
    if (what == What::kAttestation) {
      fmt::print("{}\n", one_line(content));
      continue;
    }
    auto annotation = [&](std::string_view key) -> bj::value {
      auto it = layer.annotations.find(std::string(key));
      return it == layer.annotations.end() ? bj::value(nullptr) : bj::value(it->second);
    };
    bj::value bundle = nullptr;
    if (auto b = layer.annotations.find(std::string(cosign::annotation::kBundle)); b != layer.annotations.end()) {
      auto parsed = json::parse(b->second);
      if (parsed.ok()) bundle = std::move(*parsed);
    }
    bj::value timestamp = nullptr;
    if (auto t = layer.annotations.find(std::string(cosign::annotation::kRfc3161Timestamp)); t != layer.annotations.end()) {
      auto parsed = json::parse(t->second);
      if (parsed.ok()) timestamp = std::move(*parsed);
    }
    bj::object out{{"Base64Signature", annotation(cosign::annotation::kSignature)},
                   {"Payload", base64_encode(as_bytes(content))},
                   {"Cert", annotation(cosign::annotation::kCertificate)},
                   {"Chain", annotation(cosign::annotation::kChain)},
                   {"Bundle", std::move(bundle)},
                   {"RFC3161Timestamp", std::move(timestamp)}};
    fmt::print("{}\n", json::serialize(out));
  }
  return manifest->layers.size();
}

Status download(const DownloadOptions& o, What what) {
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(o.ref));
  oci::StoreOptions so;
  so.allow_insecure = o.allow_insecure;
  so.username = o.username;
  so.password = o.password;
  so.timeout = o.timeout.duration();
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, so, false));
  if (!store->supports_tags())
    return invalid_input(fmt::format("{}: signatures are read only from registries and OCI layouts", ref.str()));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  size_t printed = 0;
  // As cosign 3: the bundles when there are any, else the classic layout.
  if (what != What::kSbom) {
    VOUCH_ASSIGN_OR_RETURN(printed, print_bundles(*store, root.digest, what));
  }
  if (printed == 0) {
    VOUCH_ASSIGN_OR_RETURN(printed, print_classic(*store, root.digest, what));
  }
  if (printed == 0)
    return not_found(fmt::format("{}@{}: no {} found", ref.str(), root.digest.str(),
                                 what == What::kSignature ? "signatures" : what == What::kAttestation ? "attestations" : "SBOM"));
  return ok_status();
}

struct AttachSbomOptions {
  DownloadOptions image;
  std::string sbom;
  std::string type = "spdx";
  std::string input_format;
};

// cosign's SBOM media types (pkg/types/media.go) by --type and --input-format.
Result<std::string> sbom_media_type(const std::string& type, const std::string& format) {
  if (type == "spdx") {
    if (format.empty() || format == "json") return std::string("text/spdx+json");
    if (format == "text") return std::string("text/spdx");
  } else if (type == "cyclonedx") {
    if (format.empty() || format == "json") return std::string("application/vnd.cyclonedx+json");
    if (format == "xml") return std::string("application/vnd.cyclonedx+xml");
  } else if (type == "syft") {
    if (format.empty() || format == "json") return std::string("application/vnd.syft+json");
  }
  return invalid_input(fmt::format("--type {} --input-format {}: not an SBOM format cosign attaches", type, format));
}

Status put(oci::Store& store, const oci::Descriptor& d, const std::string& data) {
  auto reader = oci::bytes_reader(data);
  return store.put_blob(d, *reader);
}

oci::Descriptor descriptor_of(std::string media_type, const std::string& data) {
  oci::Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = oci::Digest::sha256_of(as_bytes(data));
  d.size = static_cast<int64_t>(data.size());
  return d;
}

// Replaces whatever was at sha256-<hex>.sbom with one layer holding the SBOM, as cosign does.
Status attach_sbom(const AttachSbomOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(std::string media_type, sbom_media_type(o.type, o.input_format));
  VOUCH_ASSIGN_OR_RETURN(std::string content, read_file(o.sbom, kMaxDownloadBytes));
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(o.image.ref));
  oci::StoreOptions so;
  so.allow_insecure = o.image.allow_insecure;
  so.username = o.image.username;
  so.password = o.image.password;
  so.timeout = o.image.timeout.duration();
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, so, true));
  if (!store->supports_tags())
    return invalid_input(fmt::format("{}: SBOMs are attached only in registries and OCI layouts", ref.str()));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  if (!ref.reference.digest)
    fmt::print(stderr, "WARNING: attaching to {} by tag; it is {} now\n", ref.str(), root.digest.str());
  oci::Descriptor layer = descriptor_of(media_type, content);
  VOUCH_RETURN_IF_ERROR(put(*store, layer, content));
  std::string config = json::serialize(bj::object{
      {"architecture", ""},
      {"os", ""},
      {"config", bj::object{}},
      {"rootfs", bj::object{{"type", "layers"}, {"diff_ids", bj::array{bj::value(layer.digest.str())}}}}});
  oci::Descriptor config_d = descriptor_of(std::string(oci::media_type::kOciConfig), config);
  VOUCH_RETURN_IF_ERROR(put(*store, config_d, config));
  bj::object m{{"schemaVersion", 2},
               {"mediaType", std::string(oci::media_type::kOciManifest)},
               {"config", config_d.to_json()},
               {"layers", bj::array{layer.to_json()}}};
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::parse_manifest(json::serialize(m)));
  std::string tag = oci::digest_tag(root.digest, ".sbom");
  VOUCH_RETURN_IF_ERROR(store->put_manifest(manifest, tag, false));
  VOUCH_RETURN_IF_ERROR(store->commit());
  fmt::print(stderr, "Uploading SBOM file for [{}] to [{}:{}] with mediaType [{}].\n", ref.str(),
             ref.reference.name(), tag, media_type);
  return ok_status();
}

}  // namespace

void register_download_commands(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("download", "Print what is stored beside an image, as cosign download does.");
  cmd->require_subcommand(1);
  struct Kind {
    const char* name;
    What what;
    const char* help;
  };
  for (const Kind& k : {Kind{"signature", What::kSignature,
                             "Print the image's signatures, one JSON document a line: its Sigstore bundles (referrers)\n"
                             "when it has any, else each sha256-<hex>.sig layer as {Base64Signature, Payload, Cert,\n"
                             "Chain, Bundle, RFC3161Timestamp} (Cert and Chain as PEM). Nothing is verified.\n"
                             "Exit 0, 2 when there is none or on bad input."},
                        Kind{"attestation", What::kAttestation,
                             "Print the image's attestations, one JSON document a line: its Sigstore bundles other than\n"
                             "signatures, else each DSSE envelope of sha256-<hex>.att. Nothing is verified.\n"
                             "Exit 0, 2 when there is none or on bad input."},
                        Kind{"sbom", What::kSbom,
                             "Print the SBOM attached at sha256-<hex>.sbom (cosign attach sbom). Nothing is verified.\n"
                             "Exit 0, 2 when there is none or on bad input."}}) {
    auto o = std::make_shared<DownloadOptions>();
    auto* sub = cmd->add_subcommand(k.name, k.help);
    o->timeout.add(sub);
    sub->add_flag("--allow-insecure-registry", o->allow_insecure,
                  "Allow plain HTTP and unverified TLS for registries other than localhost");
    sub->add_option("--username", o->username, "Registry user name (default: from ~/.docker/config.json)");
    sub->add_option("--password", o->password, "Registry password (default: from ~/.docker/config.json)");
    sub->add_option("IMAGE", o->ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
    on_run(sub, exit_code, [o, what = k.what] { return download(*o, what); });
  }

  auto* attach = app.add_subcommand("attach", "Store an artifact beside an image, as cosign attach does.");
  attach->require_subcommand(1);
  auto a = std::make_shared<AttachSbomOptions>();
  auto* sbom = attach->add_subcommand(
      "sbom",
      "Store an SBOM at the image's sha256-<hex>.sbom tag (replacing what was there), as cosign attach sbom:\n"
      "one layer of text/spdx+json, application/vnd.cyclonedx+json (or +xml) or application/vnd.syft+json.\n"
      "The SBOM is not signed: `vouch attest --type spdxjson` signs one. Exit 0, 2 on bad input.");
  sbom->add_option("--sbom", a->sbom, "The SBOM file")->required();
  sbom->add_option("--type", a->type, "Its type")->check(CLI::IsMember({"spdx", "cyclonedx", "syft"}))->capture_default_str();
  sbom->add_option("--input-format", a->input_format, "Its format: json (default), xml (cyclonedx), text (spdx)")
      ->check(CLI::IsMember({"json", "xml", "text"}));
  a->image.timeout.add(sbom);
  sbom->add_flag("--allow-insecure-registry", a->image.allow_insecure,
                 "Allow plain HTTP and unverified TLS for registries other than localhost");
  sbom->add_option("--username", a->image.username, "Registry user name (default: from ~/.docker/config.json)");
  sbom->add_option("--password", a->image.password, "Registry password (default: from ~/.docker/config.json)");
  sbom->add_option("IMAGE", a->image.ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(sbom, exit_code, [a] { return attach_sbom(*a); });
}

}  // namespace vouch::cli
