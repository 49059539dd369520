#include "vouch/slsa/buildkit.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "vouch/oci/blob.h"
#include "vouch/oci/image.h"

namespace vouch::slsa {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxStatementBlob = 16 << 20;

Error failed(std::string_view check, std::string detail) {
  return verification_failed(fmt::format("{}: {}", check, detail));
}

const bj::object* object_at(const bj::value* v, std::string_view key) {
  if (!v || !v->is_object()) return nullptr;
  const bj::value* member = v->as_object().if_contains(key);
  return member && member->is_object() ? &member->as_object() : nullptr;
}

std::string string_at(const bj::object* o, std::string_view key) {
  if (!o) return {};
  const bj::value* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// BuildKit's metadata block: v0.2 predicate.metadata[…], v1 predicate.runDetails.metadata[…].
const bj::object* buildkit_metadata(const Provenance& p) {
  const bj::value* predicate = &p.predicate;
  const bj::object* metadata = nullptr;
  if (p.version == ProvenanceVersion::kV02) {
    metadata = object_at(predicate, "metadata");
  } else if (const bj::object* run = object_at(predicate, "runDetails")) {
    const bj::value* m = run->if_contains("metadata");
    metadata = m && m->is_object() ? &m->as_object() : nullptr;
  }
  if (!metadata) return nullptr;
  const bj::value* bk = metadata->if_contains(kBuildKitMetadata);
  return bk && bk->is_object() ? &bk->as_object() : nullptr;
}

const bj::object* vcs(const Provenance& p) {
  const bj::object* bk = buildkit_metadata(p);
  if (!bk) return nullptr;
  const bj::value* v = bk->if_contains("vcs");
  return v && v->is_object() ? &v->as_object() : nullptr;
}

// The config source: v0.2 invocation.configSource (parsed), v1 externalParameters.configSource.
ResourceDescriptor config_source(const Provenance& p) {
  if (p.version == ProvenanceVersion::kV02) return p.config_source;
  ResourceDescriptor out;
  const bj::object* cs = object_at(&p.external_parameters, "configSource");
  if (!cs) return out;
  out.uri = string_at(cs, "uri");
  if (const bj::value* d = cs->if_contains("digest"); d && d->is_object())
    for (const auto& [alg, value] : d->as_object())
      if (value.is_string()) out.digest[std::string(alg)] = std::string(value.as_string());
  return out;
}

std::string platform_string(const oci::Descriptor& d) { return d.platform ? d.platform->str() : "unknown"; }

}  // namespace

std::string buildkit_source(const Provenance& p) {
  if (std::string s = string_at(vcs(p), "source"); !s.empty()) return s;
  return config_source(p).uri;
}

std::string buildkit_commit(const Provenance& p) {
  if (std::string r = string_at(vcs(p), "revision"); !r.empty()) return r;
  const ResourceDescriptor cs = config_source(p);
  auto it = cs.digest.find("sha1");
  return it == cs.digest.end() ? std::string() : it->second;
}

std::string normalize_repository(std::string_view uri) {
  std::string_view s = uri;
  if (s.starts_with("git+")) s.remove_prefix(4);
  if (size_t scheme = s.find("://"); scheme != std::string_view::npos) s.remove_prefix(scheme + 3);
  if (size_t fragment = s.find('#'); fragment != std::string_view::npos) s = s.substr(0, fragment);
  if (size_t query = s.find('?'); query != std::string_view::npos) s = s.substr(0, query);
  // user@host (ssh and https with a user name).
  if (size_t at = s.find('@'); at != std::string_view::npos && at < s.find('/')) s.remove_prefix(at + 1);
  // git+https://host/org/repo@ref: a ref after the path.
  if (size_t at = s.rfind('@'); at != std::string_view::npos && s.find('/') < at) s = s.substr(0, at);
  std::string out(s);
  // scp-like "host:org/repo" (no port).
  if (size_t colon = out.find(':'); colon != std::string::npos && colon < out.find('/') &&
                                    (colon + 1 >= out.size() || !std::isdigit(static_cast<unsigned char>(out[colon + 1]))))
    out[colon] = '/';
  while (out.ends_with('/')) out.pop_back();
  if (out.ends_with(".git")) out.resize(out.size() - 4);
  size_t slash = std::min(out.find('/'), out.size());
  std::transform(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(slash), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<UnsignedProvenance> check_buildkit_statement(std::string_view statement, const oci::Digest& image,
                                                    const BuildKitCheckOptions& options) {
  auto parsed = parse_provenance(ByteView(reinterpret_cast<const uint8_t*>(statement.data()), statement.size()));
  if (!parsed.ok()) return failed("provenance", parsed.error().message);
  Provenance p = std::move(parsed).value();

  bool subject_found = false;
  for (const auto& s : p.subjects) {
    auto it = s.digest.find(image.algorithm());
    if (it != s.digest.end() && it->second == image.hex()) subject_found = true;
  }
  if (!subject_found)
    return failed("subject digest", fmt::format("no subject of the provenance names the image {}", image.str()));

  if (options.builder_id && p.builder_id != *options.builder_id)
    return failed("builder", fmt::format("the provenance's builder.id '{}' is not '{}'", p.builder_id, *options.builder_id));

  std::string source = buildkit_source(p);
  if (source.empty())
    return failed("source", "the provenance records no source repository (BuildKit records one when the build "
                            "context is a git repository or URL)");
  if (normalize_repository(source) != normalize_repository(options.source_uri))
    return failed("source", fmt::format("the provenance's source '{}' is not '{}'", source, options.source_uri));

  UnsignedProvenance out;
  out.image = image;
  out.builder_id = p.builder_id;
  out.source = std::move(source);
  out.commit = buildkit_commit(p);
  out.statement = std::string(statement);
  out.provenance = std::move(p);
  return out;
}

Result<std::vector<UnsignedProvenance>> verify_buildkit_provenance(const oci::ImageRef& index_ref,
                                                                   const BuildKitCheckOptions& options,
                                                                   const oci::StoreOptions& store_options) {
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(index_ref, store_options, false));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  if (!root.is_index())
    return invalid_input(fmt::format("{}: an image manifest; BuildKit keeps its provenance in the image index: name "
                                     "the index's digest",
                                     index_ref.str()));
  VOUCH_ASSIGN_OR_RETURN(auto attestations, oci::buildkit_attestations(*store, root));

  std::vector<UnsignedProvenance> out;
  for (const auto& entry : root.manifests) {
    if (oci::is_buildkit_attestation(entry)) continue;
    if (options.platform && !(entry.platform && oci::platform_matches(*options.platform, *entry.platform))) continue;
    const std::string what = fmt::format("{} image {}", platform_string(entry), entry.digest.str());
    auto att = std::find_if(attestations.begin(), attestations.end(),
                            [&](const oci::BuildKitAttestation& a) { return a.subject == entry.digest; });
    if (att == attestations.end())
      return failed("provenance", fmt::format("{}: no BuildKit attestation manifest in index {}", what, root.digest.str()));
    std::optional<Result<UnsignedProvenance>> checked;
    for (const auto& layer : att->statements) {
      auto type = layer.annotations.find(std::string(oci::kInTotoPredicateTypeAnnotation));
      if (type == layer.annotations.end() || !type->second.starts_with("https://slsa.dev/provenance/")) continue;
      VOUCH_ASSIGN_OR_RETURN(auto reader, store->open_blob(layer));
      VOUCH_ASSIGN_OR_RETURN(std::string text, oci::read_all(*reader, kMaxStatementBlob, "BuildKit provenance"));
      checked = check_buildkit_statement(text, entry.digest, options);
      if (checked->ok()) break;
    }
    if (!checked)
      return failed("provenance", fmt::format("{}: its attestation manifest {} holds no SLSA provenance", what,
                                              att->manifest.digest.str()));
    if (!checked->ok()) {
      // "check: detail" becomes "check: <platform> image <digest>: detail", the check still first.
      const std::string& message = checked->error().message;
      size_t colon = message.find(": ");
      if (colon == std::string::npos) return failed("provenance", fmt::format("{}: {}", what, message));
      return failed(message.substr(0, colon), fmt::format("{}: {}", what, message.substr(colon + 2)));
    }
    UnsignedProvenance v = std::move(*checked).value();
    v.platform = platform_string(entry);
    out.push_back(std::move(v));
  }
  if (out.empty())
    return failed("provenance", fmt::format("index {} holds no image{}", root.digest.str(),
                                            options.platform ? " for platform " + options.platform->str() : ""));
  return out;
}

}  // namespace vouch::slsa
