#include "vouch/slsa/verify.h"

#include <cctype>
#include <vector>

#include <fmt/format.h>

#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/cosign/signature_layer.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/fulcio.h"
#include "vouch/intoto/predicate.h"
#include "vouch/intoto/statement.h"
#include "vouch/oci/blob.h"
#include "vouch/sigstore/bundle.h"
#include "vouch/sigstore/identity.h"
#include "vouch/sigstore/verifier.h"

namespace vouch::slsa {
namespace {

namespace bj = boost::json;

constexpr std::string_view kGithubHttps = "https://github.com/";
constexpr std::string_view kGenericDelegator =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml";
constexpr std::string_view kLowPermsDelegator =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml";

// Build types, by the builders that write them.
constexpr std::string_view kGenericBuildType = "https://github.com/slsa-framework/slsa-github-generator/generic@v1";
constexpr std::string_view kContainerBuildType = "https://github.com/slsa-framework/slsa-github-generator/container@v1";
constexpr std::string_view kGoBuildType = "https://github.com/slsa-framework/slsa-github-generator/go@v1";
constexpr std::string_view kLegacyGoBuildType = "https://github.com/slsa-framework/slsa-github-generator-go@v1";
constexpr std::string_view kLegacyBuildType = "https://github.com/slsa-framework/slsa-github-generator@v1";
constexpr std::string_view kContainerBasedBuildType = "https://slsa.dev/container-based-build/v0.1?draft";
// GitHub Actions workflow build types: what `vouch provenance generate` writes, and GitHub's.
constexpr std::string_view kWorkflowBuildType = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
constexpr std::string_view kActionsWorkflowBuildType = "https://actions.github.io/buildtypes/workflow/v1";

Error failed(std::string_view check, std::string detail) {
  return verification_failed(fmt::format("{}: {}", check, detail));
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
std::string_view trim_prefix(std::string_view s, std::string_view prefix) {
  return starts_with(s, prefix) ? s.substr(prefix.size()) : s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// ---- semantic versions, as golang.org/x/mod/semver reads them ----

struct Semver {
  std::string major, minor, patch, prerelease, build;
  bool short_form = false;  // "v1" or "v1.2"
};

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return s.size() == 1 || s[0] != '0';
}

bool identifiers_ok(std::string_view s, bool prerelease) {
  if (s.empty()) return false;
  for (std::string_view id : split(s, '.')) {
    if (id.empty()) return false;
    bool numeric = true;
    for (char c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
      if (!std::isdigit(static_cast<unsigned char>(c))) numeric = false;
    }
    if (prerelease && numeric && id.size() > 1 && id[0] == '0') return false;
  }
  return true;
}

std::optional<Semver> parse_semver(std::string_view v) {
  if (v.size() < 2 || v[0] != 'v') return std::nullopt;
  v.remove_prefix(1);
  Semver out;
  std::string_view core = v;
  size_t plus = v.find('+');
  if (plus != std::string_view::npos) {
    if (!identifiers_ok(v.substr(plus + 1), false)) return std::nullopt;
    out.build = std::string(v.substr(plus));
    core = v.substr(0, plus);
  }
  size_t dash = core.find('-');
  if (dash != std::string_view::npos) {
    if (!identifiers_ok(core.substr(dash + 1), true)) return std::nullopt;
    out.prerelease = std::string(core.substr(dash));
    core = core.substr(0, dash);
  }
  auto parts = split(core, '.');
  if (parts.size() > 3) return std::nullopt;
  for (auto p : parts)
    if (!is_number(p)) return std::nullopt;
  out.major = std::string(parts[0]);
  out.minor = parts.size() > 1 ? std::string(parts[1]) : "0";
  out.patch = parts.size() > 2 ? std::string(parts[2]) : "0";
  out.short_form = parts.size() < 3;
  if (out.short_form && (!out.prerelease.empty() || !out.build.empty())) return std::nullopt;
  return out;
}

std::string canonical(const Semver& s) { return fmt::format("v{}.{}.{}{}", s.major, s.minor, s.patch, s.prerelease); }

// ---- git URIs and refs ----

std::string normalize_git_uri(std::string_view s) {
  if (starts_with(s, "git+")) return std::string(s);
  if (s.find("://") == std::string_view::npos) return "git+https://" + std::string(s);
  return "git+" + std::string(s);
}

struct GitUri {
  std::string uri, ref;
};

Result<GitUri> parse_git_uri(std::string_view check, std::string_view uri) {
  if (uri.empty()) return failed(check, "URI is malformed: empty uri");
  if (!starts_with(uri, "git+")) return failed(check, fmt::format("URI is malformed: not a git URI: '{}'", uri));
  size_t at = uri.find('@');
  if (at == std::string_view::npos) return GitUri{std::string(uri), ""};
  return GitUri{std::string(uri.substr(0, at)), std::string(uri.substr(at + 1))};
}

// "refs/<kind>/<name>" -> name, when the kind is `kind`.
Result<std::string> ref_name(std::string_view check, std::string_view kind, std::string_view ref) {
  auto parts = split(ref, '/');
  std::string_view typ, name = ref;
  if (parts.size() >= 3 && parts[0] == "refs") {
    typ = parts[1];
    name = ref.substr(parts[0].size() + parts[1].size() + 2);
  } else {
    typ = "";
  }
  if (typ != kind) return failed(check, fmt::format("invalid ref: '{}': unexpected ref type '{}'", ref, typ));
  if (name.empty()) return failed(check, fmt::format("invalid ref: '{}': empty ref name", ref));
  return std::string(name);
}

Status valid_builder_tag(std::string_view ref) {
  VOUCH_ASSIGN_OR_RETURN(std::string pin, ref_name("builder ref", "tags", ref));
  auto v = parse_semver(pin);
  if (!v || v->short_form || !v->prerelease.empty() || !v->build.empty())
    return failed("builder ref", fmt::format("invalid ref: '{}': not of the form vX.Y.Z", pin));
  return ok_status();
}

// ---- what the provenance says, by version and build type ----

const bj::object* as_object(const bj::value& v) { return v.is_object() ? &v.get_object() : nullptr; }

// The GitHub context the builder recorded: v0.2 invocation.environment (lower-case names), v1
// internalParameters (upper-case names).
class GithubEnvironment {
 public:
  GithubEnvironment(const Provenance& p) : env_(as_object(p.internal_parameters)), upper_(p.version == ProvenanceVersion::kV1) {}

  Result<std::string> string(std::string_view check, std::string_view lower_key) const {
    const std::string key = this->key(lower_key);
    if (!env_) return failed(check, "invalid DSSE envelope payload: the provenance records no GitHub environment");
    auto it = env_->find(key);
    if (it == env_->end()) return failed(check, fmt::format("invalid DSSE envelope payload: the environment has no {}", key));
    if (!it->value().is_string())
      return failed(check, fmt::format("invalid DSSE envelope payload: the environment's {} is not a string", key));
    return std::string(it->value().get_string());
  }
  Result<const bj::object*> event_payload(std::string_view check) const {
    const std::string key = this->key("github_event_payload");
    auto it = env_ ? env_->find(key) : nullptr;
    if (!it || !it->value().is_object())
      return failed(check, fmt::format("invalid DSSE envelope payload: the environment has no {} object", key));
    return &it->value().get_object();
  }

  Result<std::string> tag(std::string_view check) const {
    VOUCH_ASSIGN_OR_RETURN(std::string type, string(check, "github_ref_type"));
    if (type == "branch") return std::string();
    if (type == "tag") return string(check, "github_ref");
    return failed(check, fmt::format("invalid DSSE envelope payload: unknown ref type '{}'", type));
  }

  Result<std::string> branch(std::string_view check) const {
    VOUCH_ASSIGN_OR_RETURN(std::string type, string(check, "github_ref_type"));
    if (type == "branch") return string(check, "github_ref");
    if (type != "tag") return failed(check, fmt::format("invalid DSSE envelope payload: unknown ref type '{}'", type));
    // A tag build: the branch the tag was made on, where the event says.
    VOUCH_ASSIGN_OR_RETURN(std::string base_ref, string(check, "github_base_ref"));
    if (!base_ref.empty()) return base_ref;
    VOUCH_ASSIGN_OR_RETURN(std::string event, string(check, "github_event_name"));
    if (event != "push" && event != "release") return std::string();
    VOUCH_ASSIGN_OR_RETURN(const bj::object* payload, event_payload(check));
    if (event == "push") {
      auto it = payload->find("base_ref");
      return it != payload->end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
    }
    auto release = payload->find("release");
    if (release == payload->end() || !release->value().is_object())
      return failed(check, "invalid DSSE envelope payload: release absent from the event payload");
    auto target = release->value().get_object().find("target_commitish");
    if (target == release->value().get_object().end() || !target->value().is_string())
      return failed(check, "invalid DSSE envelope payload: release.target_commitish absent from the event payload");
    return "refs/heads/" + std::string(target->value().get_string());
  }

  Result<const bj::object*> inputs(std::string_view check) const {
    VOUCH_ASSIGN_OR_RETURN(std::string event, string(check, "github_event_name"));
    if (event != "workflow_dispatch")
      return failed(check, fmt::format("workflow input does not match: expected 'workflow_dispatch' trigger, got {}", event));
    VOUCH_ASSIGN_OR_RETURN(const bj::object* payload, event_payload(check));
    auto it = payload->find("inputs");
    if (it == payload->end() || !it->value().is_object())
      return failed(check, "invalid DSSE envelope payload: the event payload has no inputs");
    return &it->value().get_object();
  }

 private:
  std::string key(std::string_view lower) const {
    std::string k(lower);
    if (upper_)
      for (char& c : k) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return k;
  }
  const bj::object* env_;
  bool upper_;
};

bool is_workflow_build_type(const Provenance& p) {
  return p.version == ProvenanceVersion::kV1 &&
         (p.build_type == kWorkflowBuildType || p.build_type == kActionsWorkflowBuildType);
}

// externalParameters.workflow.<key> of the workflow build types.
Result<std::string> workflow_parameter(std::string_view check, const Provenance& p, std::string_view key) {
  const bj::object* ext = as_object(p.external_parameters);
  const bj::object* workflow = nullptr;
  if (ext)
    if (auto it = ext->find("workflow"); it != ext->end()) workflow = as_object(it->value());
  if (!workflow) return failed(check, "invalid format: buildDefinition.externalParameters.workflow: missing");
  auto it = workflow->find(key);
  if (it == workflow->end() || !it->value().is_string())
    return failed(check, fmt::format("invalid format: buildDefinition.externalParameters.workflow.{}: want a string", key));
  return std::string(it->value().get_string());
}

// The URI of the repository and ref whose workflow triggered the build.
Result<std::string> trigger_uri(const Provenance& p) {
  if (p.version == ProvenanceVersion::kV02) {
    if (p.config_source.uri.empty()) return failed("trigger", "URI is malformed: predicate.invocation.configSource.uri is empty");
    return p.config_source.uri;
  }
  if (is_workflow_build_type(p)) {
    VOUCH_ASSIGN_OR_RETURN(std::string repository, workflow_parameter("trigger", p, "repository"));
    VOUCH_ASSIGN_OR_RETURN(std::string ref, workflow_parameter("trigger", p, "ref"));
    return fmt::format("git+{}@{}", repository, ref);
  }
  GithubEnvironment env(p);
  VOUCH_ASSIGN_OR_RETURN(std::string workflow_ref, env.string("trigger", "github_workflow_ref"));
  auto parts = split(workflow_ref, '@');
  if (parts.size() != 2) return failed("trigger", fmt::format("invalid format: GITHUB_WORKFLOW_REF '{}'", workflow_ref));
  auto path = split(parts[0], '/');
  if (path.size() < 2) return failed("trigger", fmt::format("invalid format: GITHUB_WORKFLOW_REF '{}'", workflow_ref));
  if (path[0].empty() || path[1].empty() || parts[1].empty())
    return failed("trigger", "URI is malformed: repository or ref is empty");
  return fmt::format("git+https://github.com/{}/{}@{}", path[0], path[1], parts[1]);
}

Result<std::string> source_uri(const Provenance& p) {
  const char* field = p.version == ProvenanceVersion::kV1 ? "buildDefinition.resolvedDependencies" : "materials";
  if (p.resolved_dependencies.empty())
    return failed("source", fmt::format("invalid DSSE envelope payload: predicate.{} is empty", field));
  if (p.resolved_dependencies.front().uri.empty())
    return failed("source", fmt::format("URI is malformed: predicate.{}[0].uri is empty", field));
  return p.resolved_dependencies.front().uri;
}

Result<std::string> provenance_tag(std::string_view check, const Provenance& p) {
  if (is_workflow_build_type(p)) {
    VOUCH_ASSIGN_OR_RETURN(std::string ref, workflow_parameter(check, p, "ref"));
    return starts_with(ref, "refs/tags/") ? ref : std::string();
  }
  return GithubEnvironment(p).tag(check);
}

Result<std::string> provenance_branch(std::string_view check, const Provenance& p) {
  if (is_workflow_build_type(p)) {
    VOUCH_ASSIGN_OR_RETURN(std::string ref, workflow_parameter(check, p, "ref"));
    return starts_with(ref, "refs/heads/") ? ref : std::string();
  }
  return GithubEnvironment(p).branch(check);
}

Result<const bj::object*> provenance_inputs(std::string_view check, const Provenance& p) {
  if (is_workflow_build_type(p)) {
    const bj::object* ext = as_object(p.external_parameters);
    auto it = ext ? ext->find("inputs") : nullptr;
    if (!it || !it->value().is_object())
      return failed(check, "workflow input does not match: buildDefinition.externalParameters.inputs is absent");
    return &it->value().get_object();
  }
  return GithubEnvironment(p).inputs(check);
}

// The build types each builder writes, by provenance version. Builders not listed here (reachable
// only through --builder-id) may write the GitHub Actions workflow build types.
Status check_build_type(const Provenance& p, const std::string& builder) {
  static const std::map<std::string, std::set<std::string>, std::less<>> v02{
      {std::string(kGenericGeneratorBuilder), {std::string(kGenericBuildType)}},
      {std::string(kContainerGeneratorBuilder), {std::string(kContainerBuildType)}},
      {std::string(kGoBuilder), {std::string(kGoBuildType), std::string(kLegacyBuildType), std::string(kLegacyGoBuildType)}},
  };
  static const std::map<std::string, std::set<std::string>, std::less<>> v1{
      {std::string(kContainerBasedBuilder), {std::string(kContainerBasedBuildType)}},
  };
  const auto& table = p.version == ProvenanceVersion::kV1 ? v1 : v02;
  auto it = table.find(builder);
  bool known_elsewhere = (p.version == ProvenanceVersion::kV1 ? v02 : v1).contains(builder);
  if (it != table.end()) {
    if (it->second.contains(p.build_type)) return ok_status();
  } else if (!known_elsewhere && is_workflow_build_type(p)) {
    return ok_status();
  }
  return failed("build type", fmt::format("buildType is invalid: '{}' for builder ID '{}' in {}", p.build_type, builder,
                                          p.predicate_type));
}

Status check_source(const Provenance& p, std::string_view expected_source_uri) {
  const std::string source = normalize_git_uri(expected_source_uri);
  if (!starts_with(source, "git+https://github.com/"))
    return failed("source", fmt::format("URI is malformed: expected source github.com repository '{}'", source));
  VOUCH_ASSIGN_OR_RETURN(std::string full_trigger, trigger_uri(p));
  VOUCH_ASSIGN_OR_RETURN(GitUri trigger, parse_git_uri("trigger", full_trigger));
  if (trigger.uri != source)
    return failed("source", fmt::format("source used to generate the binary does not match provenance: expected trigger "
                                        "'{}' to match source-uri '{}'",
                                        full_trigger, source));
  if (trigger.ref.empty()) return failed("trigger", fmt::format("URI is malformed: missing ref: '{}'", full_trigger));
  VOUCH_ASSIGN_OR_RETURN(std::string full_source, source_uri(p));
  VOUCH_ASSIGN_OR_RETURN(GitUri material, parse_git_uri("source", full_source));
  if (material.uri != source)
    return failed("source", fmt::format("source used to generate the binary does not match provenance: expected source "
                                        "'{}' to match source-uri '{}'",
                                        full_source, source));
  if (material.ref.empty()) return failed("source", fmt::format("URI is malformed: missing ref: '{}'", full_source));
  if (full_trigger != full_source)
    return failed("trigger", fmt::format("invalid DSSE envelope payload: source and trigger URIs do not match: '{}' != '{}'",
                                         full_trigger, full_source));
  return ok_status();
}

Status check_digest(const Provenance& p, std::string_view expected) {
  const size_t bits = expected.size() * 4;
  if (bits < 256) return failed("subject digest", fmt::format("invalid hash: expected minimum 256-bit, got {}", bits));
  const std::string alg = fmt::format("sha{}", bits);
  for (const auto& s : p.subjects) {
    auto it = s.digest.find(alg);
    if (it != s.digest.end() && it->second == expected) return ok_status();
  }
  return failed("subject digest",
                fmt::format("artifact hash does not match provenance subject: expected hash '{}' not found", expected));
}

Status check_options(const Provenance& p, const ProvenanceOptions& o) {
  VOUCH_RETURN_IF_ERROR(check_source(p, o.source_uri));
  VOUCH_RETURN_IF_ERROR(check_digest(p, o.expected_digest));
  if (o.branch) {
    VOUCH_ASSIGN_OR_RETURN(std::string ref, provenance_branch("branch", p));
    VOUCH_ASSIGN_OR_RETURN(std::string branch, ref_name("branch", "heads", ref));
    if (branch != *o.branch)
      return failed("branch", fmt::format("branch used to generate the binary does not match provenance: expected "
                                          "branch '{}', got '{}'",
                                          *o.branch, branch));
  }
  if (o.tag) {
    VOUCH_ASSIGN_OR_RETURN(std::string ref, provenance_tag("tag", p));
    VOUCH_ASSIGN_OR_RETURN(std::string tag, ref_name("tag", "tags", ref));
    if (tag != *o.tag)
      return failed("tag", fmt::format("tag used to generate the binary does not match provenance: expected tag '{}', "
                                       "got '{}'",
                                       *o.tag, tag));
  }
  if (o.versioned_tag) {
    VOUCH_ASSIGN_OR_RETURN(std::string ref, provenance_tag("versioned tag", p));
    VOUCH_ASSIGN_OR_RETURN(std::string tag, ref_name("versioned tag", "tags", ref));
    VOUCH_RETURN_IF_ERROR(verify_versioned_tag(tag, *o.versioned_tag));
  }
  if (!o.workflow_inputs.empty()) {
    VOUCH_ASSIGN_OR_RETURN(const bj::object* inputs, provenance_inputs("workflow inputs", p));
    for (const auto& [k, v] : o.workflow_inputs) {
      auto it = inputs->find(k);
      if (it == inputs->end() || !it->value().is_string())
        return failed("workflow inputs", fmt::format("workflow input does not match: cannot retrieve value of '{}'", k));
      std::string_view got = it->value().get_string();
      if (got != v)
        return failed("workflow inputs",
                      fmt::format("workflow input does not match: expected '{}={}', got '{}={}'", k, v, k, got));
    }
  }
  return ok_status();
}

// The sha256 (or stronger) digest of the statement's first subject that has one, so that the
// signature check does not depend on the artifact: the artifact's digest is a later check.
std::optional<sigstore::Artifact> signed_subject(const intoto::Envelope& env) {
  if (env.payload_type != intoto::kInTotoPayloadType) return sigstore::Artifact::from_bytes(to_string(env.payload));
  auto statement = intoto::parse_statement(env.payload);
  if (!statement.ok()) return std::nullopt;
  for (const auto& s : statement->subjects)
    for (const auto& [name, hex] : s.digest) {
      auto alg = crypto::hash_from_name(name);
      auto bytes = hex_decode(hex);
      if (!alg.ok() || !bytes.ok()) continue;
      auto artifact = sigstore::Artifact::from_digest(*alg, std::move(bytes).value());
      if (artifact.ok()) return std::move(artifact).value();
    }
  return std::nullopt;
}

// An attestation that is readable and not SLSA provenance (an SBOM, cosign's own signature):
// not a candidate.
bool is_other_attestation(const intoto::Envelope& env) {
  if (env.payload_type != intoto::kInTotoPayloadType) return false;
  auto statement = intoto::parse_statement(env.payload);
  return statement.ok() && statement->predicate_type != intoto::kSlsaProvenanceV1 &&
         statement->predicate_type != intoto::kSlsaProvenanceV02;
}

Result<sigstore::VerifyPolicy> signature_policy(const ProvenanceOptions& options) {
  sigstore::VerifyPolicy policy;
  // Any identity signs here: who signed is what the SLSA checks decide next.
  VOUCH_ASSIGN_OR_RETURN(auto any, sigstore::StringMatcher::regexp(".*"));
  policy.identities.push_back({any, any});
  policy.now = options.now;
  return policy;
}

// Verifies a signed entity carrying a DSSE envelope, then runs the SLSA checks on it.
Result<VerifiedProvenance> verify_entity(const sigstore::SignedEntity& entity, const ProvenanceOptions& options,
                                         const sigstore::TrustedMaterial& trusted,
                                         const std::set<std::string>& trusted_builders) {
  const auto* env = std::get_if<sigstore::DsseEnvelope>(&entity.signature_content());
  if (!env) return failed("attestation", "the signature is not over a DSSE envelope");
  const crypto::Certificate* leaf = entity.verification_content().leaf();
  if (!leaf) return failed("attestation", "no signing certificate: provenance must be signed keyless by its builder");
  auto artifact = signed_subject(*env);
  if (!artifact) {
    // Nothing to check the signature against: say what is wrong with the statement.
    auto p = parse_provenance(env->payload);
    if (!p.ok()) return failed("provenance", p.error().message);
    return failed("attestation", "the in-toto statement has no subject digest to verify the signature over");
  }
  VOUCH_ASSIGN_OR_RETURN(auto policy, signature_policy(options));
  auto verified = sigstore::verify(entity, *artifact, trusted, policy);
  if (!verified.ok()) return failed("attestation", verified.error().message);
  return verify_envelope_and_certificate(*env, *leaf, options, trusted_builders);
}

}  // namespace

const std::set<std::string>& artifact_builders() {
  static const std::set<std::string> builders{std::string(kGenericGeneratorBuilder), std::string(kGoBuilder),
                                              std::string(kContainerBasedBuilder)};
  return builders;
}

const std::set<std::string>& image_builders() {
  static const std::set<std::string> builders{std::string(kContainerGeneratorBuilder)};
  return builders;
}

// ---- BuilderId ----

Result<BuilderId> BuilderId::parse(std::string_view id, bool need_version) {
  auto parts = split(id, '@');
  if (parts.size() == 2) {
    if (parts[1].empty()) return invalid_input(fmt::format("invalid format: builder ID '{}'", id));
    return BuilderId{std::string(parts[0]), std::string(parts[1])};
  }
  if (parts.size() == 1 && !need_version) return BuilderId{std::string(id), ""};
  return invalid_input(fmt::format("invalid format: builder ID '{}'", id));
}

Status BuilderId::matches_loose(std::string_view expected) const {
  VOUCH_ASSIGN_OR_RETURN(BuilderId want, parse(expected, false));
  if (want.name != name)
    return verification_failed(fmt::format("builderID does not match provenance: expected name '{}', got '{}'", name, want.name));
  if (!want.version.empty() && want.version != version && "refs/tags/" + want.version != version)
    return verification_failed(
        fmt::format("builderID does not match provenance: expected version '{}', got '{}'", want.version, version));
  return ok_status();
}

Status BuilderId::matches_full(std::string_view expected) const {
  VOUCH_ASSIGN_OR_RETURN(BuilderId want, parse(expected, false));
  if (want.name != name)
    return verification_failed(fmt::format("builderID does not match provenance: expected name '{}', got '{}'", name, want.name));
  if (want.version != version && "refs/tags/" + want.version != version)
    return verification_failed(
        fmt::format("builderID does not match provenance: expected version '{}', got '{}'", want.version, version));
  return ok_status();
}

// ---- the certificate ----

std::string WorkflowIdentity::workflow_name() const {
  size_t at = subject_workflow.rfind('@');
  return at == std::string::npos ? subject_workflow : subject_workflow.substr(0, at);
}

std::string WorkflowIdentity::workflow_ref() const {
  size_t at = subject_workflow.rfind('@');
  return at == std::string::npos ? std::string() : subject_workflow.substr(at + 1);
}

namespace {

// A deprecated claim and its successor must agree; at least one must be present.
Result<std::string> equal_claims(std::string_view what, const std::string& deprecated, const std::string& current) {
  if (!deprecated.empty() && !current.empty() && deprecated != current)
    return failed("certificate", fmt::format("invalid format: {} claims disagree: '{}' != '{}'", what, deprecated, current));
  if (deprecated.empty() && current.empty()) return failed("certificate", fmt::format("invalid format: no {} claim", what));
  return current.empty() ? deprecated : current;
}

}  // namespace

Result<WorkflowIdentity> workflow_identity(const crypto::Certificate& cert) {
  auto sans = cert.subject_alt_names();
  if (sans.uris.empty()) return failed("certificate", "invalid format: missing URI information from certificate");
  auto ext = crypto::parse_fulcio_extensions(cert);
  if (!ext.ok()) return failed("certificate", ext.error().message);
  WorkflowIdentity id;
  VOUCH_ASSIGN_OR_RETURN(id.build_trigger, equal_claims("build trigger", ext->github_workflow_trigger, ext->build_trigger));
  VOUCH_ASSIGN_OR_RETURN(id.source_sha1,
                         equal_claims("source digest", ext->github_workflow_sha, ext->source_repository_digest));
  if (!ext->build_config_digest.empty() && id.source_sha1 != ext->build_config_digest)
    return failed("certificate", fmt::format("invalid format: source digest '{}' != build config digest '{}'",
                                             id.source_sha1, ext->build_config_digest));
  if (ext->issuer.empty()) return failed("certificate", "invalid format: no issuer claim");
  id.issuer = ext->issuer;
  const std::string& deprecated_repo = ext->github_workflow_repository;
  const std::string& repo_uri = ext->source_repository_uri;
  if (!deprecated_repo.empty() && !repo_uri.empty() && std::string(kGithubHttps) + deprecated_repo != repo_uri)
    return failed("certificate", fmt::format("invalid format: repository claims disagree: '{}{}' != '{}'", kGithubHttps,
                                             deprecated_repo, repo_uri));
  id.source_repository = std::string(trim_prefix(repo_uri, kGithubHttps));
  if (id.source_repository.empty()) id.source_repository = deprecated_repo;
  id.source_ref = ext->source_repository_ref;
  id.subject_workflow = sans.uris.front();
  auto scheme = id.subject_workflow.find("://");
  if (scheme == std::string::npos || id.subject_workflow.find('/', scheme + 3) == std::string::npos)
    return failed("certificate", fmt::format("invalid format: SAN URI '{}' has no path", id.subject_workflow));
  return id;
}

// ---- versioned tags ----

bool is_semver(std::string_view v) { return parse_semver(v).has_value(); }

Status verify_versioned_tag(std::string_view provenance_tag, std::string_view expected) {
  auto want = parse_semver(expected);
  if (!want) return failed("versioned tag", fmt::format("invalid semantic version: '{}'", expected));
  auto have = parse_semver(provenance_tag);
  if (!have) return failed("versioned tag", fmt::format("invalid semantic version: provenance tag '{}'", provenance_tag));
  const std::string canon = canonical(*have);
  auto want_parts = split(expected, '.');
  auto have_parts = split(canon, '.');
  if (want->major != have->major)
    return failed("versioned tag", fmt::format("tag used to generate the binary does not match provenance: major version "
                                               "expected 'v{}', got 'v{}'",
                                               want->major, have->major));
  if (want_parts.size() > 1 && want_parts[1] != have_parts[1])
    return failed("versioned tag", fmt::format("tag used to generate the binary does not match provenance: minor version "
                                               "expected '{}', got '{}'",
                                               want_parts[1], have_parts[1]));
  if (want_parts.size() > 2) {
    // The patch component with its pre-release; build metadata is ignored.
    std::string_view want_patch = want_parts[2];
    want_patch = want_patch.substr(0, want_patch.find('+'));
    if (want_patch != have_parts[2])
      return failed("versioned tag", fmt::format("tag used to generate the binary does not match provenance: patch "
                                                 "version expected '{}', got '{}'",
                                                 want_patch, have_parts[2]));
  }
  return ok_status();
}

// ---- the checks, in slsa-verifier's order ----

Result<VerifiedProvenance> verify_envelope_and_certificate(const intoto::Envelope& envelope,
                                                           const crypto::Certificate& cert,
                                                           const ProvenanceOptions& options,
                                                           const std::set<std::string>& trusted_builders) {
  VOUCH_ASSIGN_OR_RETURN(WorkflowIdentity id, workflow_identity(cert));

  // The builder: issuer, trusted workflow, release tag.
  if (id.issuer != options.issuer)
    return failed("issuer", fmt::format("invalid OIDC issuer: '{}' (want '{}')", id.issuer, options.issuer));
  const std::string workflow = id.workflow_name(), workflow_ref = id.workflow_ref();
  if (workflow.empty() || workflow_ref.empty())
    return failed("certificate", fmt::format("URI is malformed: workflow uri '{}'", id.subject_workflow));
  if (workflow == kGenericDelegator || workflow == kLowPermsDelegator)
    return failed("builder", fmt::format("not supported: delegator (BYOB) builder {}", workflow));
  BuilderId trusted{workflow, workflow_ref};
  if (!options.builder_id || options.builder_id->empty()) {
    if (!trusted_builders.contains(workflow))
      return failed("builder", fmt::format("untrusted reusable workflow: {} (no --builder-id given)", workflow));
  } else {
    auto st = trusted.matches_loose(*options.builder_id);
    if (!st.ok()) return failed("builder", fmt::format("untrusted reusable workflow: {}", st.error().message));
  }
  VOUCH_RETURN_IF_ERROR(valid_builder_tag(workflow_ref));

  // The source repository the certificate names.
  std::string_view expected_repo = trim_prefix(trim_prefix(options.source_uri, "git+https://"), "github.com/");
  if (id.source_repository != expected_repo)
    return failed("source", fmt::format("source used to generate the binary does not match provenance: expected source "
                                        "'{}', got '{}'",
                                        expected_repo, id.source_repository));

  // The provenance.
  if (envelope.payload_type != intoto::kInTotoPayloadType)
    return failed("payload type", fmt::format("invalid DSSE envelope payload: expected payload type '{}', got '{}'",
                                              intoto::kInTotoPayloadType, envelope.payload_type));
  auto parsed = parse_provenance(envelope.payload);
  if (!parsed.ok()) return failed("provenance", "invalid DSSE envelope payload: " + parsed.error().message);
  const Provenance& p = *parsed;
  VOUCH_RETURN_IF_ERROR(check_build_type(p, workflow));
  auto provenance_builder = BuilderId::parse(p.builder_id, false);
  if (!provenance_builder.ok()) return failed("builder id", provenance_builder.error().message);
  if (auto st = provenance_builder->matches_full(trusted.str()); !st.ok())
    return failed("builder id", st.error().message);
  VOUCH_RETURN_IF_ERROR(check_options(p, options));

  VerifiedProvenance out;
  out.builder_id = trusted.str();
  out.commit = id.source_sha1;
  out.statement = to_string(envelope.payload);
  out.provenance = std::move(parsed).value();
  return out;
}

Result<VerifiedProvenance> verify_artifact_provenance(std::string_view bundle_json, const ProvenanceOptions& options,
                                                      const sigstore::TrustedMaterial& trusted) {
  auto bundle = sigstore::parse_bundle(bundle_json);
  if (!bundle.ok()) return std::move(bundle).error().context("provenance bundle");
  return verify_entity(*bundle, options, trusted, artifact_builders());
}

Result<VerifiedProvenance> verify_image_provenance(const oci::ImageRef& ref, ProvenanceOptions options,
                                                   const sigstore::TrustedMaterial& trusted,
                                                   const oci::StoreOptions& store_options) {
  std::optional<oci::Digest> digest =
      ref.transport == oci::Transport::kRegistry ? ref.reference.digest : ref.digest;
  if (!digest)
    return invalid_input(fmt::format("{}: the image is mutable: name it by digest (IMAGE@sha256:...), not by tag",
                                     ref.str()));
  if (digest->algorithm() != "sha256") return invalid_input(fmt::format("{}: want a sha256 digest", ref.str()));
  options.expected_digest = digest->hex();
  VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, store_options, false));

  std::vector<Error> errors;
  constexpr size_t kMaxCandidates = 64;
  constexpr size_t kMaxBlob = 16 << 20;
  auto consider = [&](Result<VerifiedProvenance> r) -> std::optional<VerifiedProvenance> {
    if (r.ok()) return std::move(r).value();
    errors.push_back(std::move(r).error());
    return std::nullopt;
  };

  // Bundle layout: Sigstore bundles as referrers.
  auto referrers = store->referrers(*digest);
  if (referrers.ok()) {
    size_t seen = 0;
    for (const auto& d : *referrers) {
      if (d.artifact_type.find("application/vnd.dev.sigstore.bundle") == std::string::npos) continue;
      if (++seen > kMaxCandidates) break;
      auto manifest = store->get_manifest(d);
      if (!manifest.ok() || manifest->layers.empty()) continue;
      auto reader = store->open_blob(manifest->layers.front());
      if (!reader.ok()) continue;
      auto text = oci::read_all(**reader, kMaxBlob, "bundle");
      if (!text.ok()) continue;
      auto bundle = sigstore::parse_bundle(*text);
      if (!bundle.ok() || !bundle->is_dsse()) continue;
      if (is_other_attestation(std::get<sigstore::DsseEnvelope>(bundle->content))) continue;
      if (auto v = consider(verify_entity(*bundle, options, trusted, image_builders()))) return std::move(*v);
    }
  }
  // Classic layout: DSSE envelopes in the layers of sha256-<hex>.att.
  if (store->supports_tags()) {
    auto att = store->get_tagged(oci::digest_tag(*digest, ".att"));
    if (att.ok() && *att) {
      size_t seen = 0;
      for (const auto& layer : (*att)->layers) {
        if (++seen > kMaxCandidates) break;
        auto reader = store->open_blob(layer);
        if (!reader.ok()) continue;
        auto text = oci::read_all(**reader, kMaxBlob, "attestation");
        if (!text.ok()) continue;
        auto entity = cosign::SignatureLayer::from_dsse(layer, *text);
        if (!entity.ok() || !entity->envelope() || is_other_attestation(*entity->envelope())) continue;
        if (auto v = consider(verify_entity(*entity, options, trusted, image_builders()))) return std::move(*v);
      }
    }
  }
  if (errors.empty())
    return verification_failed(fmt::format("attestation: no valid signature: no SLSA provenance attestation found for {}",
                                           digest->str()));
  return std::move(errors.front());
}

}  // namespace vouch::slsa
