// The verifyImages handler (Kyverno's pkg/engine image verification): the images a rule
// selects, their signatures and attestations through the ImageVerifier, attestation
// conditions, and the digest a verified tag is pinned to.
#include "engine_internal.h"

#include <algorithm>

#include <fmt/format.h>

#include "kyverno_internal.h"
#include "vouch/policy/image_info.h"

namespace vouch::policy::engine_internal {

namespace kv = jmespath::kyverno;

namespace {

bool image_selected(const ImageVerification& iv, const std::string& image) {
  auto info = kyverno_image_info(image);
  std::string normalized = info.ok() ? info->reference : image;
  auto matches = [&](const std::vector<std::string>& patterns) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return kv::wildcard(p, image) || kv::wildcard(p, normalized); });
  };
  return matches(iv.image_references) && !matches(iv.skip_image_references);
}

// Records an image's outcome when its turn in the loop ends, however it ends.
struct ImageOutcomeRecorder {
  std::vector<std::pair<std::string, RuleStatus>>& images;
  const std::vector<std::string>& failures;
  const std::vector<bj::object>& patches;
  const std::string& image;
  size_t failures_before = failures.size();
  size_t patches_before = patches.size();
  ~ImageOutcomeRecorder() {
    std::string pinned = image;
    if (patches.size() > patches_before) {
      if (const auto* v = patches.back().if_contains("value"); v && v->is_string()) pinned = std::string(v->get_string());
    }
    images.emplace_back(std::move(pinned), failures.size() == failures_before ? RuleStatus::kPass : RuleStatus::kFail);
  }
};

}  // namespace

std::optional<Outcome> verify_images(const Engine& engine, ImageVerifier* verifier, const Rule& rule,
                                     const Request& request, EvalContext& ctx, std::vector<bj::object>& patches,
                                     std::vector<std::pair<std::string, RuleStatus>>& images) {
  std::vector<std::string> failures;
  bool any_image = false;
  bool errored = false;
  auto extracted = rule_images(rule, request.object, ctx);
  if (!extracted.ok()) return Outcome{RuleStatus::kError, "failed to extract images: " + extracted.error().message};
  for (const auto& iv : rule.verify_images) {
    for (const auto& ci : *extracted) {
      if (!image_selected(iv, ci.image)) continue;
      any_image = true;
      ImageOutcomeRecorder record{images, failures, patches, ci.image};
      if (iv.attestors.empty() && iv.attestations.empty()) {
        // Only the digest requirement: checked on the reference itself.
        if (iv.verify_digest && ci.image.find('@') == std::string::npos)
          failures.push_back(fmt::format("missing digest for {}", ci.image));
        else if (iv.required)
          failures.push_back(fmt::format("image {} is not verified: verification is required and the rule has no "
                                         "attestors", ci.image));
        continue;
      }
      if (!verifier) {
        errored = true;
        failures.push_back(fmt::format("failed to verify image {}: no image verifier is available", ci.image));
        continue;
      }
      bool has_digest = ci.image.find('@') != std::string::npos;
      std::string verified_digest;  // what the reference resolved to, from any verification
      size_t failures_before = failures.size();
      for (size_t s = 0; s < iv.attestors.size(); ++s) {
        auto r = verifier->verify(ci.image, iv, iv.attestors[s], nullptr);
        if (!r.ok()) {
          errored = true;
          failures.push_back(fmt::format("failed to verify image {}: .attestors[{}]: {}", ci.image, s, r.error().message));
        } else if (!r->verified) {
          failures.push_back(fmt::format("failed to verify image {}: .attestors[{}]: {}", ci.image, s, r->reason));
        } else if (!r->digest.empty()) {
          verified_digest = r->digest;
        }
      }
      for (size_t a = 0; a < iv.attestations.size(); ++a) {
        const Attestation& att = iv.attestations[a];
        std::vector<AttestorSet> sets = att.attestors.empty() ? iv.attestors : att.attestors;
        if (sets.empty()) sets.push_back(AttestorSet{});
        for (size_t s = 0; s < sets.size(); ++s) {
          auto r = verifier->verify(ci.image, iv, sets[s], &att);
          if (!r.ok()) {
            errored = true;
            failures.push_back(fmt::format("failed to verify image {}: .attestations[{}].attestors[{}]: {}", ci.image, a, s,
                                           r.error().message));
            continue;
          }
          if (!r->verified) {
            failures.push_back(fmt::format("failed to verify image {}: .attestations[{}].attestors[{}]: {}", ci.image, a, s,
                                           r->reason));
            continue;
          }
          if (!r->digest.empty()) verified_digest = r->digest;
          for (const auto& predicate : r->predicates) {
            for (const auto& conds : att.conditions) {
              EvalContext pctx{engine, predicate.is_object() ? predicate : bj::value(bj::object{}), false};
              for (const auto& kvp : ctx.obj()) {
                if (!pctx.obj().contains(kvp.key())) pctx.obj()[kvp.key()] = kvp.value();
              }
              auto c = evaluate_conditions(pctx, conds);
              if (!c.ok()) {
                errored = true;
                failures.push_back(fmt::format("failed to evaluate attestation conditions for image {}: {}", ci.image, c.error().message));
              } else if (!c->value) {
                failures.push_back(fmt::format("image attestations verification failed, verifiedCount: 0, requiredCount: 1, "
                                               "error: .attestations[{}].attestors[{}]: {}", a, s,
                                               c->message.empty() ? "attestation checks failed" : c->message));
              }
            }
          }
        }
      }
      if (failures.size() != failures_before || has_digest) continue;
      // Verified by tag: pin the tag to the digest that verified (mutateDigest), or, when
      // the rule may not change the resource, require the digest (verifyDigest).
      bool patched = std::any_of(patches.begin(), patches.end(),
                                 [&](const bj::object& p) { return p.at("path") == bj::value(ci.pointer); });
      if (patched) continue;
      if (iv.mutate_digest && !verified_digest.empty()) {
        patches.push_back(bj::object{{"op", "replace"}, {"path", ci.pointer},
                                            {"value", ci.image + "@" + verified_digest}});
      } else if (iv.verify_digest) {
        failures.push_back(fmt::format("missing digest for {}", ci.image));
      }
    }
  }
  if (!any_image) return std::nullopt;  // no image of the resource is selected: the rule does not apply
  if (!failures.empty()) patches.clear();
  if (failures.empty()) return Outcome{RuleStatus::kPass, "verified image signatures"};
  return Outcome{errored ? RuleStatus::kError : RuleStatus::kFail, join_non_empty(failures, "; ")};
}

}  // namespace vouch::policy::engine_internal
