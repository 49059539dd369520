#include "vouch/cosign/sign.h"

#include <cctype>

#include <fmt/format.h>

#include "common.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/timestamp.h"
#include "vouch/intoto/dsse.h"
#include "vouch/intoto/predicate.h"
#include "vouch/intoto/statement.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/keyless.h"
#include "vouch/sigstore/sign.h"
#include "vouch/tlog/client.h"

namespace vouch::cosign {
namespace {

namespace bj = boost::json;
using detail::blob_descriptor;
using detail::put_bytes;

constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";
constexpr size_t kMaxLayersPerSignatureManifest = 1000;

// The config go-containerregistry writes for a signature image built by appending layers.
std::string signature_config(const std::vector<oci::Descriptor>& layers) {
  std::string history, diff_ids;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i) {
      history += ',';
      diff_ids += ',';
    }
    history += fmt::format("{{\"created\":\"{}\"}}", kZeroTime);
    diff_ids += go_json_string(layers[i].digest.str());
  }
  return fmt::format(
      "{{\"architecture\":\"\",\"created\":\"{}\",\"history\":[{}],\"os\":\"\",\"rootfs\":{{\"type\":\"layers\","
      "\"diff_ids\":[{}]}},\"config\":{{}}}}",
      kZeroTime, history, diff_ids);
}

// A signer with a certificate: the leaf and the rest of its chain, as cosign annotates them.
void add_certificate_annotations(oci::Descriptor& layer, const sigstore::SignerMaterial& signer) {
  if (!signer.has_certificate()) return;
  layer.annotations[std::string(annotation::kCertificate)] = signer.certificate_chain.front().pem();
  std::string chain;
  for (size_t i = 1; i < signer.certificate_chain.size(); ++i) chain += signer.certificate_chain[i].pem();
  if (!chain.empty()) layer.annotations[std::string(annotation::kChain)] = chain;
}

// Where signatures go, for messages: the signature repository when one is set.
std::string where_of(const oci::Reference& image, const SignOptions& options) {
  return location_name(options.repository ? *options.repository : image);
}

// Appends `layer` (with its blob `data`) to the manifest at `tag`, creating it when absent.
Result<std::string> append_layer(oci::Store& store, const std::string& where, const std::string& tag,
                                 const oci::Descriptor& layer, const std::string& data) {
  std::string location = fmt::format("{}:{}", where, tag);
  std::vector<oci::Descriptor> layers;
  VOUCH_ASSIGN_OR_RETURN(auto existing, store.get_tagged(tag));
  if (existing) {
    if (existing->is_index())
      return invalid_input(fmt::format("{}: is an index, not a signature manifest", location));
    layers = existing->layers;
  }
  bool duplicate = false;
  for (const auto& l : layers)
    if (l.digest == layer.digest && l.media_type == layer.media_type && l.annotations == layer.annotations) duplicate = true;
  if (duplicate) return location;
  if (layers.size() >= kMaxLayersPerSignatureManifest)
    return invalid_input(fmt::format("{}: already holds {} signatures", location, layers.size()));
  layers.push_back(layer);
  VOUCH_RETURN_IF_ERROR(put_bytes(store, layer, data));
  std::string config = signature_config(layers);
  oci::Descriptor config_d = blob_descriptor(oci::media_type::kOciConfig, config);
  VOUCH_RETURN_IF_ERROR(put_bytes(store, config_d, config));
  bj::array layer_json;
  for (const auto& l : layers) layer_json.push_back(l.to_json());
  bj::object m{{"schemaVersion", 2},
               {"mediaType", std::string(oci::media_type::kOciManifest)},
               {"config", config_d.to_json()},
               {"layers", std::move(layer_json)}};
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::parse_manifest(json::serialize(m)));
  VOUCH_RETURN_IF_ERROR(store.put_manifest(manifest, tag, false));
  return location;
}

// Pushes a Sigstore bundle as an OCI 1.1 referrer of `subject`, as cosign 3 lays it out.
Result<std::string> push_bundle_referrer(oci::Store& store, const std::string& where, const oci::Descriptor& subject,
                                         const std::string& bundle_json, std::string_view predicate_type,
                                         const SignOptions& options) {
  std::string empty = "{}";
  oci::Descriptor config_d = blob_descriptor(oci::media_type::kOciEmpty, empty);
  VOUCH_RETURN_IF_ERROR(put_bytes(store, config_d, empty));
  oci::Descriptor layer = blob_descriptor(media_type::kBundleV03, bundle_json);
  VOUCH_RETURN_IF_ERROR(put_bytes(store, layer, bundle_json));
  oci::Descriptor subj;
  subj.media_type = subject.media_type;
  subj.digest = subject.digest;
  subj.size = subject.size;
  bj::object annotations{{std::string(annotation::kBundleContent), "dsse-envelope"},
                         {std::string(annotation::kBundlePredicateType), std::string(predicate_type)},
                         {std::string(annotation::kCreated), format_rfc3339(options.now.value_or(now_unix()))}};
  bj::object m{{"schemaVersion", 2},
               {"mediaType", std::string(oci::media_type::kOciManifest)},
               {"artifactType", std::string(media_type::kBundleV03)},
               {"config", config_d.to_json()},
               {"layers", bj::array{layer.to_json()}},
               {"subject", subj.to_json()},
               {"annotations", std::move(annotations)}};
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::parse_manifest(json::serialize(m)));
  VOUCH_RETURN_IF_ERROR(store.put_manifest(manifest, std::nullopt, false));
  return fmt::format("{}@{}", where, manifest.digest.str());
}

// A client for the log of --rekor-url, bounded by the command's deadline.
tlog::RekorClient log_client(const SignOptions& options) {
  return tlog::RekorClient(options.rekor_url, tlog::default_rekor_client_options(options.log_deadline));
}

// A signed timestamp over `signature` from the timestamp authority of --timestamp-server-url.
Result<std::optional<Bytes>> timestamp(const SignOptions& options, ByteView signature) {
  if (options.timestamp_url.empty()) return std::optional<Bytes>();
  auto stamp = sigstore::request_timestamp(options.timestamp_url, signature, options.log_deadline);
  if (!stamp.ok()) return std::move(stamp).error().context("timestamp authority");
  return std::optional<Bytes>(std::move(*stamp));
}

// The classic layer's timestamp annotation, as cosign writes it: {"SignedRFC3161Timestamp": base64}.
std::string timestamp_annotation(const Bytes& stamp) {
  return json::serialize(bj::object{{"SignedRFC3161Timestamp", base64_encode(stamp)}});
}

// Logs a DSSE envelope in a Rekor v1 log: as a dsse 0.0.1 entry (bundle layout), or as the
// intoto 0.0.2 entry cosign's classic `attest` writes (its base64 strings base64-encoded once
// more, and the hash of the envelope).
Result<tlog::RekorLogEntry> upload_dsse(const SignOptions& options, const intoto::Envelope& env,
                                       const sigstore::SignerMaterial& signer) {
  std::string proposal;
  if (options.layout == Layout::kBundle) {
    proposal = sigstore::dsse_proposal(env, signer);
  } else {
    const std::string pem_b64 = base64_encode(as_bytes(signer.pem()));
    const std::string envelope = intoto::serialize_envelope(env);
    bj::array sigs;
    for (const auto& s : env.signatures)
      sigs.push_back(bj::object{{"keyid", s.keyid},
                                {"sig", base64_encode(as_bytes(base64_encode(s.sig)))},
                                {"publicKey", pem_b64}});
    bj::object proposed{
        {"apiVersion", "0.0.2"},
        {"kind", "intoto"},
        {"spec", bj::object{{"content",
                             bj::object{{"envelope", bj::object{{"payload", base64_encode(as_bytes(base64_encode(env.payload)))},
                                                                {"payloadType", env.payload_type},
                                                                {"signatures", std::move(sigs)}}},
                                        {"hash", bj::object{{"algorithm", "sha256"},
                                                            {"value", hex_encode(crypto::sha256(as_bytes(envelope)))}}}}}}}};
    proposal = json::serialize(proposed);
  }
  auto logged = log_client(options).create_entry(proposal);
  if (!logged.ok()) return std::move(logged).error().context("transparency log upload");
  return logged;
}

// Signs `payload` (an in-toto statement) into a DSSE envelope and, for the bundle layout,
// stores it as a bundle referrer; for the classic layout, as a layer of `sha256-<hex>.att`.
Result<SignedManifest> store_dsse(oci::Store& store, const oci::Reference& image, const oci::Descriptor& subject,
                                  const sigstore::Signer& signer, const std::string& statement,
                                  const std::string& predicate_type, bool is_signature, const SignOptions& options) {
  SignedManifest out;
  out.subject = subject.digest;
  out.layout = options.layout;
  VOUCH_ASSIGN_OR_RETURN(intoto::Envelope env, sigstore::sign_dsse(signer, intoto::kInTotoPayloadType, as_bytes(statement)));
  VOUCH_ASSIGN_OR_RETURN(std::optional<Bytes> stamp, timestamp(options, env.signatures.front().sig));
  std::optional<tlog::RekorLogEntry> logged;
  if (!options.rekor_url.empty()) {
    VOUCH_ASSIGN_OR_RETURN(logged, upload_dsse(options, env, signer.material()));
    out.log_index = logged->log_index;
  }
  if (options.layout == Layout::kBundle) {
    sigstore::Bundle bundle;
    bundle.media_type = std::string(sigstore::kBundleMediaTypeV03);
    bundle.version = sigstore::BundleVersion::kV03;
    bundle.material = sigstore::bundle_material(signer.material());
    if (logged) {
      VOUCH_ASSIGN_OR_RETURN(sigstore::TlogEntry entry, sigstore::tlog_entry_from_rekor(*logged));
      bundle.material.tlog_entries.push_back(std::move(entry));
    }
    if (stamp) bundle.material.rfc3161_timestamps.push_back(*stamp);
    bundle.content = env;
    VOUCH_ASSIGN_OR_RETURN(out.stored_at, push_bundle_referrer(store, where_of(image, options), subject, sigstore::serialize_bundle(bundle),
                                                               predicate_type, options));
    return out;
  }
  if (is_signature) return internal_error("classic signatures are simple-signing payloads, not DSSE");
  std::string data = intoto::serialize_envelope(env);
  oci::Descriptor layer = blob_descriptor(media_type::kDsseEnvelope, data);
  layer.annotations[std::string(annotation::kPredicateType)] = predicate_type;
  layer.annotations[std::string(annotation::kSignature)] = "";
  add_certificate_annotations(layer, signer.material());
  if (logged) layer.annotations[std::string(annotation::kBundle)] = legacy_rekor_bundle(*logged);
  if (stamp) layer.annotations[std::string(annotation::kRfc3161Timestamp)] = timestamp_annotation(*stamp);
  VOUCH_ASSIGN_OR_RETURN(out.stored_at, append_layer(store, where_of(image, options), oci::digest_tag(subject.digest, kAttestationTagSuffix),
                                                     layer, data));
  return out;
}

struct Target {
  std::unique_ptr<oci::Store> image_store;
  std::unique_ptr<oci::Store> signature_store;  // the image's own store unless options.repository
  oci::Store* store = nullptr;
  oci::Reference image;
  std::vector<oci::Descriptor> manifests;
};

Result<Target> open_target(const oci::ImageRef& ref, const SignOptions& options, std::string* warning) {
  Target t;
  VOUCH_ASSIGN_OR_RETURN(t.image_store, oci::open_store(ref, options.store, !options.repository));
  t.store = t.image_store.get();
  if (options.repository) {
    oci::ImageRef sig_ref;
    sig_ref.transport = oci::Transport::kRegistry;
    sig_ref.reference = *options.repository;
    VOUCH_ASSIGN_OR_RETURN(t.signature_store, oci::open_store(sig_ref, options.store, true));
  }
  if (!t.store->supports_tags())
    return invalid_input(fmt::format("{}: signatures can be stored only in a registry or an OCI layout", ref.str()));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, t.store->get_root());
  if (t.signature_store) t.store = t.signature_store.get();
  bool by_digest = ref.transport == oci::Transport::kRegistry ? ref.reference.digest.has_value() : ref.digest.has_value();
  if (!by_digest && warning)
    *warning = fmt::format(
        "{} names the image by tag: signing the digest it resolves to now, {}; give IMAGE@{} to be sure "
        "of what you sign",
        ref.str(), root.digest.str(), root.digest.str());
  t.image = ref.reference;
  if (ref.transport != oci::Transport::kRegistry) t.image = oci::Reference{"", ref.path, ref.tag, ref.digest};
  t.image.digest = root.digest;
  t.manifests.push_back(root.descriptor());
  if (options.recursive && root.is_index())
    for (const auto& d : root.manifests) t.manifests.push_back(d);
  return t;
}

}  // namespace

Result<SignedManifest> sign_manifest(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                     const sigstore::Signer& signer, const SignOptions& options) {
  if (options.layout == Layout::kBundle)
    return store_dsse(store, image, manifest, signer, sign_statement(manifest.digest, options.annotations),
                      std::string(intoto::kCosignSignPredicate), true, options);
  SignedManifest out;
  out.subject = manifest.digest;
  out.layout = Layout::kClassic;
  std::string payload = simple_signing_payload(cosign_repository_name(image), manifest.digest, options.annotations);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, signer.sign(as_bytes(payload)));
  oci::Descriptor layer = blob_descriptor(media_type::kSimpleSigning, payload);
  layer.annotations[std::string(annotation::kSignature)] = base64_encode(sig);
  add_certificate_annotations(layer, signer.material());
  VOUCH_ASSIGN_OR_RETURN(std::optional<Bytes> stamp, timestamp(options, sig));
  if (stamp) layer.annotations[std::string(annotation::kRfc3161Timestamp)] = timestamp_annotation(*stamp);
  if (!options.rekor_url.empty()) {
    sigstore::Bundle b;
    sigstore::MessageSignature ms;
    ms.digest_algorithm = signer.hash_algorithm();
    ms.digest = crypto::digest(signer.hash_algorithm(), as_bytes(payload));
    ms.signature = sig;
    b.content = std::move(ms);
    VOUCH_ASSIGN_OR_RETURN(std::string proposal, sigstore::hashedrekord_proposal(b, signer.material()));
    auto logged = log_client(options).create_entry(proposal);
    if (!logged.ok()) return std::move(logged).error().context("transparency log upload");
    layer.annotations[std::string(annotation::kBundle)] = legacy_rekor_bundle(*logged);
    out.log_index = logged->log_index;
  }
  VOUCH_ASSIGN_OR_RETURN(out.stored_at, append_layer(store, where_of(image, options), oci::digest_tag(manifest.digest, kSignatureTagSuffix),
                                                     layer, payload));
  return out;
}

Result<SignedManifest> attest_manifest(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                       const sigstore::Signer& signer, const std::string& predicate_type,
                                       const bj::value& predicate, const SignOptions& options) {
  intoto::Statement st;
  intoto::Subject subject;
  subject.name = cosign_repository_name(image);
  subject.digest[manifest.digest.algorithm()] = manifest.digest.hex();
  st.subjects.push_back(std::move(subject));
  st.predicate_type = predicate_type;
  st.predicate = predicate;
  return store_dsse(store, image, manifest, signer, intoto::serialize_statement(st), predicate_type, false, options);
}

Result<std::vector<SignedManifest>> sign_image(const oci::ImageRef& ref, const sigstore::Signer& signer,
                                               const SignOptions& options, std::string* warning) {
  VOUCH_ASSIGN_OR_RETURN(Target t, open_target(ref, options, warning));
  std::vector<SignedManifest> out;
  for (const auto& d : t.manifests) {
    auto signed_one = sign_manifest(*t.store, t.image, d, signer, options);
    if (!signed_one.ok()) return std::move(signed_one).error().context(d.digest.str());
    out.push_back(std::move(signed_one).value());
    if (options.on_signed) options.on_signed(out.back(), out.size(), t.manifests.size());
  }
  VOUCH_RETURN_IF_ERROR(t.store->commit());
  return out;
}

Result<std::vector<SignedManifest>> attest_image(const oci::ImageRef& ref, const sigstore::Signer& signer,
                                                 const std::string& predicate_type, const bj::value& predicate,
                                                 const SignOptions& options, std::string* warning) {
  VOUCH_ASSIGN_OR_RETURN(Target t, open_target(ref, options, warning));
  std::vector<SignedManifest> out;
  for (const auto& d : t.manifests) {
    auto one = attest_manifest(*t.store, t.image, d, signer, predicate_type, predicate, options);
    if (!one.ok()) return std::move(one).error().context(d.digest.str());
    out.push_back(std::move(one).value());
    if (options.on_signed) options.on_signed(out.back(), out.size(), t.manifests.size());
  }
  VOUCH_RETURN_IF_ERROR(t.store->commit());
  return out;
}

Result<std::string> attach_signature(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                     const DetachedSignature& s) {
  VOUCH_ASSIGN_OR_RETURN(SimpleSigning payload, parse_simple_signing(as_bytes(s.payload)));
  if (payload.manifest_digest != manifest.digest)
    return invalid_input(fmt::format("payload: signs {}, not {}", payload.manifest_digest.str(), manifest.digest.str()));
  std::string sig = s.signature_base64;
  while (!sig.empty() && std::isspace(static_cast<unsigned char>(sig.back()))) sig.pop_back();
  auto raw = base64_decode(sig);
  if (!raw.ok() || raw->empty()) return invalid_input("signature: expected the base64 signature (cosign sign --output-signature)");
  oci::Descriptor layer = blob_descriptor(media_type::kSimpleSigning, s.payload);
  layer.annotations[std::string(annotation::kSignature)] = sig;
  if (!s.certificate_pem.empty()) {
    auto certs = crypto::Certificate::all_from_pem(s.certificate_pem);
    if (!certs.ok() || certs->size() != 1) return invalid_input("certificate: expected one PEM certificate");
    layer.annotations[std::string(annotation::kCertificate)] = certs->front().pem();
  }
  if (!s.chain_pem.empty()) {
    if (s.certificate_pem.empty()) return invalid_input("certificate chain: given without the certificate");
    auto chain = crypto::Certificate::all_from_pem(s.chain_pem);
    if (!chain.ok() || chain->empty()) return invalid_input("certificate chain: expected PEM certificates");
    std::string pem;
    for (const auto& c : *chain) pem += c.pem();
    layer.annotations[std::string(annotation::kChain)] = pem;
  }
  if (!s.rekor_bundle_json.empty()) {
    auto entry = parse_legacy_rekor_bundle(s.rekor_bundle_json);
    if (!entry.ok()) return std::move(entry).error().context("rekor bundle");
    layer.annotations[std::string(annotation::kBundle)] = legacy_rekor_bundle(*entry);
  }
  if (!s.rfc3161_timestamp_der.empty()) {
    // Stored as cosign stores it; a response over other bytes than this signature is refused
    // here, since no verification could ever accept it.
    auto info = crypto::parse_timestamp(as_bytes(s.rfc3161_timestamp_der));
    if (!info.ok()) return std::move(info).error().context("timestamp response");
    if (crypto::digest(info->hash, *raw) != info->imprint)
      return invalid_input("timestamp response: it timestamps other data than this signature");
    const Bytes der(s.rfc3161_timestamp_der.begin(), s.rfc3161_timestamp_der.end());
    layer.annotations[std::string(annotation::kRfc3161Timestamp)] = timestamp_annotation(der);
  }
  return append_layer(store, location_name(image), oci::digest_tag(manifest.digest, kSignatureTagSuffix), layer, s.payload);
}

Result<std::string> attach_attestation(oci::Store& store, const oci::Reference& image, const oci::Descriptor& manifest,
                                       std::string_view envelope_json) {
  VOUCH_ASSIGN_OR_RETURN(intoto::Envelope env, intoto::parse_envelope(envelope_json));
  if (env.signatures.empty()) return invalid_input("attestation: the envelope carries no signature");
  if (env.payload_type != intoto::kInTotoPayloadType)
    return invalid_input(fmt::format("attestation: payloadType {} is not an in-toto statement", env.payload_type));
  VOUCH_ASSIGN_OR_RETURN(intoto::Statement st, intoto::parse_statement(env.payload));
  if (!st.has_subject_digest(manifest.digest.algorithm(), manifest.digest.hex()))
    return invalid_input(fmt::format("attestation: its statement is not about {}", manifest.digest.str()));
  std::string data = intoto::serialize_envelope(env);
  oci::Descriptor layer = blob_descriptor(media_type::kDsseEnvelope, data);
  layer.annotations[std::string(annotation::kPredicateType)] = st.predicate_type;
  layer.annotations[std::string(annotation::kSignature)] = "";
  return append_layer(store, location_name(image), oci::digest_tag(manifest.digest, kAttestationTagSuffix), layer, data);
}

}  // namespace vouch::cosign
