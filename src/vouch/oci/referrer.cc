#include "vouch/oci/referrer.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/base/time.h"
#include "vouch/oci/blob.h"

namespace vouch::oci {
namespace {

namespace bj = boost::json;

Descriptor blob_of(std::string media_type, const std::string& data) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = Digest::sha256_of(as_bytes(data));
  d.size = static_cast<int64_t>(data.size());
  return d;
}

Status put_if_missing(Store& store, const Descriptor& d, const std::string& data) {
  VOUCH_ASSIGN_OR_RETURN(bool present, store.has_blob(d));
  if (present) return ok_status();
  auto reader = view_reader(data);
  return store.put_blob(d, *reader);
}

// A media type as OCI descriptors carry one: type/subtype, printable, no spaces.
bool is_media_type(std::string_view m) {
  size_t slash = m.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == m.size()) return false;
  for (char c : m)
    if (c <= ' ' || c > '~') return false;
  return true;
}

}  // namespace

Result<Manifest> push_referrer(Store& store, const Descriptor& subject, const ReferrerArtifact& artifact) {
  if (!is_media_type(artifact.artifact_type))
    return invalid_input(fmt::format("artifact type \"{}\" is not a media type (type/subtype)", artifact.artifact_type));
  if (artifact.files.empty()) return invalid_input("a referrer needs at least one file");
  const std::string empty = "{}";
  Descriptor config = blob_of(std::string(media_type::kOciEmpty), empty);
  VOUCH_RETURN_IF_ERROR(put_if_missing(store, config, empty));
  bj::array layers;
  for (const auto& f : artifact.files) {
    if (!is_media_type(f.media_type))
      return invalid_input(fmt::format("media type \"{}\" is not a media type (type/subtype)", f.media_type));
    Descriptor layer = blob_of(f.media_type, f.content);
    if (!f.title.empty()) layer.annotations["org.opencontainers.image.title"] = f.title;
    VOUCH_RETURN_IF_ERROR(put_if_missing(store, layer, f.content));
    layers.push_back(layer.to_json());
  }
  Descriptor subj;
  subj.media_type = subject.media_type;
  subj.digest = subject.digest;
  subj.size = subject.size;
  bj::object annotations;
  for (const auto& [k, v] : artifact.annotations) annotations[k] = v;
  if (!annotations.contains("org.opencontainers.image.created"))
    annotations["org.opencontainers.image.created"] = format_rfc3339(now_unix());
  bj::object m{{"schemaVersion", 2},
               {"mediaType", std::string(media_type::kOciManifest)},
               {"artifactType", artifact.artifact_type},
               {"config", config.to_json()},
               {"layers", std::move(layers)},
               {"subject", subj.to_json()},
               {"annotations", std::move(annotations)}};
  VOUCH_ASSIGN_OR_RETURN(Manifest manifest, parse_manifest(json::serialize(m)));
  VOUCH_RETURN_IF_ERROR(store.put_manifest(manifest, std::nullopt, false));
  return manifest;
}

}  // namespace vouch::oci
