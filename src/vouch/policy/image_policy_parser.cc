// Reading ImageValidatingPolicy (api/policies.kyverno.io/*/image_validating_policy*.go and the
// CRD's schema): every field is checked against the schema, an unknown one is an error naming
// its path, and a field whose meaning vouch cannot honour is refused rather than ignored.
#include <algorithm>

#include <fmt/format.h>

#include "cel_autogen.h"
#include "cel_internal.h"
#include "image_policy_internal.h"
#include "json_field.h"
#include "vouch/policy/image_policy.h"

namespace vouch::policy {
namespace {

Result<IvpolStringSource> string_source(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object({"value", "expression"}));
  IvpolStringSource s;
  VOUCH_ASSIGN_OR_RETURN(s.value, f.at("value").str());
  VOUCH_ASSIGN_OR_RETURN(s.expression, f.at("expression").str());
  if (!s.value.empty() && !s.expression.empty()) return f.err("value and expression are exclusive");
  return s;
}

Result<IvpolCosign> cosign_attestor(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(
      f.object({"key", "keyless", "certificate", "ctlog", "source", "annotations", "trustedRoot", "tuf"}));
  IvpolCosign c;
  if (JsonField k = f.at("key"); k.present()) {
    VOUCH_RETURN_IF_ERROR(k.object({"data", "expression", "hashAlgorithm", "kms"}));
    c.has_key = true;
    VOUCH_ASSIGN_OR_RETURN(c.key_data, k.at("data").str());
    VOUCH_ASSIGN_OR_RETURN(c.key_expression, k.at("expression").str());
    VOUCH_ASSIGN_OR_RETURN(c.hash_algorithm, k.at("hashAlgorithm").str());
    VOUCH_ASSIGN_OR_RETURN(std::string kms, k.at("kms").str());
    if (!kms.empty())
      return k.at("kms").err("KMS keys are not supported (give the public key in data or expression)");
    if (c.key_data.empty() && c.key_expression.empty()) return k.err("one of data or expression is required");
    if (!c.key_data.empty() && !c.key_expression.empty()) return k.err("data and expression are exclusive");
    if (!c.hash_algorithm.empty() && c.hash_algorithm != "sha256")
      return k.at("hashAlgorithm").err(fmt::format("{} is not supported (sha256 only)", c.hash_algorithm));
  }
  if (JsonField k = f.at("keyless"); k.present()) {
    VOUCH_RETURN_IF_ERROR(k.object({"identities", "roots", "additionalExtensions"}));
    c.has_keyless = true;
    VOUCH_ASSIGN_OR_RETURN(auto ids, k.at("identities").list());
    if (ids.empty()) return k.at("identities").err("at least one identity is required");
    for (const auto& i : ids) {
      VOUCH_RETURN_IF_ERROR(i.object({"issuer", "subject", "issuerRegExp", "subjectRegExp", "subjectExpression"}));
      IvpolIdentity id;
      VOUCH_ASSIGN_OR_RETURN(id.issuer, i.at("issuer").str());
      VOUCH_ASSIGN_OR_RETURN(id.subject, i.at("subject").str());
      VOUCH_ASSIGN_OR_RETURN(id.issuer_regexp, i.at("issuerRegExp").str());
      VOUCH_ASSIGN_OR_RETURN(id.subject_regexp, i.at("subjectRegExp").str());
      VOUCH_ASSIGN_OR_RETURN(std::string subject_expression, i.at("subjectExpression").str());
      if (!subject_expression.empty()) return i.at("subjectExpression").err("is not supported");
      if (id.issuer.empty() && id.issuer_regexp.empty()) return i.err("issuer or issuerRegExp is required");
      if (id.subject.empty() && id.subject_regexp.empty()) return i.err("subject or subjectRegExp is required");
      c.identities.push_back(std::move(id));
    }
    VOUCH_ASSIGN_OR_RETURN(c.roots, k.at("roots").str());
    if (!c.roots.empty())
      return k.at("roots").err("is not supported (Fulcio roots come from the trusted root: trustedRoot or --trusted-root)");
    VOUCH_ASSIGN_OR_RETURN(auto extensions, k.at("additionalExtensions").string_map());
    if (!extensions.empty()) return k.at("additionalExtensions").err("is not supported");
  }
  if (JsonField k = f.at("certificate"); k.present()) {
    VOUCH_RETURN_IF_ERROR(k.object({"cert", "certChain"}));
    c.has_certificate = true;
    VOUCH_ASSIGN_OR_RETURN(c.cert, string_source(k.at("cert")));
    VOUCH_ASSIGN_OR_RETURN(c.cert_chain, string_source(k.at("certChain")));
    if (c.cert.empty()) return k.at("cert").err("required");
  }
  if (int(c.has_key) + int(c.has_keyless) + int(c.has_certificate) != 1)
    return f.err("exactly one of key, keyless or certificate is required");
  if (JsonField k = f.at("ctlog"); k.present()) {
    VOUCH_RETURN_IF_ERROR(
        k.object({"url", "rekorPubKey", "ctLogPubKey", "tsaCertChain", "insecureIgnoreTlog", "insecureIgnoreSCT"}));
    c.has_ctlog = true;
    VOUCH_ASSIGN_OR_RETURN(c.rekor_url, k.at("url").str());
    VOUCH_ASSIGN_OR_RETURN(c.rekor_pub_key, k.at("rekorPubKey").str());
    VOUCH_ASSIGN_OR_RETURN(c.ctlog_pub_key, k.at("ctLogPubKey").str());
    VOUCH_ASSIGN_OR_RETURN(c.tsa_cert_chain, k.at("tsaCertChain").str());
    VOUCH_ASSIGN_OR_RETURN(c.insecure_ignore_tlog, k.at("insecureIgnoreTlog").boolean(false));
    VOUCH_ASSIGN_OR_RETURN(c.insecure_ignore_sct, k.at("insecureIgnoreSCT").boolean(false));
    const char* from_root = "is not supported (the log keys and TSA certificates come from the trusted root: trustedRoot or --trusted-root)";
    if (!c.rekor_pub_key.empty()) return k.at("rekorPubKey").err(from_root);
    if (!c.ctlog_pub_key.empty()) return k.at("ctLogPubKey").err(from_root);
    if (!c.tsa_cert_chain.empty()) return k.at("tsaCertChain").err(from_root);
  }
  if (JsonField k = f.at("source"); k.present()) {
    VOUCH_RETURN_IF_ERROR(k.object({"repository", "tagPrefix", "PullSecrets"}));
    VOUCH_ASSIGN_OR_RETURN(c.source_repository, k.at("repository").str());
    VOUCH_ASSIGN_OR_RETURN(c.source_tag_prefix, k.at("tagPrefix").str());
    if (!c.source_tag_prefix.empty()) return k.at("tagPrefix").err("is not supported");
    VOUCH_ASSIGN_OR_RETURN(auto secrets, k.at("PullSecrets").list());
    if (!secrets.empty())
      return k.at("PullSecrets").err("is not supported (registry credentials come from the docker configuration)");
  }
  VOUCH_ASSIGN_OR_RETURN(c.annotations, f.at("annotations").string_map());
  VOUCH_ASSIGN_OR_RETURN(c.trusted_root, string_source(f.at("trustedRoot")));
  if (f.at("tuf").present())
    return f.at("tuf").err("is not supported (give trustedRoot, --trusted-root, or run vouch initialize --mirror)");
  return c;
}

Result<IvpolAttestor> attestor(const JsonField& f) {
  VOUCH_RETURN_IF_ERROR(f.object({"name", "cosign", "notary"}));
  IvpolAttestor a;
  a.raw = *f.v;
  VOUCH_ASSIGN_OR_RETURN(a.name, f.at("name").str(true));
  if (f.at("cosign").present()) {
    VOUCH_ASSIGN_OR_RETURN(a.cosign, cosign_attestor(f.at("cosign")));
  }
  if (JsonField n = f.at("notary"); n.present()) {
    VOUCH_RETURN_IF_ERROR(n.object({"certs", "tsaCerts"}));
    IvpolNotary notary;
    VOUCH_ASSIGN_OR_RETURN(notary.certs, string_source(n.at("certs")));
    VOUCH_ASSIGN_OR_RETURN(notary.tsa_certs, string_source(n.at("tsaCerts")));
    if (notary.certs.empty()) return n.at("certs").err("required");
    a.notary = std::move(notary);
  }
  if (a.cosign.has_value() == a.notary.has_value()) return f.err("exactly one of cosign or notary is required");
  return a;
}

}  // namespace

namespace image_policy_internal {

Result<IvpolAttestor> parse_attestor(const bj::value& value, std::string path) { return attestor(JsonField{&value, std::move(path)}); }

}  // namespace image_policy_internal

bool is_image_policy_kind(std::string_view api_version, std::string_view kind) {
  return kind == "ImageValidatingPolicy" &&
         (api_version == "policies.kyverno.io/v1alpha1" || api_version == "policies.kyverno.io/v1beta1" ||
          api_version == "policies.kyverno.io/v1");
}

Result<Policy> parse_image_policy(const bj::value& doc) {
  JsonField root{&doc, ""};
  if (!doc.is_object()) return invalid_input("expected an object");
  VOUCH_RETURN_IF_ERROR(root.object({"apiVersion", "kind", "metadata", "spec", "status"}));
  ImageValidatingPolicy p;
  VOUCH_ASSIGN_OR_RETURN(p.api_version, root.at("apiVersion").str(true));
  VOUCH_ASSIGN_OR_RETURN(std::string kind, root.at("kind").str(true));
  if (!is_image_policy_kind(p.api_version, kind))
    return invalid_input(fmt::format("apiVersion {} kind {}: not an ImageValidatingPolicy", p.api_version, kind));
  JsonField meta = root.at("metadata");
  if (!meta.v->is_object()) return meta.err("required");
  VOUCH_ASSIGN_OR_RETURN(p.name, meta.at("name").str(true));
  std::map<std::string, std::string> annotations;
  VOUCH_ASSIGN_OR_RETURN(annotations, meta.at("annotations").string_map());

  JsonField spec = root.at("spec");
  if (!spec.v->is_object()) return spec.err("required");
  VOUCH_RETURN_IF_ERROR(spec.object({"matchConstraints", "matchConditions", "variables", "validations",
                                     "validationActions", "auditAnnotations", "failurePolicy", "matchImageReferences",
                                     "images", "attestors", "attestations", "credentials", "validationConfigurations",
                                     "evaluation", "webhookConfiguration", "autogen"}));
  JsonField mc = spec.at("matchConstraints");
  if (!mc.present()) return mc.err("a matchConstraints with at least one resource rule is required");
  VOUCH_ASSIGN_OR_RETURN(p.match, cel_internal::parse_match_constraints(mc));
  if (p.match.resource_rules.empty())
    return mc.at("resourceRules").err("a matchConstraints with at least one resource rule is required");
  VOUCH_ASSIGN_OR_RETURN(p.match_conditions, cel_internal::parse_named_expressions(spec.at("matchConditions"), "name", "expression"));
  VOUCH_ASSIGN_OR_RETURN(p.variables, cel_internal::parse_named_expressions(spec.at("variables"), "name", "expression"));
  VOUCH_ASSIGN_OR_RETURN(p.audit_annotations, cel_internal::parse_named_expressions(spec.at("auditAnnotations"), "key", "valueExpression"));
  VOUCH_ASSIGN_OR_RETURN(p.images, cel_internal::parse_named_expressions(spec.at("images"), "name", "expression"));

  VOUCH_ASSIGN_OR_RETURN(p.validations, cel_internal::parse_validations(spec.at("validations")));
  VOUCH_ASSIGN_OR_RETURN(p.validation_actions, spec.at("validationActions").strings());
  for (const auto& a : p.validation_actions)
    if (a != "Deny" && a != "Audit" && a != "Warn")
      return spec.at("validationActions").err(fmt::format("unknown action {}", a));
  VOUCH_ASSIGN_OR_RETURN(p.failure_policy, spec.at("failurePolicy").str());
  if (p.failure_policy.empty()) p.failure_policy = "Fail";
  if (p.failure_policy != "Fail" && p.failure_policy != "Ignore")
    return spec.at("failurePolicy").err(fmt::format("expected Fail or Ignore, got {}", p.failure_policy));

  VOUCH_ASSIGN_OR_RETURN(auto refs, spec.at("matchImageReferences").list());
  for (const auto& r : refs) {
    VOUCH_RETURN_IF_ERROR(r.object({"glob", "expression"}));
    IvpolMatchImageReference m;
    VOUCH_ASSIGN_OR_RETURN(m.glob, r.at("glob").str());
    VOUCH_ASSIGN_OR_RETURN(m.expression, r.at("expression").str());
    if (m.glob.empty() == m.expression.empty()) return r.err("exactly one of glob or expression is required");
    p.match_image_references.push_back(std::move(m));
  }
  // Required by the schema, though it may be empty (a policy that only reads image data).
  if (!spec.at("attestors").present()) return spec.at("attestors").err("required");
  VOUCH_ASSIGN_OR_RETURN(auto attestors, spec.at("attestors").list());
  for (const auto& a : attestors) {
    VOUCH_ASSIGN_OR_RETURN(auto parsed, attestor(a));
    for (const auto& other : p.attestors)
      if (other.name == parsed.name) return a.at("name").err(fmt::format("duplicate attestor name {}", parsed.name));
    p.attestors.push_back(std::move(parsed));
  }
  VOUCH_ASSIGN_OR_RETURN(auto attestations, spec.at("attestations").list());
  for (const auto& a : attestations) {
    VOUCH_RETURN_IF_ERROR(a.object({"name", "intoto", "referrer"}));
    IvpolAttestation at;
    VOUCH_ASSIGN_OR_RETURN(at.name, a.at("name").str(true));
    if (a.at("intoto").present()) {
      VOUCH_RETURN_IF_ERROR(a.at("intoto").object({"type"}));
      VOUCH_ASSIGN_OR_RETURN(at.intoto_type, a.at("intoto").at("type").str(true));
    }
    if (a.at("referrer").present()) {
      VOUCH_RETURN_IF_ERROR(a.at("referrer").object({"type"}));
      VOUCH_ASSIGN_OR_RETURN(at.referrer_type, a.at("referrer").at("type").str(true));
    }
    if (at.intoto_type.empty() == at.referrer_type.empty()) return a.err("exactly one of intoto or referrer is required");
    for (const auto& other : p.attestations)
      if (other.name == at.name) return a.at("name").err(fmt::format("duplicate attestation name {}", at.name));
    p.attestations.push_back(std::move(at));
  }
  if (JsonField c = spec.at("credentials"); c.present()) {
    VOUCH_RETURN_IF_ERROR(c.object({"allowInsecureRegistry", "providers", "secrets"}));
    VOUCH_ASSIGN_OR_RETURN(p.allow_insecure_registry, c.at("allowInsecureRegistry").boolean(false));
    VOUCH_ASSIGN_OR_RETURN(auto providers, c.at("providers").strings());
    for (const auto& pr : providers)
      if (pr != "default")
        return c.at("providers").err(fmt::format(
            "provider {} is not supported (registry credentials come from the docker configuration: default)", pr));
    VOUCH_ASSIGN_OR_RETURN(auto secrets, c.at("secrets").strings());
    if (!secrets.empty())
      return c.at("secrets").err("is not supported (registry credentials come from the docker configuration)");
  }
  if (JsonField v = spec.at("validationConfigurations"); v.present()) {
    VOUCH_RETURN_IF_ERROR(v.object({"mutateDigest", "verifyDigest", "required"}));
    VOUCH_ASSIGN_OR_RETURN(p.mutate_digest, v.at("mutateDigest").boolean(true));
    VOUCH_ASSIGN_OR_RETURN(p.verify_digest, v.at("verifyDigest").boolean(true));
    VOUCH_ASSIGN_OR_RETURN(p.required, v.at("required").boolean(true));
  }
  VOUCH_ASSIGN_OR_RETURN(auto settings, cel_internal::parse_policy_settings(spec, false));
  // spec.autogen.podControllers: the policy's variants for Pod controllers (cel_autogen.h).
  if (JsonField a = spec.at("autogen"); a.present()) {
    VOUCH_RETURN_IF_ERROR(a.object({"podControllers"}));
    VOUCH_RETURN_IF_ERROR(a.at("podControllers").object({"controllers"}));
    VOUCH_ASSIGN_OR_RETURN([[maybe_unused]] auto names, a.at("podControllers").at("controllers").strings());
  }
  VOUCH_RETURN_IF_ERROR(image_policy_internal::compile_image_policy(p));
  VOUCH_ASSIGN_OR_RETURN(auto variant_specs, cel_autogen_specs(spec.v->get_object()));
  for (auto& variant_spec : variant_specs) {
    bj::object variant = doc.get_object();
    variant["spec"] = std::move(variant_spec);
    auto parsed = parse_image_policy(variant);
    if (!parsed.ok()) return invalid_input(fmt::format("autogen for Pod controllers: {}", parsed.error().message));
    p.autogen.push_back(parsed->image_policy);
  }

  Policy out;
  out.api_version = p.api_version;
  out.kind = "ImageValidatingPolicy";
  out.name = p.name;
  out.annotations = std::move(annotations);
  out.failure_policy = p.failure_policy;
  out.admission = settings.admission;
  out.background = settings.background;
  out.webhook_timeout_seconds = settings.timeout_seconds;
  out.raw = doc;
  bool deny = p.validation_actions.empty() ||
              std::find(p.validation_actions.begin(), p.validation_actions.end(), "Deny") != p.validation_actions.end();
  out.failure_action = deny ? FailureAction::kEnforce : FailureAction::kAudit;
  out.image_policy = std::make_shared<const ImageValidatingPolicy>(std::move(p));
  return out;
}

}  // namespace vouch::policy
