// download signature|attestation|sbom: what cosign stores beside an image, printed as
// `cosign download` prints it, one JSON document a line; attach sbom: an SBOM stored at
// sha256-<hex>.sbom as `cosign attach sbom` stores it; attach artifact: files stored as an OCI
// referrer, as `oras attach` stores them.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/cosign/sign.h"
#include "vouch/intoto/predicate.h"
#include "vouch/oci/blob.h"
#include "vouch/oci/image.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/referrer.h"
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

  Result<std::unique_ptr<oci::Store>> open(const oci::ImageRef& image, bool write) const {
    oci::StoreOptions so;
    so.allow_insecure = allow_insecure;
    so.username = username;
    so.password = password;
    so.timeout = timeout.duration();
    return oci::open_store(image, so, write);
  }
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
  VOUCH_ASSIGN_OR_RETURN(auto store, o.open(ref, false));
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
  VOUCH_ASSIGN_OR_RETURN(auto store, o.image.open(ref, true));
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

struct AttachSignatureOptions {
  DownloadOptions image;
  std::string payload, signature, certificate, chain, rekor_bundle, rekor_response, timestamp_response;
};

struct AttachAttestationOptions {
  DownloadOptions image;
  std::vector<std::string> attestations;
};

// Opens the image for attaching and names the manifest it points at.
Result<std::pair<std::unique_ptr<oci::Store>, oci::Manifest>> attach_target(const DownloadOptions& o, oci::ImageRef& ref) {
  VOUCH_ASSIGN_OR_RETURN(ref, oci::parse_image_ref(o.ref));
  if (ref.transport != oci::Transport::kRegistry && ref.transport != oci::Transport::kOciLayout)
    return invalid_input(fmt::format("{}: signatures are attached only in registries and OCI layouts", o.ref));
  VOUCH_ASSIGN_OR_RETURN(auto store, o.open(ref, true));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  if (!ref.reference.digest && ref.transport == oci::Transport::kRegistry)
    fmt::print(stderr, "WARNING: attaching to {} by tag; it is {} now\n", ref.str(), root.digest.str());
  return std::make_pair(std::move(store), std::move(root));
}

Status attach_signature_cmd(const AttachSignatureOptions& o) {
  cosign::DetachedSignature s;
  VOUCH_ASSIGN_OR_RETURN(s.payload, read_file(o.payload, 1 << 20));
  VOUCH_ASSIGN_OR_RETURN(s.signature_base64, read_file(o.signature, 1 << 20));
  if (!o.certificate.empty()) {
    VOUCH_ASSIGN_OR_RETURN(s.certificate_pem, read_file(o.certificate, 1 << 20));
  }
  if (!o.chain.empty()) {
    VOUCH_ASSIGN_OR_RETURN(s.chain_pem, read_file(o.chain, 1 << 20));
  }
  if (!o.rekor_bundle.empty()) {
    VOUCH_ASSIGN_OR_RETURN(s.rekor_bundle_json, read_file(o.rekor_bundle, 1 << 20));
  }
  if (!o.rekor_response.empty()) {
    // cosign's --rekor-response: a signed payload file ({"base64Signature", "cert", "rekorBundle"})
    // whose rekorBundle becomes the layer's bundle annotation.
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(o.rekor_response, 1 << 20));
    auto doc = json::parse(text, {.max_bytes = 1 << 20, .max_depth = 16});
    if (!doc.ok()) return std::move(doc).error().context(o.rekor_response);
    const bj::value* bundle = doc->is_object() ? doc->get_object().if_contains("rekorBundle") : nullptr;
    if (!bundle || !bundle->is_object())
      return invalid_input(fmt::format("{}: no rekorBundle object (cosign's signed payload file)", o.rekor_response));
    s.rekor_bundle_json = json::serialize(*bundle);
  }
  if (!o.timestamp_response.empty()) {
    VOUCH_ASSIGN_OR_RETURN(s.rfc3161_timestamp_der, read_file(o.timestamp_response, 1 << 20));
  }
  oci::ImageRef ref;
  VOUCH_ASSIGN_OR_RETURN(auto target, attach_target(o.image, ref));
  VOUCH_ASSIGN_OR_RETURN(std::string at, cosign::attach_signature(*target.first, ref.reference, target.second.descriptor(), s));
  VOUCH_RETURN_IF_ERROR(target.first->commit());
  fmt::print(stderr, "Attached a signature to {}\n", at);
  return ok_status();
}

Status attach_attestation_cmd(const AttachAttestationOptions& o) {
  std::vector<std::string> envelopes;
  for (const auto& f : o.attestations) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f, kMaxDownloadBytes));
    envelopes.push_back(std::move(text));
  }
  oci::ImageRef ref;
  VOUCH_ASSIGN_OR_RETURN(auto target, attach_target(o.image, ref));
  for (size_t i = 0; i < envelopes.size(); ++i) {
    auto at = cosign::attach_attestation(*target.first, ref.reference, target.second.descriptor(), envelopes[i]);
    if (!at.ok()) return std::move(at).error().context(o.attestations[i]);
    fmt::print(stderr, "Attached {} to {}\n", o.attestations[i], *at);
  }
  return target.first->commit();
}

struct AttachArtifactOptions {
  DownloadOptions image;
  std::string artifact_type;
  std::vector<std::string> files;
  std::string media_type = "application/vnd.oci.image.layer.v1.tar";  // oras attach's default
  std::vector<std::string> annotations;                                // key=value
};

// Stores files as an OCI referrer of the image, as `oras attach` does; prints the referrer's digest.
Status attach_artifact(const AttachArtifactOptions& o) {
  oci::ReferrerArtifact artifact;
  artifact.artifact_type = o.artifact_type;
  for (const auto& a : o.annotations) {
    size_t eq = a.find('=');
    if (eq == 0 || eq == std::string::npos) return invalid_input(fmt::format("--annotation {}: expected key=value", a));
    artifact.annotations[a.substr(0, eq)] = a.substr(eq + 1);
  }
  for (const auto& path : o.files) {
    VOUCH_ASSIGN_OR_RETURN(std::string content, read_file(path, kMaxDownloadBytes));
    artifact.files.push_back({o.media_type, std::move(content), std::filesystem::path(path).filename().string()});
  }
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(o.image.ref));
  VOUCH_ASSIGN_OR_RETURN(auto store, o.image.open(ref, true));
  if (!store->supports_tags())
    return invalid_input(fmt::format("{}: referrers are attached only in registries and OCI layouts", ref.str()));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest referrer, oci::push_referrer(*store, root.descriptor(), artifact));
  VOUCH_RETURN_IF_ERROR(store->commit());
  if (!ref.reference.digest)
    fmt::print(stderr, "WARNING: attached to {} by tag; it was {}\n", ref.str(), root.digest.str());
  fmt::print(stderr, "Attached {} to {}@{}\n", o.artifact_type, ref.reference.name(), root.digest.str());
  fmt::print("{}\n", referrer.digest.str());
  return ok_status();
}

Status valid_or_error(const Result<bool>& r) {
  if (!r.ok()) return r.error();
  return ok_status();
}

struct CleanOptions {
  DownloadOptions image;
  std::string type = "all";
  bool force = false;
};

// Deletes what cosign stores beside an image, as cosign clean: the .sig, .att and .sbom
// manifests and the Sigstore bundle referrers, by digest (registries refuse deletes by tag).
Status clean(const CleanOptions& o) {
  if (!o.force) {
    static const std::map<std::string, std::string> kWhat = {
        {"signature", "all signatures"}, {"attestation", "all attestations"}, {"sbom", "all SBOMs"},
        {"referrer", "all referrer attestations and/or signatures"}, {"all", "all signatures, SBOMs and attestations"}};
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
      return invalid_input(fmt::format("this will remove {} from the image; confirm with -f/--force (no terminal to ask on)",
                                       kWhat.at(o.type)));
    fmt::print(stderr, "WARNING: this will remove {} from the image\nAre you sure you would like to continue? [y/N] ",
               kWhat.at(o.type));
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") return invalid_input("user declined");
  }
  VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(o.image.ref));
  if (ref.transport != oci::Transport::kRegistry) return invalid_input(fmt::format("{}: clean works on registry images", o.image.ref));
  VOUCH_ASSIGN_OR_RETURN(auto store, o.image.open(ref, true));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  VOUCH_ASSIGN_OR_RETURN(auto attached, oci::list_attachments(*store, root.digest));
  bool has_bundles = false;
  std::vector<std::pair<std::string, oci::Digest>> doomed;  // what, digest
  for (const auto& a : attached) {
    bool bundle = a.kind == "referrer" && a.manifest.artifact_type.starts_with("application/vnd.dev.sigstore.bundle");
    has_bundles = has_bundles || bundle;
    bool take = o.type == "all" ? (a.kind != "referrer" || bundle) : o.type == "referrer" ? bundle : a.kind == o.type;
    if (take) doomed.emplace_back(a.tag.empty() ? a.manifest.digest.str() : ref.reference.name() + ":" + a.tag, a.manifest.digest);
  }
  if ((o.type == "signature" || o.type == "attestation") && has_bundles)
    fmt::print(stderr, "WARNING: image has referrers, consider using --type referrer\n");
  std::set<oci::Digest> removed_referrers;
  for (const auto& [what, digest] : doomed) {
    VOUCH_ASSIGN_OR_RETURN(bool removed, store->delete_manifest(digest));
    if (removed) fmt::print(stderr, "Removed {} from {}\n", what, o.image.ref);
    if (what == digest.str()) removed_referrers.insert(digest);
  }
  // Registries without the referrers API list referrers in the sha256-<hex> index (the tag
  // schema): it must not keep naming what is gone.
  if (!removed_referrers.empty()) {
    const std::string tag = oci::digest_tag(root.digest);
    VOUCH_ASSIGN_OR_RETURN(auto listing, store->get_tagged(tag));
    if (listing && listing->is_index()) {
      bj::array kept;
      for (const auto& d : listing->manifests)
        if (!removed_referrers.contains(d.digest)) kept.push_back(d.to_json());
      if (kept.empty()) {
        VOUCH_RETURN_IF_ERROR(valid_or_error(store->delete_manifest(listing->digest)));
      } else if (kept.size() != listing->manifests.size()) {
        VOUCH_ASSIGN_OR_RETURN(oci::Manifest index, oci::parse_manifest(json::serialize(bj::object{
                                                        {"schemaVersion", 2},
                                                        {"mediaType", std::string(oci::media_type::kOciIndex)},
                                                        {"manifests", std::move(kept)}})));
        VOUCH_RETURN_IF_ERROR(store->put_manifest(index, tag, false));
        VOUCH_RETURN_IF_ERROR(store->commit());
      }
    }
  }
  if (doomed.empty()) fmt::print(stderr, "Nothing to remove from {}\n", o.image.ref);
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

  auto c = std::make_shared<CleanOptions>();
  auto* clean_cmd = app.add_subcommand(
      "clean",
      "Remove what cosign stores beside an image, as cosign clean does: the sha256-<hex>.sig, .att and .sbom\n"
      "manifests and the Sigstore bundle referrers (--type), deleted by digest. Asks for confirmation on a\n"
      "terminal unless -f/--force; without a terminal, -f is required. The registry must allow deletes.\n"
      "Exit 0, 2 on bad input or a refused delete.");
  clean_cmd->add_option("--type", c->type, "What to remove")
      ->check(CLI::IsMember({"signature", "attestation", "referrer", "sbom", "all"}))
      ->capture_default_str();
  clean_cmd->add_flag("-f,--force", c->force, "Do not ask for confirmation");
  c->image.timeout.add(clean_cmd);
  clean_cmd->add_flag("--allow-insecure-registry", c->image.allow_insecure,
                      "Allow plain HTTP and unverified TLS for registries other than localhost");
  clean_cmd->add_option("--username", c->image.username, "Registry user name (default: from ~/.docker/config.json)");
  clean_cmd->add_option("--password", c->image.password, "Registry password (default: from ~/.docker/config.json)");
  clean_cmd->add_option("IMAGE", c->image.ref, "registry/repo[:tag|@digest]")->required();
  on_run(clean_cmd, exit_code, [c] { return clean(*c); });

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

  auto sg = std::make_shared<AttachSignatureOptions>();
  auto* sig = attach->add_subcommand(
      "signature",
      "Store a signature made elsewhere at the image's sha256-<hex>.sig (classic layout), as cosign attach\n"
      "signature: the simple-signing payload, its base64 signature, and the signer's certificate and chain.\n"
      "The payload must name the image's digest. Nothing is verified here: `vouch verify` does that.\n"
      "Exit 0, 2 on bad input.");
  sig->add_option("--payload", sg->payload, "The signed simple-signing payload (cosign generate)")->required();
  sig->add_option("--signature", sg->signature, "The base64 signature of the payload")->required();
  sig->add_option("--certificate", sg->certificate, "The signer's certificate (PEM)");
  sig->add_option("--certificate-chain", sg->chain, "Its chain up to the root (PEM)");
  auto* rekor_bundle = sig->add_option(
      "--rekor-bundle", sg->rekor_bundle,
      "The transparency-log entry as the classic layout's dev.sigstore.cosign/bundle annotation (JSON)");
  sig->add_option("--rekor-response", sg->rekor_response,
                  "As cosign: a signed payload file ({\"base64Signature\", \"cert\", \"rekorBundle\"}) whose "
                  "rekorBundle is stored as the bundle annotation")
      ->excludes(rekor_bundle);
  sig->add_option("--tsr", sg->timestamp_response,
                  "A TSA's RFC 3161 timestamp response (DER) over the signature, stored as cosign stores it");
  sg->image.timeout.add(sig);
  sig->add_flag("--allow-insecure-registry", sg->image.allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  sig->add_option("--username", sg->image.username, "Registry user name (default: from ~/.docker/config.json)");
  sig->add_option("--password", sg->image.password, "Registry password (default: from ~/.docker/config.json)");
  sig->add_option("IMAGE", sg->image.ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(sig, exit_code, [sg] { return attach_signature_cmd(*sg); });

  auto at = std::make_shared<AttachAttestationOptions>();
  auto* att = attach->add_subcommand(
      "attestation",
      "Store DSSE envelopes made elsewhere (in-toto statements about the image, e.g. from `vouch attest-blob`\n"
      "or a build system) at the image's sha256-<hex>.att, as cosign attach attestation. Each statement must\n"
      "name the image's digest. Nothing is verified here. Exit 0, 2 on bad input.");
  att->add_option("--attestation", at->attestations, "A DSSE envelope file (repeatable)")->required();
  at->image.timeout.add(att);
  att->add_flag("--allow-insecure-registry", at->image.allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  att->add_option("--username", at->image.username, "Registry user name (default: from ~/.docker/config.json)");
  att->add_option("--password", at->image.password, "Registry password (default: from ~/.docker/config.json)");
  att->add_option("IMAGE", at->image.ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(att, exit_code, [at] { return attach_attestation_cmd(*at); });

  auto r = std::make_shared<AttachArtifactOptions>();
  auto* artifact = attach->add_subcommand(
      "artifact",
      "Store files as an OCI referrer of the image, as `oras attach` does: a manifest with --artifact-type, the\n"
      "empty config, one layer per --file (--media-type, annotated with its file name) and the image as its\n"
      "subject (registries without the referrers API get the sha256-<hex> index tag). Prints the referrer's\n"
      "digest; `vouch notation sign IMAGE@DIGEST` signs it, for verifyImages `type: Notary` attestations.\n"
      "Nothing is signed here. Exit 0, 2 on bad input.");
  artifact->add_option("--artifact-type", r->artifact_type, "The referrer's artifactType (e.g. application/vnd.cyclonedx+json)")
      ->required();
  artifact->add_option("--file", r->files, "A file to store as a layer (repeatable)")->required();
  artifact->add_option("--media-type", r->media_type, "The layers' media type")->capture_default_str();
  artifact->add_option("--annotation", r->annotations, "A manifest annotation key=value (repeatable)");
  r->image.timeout.add(artifact);
  artifact->add_flag("--allow-insecure-registry", r->image.allow_insecure,
                     "Allow plain HTTP and unverified TLS for registries other than localhost");
  artifact->add_option("--username", r->image.username, "Registry user name (default: from ~/.docker/config.json)");
  artifact->add_option("--password", r->image.password, "Registry password (default: from ~/.docker/config.json)");
  artifact->add_option("IMAGE", r->image.ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(artifact, exit_code, [r] { return attach_artifact(*r); });
}

}  // namespace vouch::cli
