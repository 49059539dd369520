// Kyverno policies (ClusterPolicy and Policy, kyverno.io/v1 and v2beta1) read into a typed
// model. Parsing is strict where Kyverno is strict and names the offending field:
//   "spec.rules[0].match.any[1].resources.kinds: expected a list"
// Rules written for Pods gain their Pod-controller variants (autogen) when parsed, named
// autogen-<rule> and autogen-cronjob-<rule>, as Kyverno computes them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"

namespace vouch::policy {

namespace bj = boost::json;

struct CelPolicy;              // vouch/policy/cel_policy.h
struct ImageValidatingPolicy;  // vouch/policy/image_policy.h

enum class FailureAction { kAudit, kEnforce };

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
};

struct ResourceDescription {
  std::vector<std::string> kinds;
  std::vector<std::string> names;  // `name` (deprecated) is folded in
  std::vector<std::string> namespaces;
  std::vector<std::string> operations;  // CREATE, UPDATE, DELETE, CONNECT
  std::map<std::string, std::string> annotations;
  std::optional<LabelSelector> selector;
  std::optional<LabelSelector> namespace_selector;
  bool empty() const;
};

struct Subject {
  std::string kind;  // User, Group, ServiceAccount
  std::string name;
  std::string ns;
};

struct ResourceFilter {
  ResourceDescription resources;
  std::vector<Subject> subjects;
  std::vector<std::string> roles;
  std::vector<std::string> cluster_roles;
};

struct MatchResources {
  std::vector<ResourceFilter> any;
  std::vector<ResourceFilter> all;  // the legacy form (resources/subjects at the top) is one entry here
  bool empty() const { return any.empty() && all.empty(); }
};

struct Condition {
  bj::value key;
  std::string op;
  bj::value value;
  std::string message;
};

// any/all, or the legacy list (held in `all`).
struct Conditions {
  std::optional<std::vector<Condition>> any;
  std::vector<Condition> all;
};

struct ContextEntry {
  std::string name;
  std::string kind;  // variable, configMap, apiCall, imageRegistry, globalReference
  bj::value raw;     // the entry as written (for kinds resolved from supplied values)
  // variable
  std::optional<bj::value> value;
  std::string jmes_path;
  std::optional<bj::value> default_value;
};

struct ForEachValidation {
  std::string list;
  std::vector<ContextEntry> context;
  std::optional<Conditions> preconditions;
  std::optional<bj::value> pattern;
  std::optional<bj::array> any_pattern;
  std::optional<Conditions> deny;
  std::vector<ForEachValidation> foreach;
  std::optional<bool> element_scope;
};

struct FailureActionOverride {
  FailureAction action = FailureAction::kAudit;
  std::vector<std::string> namespaces;
  std::optional<LabelSelector> namespace_selector;
};

struct Validation {
  std::string message;
  std::optional<FailureAction> failure_action;
  std::vector<FailureActionOverride> overrides;
  std::optional<bj::value> pattern;
  std::optional<bj::array> any_pattern;
  std::optional<Conditions> deny;
  std::vector<ForEachValidation> foreach;
  // validate.cel: one compiled check per expression, in order (each with the rule's
  // celPreconditions and validate.cel.variables), so the first failing expression's message
  // is the rule's, as Kyverno reports it.
  std::vector<std::shared_ptr<const CelPolicy>> cel;
  // Kyverno's default: an UPDATE that leaves an existing violation in place is not denied.
  bool allow_existing_violations = true;
  bool unsupported = false;  // podSecurity, manifests: not evaluated offline
  std::string unsupported_kind;
};

// verifyImages (api/kyverno/v1/image_verification_types.go).
struct Rekor {
  std::string url = "https://rekor.sigstore.dev";
  std::string pubkey;
  bool ignore_tlog = false;
};

struct CTLog {
  bool ignore_sct = false;
  std::string pubkey;
  std::string tsa_cert_chain;
};

struct KeyAttestor {
  std::string public_keys;
  std::string kms;
  std::string secret_name;
  std::string secret_namespace;
  std::string signature_algorithm = "sha256";
  std::optional<Rekor> rekor;
  std::optional<CTLog> ctlog;
};

struct KeylessAttestor {
  std::string issuer;
  std::string issuer_regexp;
  std::string subject;
  std::string subject_regexp;
  std::string roots;
  std::map<std::string, std::string> additional_extensions;
  std::optional<Rekor> rekor;
  std::optional<CTLog> ctlog;
};

struct CertificateAttestor {
  std::string cert;
  std::string cert_chain;
  std::optional<Rekor> rekor;
  std::optional<CTLog> ctlog;
};

struct Attestor {
  std::optional<KeyAttestor> keys;
  std::optional<KeylessAttestor> keyless;
  std::optional<CertificateAttestor> certificates;
  std::optional<bj::value> attestor;  // a nested attestor set, as written
  std::map<std::string, std::string> annotations;
  std::string repository;
};

struct AttestorSet {
  std::optional<int> count;  // nullopt: every entry must verify
  std::vector<Attestor> entries;
  // SHA-256 (hex) of the set as written: what a cache of verification outcomes keys on.
  std::string fingerprint;
};

struct Attestation {
  std::string name;
  std::string type;  // predicate type URI (predicateType, deprecated, is folded in)
  std::vector<AttestorSet> attestors;
  std::vector<Conditions> conditions;
};

struct ImageVerification {
  std::string type = "Cosign";  // Cosign, SigstoreBundle, Notary
  std::vector<std::string> image_references;
  std::vector<std::string> skip_image_references;
  std::vector<AttestorSet> attestors;
  std::vector<Attestation> attestations;
  std::string repository;
  std::optional<FailureAction> failure_action;
  bool mutate_digest = true;
  bool verify_digest = true;
  bool required = true;
  bool use_cache = true;
  bool cosign_oci11 = false;
  std::optional<Conditions> validate_deny;
  std::string validate_message;
  // SHA-256 (hex) of what the verifier is asked under this entry (type, repository, attestors,
  // registry settings; not the image selection, conditions or digest handling): with an
  // attestor set's fingerprint, it names one question asked of an image, so verification
  // outcomes can be cached per digest and question while conditions are judged every time.
  std::string fingerprint;
};

// rule.imageExtractors: where a verifyImages rule finds images in a kind that is not a Pod or
// a Pod controller (Kyverno's ImageExtractorConfig).
struct ImageExtractor {
  std::vector<std::string> fields;  // path segments to the object holding the image ("*": every element)
  std::string value;                // the field of that object holding the image
  std::string name = "custom";      // the group in Kyverno's images variable
  std::string key;                  // the field naming the image in its group ("" = its JSON pointer)
  std::string jmes_path;            // applied to the value before it is read as an image
};

// mutate (api/kyverno/v1 Mutation): one of patchStrategicMerge, patchesJson6902 or foreach.
struct ForEachMutation {
  std::string list;
  std::vector<ContextEntry> context;
  std::optional<Conditions> preconditions;
  std::optional<bool> descending;  // order: Descending/Ascending (unset: descending for patchStrategicMerge)
  std::optional<bj::value> patch_strategic_merge;
  std::string patches_json6902;     // a YAML or JSON list of RFC 6902 operations, as written
  std::vector<ForEachMutation> foreach;
};

struct Mutation {
  std::optional<bj::value> patch_strategic_merge;
  std::string patches_json6902;
  std::vector<ForEachMutation> foreach;
  // mutateExisting: the resources to mutate besides the one admitted, as written.
  std::optional<bj::array> targets;
};

struct Rule {
  std::string name;
  MatchResources match;
  MatchResources exclude;
  std::vector<ContextEntry> context;
  std::optional<Conditions> preconditions;
  std::optional<Validation> validate;
  std::optional<Mutation> mutate;
  std::vector<ImageVerification> verify_images;
  std::map<std::string, std::vector<ImageExtractor>> image_extractors;  // by kind
  std::map<std::string, std::string> report_properties;  // copied into each result's properties
  bool has_mutate = false;
  bool has_generate = false;
  bool autogen = false;       // generated for Pod controllers
  std::string origin;         // for autogen rules: the rule it was generated from
  bj::object raw;             // the rule as written (after autogen rewriting)
};

struct Policy {
  std::string api_version;
  std::string kind;  // ClusterPolicy or Policy
  std::string name;
  std::string ns;    // Policy only
  std::map<std::string, std::string> annotations;
  FailureAction failure_action = FailureAction::kAudit;
  std::vector<FailureActionOverride> overrides;
  bool background = true;
  bool admission = true;
  bool emit_warning = false;
  std::string apply_rules = "All";
  std::string failure_policy = "Fail";
  int webhook_timeout_seconds = 10;
  // webhookConfiguration.matchConditions: the API server sends a request to the webhook only
  // when these CEL conditions hold; evaluated here before any rule.
  std::shared_ptr<const CelPolicy> webhook_match;
  std::vector<Rule> rules;  // as written, followed by autogen rules
  bj::value raw;
  // Set for the CEL kinds (ValidatingPolicy, ValidatingAdmissionPolicy), which have no rules.
  std::shared_ptr<const CelPolicy> cel;
  // Set for ImageValidatingPolicy, which has no rules either.
  std::shared_ptr<const ImageValidatingPolicy> image_policy;
};

// Kyverno's PolicyException (kyverno.io/v2, v2beta1, v2alpha1): the rules of named policies
// skip the resources it matches (and whose conditions hold).
struct PolicyException {
  std::string name;
  std::string ns;
  MatchResources match;
  std::optional<Conditions> conditions;
  struct Entry {
    std::string policy;  // "name", or "namespace/name" for a Policy
    std::vector<std::string> rules;
  };
  std::vector<Entry> exceptions;
  bool background = true;

  // policies.kyverno.io PolicyException (v1alpha1, v1beta1, v1), the CEL-era kind: the
  // ValidatingPolicy / ImageValidatingPolicy it names by kind and name skips (or, with
  // reportResult pass, passes) the resources its CEL matchConditions hold for. `cel` tells
  // the kinds apart; the fields above stay empty for it.
  struct PolicyRef {
    std::string kind;
    std::string name;
  };
  struct CelConditions;  // compiled matchConditions (cel_exception.cc)
  bool cel = false;
  std::vector<PolicyRef> policy_refs;
  std::vector<std::pair<std::string, std::string>> match_conditions;  // name, expression
  std::shared_ptr<const CelConditions> compiled;
  std::string report_result = "skip";       // skip or pass (ValidatingPolicy only, as in Kyverno)
  std::optional<int64_t> expires_at;        // Unix seconds; an expired exception is not in force
  int priority = 0;                         // label polex.kyverno.io/priority: the highest decides reportResult
  std::map<std::string, std::string> properties;  // descriptive (reason, ticket, …)

  std::string key() const { return ns.empty() ? name : ns + "/" + name; }
};

// Whether a document is a PolicyException this module reads (kyverno.io or policies.kyverno.io).
bool is_policy_exception_kind(std::string_view api_version, std::string_view kind);
// Reads every PolicyException document of either kind in `text` (other kinds are ignored);
// the CEL kind's matchConditions are compiled here, so one that does not compile is refused.
Result<std::vector<PolicyException>> parse_policy_exceptions(std::string_view text, std::string_view source);

// Reads every ClusterPolicy/Policy document in `text` (YAML or JSON, many documents), and the
// CEL kinds (ValidatingPolicy, ImageValidatingPolicy, ValidatingAdmissionPolicy and its
// bindings). Documents of non-policy kinds are ignored; a policy kind vouch does not read
// (MutatingPolicy, …) and a policy document with a bad field are errors.
Result<std::vector<Policy>> parse_policies(std::string_view text, std::string_view source);
// One policy document already read as JSON.
Result<Policy> parse_policy(const bj::value& doc);

// The Pod controllers autogen generates rules for, as the annotation
// pod-policies.kyverno.io/autogen-controllers and the rules allow ("none": none).
std::vector<std::string> autogen_controllers(const Policy& policy);

std::string_view failure_action_name(FailureAction a);  // "Audit" or "Enforce"

}  // namespace vouch::policy
