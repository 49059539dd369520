// ImageValidatingPolicy evaluation, as Kyverno's image verification evaluator
// (pkg/image/verification/evaluator) runs it: match constraints and conditions, variables,
// the images of the resource (by kind, plus the policy's own extractors) filtered by
// matchImageReferences, the digest check, every selected image read from its registry, then
// the validations in order (the first that fails decides), then `required`: every selected
// image must have passed a signature or attestation check.
//
// The image functions (pkg/cel/libs/imageverify, the SDK's image and imagedata libraries) are
// CEL overloads that reach the evaluation's state through a thread-local pointer: a Program is
// compiled once and shared, while what one evaluation verified (for extractPayload and
// `required`) belongs to that evaluation only.
#include "vouch/policy/image_policy.h"

#include <algorithm>

#include <fmt/format.h>

#include "cel_internal.h"
#include "engine_internal.h"
#include "image_policy_internal.h"
#include "vouch/cel/cel.h"
#include "vouch/oci/reference.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/image_info.h"

namespace vouch::policy {

namespace {

constexpr const char* kImageType = "kyverno.image";
constexpr const char* kImageDataContextType = "imagedata.Context";

// A compiled attestor: the expressions that give its key, certificates or trusted root.
struct CompiledAttestor {
  std::optional<cel::Program> key, cert, cert_chain, notary_certs, notary_tsa_certs, trusted_root;
};

}  // namespace

struct ImageValidatingPolicy::Compiled {
  cel::Environment env;
  cel::Environment ref_env;  // matchImageReferences expressions: only `ref`
  std::vector<cel::Program> match_conditions;
  std::vector<cel::Program> variables;
  std::vector<cel::Program> images;
  std::vector<cel::Program> validations;
  std::vector<std::optional<cel::Program>> messages;
  std::vector<cel::Program> audit_annotations;
  std::vector<std::optional<cel::Program>> match_image_references;  // nullopt for a glob
  std::vector<CompiledAttestor> attestors;
  // Kyverno's image extractors, by where the pod spec is: "spec", "spec.template.spec",
  // "spec.jobTemplate.spec.template.spec".
  std::map<std::string, std::vector<std::pair<std::string, cel::Program>>> builtin_extractors;
};

namespace {

// What one evaluation learned from the registry.
struct EvalState {
  const ImageValidatingPolicy* policy = nullptr;
  ImagePolicyVerifier* verifier = nullptr;
  ImageVerificationLedger* ledger = nullptr;  // the request's, shared with its other policies
  std::map<std::string, bj::value> image_data;  // read before the validations run
  // Whether an attestor verified each image (absent: never checked), for `required`.
  std::map<std::string, bool> verified;
  // Verified in-toto statements and Notary referrers, by image and attestation name.
  std::map<std::pair<std::string, std::string>, std::vector<bj::value>> statements;
  std::map<std::pair<std::string, std::string>, std::string> referrers;
  // Why attestors did not verify ("<image>: attestor <name>: <reason>"), for the result's
  // properties: Kyverno's message is the validation's, which does not say.
  std::vector<std::string> rejections;
  void reject(const std::string& image, const IvpolAttestor& a, const Result<AttestorOutcome>& r) {
    if (rejections.size() >= 16) return;
    std::string why = r.ok() ? r->reason : r.error().message;
    if (why.size() > 600) why = why.substr(0, 600) + "…";
    rejections.push_back(fmt::format("{}: attestor {}: {}", image, a.name, why.empty() ? "not verified" : why));
  }
};

thread_local EvalState* current_state = nullptr;

struct StateScope {
  explicit StateScope(EvalState* s) : previous(current_state) { current_state = s; }
  ~StateScope() { current_state = previous; }
  EvalState* previous;
};

using Args = std::span<const cel::Value>;


bool image_selected(const ImageValidatingPolicy& p, const std::string& image, std::string* error);

// The attestors a function was given: each a map as `attestors.<name>` yields (or written in
// the expression), read with the policy's own checks.
Result<std::vector<IvpolAttestor>> attestors_of(const cel::Value& list) {
  std::vector<IvpolAttestor> out;
  if (!list.is(cel::Kind::kList)) return invalid_input("expected a list of attestors");
  for (size_t i = 0; i < list.as_list().size(); ++i) {
    const cel::Value& v = list.as_list()[i];
    if (v.is_error()) return invalid_input(v.error_message());
    VOUCH_ASSIGN_OR_RETURN(bj::value json, cel_internal::to_json(v));
    VOUCH_ASSIGN_OR_RETURN(auto a, image_policy_internal::parse_attestor(json, fmt::format("attestor[{}]", i)));
    out.push_back(std::move(a));
  }
  return out;
}

const IvpolAttestation* attestation_named(const ImageValidatingPolicy& p, const std::string& name) {
  for (const auto& a : p.attestations)
    if (a.name == name) return &a;
  return nullptr;
}

// Every image function first needs the image's data, as Kyverno's image context reads it.
Result<const bj::value*> image_data_for(EvalState& s, const std::string& image) {
  if (auto it = s.image_data.find(image); it != s.image_data.end()) return &it->second;
  if (!s.verifier) return invalid_input("images are read from registries only with registry access (policy apply --registry)");
  auto data = s.verifier->image_data(image, s.policy->allow_insecure_registry);
  if (!data.ok()) return invalid_input(fmt::format("failed to get imagedata: {}", data.error().message));
  return &s.image_data.emplace(image, std::move(*data)).first->second;
}

cel::Value verify_image_signatures(Args a) {
  EvalState* s = current_state;
  if (!s) return cel::Value::error("verifyImageSignatures: not in an ImageValidatingPolicy");
  const std::string& image = a[0].as_string();
  std::string error;
  if (!image_selected(*s->policy, image, &error)) {
    if (!error.empty()) return cel::Value::error(error);
    return cel::Value::integer(0);  // not an image this policy verifies
  }
  auto attestors = attestors_of(a[1]);
  if (!attestors.ok()) return cel::Value::error(fmt::format("verifyImageSignatures: {}", attestors.error().message));
  auto data = image_data_for(*s, image);
  if (!data.ok()) return cel::Value::error(data.error().message);
  int64_t count = 0;
  for (const auto& attestor : *attestors) {
    auto r = s->verifier->verify_signature(image, attestor, s->policy->allow_insecure_registry);
    // As Kyverno: an attestor that cannot verify (including one that could not be checked)
    // does not count; the expression decides what a count means.
    if (r.ok() && r->verified) ++count;
    else s->reject(image, attestor, r);
  }
  if (!attestors->empty()) {
    s->verified[image] = s->verified[image] || count > 0;
    if (s->ledger) s->ledger->record(image, count > 0);
  }
  return cel::Value::integer(count);
}

cel::Value verify_attestation_signatures(Args a) {
  EvalState* s = current_state;
  if (!s) return cel::Value::error("verifyAttestationSignatures: not in an ImageValidatingPolicy");
  const std::string& image = a[0].as_string();
  const std::string& name = a[1].as_string();
  std::string error;
  if (!image_selected(*s->policy, image, &error)) {
    if (!error.empty()) return cel::Value::error(error);
    return cel::Value::integer(0);
  }
  auto attestors = attestors_of(a[2]);
  if (!attestors.ok()) return cel::Value::error(fmt::format("verifyAttestationSignatures: {}", attestors.error().message));
  const IvpolAttestation* attestation = attestation_named(*s->policy, name);
  if (!attestation) return cel::Value::error(fmt::format("attestation not found in policy: {}", name));
  auto data = image_data_for(*s, image);
  if (!data.ok()) return cel::Value::error(data.error().message);
  int64_t count = 0;
  for (const auto& attestor : *attestors) {
    if (attestor.notary && attestation->referrer_type.empty())
      return cel::Value::error("notary verifier only supports oci 1.1 referrers as attestations");
    auto r = s->verifier->verify_attestation(image, *attestation, attestor, s->policy->allow_insecure_registry);
    if (!r.ok() || !r->verified) {
      s->reject(image, attestor, r);
      continue;
    }
    ++count;
    auto key = std::make_pair(image, name);
    if (!r->statements.empty()) s->statements[key] = r->statements;
    if (!r->referrer_digest.empty()) s->referrers[key] = r->referrer_digest;
  }
  if (!attestors->empty()) {
    s->verified[image] = s->verified[image] || count > 0;
    if (s->ledger) s->ledger->record(image, count > 0);
  }
  return cel::Value::integer(count);
}

cel::Value extract_payload(Args a) {
  EvalState* s = current_state;
  if (!s) return cel::Value::error("extractPayload: not in an ImageValidatingPolicy");
  const std::string& image = a[0].as_string();
  const std::string& name = a[1].as_string();
  const IvpolAttestation* attestation = attestation_named(*s->policy, name);
  if (!attestation) return cel::Value::error(fmt::format("attestation not found in policy: {}", name));
  auto data = image_data_for(*s, image);
  if (!data.ok()) return cel::Value::error(data.error().message);
  auto key = std::make_pair(image, name);
  if (!attestation->intoto_type.empty()) {
    auto it = s->statements.find(key);
    if (it == s->statements.end() || it->second.empty())
      return cel::Value::error(
          "failed to get payload: intoto attestation payload cannot be fetch before verifying intoto attestation");
    return cel::from_json(it->second.front());
  }
  std::string digest;
  if (auto it = s->referrers.find(key); it != s->referrers.end()) digest = it->second;
  auto payload = s->verifier->referrer_payload(image, attestation->referrer_type, digest, s->policy->allow_insecure_registry);
  if (!payload.ok()) return cel::Value::error(fmt::format("failed to get payload: {}", payload.error().message));
  return cel::from_json(*payload);
}

cel::Value get_image_data(Args a) {
  EvalState* s = current_state;
  if (!s) return cel::Value::error("getImageData: not in an ImageValidatingPolicy");
  auto data = image_data_for(*s, a[0].as_string());
  if (!data.ok()) return cel::Value::error(data.error().message);
  return cel::from_json(**data);
}

// The SDK's image library: references parsed as go-containerregistry's name.ParseReference
// reads them (Docker Hub's registry is index.docker.io; a reference with a digest is a digest
// reference, whose tag reads empty).
cel::Value image_value(const std::string& text) {
  auto ref = oci::parse_reference(text);
  if (!ref.ok()) return cel::Value::error(ref.error().message);
  cel::Message m;
  m.type_name = kImageType;
  std::string registry = ref->registry == oci::kDefaultDomain ? "index.docker.io" : ref->registry;
  std::string tag = ref->digest ? "" : ref->tag.value_or(std::string(oci::kDefaultTag));
  std::string digest = ref->digest ? ref->digest->str() : "";
  m.fields.emplace_back("registry", cel::Value::string(registry));
  m.fields.emplace_back("repository", cel::Value::string(ref->repository));
  m.fields.emplace_back("identifier", cel::Value::string(digest.empty() ? tag : digest));
  m.fields.emplace_back("tag", cel::Value::string(tag));
  m.fields.emplace_back("digest", cel::Value::string(digest));
  return cel::Value::message(std::move(m));
}


}  // namespace

namespace image_policy_internal {

void add_image_library(cel::Environment& env) {
  auto def = [&env](std::string name, bool receiver, std::vector<std::optional<cel::Kind>> kinds, cel::Function fn) {
    env.add_overload({.name = std::move(name), .receiver = receiver, .args = std::move(kinds), .fn = std::move(fn)});
  };
  using K = cel::Kind;
  for (const char* name : {"image", "parseImageReference"})
    def(name, false, {K::kString}, [](Args a) { return image_value(a[0].as_string()); });
  def("isImage", false, {K::kString}, [](Args a) { return cel::Value::boolean(oci::parse_reference(a[0].as_string()).ok()); });
  for (const char* field : {"registry", "repository", "identifier", "tag", "digest"}) {
    std::string f = field;
    def(f, true, {K::kMessage}, [f](Args a) {
      if (a[0].as_message().type_name != kImageType) return cel::Value::no_overload(f);
      const cel::Value* v = a[0].as_message().find(f);
      return v ? *v : cel::Value::string("");
    });
  }
  def("containsDigest", true, {K::kMessage}, [](Args a) {
    if (a[0].as_message().type_name != kImageType) return cel::Value::no_overload("containsDigest");
    const cel::Value* v = a[0].as_message().find("digest");
    return cel::Value::boolean(v && !v->as_string().empty());
  });
  // image.GetMetadata(ref) / image.getMetadata(ref): the imagedata library. In an
  // ImageValidatingPolicy, the same image data the verification functions read from the
  // registry; elsewhere (a ValidatingPolicy) the image data a context file gives (Context
  // spec.images), as Kyverno's CLI serves it: nothing is read from a registry.
  for (const char* name : {"GetMetadata", "getMetadata"}) {
    std::string n = name;
    def(n, true, {K::kMessage, K::kString}, [n](Args a) {
      if (a[0].as_message().type_name != kImageDataContextType) return cel::Value::no_overload(n);
      const std::string& image = a[1].as_string();
      if (EvalState* s = current_state) {
        auto data = image_data_for(*s, image);
        if (!data.ok()) return cel::Value::error(fmt::format("failed to get image data: {}", data.error().message));
        return cel::from_json(**data);
      }
      const CelClusterData* cluster = cel_internal::current_cluster_data();
      if (cluster)
        if (auto it = cluster->images.find(image); it != cluster->images.end()) return cel::from_json(it->second);
      return cel::Value::error(fmt::format("failed to get image data: {}: not among the context file's images (a "
                                           "ValidatingPolicy reads no registry)",
                                           image));
    });
  }
}

cel::Value image_data_context() {
  cel::Message context;
  context.type_name = kImageDataContextType;
  return cel::Value::message(std::move(context));
}

}  // namespace image_policy_internal

namespace {

void add_image_functions(cel::Environment& env) {
  using K = cel::Kind;
  env.add_overload({.name = "verifyImageSignatures", .args = {K::kString, K::kList}, .fn = verify_image_signatures});
  env.add_overload({.name = "verifyAttestationSignatures", .args = {K::kString, K::kString, K::kList},
                    .fn = verify_attestation_signatures});
  env.add_overload({.name = "extractPayload", .args = {K::kString, K::kString}, .fn = extract_payload});
  env.add_overload({.name = "getImageData", .args = {K::kString}, .fn = get_image_data});
  image_policy_internal::add_image_library(env);
}

cel::Environment make_env() {
  cel::Environment env(cel_internal::environment_options());
  add_image_functions(env);
  // Kyverno's ImageValidatingPolicy environment also has its small libraries and the resource,
  // http and globalContext ones.
  cel_internal::add_kyverno_libraries(env);
  cel_internal::add_cluster_libraries(env);
  return env;
}

bool image_selected(const ImageValidatingPolicy& p, const std::string& image, std::string* error) {
  if (p.match_image_references.empty()) return true;
  for (size_t i = 0; i < p.match_image_references.size(); ++i) {
    const auto& m = p.match_image_references[i];
    if (!m.glob.empty()) {
      if (image_glob_match(m.glob, image)) return true;
      continue;
    }
    cel::Activation vars;
    vars.bind("ref", cel::Value::string(image));
    auto r = p.compiled->match_image_references[i]->evaluate(vars);
    if (!r.ok()) {
      *error = fmt::format("matchImageReferences[{}]: {}", i, r.error().message);
      return false;
    }
    if (r->value.is_error()) {
      *error = fmt::format("matchImageReferences[{}]: {}", i, r->value.error_message());
      return false;
    }
    if (!r->value.is(cel::Kind::kBool)) {
      *error = fmt::format("matchImageReferences[{}]: expected a bool, got {}", i, r->value.type_name());
      return false;
    }
    if (r->value.as_bool()) return true;
  }
  return false;
}

// Where Kyverno's image extractors look for a resource, by its group, version and resource
// (empty: it adds none). A subresource is looked up as its resource: pods/ephemeralcontainers
// carries the Pod, whose ephemeral containers' images are checked.
std::string pod_spec_path(const cel_internal::RequestFacts& f) {
  const std::string resource = f.resource.substr(0, f.resource.find('/'));
  if (f.group.empty() && f.version == "v1" && resource == "pods") return "spec";
  if ((f.group == "batch" && f.version == "v1" && resource == "jobs") ||
      (f.group == "apps" && f.version == "v1" &&
       (resource == "deployments" || resource == "statefulsets" || resource == "daemonsets" ||
        resource == "replicasets")))
    return "spec.template.spec";
  if (f.group == "batch" && f.version == "v1" && resource == "cronjobs") return "spec.jobTemplate.spec.template.spec";
  return "";
}

// The autogen variant (for a Pod controller) that takes a request the policy itself does not.
const ImageValidatingPolicy* autogen_variant(const ImageValidatingPolicy& p, const cel_internal::RequestFacts& f,
                                             const Request& request) {
  for (const auto& variant : p.autogen)
    if (cel_internal::constraints_match(variant->match, f, request)) return variant.get();
  return nullptr;
}

bool has_action(const ImageValidatingPolicy& p, std::string_view action) {
  if (p.validation_actions.empty()) return action == "Deny";
  return std::find(p.validation_actions.begin(), p.validation_actions.end(), action) != p.validation_actions.end();
}

// The attestor as `attestors.<name>` yields it: as written, with the value of each expression
// in place of the expression (an error value when one fails).
cel::Value resolved_attestor(const IvpolAttestor& a, const CompiledAttestor& c, const cel::Activation& vars) {
  bj::value json = a.raw;
  auto put = [&](const std::optional<cel::Program>& prog, std::initializer_list<std::string_view> path,
                 std::string_view field) -> std::optional<std::string> {
    if (!prog) return std::nullopt;
    auto r = prog->evaluate(vars);
    if (!r.ok()) return r.error().message;
    if (r->value.is_error()) return r->value.error_message();
    if (!r->value.is(cel::Kind::kString)) return fmt::format("expected a string, got {}", r->value.type_name());
    bj::object* o = &json.as_object();
    for (auto p : path) o = &(*o)[p].as_object();
    o->erase("expression");
    (*o)[field] = r->value.as_string();
    return std::nullopt;
  };
  struct Slot {
    const std::optional<cel::Program>* prog;
    std::initializer_list<std::string_view> path;
    std::string_view field;
  };
  const Slot slots[] = {{&c.key, {"cosign", "key"}, "data"},
                        {&c.cert, {"cosign", "certificate", "cert"}, "value"},
                        {&c.cert_chain, {"cosign", "certificate", "certChain"}, "value"},
                        {&c.trusted_root, {"cosign", "trustedRoot"}, "value"},
                        {&c.notary_certs, {"notary", "certs"}, "value"},
                        {&c.notary_tsa_certs, {"notary", "tsaCerts"}, "value"}};
  for (const auto& slot : slots) {
    if (auto err = put(*slot.prog, slot.path, slot.field))
      return cel::Value::error(fmt::format("failed to evaluate compiled attestor: {}, error: {}", a.name, *err));
  }
  return cel::from_json(json);
}

// Kyverno's EnforceRequired: the first selected image that no attestor verified, in words.
std::string required_failure(const ImageValidatingPolicy& p, const std::vector<std::string>& selected,
                             const std::map<std::string, bool>& verified) {
  if (!p.required) return "";
  for (const auto& image : selected) {
    auto it = verified.find(image);
    if (it != verified.end() && it->second) continue;
    if (it != verified.end()) return fmt::format("image {} failed signature or attestation verification", image);
    return fmt::format("image {} is not verified: no policy performed a signature or attestation check on it", image);
  }
  return "";
}

}  // namespace

namespace image_policy_internal {

Status compile_image_policy(ImageValidatingPolicy& p) {
  auto c = std::make_shared<ImageValidatingPolicy::Compiled>(
      ImageValidatingPolicy::Compiled{make_env(), cel::Environment(cel_internal::environment_options()), {}, {}, {}, {}, {}, {}, {}, {}, {}});
  auto compile = [&](const cel::Environment& env, const std::string& expr, std::string where) -> Result<cel::Program> {
    auto r = env.compile(expr);
    if (!r.ok()) return invalid_input(fmt::format("{}: {}", where, r.error().message));
    return r;
  };
  for (size_t i = 0; i < p.match_conditions.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, p.match_conditions[i].expression, fmt::format("spec.matchConditions[{}].expression", i)));
    c->match_conditions.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.variables.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, p.variables[i].expression, fmt::format("spec.variables[{}].expression", i)));
    c->variables.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.images.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, p.images[i].expression, fmt::format("spec.images[{}].expression", i)));
    c->images.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.validations.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, p.validations[i].expression, fmt::format("spec.validations[{}].expression", i)));
    c->validations.push_back(std::move(prog));
    std::optional<cel::Program> message;
    if (!p.validations[i].message_expression.empty()) {
      VOUCH_ASSIGN_OR_RETURN(message, compile(c->env, p.validations[i].message_expression,
                                              fmt::format("spec.validations[{}].messageExpression", i)));
    }
    c->messages.push_back(std::move(message));
  }
  for (size_t i = 0; i < p.audit_annotations.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, p.audit_annotations[i].expression,
                                              fmt::format("spec.auditAnnotations[{}].valueExpression", i)));
    c->audit_annotations.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.match_image_references.size(); ++i) {
    std::optional<cel::Program> prog;
    if (!p.match_image_references[i].expression.empty()) {
      VOUCH_ASSIGN_OR_RETURN(prog, compile(c->ref_env, p.match_image_references[i].expression,
                                           fmt::format("spec.matchImageReferences[{}].expression", i)));
    }
    c->match_image_references.push_back(std::move(prog));
  }
  for (size_t i = 0; i < p.attestors.size(); ++i) {
    const IvpolAttestor& a = p.attestors[i];
    CompiledAttestor ca;
    auto opt = [&](const std::string& expr, std::string_view field) -> Result<std::optional<cel::Program>> {
      if (expr.empty()) return std::optional<cel::Program>();
      VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, expr, fmt::format("spec.attestors[{}].{}", i, field)));
      return std::optional<cel::Program>(std::move(prog));
    };
    if (a.cosign) {
      VOUCH_ASSIGN_OR_RETURN(ca.key, opt(a.cosign->key_expression, "cosign.key.expression"));
      VOUCH_ASSIGN_OR_RETURN(ca.cert, opt(a.cosign->cert.expression, "cosign.certificate.cert.expression"));
      VOUCH_ASSIGN_OR_RETURN(ca.cert_chain, opt(a.cosign->cert_chain.expression, "cosign.certificate.certChain.expression"));
      VOUCH_ASSIGN_OR_RETURN(ca.trusted_root, opt(a.cosign->trusted_root.expression, "cosign.trustedRoot.expression"));
    }
    if (a.notary) {
      VOUCH_ASSIGN_OR_RETURN(ca.notary_certs, opt(a.notary->certs.expression, "notary.certs.expression"));
      VOUCH_ASSIGN_OR_RETURN(ca.notary_tsa_certs, opt(a.notary->tsa_certs.expression, "notary.tsaCerts.expression"));
    }
    c->attestors.push_back(std::move(ca));
  }
  for (const char* spec : {"spec", "spec.template.spec", "spec.jobTemplate.spec.template.spec"}) {
    auto& list = c->builtin_extractors[spec];
    for (const char* group : {"containers", "initContainers", "ephemeralContainers"}) {
      VOUCH_ASSIGN_OR_RETURN(auto prog, compile(c->env, fmt::format("(object != null ? object : oldObject).{}.?{}.orValue([]).map(e, e.image)", spec, group),
                                                "image extractor"));
      list.emplace_back(group, std::move(prog));
    }
  }
  p.compiled = std::move(c);
  return ok_status();
}

}  // namespace image_policy_internal

std::vector<RuleResult> evaluate_image_policy(const ImageValidatingPolicy& p, const Request& request,
                                              ImagePolicyVerifier* verifier, const CelClusterData* cluster) {
  cel_internal::ClusterScope cluster_scope(cluster);
  std::vector<RuleResult> out;
  const auto& c = *p.compiled;
  cel_internal::RequestFacts f = cel_internal::request_facts(request);
  if (!cel_internal::constraints_match(p.match, f, request)) {
    if (const ImageValidatingPolicy* variant = autogen_variant(p, f, request)) {
      out = evaluate_image_policy(*variant, request, verifier, cluster);
      for (auto& r : out) {
        r.autogen = true;
        r.origin_rule = p.name;
      }
    }
    return out;
  }

  RuleResult result;
  result.policy = p.name;
  result.rule = p.name;
  result.type = "ImageVerify";
  result.action = has_action(p, "Deny") ? FailureAction::kEnforce : FailureAction::kAudit;
  EvalState state;
  state.policy = &p;
  state.verifier = verifier;
  state.ledger = request.image_verifications.get();
  auto finish = [&](RuleStatus status, std::string message) {
    result.status = status;
    result.message = std::move(message);
    if (status != RuleStatus::kPass && !state.rejections.empty()) {
      std::string joined;
      for (const auto& r : state.rejections) joined += (joined.empty() ? "" : "; ") + r;
      result.properties["imageVerification"] = std::move(joined);
    }
    out.push_back(std::move(result));
    return out;
  };
  // An evaluation error, as Kyverno reports it ("failed to evaluate policy: …").
  auto error = [&](const std::string& message) { return finish(RuleStatus::kError, "failed to evaluate policy: " + message); };

  cel::Activation vars;
  cel_internal::bind_admission_variables(request, f, vars);
  cel_internal::bind_cluster_libraries(vars);

  // Match conditions: all must hold; an error follows the failure policy (Ignore: no match).
  for (size_t i = 0; i < c.match_conditions.size(); ++i) {
    auto r = c.match_conditions[i].evaluate(vars);
    std::string problem;
    if (!r.ok()) problem = r.error().message;
    else if (r->value.is_error()) problem = r->value.error_message();
    else if (!r->value.is(cel::Kind::kBool)) problem = fmt::format("expected a bool, got {}", r->value.type_name());
    if (!problem.empty()) {
      if (p.failure_policy == "Ignore") return out;
      return error(fmt::format("matchConditions[{}] ({}): {}", i, p.match_conditions[i].name, problem));
    }
    if (!r->value.as_bool()) return out;
  }

  StateScope scope(&state);

  // Variables, in order; an error stays in the variable until a validation reads it.
  cel::Map variables;
  for (size_t i = 0; i < c.variables.size(); ++i) {
    vars.bind("variables", cel::Value::map(variables));
    auto r = c.variables[i].evaluate(vars);
    if (!r.ok()) return error(fmt::format("variables.{}: {}", p.variables[i].name, r.error().message));
    variables.insert(cel::Value::string(p.variables[i].name), r->value);
  }
  vars.bind("variables", cel::Value::map(variables));

  // The images: Kyverno's extractors for the kind, then the policy's own, each filtered by
  // matchImageReferences.
  std::vector<std::pair<std::string, const cel::Program*>> extractors;
  if (std::string spec = pod_spec_path(f); !spec.empty())
    for (const auto& [name, prog] : c.builtin_extractors.at(spec)) extractors.emplace_back(name, &prog);
  for (size_t i = 0; i < p.images.size(); ++i) {
    // A policy's extractor named like one of Kyverno's replaces it, as in Kyverno's map.
    std::erase_if(extractors, [&](const auto& e) { return e.first == p.images[i].name; });
    extractors.emplace_back(p.images[i].name, &c.images[i]);
  }
  std::map<std::string, std::vector<std::string>> categories;
  std::vector<std::string> selected;
  for (const auto& [name, prog] : extractors) {
    auto r = prog->evaluate(vars);
    if (!r.ok()) return error(fmt::format("images.{}: {}", name, r.error().message));
    if (r->value.is_error()) return error(fmt::format("images.{}: {}", name, r->value.error_message()));
    if (!r->value.is(cel::Kind::kList)) return error(fmt::format("images.{}: expected a list of strings", name));
    auto& list = categories[name];  // present even when empty
    for (const auto& v : r->value.as_list()) {
      if (!v.is(cel::Kind::kString)) return error(fmt::format("images.{}: expected a list of strings", name));
      std::string problem;
      if (image_selected(p, v.as_string(), &problem)) {
        list.push_back(v.as_string());
        selected.push_back(v.as_string());
      } else if (!problem.empty()) {
        return error(problem);
      }
    }
  }
  if (p.verify_digest) {
    for (const auto& image : selected) {
      auto ref = oci::parse_reference(image);
      if (!ref.ok()) return error(fmt::format("failed to parse image reference {}: {}", image, ref.error().message));
      if (!ref->digest) return finish(RuleStatus::kFail, fmt::format("image {} does not have a digest", image));
    }
  }
  // Every selected image is read before the validations run, as Kyverno's image context does.
  for (const auto& image : selected) {
    auto data = image_data_for(state, image);
    if (!data.ok()) return error(data.error().message);
  }

  cel::Map images;
  for (const auto& [name, list] : categories) {
    cel::List l;
    for (const auto& s : list) l.push_back(cel::Value::string(s));
    images.insert(cel::Value::string(name), cel::Value::list(std::move(l)));
  }
  vars.bind("images", cel::Value::map(std::move(images)));
  cel::Map attestations;
  for (const auto& a : p.attestations) attestations.insert(cel::Value::string(a.name), cel::Value::string(a.name));
  vars.bind("attestations", cel::Value::map(std::move(attestations)));
  cel::Map attestors;
  for (size_t i = 0; i < p.attestors.size(); ++i)
    attestors.insert(cel::Value::string(p.attestors[i].name), resolved_attestor(p.attestors[i], c.attestors[i], vars));
  vars.bind("attestors", cel::Value::map(std::move(attestors)));
  vars.bind("image", image_policy_internal::image_data_context());

  for (size_t i = 0; i < c.validations.size(); ++i) {
    auto r = c.validations[i].evaluate(vars);
    if (!r.ok()) return error(r.error().message);
    if (r->value.is_error()) return error(r->value.error_message());
    if (!r->value.is(cel::Kind::kBool))
      return finish(RuleStatus::kError, fmt::format("error: expected a bool, got {}", r->value.type_name()));
    if (r->value.as_bool()) continue;
    std::string message = p.validations[i].message;
    if (c.messages[i]) {
      auto m = c.messages[i]->evaluate(vars);
      if (!m.ok()) message = fmt::format("failed to evaluate message expression: {}", m.error().message);
      else if (m->value.is_error()) message = fmt::format("failed to evaluate message expression: {}", m->value.error_message());
      else if (!m->value.is(cel::Kind::kString))
        message = fmt::format("failed to convert message expression to string: got {}", m->value.type_name());
      else message = m->value.as_string();
    }
    if (message.empty()) message = fmt::format("CEL expression validation failed at index {}", i);
    for (size_t j = 0; j < c.audit_annotations.size(); ++j) {
      auto a = c.audit_annotations[j].evaluate(vars);
      if (!a.ok() || a->value.is_error())
        return error(fmt::format("failed to evaluate auditAnnotation '{}': {}", p.audit_annotations[j].name,
                                 a.ok() ? a->value.error_message() : a.error().message));
    }
    return finish(RuleStatus::kFail, std::move(message));
  }
  for (size_t j = 0; j < c.audit_annotations.size(); ++j) {
    auto a = c.audit_annotations[j].evaluate(vars);
    if (!a.ok() || a->value.is_error())
      return error(fmt::format("failed to evaluate auditAnnotation '{}': {}", p.audit_annotations[j].name,
                               a.ok() ? a->value.error_message() : a.error().message));
  }
  // required: the validations passed, but an image no attestor verified is not admitted. With
  // the request's ledger, the other policies' checks count too, once they have all run.
  if (state.ledger) {
    for (const auto& image : selected) result.images.emplace_back(image, RuleStatus::kPass);
    return finish(RuleStatus::kPass, "success");
  }
  if (std::string failure = required_failure(p, selected, state.verified); !failure.empty())
    return finish(RuleStatus::kFail, std::move(failure));
  return finish(RuleStatus::kPass, "success");
}

void settle_required(const ImageValidatingPolicy& p, RuleResult& result, const ImageVerificationLedger& ledger) {
  if (result.status != RuleStatus::kPass) return;
  std::vector<std::string> selected;
  for (const auto& [image, status] : result.images) selected.push_back(image);
  if (std::string failure = required_failure(p, selected, ledger.verified); !failure.empty()) {
    result.status = RuleStatus::kFail;
    result.message = std::move(failure);
  }
}

DigestMutation mutate_image_digests(const ImageValidatingPolicy& p, const Request& request, ImagePolicyVerifier* verifier) {
  DigestMutation out;
  if (!p.mutate_digest) return out;
  const auto& c = *p.compiled;
  cel_internal::RequestFacts f = cel_internal::request_facts(request);
  if (!cel_internal::constraints_match(p.match, f, request)) {
    const ImageValidatingPolicy* variant = autogen_variant(p, f, request);
    return variant ? mutate_image_digests(*variant, request, verifier) : out;
  }
  RuleResult result;
  result.policy = p.name;
  result.rule = "mutateDigest";
  result.type = "ImageVerify";
  result.status = RuleStatus::kError;
  result.action = has_action(p, "Deny") ? FailureAction::kEnforce : FailureAction::kAudit;
  cel::Activation vars;
  cel_internal::bind_admission_variables(request, f, vars);
  for (size_t i = 0; i < c.match_conditions.size(); ++i) {
    auto r = c.match_conditions[i].evaluate(vars);
    if (r.ok() && r->value.is(cel::Kind::kBool)) {
      if (!r->value.as_bool()) return out;
      continue;
    }
    // Errors are the validating webhook's to report.
    return out;
  }
  std::vector<std::string> errors;
  for (const auto& ci : engine_internal::container_images(request.object)) {
    auto info = kyverno_image_info(ci.image);
    if (!info.ok() || !info->digest.empty()) continue;
    const std::string& image = info->reference_with_tag;
    std::string problem;
    if (!image_selected(p, image, &problem)) {
      if (!problem.empty()) errors.push_back(problem);
      continue;
    }
    if (!verifier) {
      errors.push_back(fmt::format("failed to resolve digest for image {}: no registry access", image));
      continue;
    }
    auto digest = verifier->resolve_digest(image, p.allow_insecure_registry);
    if (!digest.ok()) {
      errors.push_back(fmt::format("failed to resolve digest for image {}: {}", image, digest.error().message));
      continue;
    }
    out.patches.push_back(bj::object{{"op", "replace"}, {"path", ci.pointer}, {"value", image + "@" + *digest}});
  }
  if (!errors.empty()) {
    std::string joined;
    for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
    result.message = "failed to update digest: " + joined;
    out.error = std::move(result);
  }
  return out;
}

// gobwas/glob without separators: braces are expanded into alternatives first (bounded), then
// each alternative is matched with backtracking over `*`.
namespace {

bool glob_match_simple(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0, star_p = std::string_view::npos, star_t = 0;
  auto match_one = [&](size_t& i, char ch) -> std::optional<bool> {  // advances i past the token
    char pc = p[i];
    if (pc == '?') { ++i; return true; }
    if (pc == '\\' && i + 1 < p.size()) { i += 2; return p[i - 1] == ch; }
    if (pc == '[') {
      size_t j = i + 1;
      bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
      if (negate) ++j;
      bool found = false;
      size_t start = j;
      while (j < p.size() && (p[j] != ']' || j == start)) {
        if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
          if (ch >= p[j] && ch <= p[j + 2]) found = true;
          j += 3;
        } else {
          if (ch == p[j]) found = true;
          ++j;
        }
      }
      if (j >= p.size()) {  // no closing bracket: a literal '['
        ++i;
        return ch == '[';
      }
      i = j + 1;
      return found != negate;
    }
    ++i;
    return pc == ch;
  };
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      while (pi < p.size() && p[pi] == '*') ++pi;
      star_p = pi;
      star_t = ti;
      continue;
    }
    if (pi < p.size()) {
      size_t next = pi;
      auto m = match_one(next, t[ti]);
      if (m && *m) {
        pi = next;
        ++ti;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    ti = ++star_t;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// Expands the first {a,b} group of `p` (recursively); false when there are too many.
bool expand_braces(const std::string& p, std::vector<std::string>& out, size_t limit) {
  size_t open = std::string::npos;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') { ++i; continue; }
    if (p[i] == '{') { open = i; break; }
  }
  if (open == std::string::npos) {
    if (out.size() >= limit) return false;
    out.push_back(p);
    return true;
  }
  int depth = 0;
  size_t close = std::string::npos;
  std::vector<size_t> commas;
  for (size_t i = open; i < p.size(); ++i) {
    if (p[i] == '\\') { ++i; continue; }
    if (p[i] == '{') ++depth;
    else if (p[i] == '}' && --depth == 0) { close = i; break; }
    else if (p[i] == ',' && depth == 1) commas.push_back(i);
  }
  if (close == std::string::npos) {
    if (out.size() >= limit) return false;
    out.push_back(p);
    return true;
  }
  size_t start = open + 1;
  commas.push_back(close);
  for (size_t c : commas) {
    std::string alt = p.substr(0, open) + p.substr(start, c - start) + p.substr(close + 1);
    if (!expand_braces(alt, out, limit)) return false;
    start = c + 1;
  }
  return true;
}

}  // namespace

bool image_glob_match(std::string_view pattern, std::string_view text) {
  std::vector<std::string> alternatives;
  if (!expand_braces(std::string(pattern), alternatives, 256)) return false;
  for (const auto& a : alternatives)
    if (glob_match_simple(a, text)) return true;
  return false;
}

}  // namespace vouch::policy
