// Kyverno's ImageValidatingPolicy (policies.kyverno.io v1alpha1, v1beta1, v1): CEL validations
// over the images of a resource, with Kyverno's image functions (verifyImageSignatures,
// verifyAttestationSignatures, extractPayload, getImageData, image(), parseImageReference(),
// isImage()) and its `images`, `attestors` and `attestations` variables. Reading is strict
// (an unknown field is an error naming its path) and compiles every expression, so a policy
// that does not compile is refused when it is read.
//
// The policy module signs and verifies nothing itself: the image functions reach the registry
// through an ImagePolicyVerifier, which the verifiers module implements (cosign, Notary) and the
// command line and the admission server wire in, as ClusterPolicy verifyImages does.
//
//   auto p = parse_image_policy(doc);                     // a Policy whose `image_policy` is set
//   Engine engine({.image_policy_verifier = verifier});
//   auto results = engine.apply(*p, request);              // one result per matching resource
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/cel_policy.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

// A value given inline or computed by a CEL expression (Kyverno's StringOrExpression).
struct IvpolStringSource {
  std::string value;
  std::string expression;
  bool empty() const { return value.empty() && expression.empty(); }
};

struct IvpolIdentity {
  std::string issuer;
  std::string subject;
  std::string issuer_regexp;
  std::string subject_regexp;
};

struct IvpolCosign {
  // key: a PEM public key (data, or an expression that yields one) and its hash algorithm.
  bool has_key = false;
  std::string key_data;
  std::string key_expression;
  std::string hash_algorithm;  // "", sha224, sha256, sha384, sha512
  // keyless: the certificate must match one of the identities and chain to the trusted root
  // (or to `roots`, PEM, when given).
  bool has_keyless = false;
  std::vector<IvpolIdentity> identities;
  std::string roots;
  // certificate: a signing certificate (and its chain) given in the policy.
  bool has_certificate = false;
  IvpolStringSource cert;
  IvpolStringSource cert_chain;
  // ctlog: where the transparency log is and what may be skipped.
  bool has_ctlog = false;
  std::string rekor_url;
  std::string rekor_pub_key;
  std::string ctlog_pub_key;
  std::string tsa_cert_chain;
  bool insecure_ignore_tlog = false;
  bool insecure_ignore_sct = false;
  // source: signatures kept in another repository, or under a tag prefix.
  std::string source_repository;
  std::string source_tag_prefix;
  std::map<std::string, std::string> annotations;
  IvpolStringSource trusted_root;  // a trusted_root.json given inline or by expression
};

struct IvpolNotary {
  IvpolStringSource certs;      // PEM: the trust anchors
  IvpolStringSource tsa_certs;  // PEM: timestamping authorities' roots
};

struct IvpolAttestor {
  std::string name;
  boost::json::value raw;  // as written: what `attestors.<name>` is in CEL
  std::optional<IvpolCosign> cosign;
  std::optional<IvpolNotary> notary;
};

struct IvpolAttestation {
  std::string name;
  std::string intoto_type;    // in-toto predicate type (signed with cosign)
  std::string referrer_type;  // OCI 1.1 referrer artifact type (signed with Notary)
};

struct IvpolMatchImageReference {
  std::string glob;
  std::string expression;  // CEL over `ref` (the image as written), yielding bool
};

struct ImageValidatingPolicy {
  std::string api_version;
  std::string name;
  CelMatchConstraints match;
  std::vector<CelNamedExpression> match_conditions;
  std::vector<CelNamedExpression> variables;
  std::vector<CelValidation> validations;
  std::vector<CelNamedExpression> audit_annotations;  // key, valueExpression
  std::vector<std::string> validation_actions;        // Deny, Audit, Warn
  std::string failure_policy = "Fail";
  std::vector<IvpolMatchImageReference> match_image_references;
  std::vector<CelNamedExpression> images;  // extra image extractors: name, expression
  std::vector<IvpolAttestor> attestors;
  std::vector<IvpolAttestation> attestations;
  bool allow_insecure_registry = false;  // credentials.allowInsecureRegistry
  bool mutate_digest = true;             // validationConfigurations
  bool verify_digest = true;
  bool required = true;
  // A policy written for Pods: its variants for the Pod controllers (Kyverno's autogen,
  // spec.autogen.podControllers), each judging what the policy itself does not match.
  std::vector<std::shared_ptr<const ImageValidatingPolicy>> autogen;

  struct Compiled;
  std::shared_ptr<const Compiled> compiled;  // set by parse_image_policy
};

// What one attestor concluded about one image.
struct AttestorOutcome {
  bool verified = false;
  std::string reason;  // why not
  // Attestations signed with cosign: the verified in-toto statements of the wanted type.
  std::vector<boost::json::value> statements;
  // Attestations signed with Notary: the referrer (its manifest digest) whose signature verified.
  std::string referrer_digest;
};

// What the image functions ask of registries. Implementations verify with real signatures and
// never pass what they cannot check; an Error means the question could not be asked (a bad
// attestor, an image that cannot be read), a non-verified outcome that it was answered no.
class ImagePolicyVerifier {
 public:
  virtual ~ImagePolicyVerifier() = default;
  // Kyverno's image data: image, resolvedImage, registry, repository, identifier, tag or
  // digest, imageIndex (for an index), manifest (the linux/amd64 one of an index) and config.
  virtual Result<boost::json::value> image_data(const std::string& image, bool allow_insecure) = 0;
  // The image's signatures against one attestor (cosign: key, keyless or certificate; Notary).
  virtual Result<AttestorOutcome> verify_signature(const std::string& image, const IvpolAttestor& attestor,
                                                   bool allow_insecure) = 0;
  // Attestations of the image against one attestor: in-toto statements of
  // attestation.intoto_type signed with cosign, or a referrer of attestation.referrer_type
  // whose Notary signature verifies.
  virtual Result<AttestorOutcome> verify_attestation(const std::string& image, const IvpolAttestation& attestation,
                                                     const IvpolAttestor& attestor, bool allow_insecure) = 0;
  // The JSON content of a referrer of the image: the one with `referrer_digest` when given,
  // else the first of `artifact_type`; its only layer is the payload.
  virtual Result<boost::json::value> referrer_payload(const std::string& image, const std::string& artifact_type,
                                                      const std::string& referrer_digest, bool allow_insecure) = 0;
  // The digest ("sha256:…") the image's tag names now.
  virtual Result<std::string> resolve_digest(const std::string& image, bool allow_insecure) = 0;
};

// What the image functions verified during one request, across all its ImageValidatingPolicies
// (Kyverno's ImageVerificationResults): an image is verified once any attestor of any policy
// verified it, and a failed check never clears an earlier success.
struct ImageVerificationLedger {
  std::map<std::string, bool> verified;  // image -> verified (absent: never checked)
  void record(const std::string& image, bool ok) {
    bool& v = verified[image];
    v = v || ok;
  }
};

// Whether the document is an ImageValidatingPolicy.
bool is_image_policy_kind(std::string_view api_version, std::string_view kind);

// Reads an ImageValidatingPolicy and compiles its expressions.
Result<Policy> parse_image_policy(const boost::json::value& doc);

// The result of the policy for one request: nothing when it does not match; otherwise pass,
// fail (the first failed validation's message, or a digest or `required` failure), or error.
// Without a verifier, a policy that selects images reports an error. When the request carries a
// ledger (image_verifications), verifications are recorded there and `required` is left to
// settle_required, once every policy of the request has run: a passing result then lists the
// images the policy selected in `images`.
// `cluster`: what the resource, http and globalContext libraries read (null: their calls are errors).
std::vector<RuleResult> evaluate_image_policy(const ImageValidatingPolicy& policy, const Request& request,
                                              ImagePolicyVerifier* verifier, const CelClusterData* cluster = nullptr);
// `required` against what every policy of the request verified: a passing result with an image
// that no attestor verified becomes a fail (Kyverno's enforceRequired).
void settle_required(const ImageValidatingPolicy& policy, RuleResult& result, const ImageVerificationLedger& ledger);

// mutateDigest (Kyverno's mutating webhook for these policies): JSON patches pinning each
// container image the policy selects and that has no digest to the digest its tag names now.
// No verification happens here. Nothing when the policy does not match or mutateDigest is off;
// an error result (with the patches that could be made) when a tag cannot be resolved.
struct DigestMutation {
  std::vector<boost::json::object> patches;
  std::optional<RuleResult> error;
};
DigestMutation mutate_image_digests(const ImageValidatingPolicy& policy, const Request& request,
                                    ImagePolicyVerifier* verifier);

// Kyverno's glob for matchImageReferences (gobwas/glob without separators): `*` any run of
// characters, `?` one, `[a-z]`/`[!a]` classes, `{a,b}` alternatives, `\` escapes.
bool image_glob_match(std::string_view pattern, std::string_view text);

}  // namespace vouch::policy
