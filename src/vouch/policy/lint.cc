#include "vouch/policy/lint.h"

#include <fmt/format.h>

namespace vouch::policy {

namespace {

// Characters that only mean something in a regular expression (Kyverno's subject and issuer
// are matched with `*` as the only wildcard).
bool looks_like_regexp(std::string_view s) {
  if (s.find('*') != std::string_view::npos) return false;
  if (s.find_first_of("\\^$+()[]|{}") != std::string_view::npos) return true;
  return s.find(".?") != std::string_view::npos;
}

bool matches_anything(std::string_view re) {
  return re == ".*" || re == "^.*$" || re == ".+" || re == "^.+$" || re == "(.*)" || re == "^(.*)$";
}

struct Linter {
  std::string policy;
  std::vector<LintFinding> out;

  void add(std::string path, std::string message) { out.push_back({policy, std::move(path), std::move(message)}); }

  void keyless(const KeylessAttestor& k, const std::string& at) {
    if (looks_like_regexp(k.subject))
      add(at + ".subject",
          fmt::format("'{}' looks like a regular expression but is compared literally (only * is a wildcard), so it "
                      "never matches; use subjectRegExp",
                      k.subject));
    if (looks_like_regexp(k.issuer))
      add(at + ".issuer",
          fmt::format("'{}' looks like a regular expression but is compared literally (only * is a wildcard), so it "
                      "never matches; use issuerRegExp",
                      k.issuer));
    if (matches_anything(k.subject_regexp))
      add(at + ".subjectRegExp",
          fmt::format("'{}' accepts any signer identity: anyone who can get a certificate from the issuer passes",
                      k.subject_regexp));
    if (matches_anything(k.issuer_regexp))
      add(at + ".issuerRegExp", fmt::format("'{}' accepts a certificate from any OIDC issuer", k.issuer_regexp));
  }

  void attestor_sets(const std::vector<AttestorSet>& sets, const std::string& at) {
    for (size_t i = 0; i < sets.size(); ++i)
      for (size_t j = 0; j < sets[i].entries.size(); ++j)
        if (sets[i].entries[j].keyless)
          keyless(*sets[i].entries[j].keyless, fmt::format("{}.attestors[{}].entries[{}].keyless", at, i, j));
  }

  void verify_images(const ImageVerification& v, const std::string& at) {
    for (size_t i = 0; i < v.image_references.size(); ++i)
      if (v.image_references[i] == "*")
        add(fmt::format("{}.imageReferences[{}]", at, i),
            "'*' selects every image in the cluster, including system images signed by no one you trust; name "
            "your registries (registry.example.com/team/*)");
    if (!v.mutate_digest && !v.verify_digest)
      add(at, "mutateDigest and verifyDigest are both false: the verified tag is not pinned, so the pod can run other "
              "content pushed under the same tag");
    attestor_sets(v.attestors, at);
    for (size_t i = 0; i < v.attestations.size(); ++i)
      attestor_sets(v.attestations[i].attestors, fmt::format("{}.attestations[{}]", at, i));
  }
};

bool enforces(const Policy& p) {
  if (p.failure_action == FailureAction::kEnforce) return true;
  for (const auto& r : p.rules) {
    if (r.validate && r.validate->failure_action == FailureAction::kEnforce) return true;
    for (const auto& v : r.verify_images)
      if (v.failure_action == FailureAction::kEnforce) return true;
  }
  return false;
}

}  // namespace

std::vector<LintFinding> lint_policy(const Policy& policy) {
  Linter l;
  l.policy = policy.kind == "Policy" ? fmt::format("Policy {}/{}", policy.ns, policy.name)
                                     : fmt::format("{} {}", policy.kind, policy.name);
  if (policy.failure_policy == "Ignore" && enforces(policy))
    l.add("spec.failurePolicy",
          "Enforce with failurePolicy Ignore: whenever the webhook cannot answer (down, timed out), requests are "
          "admitted unchecked; use failurePolicy Fail");
  size_t index = 0;
  for (const auto& rule : policy.rules) {
    if (rule.autogen) continue;
    std::string at = fmt::format("spec.rules[{}]", index);
    for (size_t i = 0; i < rule.verify_images.size(); ++i)
      l.verify_images(rule.verify_images[i], fmt::format("{}.verifyImages[{}]", at, i));
    bool cel_rule = rule.validate && !rule.validate->cel.empty();
    if (!cel_rule && rule.raw.contains("celPreconditions"))
      l.add(at + ".celPreconditions",
            "read only by validate.cel rules: Kyverno evaluates this rule without them, so they exclude nothing; use "
            "preconditions");
    if (const auto* ivs = rule.raw.if_contains("verifyImages"); ivs && ivs->is_array()) {
      for (size_t i = 0; i < ivs->get_array().size(); ++i) {
        const auto& iv = ivs->get_array()[i];
        const auto* creds = iv.is_object() ? iv.get_object().if_contains("imageRegistryCredentials") : nullptr;
        if (!creds || !creds->is_object()) continue;
        std::string cat = fmt::format("{}.verifyImages[{}].imageRegistryCredentials", at, i);
        if (const auto* sec = creds->get_object().if_contains("secrets"); sec && sec->is_array() && !sec->get_array().empty())
          l.add(cat + ".secrets",
                "Kubernetes secrets are read by the cluster's Kyverno; vouch reads registry credentials from the "
                "docker config ($DOCKER_CONFIG/config.json and its credential helpers), so log in there for vouch");
        if (const auto* ins = creds->get_object().if_contains("allowInsecureRegistry"); ins && ins->is_bool() && ins->get_bool())
          l.add(cat + ".allowInsecureRegistry",
                "plain-HTTP or unverified-TLS registries are allowed for this rule; vouch allows them only with "
                "--allow-insecure-registry");
      }
    }
    ++index;
  }
  return std::move(l.out);
}

}  // namespace vouch::policy
