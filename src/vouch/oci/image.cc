#include "vouch/oci/image.h"

#include <set>

namespace vouch::oci {
namespace {

constexpr size_t kMaxConfigBytes = 16 << 20;
constexpr int kMaxDepth = 4;

struct Copier {
  Store& src;
  Store& dst;
  const CopyOptions& options;
  CopyReport report;
  std::set<std::string> done_blobs;
  std::set<std::string> done_manifests;

  Status blob(const Descriptor& d) {
    if (!done_blobs.insert(d.digest.str()).second) return ok_status();
    VOUCH_ASSIGN_OR_RETURN(bool present, dst.has_blob(d));
    if (present) {
      ++report.blobs_present;
      return ok_status();
    }
    if (!d.urls.empty() && d.media_type.find("nondistributable") != std::string::npos) return ok_status();
    VOUCH_ASSIGN_OR_RETURN(auto reader, src.open_blob(d));
    VOUCH_RETURN_IF_ERROR(dst.put_blob(d, *reader));
    ++report.blobs_copied;
    report.bytes_copied += d.size;
    return ok_status();
  }

  // Copies a manifest and everything it references, children first.
  Status manifest(const Manifest& m, const std::optional<std::string>& tag, bool root, int depth) {
    if (depth > kMaxDepth) return invalid_input("manifest nesting deeper than 4 levels");
    if (m.is_index()) {
      for (const auto& child : m.manifests) {
        VOUCH_ASSIGN_OR_RETURN(Manifest cm, src.get_manifest(child));
        VOUCH_RETURN_IF_ERROR(manifest(cm, std::nullopt, false, depth + 1));
      }
    } else {
      if (m.config) VOUCH_RETURN_IF_ERROR(blob(*m.config));
      for (const auto& l : m.layers) VOUCH_RETURN_IF_ERROR(blob(l));
    }
    VOUCH_RETURN_IF_ERROR(dst.put_manifest(m, tag, root));
    done_manifests.insert(m.digest.str());
    ++report.manifests;
    return ok_status();
  }

  Status attachments(const Digest& subject, int depth) {
    if (depth > 2) return ok_status();
    if (src.supports_tags() && dst.supports_tags()) {
      for (std::string_view suffix : {".sig", ".att", ".sbom"}) {
        std::string tag = digest_tag(subject, suffix);
        VOUCH_ASSIGN_OR_RETURN(auto m, src.get_tagged(tag));
        if (!m) continue;
        VOUCH_RETURN_IF_ERROR(manifest(*m, tag, false, 0));
        report.attachments.push_back(tag);
        VOUCH_RETURN_IF_ERROR(attachments(m->digest, depth + 1));
      }
    }
    VOUCH_ASSIGN_OR_RETURN(auto refs, src.referrers(subject));
    for (const auto& d : refs) {
      if (done_manifests.count(d.digest.str())) continue;
      VOUCH_ASSIGN_OR_RETURN(Manifest m, src.get_manifest(d));
      if (!m.subject || m.subject->digest != subject) continue;  // only true referrers
      VOUCH_RETURN_IF_ERROR(manifest(m, std::nullopt, false, 0));
      report.attachments.push_back(m.digest.str());
      VOUCH_RETURN_IF_ERROR(attachments(m.digest, depth + 1));
    }
    return ok_status();
  }
};

}  // namespace

Result<ResolvedImage> resolve_image(Store& store, const std::optional<Platform>& platform) {
  ResolvedImage r;
  VOUCH_ASSIGN_OR_RETURN(r.root, store.get_root());
  r.image = r.root;
  for (int depth = 0; r.image.is_index(); ++depth) {
    if (depth >= kMaxDepth) return invalid_input("index nesting deeper than 4 levels");
    VOUCH_ASSIGN_OR_RETURN(Descriptor d, select_platform(r.image, platform.value_or(host_platform())));
    r.platform_descriptor = d;
    VOUCH_ASSIGN_OR_RETURN(r.image, store.get_manifest(d));
  }
  if (!r.image.config) return invalid_input(fmt::format("{}: image manifest without a config", store.describe()));
  if (r.image.config->size > static_cast<int64_t>(kMaxConfigBytes))
    return invalid_input(fmt::format("{}: config of {} bytes exceeds the limit", store.describe(), r.image.config->size));
  if (r.image.config->data) {
    r.config = *r.image.config->data;
  } else {
    VOUCH_ASSIGN_OR_RETURN(auto reader, store.open_blob(*r.image.config));
    VOUCH_ASSIGN_OR_RETURN(r.config, read_all(*reader, kMaxConfigBytes, "config"));
  }
  return r;
}

Result<CopyReport> copy_image(Store& source, Store& destination, const CopyOptions& options) {
  Copier c{source, destination, options, {}, {}, {}};
  VOUCH_ASSIGN_OR_RETURN(Manifest root, source.get_root());
  if (options.platform && root.is_index()) {
    VOUCH_ASSIGN_OR_RETURN(Descriptor d, select_platform(root, *options.platform));
    VOUCH_ASSIGN_OR_RETURN(root, source.get_manifest(d));
  }
  c.report.root = root.digest;
  VOUCH_RETURN_IF_ERROR(c.manifest(root, std::nullopt, true, 0));
  if (options.attachments) {
    VOUCH_RETURN_IF_ERROR(c.attachments(root.digest, 0));
    if (root.is_index())
      for (const auto& child : root.manifests) VOUCH_RETURN_IF_ERROR(c.attachments(child.digest, 1));
  }
  VOUCH_RETURN_IF_ERROR(destination.commit());
  return c.report;
}

Result<std::vector<Attachment>> list_attachments(Store& store, const Digest& subject) {
  std::vector<Attachment> out;
  if (store.supports_tags()) {
    const std::pair<std::string_view, std::string_view> kinds[] = {
        {".att", "attestation"}, {".sig", "signature"}, {".sbom", "sbom"}};
    for (const auto& [suffix, kind] : kinds) {
      std::string tag = digest_tag(subject, suffix);
      VOUCH_ASSIGN_OR_RETURN(auto m, store.get_tagged(tag));
      if (!m) continue;
      out.push_back({std::string(kind), tag, m->descriptor(), m->layers});
    }
  }
  VOUCH_ASSIGN_OR_RETURN(auto refs, store.referrers(subject));
  for (const auto& d : refs) {
    VOUCH_ASSIGN_OR_RETURN(Manifest m, store.get_manifest(d));
    if (!m.subject || m.subject->digest != subject) continue;
    Attachment a{"referrer", {}, m.descriptor(), m.layers};
    a.manifest.artifact_type = m.effective_artifact_type();
    out.push_back(std::move(a));
  }
  return out;
}

bool is_buildkit_attestation(const Descriptor& entry) {
  auto it = entry.annotations.find(std::string(kBuildKitReferenceType));
  return it != entry.annotations.end() && it->second == kBuildKitAttestationManifest;
}

Result<std::vector<BuildKitAttestation>> buildkit_attestations(Store& store, const Manifest& index) {
  std::vector<BuildKitAttestation> out;
  if (!index.is_index()) return out;
  std::set<Digest> images;
  for (const auto& d : index.manifests)
    if (!is_buildkit_attestation(d)) images.insert(d.digest);
  for (const auto& d : index.manifests) {
    if (!is_buildkit_attestation(d)) continue;
    const std::string where = fmt::format("index {}: attestation manifest {}", index.digest.str(), d.digest.str());
    auto subject_it = d.annotations.find(std::string(kBuildKitReferenceDigest));
    if (subject_it == d.annotations.end())
      return invalid_input(fmt::format("{}: no {} annotation", where, kBuildKitReferenceDigest));
    auto subject = Digest::parse(subject_it->second);
    if (!subject.ok())
      return invalid_input(fmt::format("{}: {}: {}", where, kBuildKitReferenceDigest, subject.error().message));
    if (!images.contains(*subject))
      return invalid_input(fmt::format("{}: describes {}, which the index does not hold", where, subject->str()));
    VOUCH_ASSIGN_OR_RETURN(Manifest m, store.get_manifest(d));
    if (m.is_index()) return invalid_input(fmt::format("{}: is an index, not an image manifest", where));
    BuildKitAttestation a{d, *subject, {}};
    for (const auto& layer : m.layers)
      if (layer.media_type == kInTotoLayerMediaType) a.statements.push_back(layer);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace vouch::oci
