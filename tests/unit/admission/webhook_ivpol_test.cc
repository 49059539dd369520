// The webhook with ImageValidatingPolicy: the mutating webhook pins tags by patch without
// verifying, the validating one answers as Kyverno's ivpol handler, results are reported under
// KyvernoImageValidatingPolicy.
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/admission/policy_reports.h"
#include "vouch/admission/policy_set.h"
#include "vouch/admission/review.h"
#include "vouch/admission/verification_cache.h"
#include "vouch/admission/webhook.h"
#include "vouch/policy/image_policy.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using policy::RuleStatus;

constexpr const char* kDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

std::string ivpol(const std::string& name, const std::string& actions) {
  return fmt::format(R"yaml(apiVersion: policies.kyverno.io/v1beta1
kind: ImageValidatingPolicy
metadata: {{name: {}}}
spec:
  validationActions: [{}]
  matchConstraints:
    resourceRules:
      - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}}
  matchImageReferences: [{{glob: "registry.example/*"}}]
  attestors:
    - name: team
      cosign: {{key: {{data: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"}}}}
  validations:
    - expression: "images.containers.all(i, verifyImageSignatures(i, [attestors.team]) > 0)"
      message: "not signed by the team"
)yaml",
                     name, actions);
}

class Registry : public policy::ImagePolicyVerifier {
 public:
  std::set<std::string> signed_images;
  int verifications = 0;
  Result<bj::value> image_data(const std::string& image, bool) override { return bj::value(bj::object{{"image", image}}); }
  Result<policy::AttestorOutcome> verify_signature(const std::string& image, const policy::IvpolAttestor&, bool) override {
    ++verifications;
    policy::AttestorOutcome o;
    o.verified = signed_images.count(image) > 0;
    return o;
  }
  Result<policy::AttestorOutcome> verify_attestation(const std::string&, const policy::IvpolAttestation&,
                                                     const policy::IvpolAttestor&, bool) override {
    return policy::AttestorOutcome{};
  }
  Result<bj::value> referrer_payload(const std::string&, const std::string&, const std::string&, bool) override {
    return not_found("none");
  }
  Result<std::string> resolve_digest(const std::string& image, bool) override {
    if (image.find("missing") != std::string::npos) return not_found(fmt::format("{}: manifest unknown", image));
    return std::string(kDigest);
  }
};

AdmissionReview review(const std::string& image) {
  bj::object pod{{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", bj::object{{"name", "web"}, {"namespace", "default"}}},
                 {"spec", bj::object{{"containers", bj::array{bj::object{{"name", "app"}, {"image", image}}}}}}};
  bj::object req{{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
                 {"kind", bj::object{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                 {"resource", bj::object{{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                 {"name", "web"},
                 {"namespace", "default"},
                 {"operation", "CREATE"},
                 {"userInfo", bj::object{{"username", "admin"}}},
                 {"object", pod}};
  auto r = decode_review(bj::serialize(bj::object{
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}}));
  EXPECT_TRUE(std::holds_alternative<AdmissionReview>(r)) << std::get<ReviewError>(r).message;
  return std::get<AdmissionReview>(std::move(r));
}

struct Fixture {
  vouch::testing::TempDir tmp;
  std::vector<ReviewResults> recorded;
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  std::unique_ptr<Webhook> webhook;

  explicit Fixture(const std::vector<std::string>& docs) {
    for (size_t i = 0; i < docs.size(); ++i) std::ofstream(tmp.path() / fmt::format("p{}.yaml", i)) << docs[i];
    auto d = PolicyDirectory::open(tmp.path().string());
    EXPECT_TRUE(d.ok()) << d.error().message;
    WebhookOptions o;
    o.policies = std::move(*d);
    o.evaluation_threads = 1;
    o.image_policy_verifier = registry;
    o.on_results = [this](ReviewResults r) { recorded.push_back(std::move(r)); };
    webhook = std::make_unique<Webhook>(std::move(o));
  }
};

TEST(IvpolAdmission, MutatingWebhookPinsTagsWithoutVerifying) {
  Fixture fx({ivpol("pin", "Deny")});
  auto r = fx.webhook->evaluate(review("registry.example/app:1"), true, false);
  EXPECT_TRUE(r.allowed) << r.message;
  ASSERT_EQ(r.patch.size(), 1u);
  EXPECT_EQ(bj::serialize(r.patch[0]),
            fmt::format(R"({{"op":"replace","path":"/spec/containers/0/image","value":"registry.example/app:1@{}"}})", kDigest));
  EXPECT_EQ(fx.registry->verifications, 0);
  EXPECT_TRUE(fx.recorded.empty());
  // A tag that cannot be resolved denies under Deny, in Kyverno's words.
  auto missing = fx.webhook->evaluate(review("registry.example/missing:1"), true, false);
  EXPECT_FALSE(missing.allowed);
  EXPECT_EQ(missing.message,
            "Policy pin error: failed to update digest: failed to resolve digest for image registry.example/missing:1: "
            "registry.example/missing:1: manifest unknown");
}

TEST(IvpolAdmission, ValidatingWebhookAnswersAsKyvernosIvpolHandler) {
  Fixture fx({ivpol("deny", "Deny"), ivpol("warn", "Warn")});
  const std::string good = std::string("registry.example/app:1@") + kDigest;
  const std::string bad = std::string("registry.example/other:1@") + kDigest;
  fx.registry->signed_images = {good};
  auto ok = fx.webhook->evaluate(review(good), false, false);
  EXPECT_TRUE(ok.allowed) << ok.message;
  EXPECT_TRUE(ok.warnings.empty());
  auto denied = fx.webhook->evaluate(review(bad), false, false);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.message, "Policy deny failed: not signed by the team");
  EXPECT_EQ(denied.warnings, std::vector<std::string>{"Policy warn failed: not signed by the team"});
  // An image outside matchImageReferences is not the policy's business.
  auto elsewhere = fx.webhook->evaluate(review(std::string("docker.io/library/nginx@") + kDigest), false, false);
  EXPECT_TRUE(elsewhere.allowed) << elsewhere.message;

  ASSERT_EQ(fx.recorded.size(), 3u);
  const policy::RuleResult& fail = fx.recorded[1].results.at(0);
  EXPECT_EQ(fail.status, RuleStatus::kFail);
  RecordedResult recorded;
  recorded.result = fail;
  recorded.resource = fx.recorded[1].resource;
  bj::object entry = policy_report_result(recorded);
  EXPECT_EQ(entry.at("source"), "KyvernoImageValidatingPolicy");
  EXPECT_EQ(entry.at("properties").at("type"), "ImageVerify");
  EXPECT_EQ(entry.at("message"), "not signed by the team");
}

}  // namespace
}  // namespace vouch::admission

namespace vouch::admission {
namespace {

// The admission server puts a cache in front of the ImageValidatingPolicy registry: the second
// review of an image verifies nothing again, a tag is asked of its digest, a failure is kept
// only for the negative lifetime, and the CEL is evaluated on every review.
TEST(IvpolAdmission, CachedRegistryAnswersAreReusedAndPinnedToTheDigest) {
  vouch::testing::TempDir tmp;
  std::ofstream(tmp.path() / "p.yaml") << ivpol("deny", "Deny");
  auto d = PolicyDirectory::open(tmp.path().string());
  ASSERT_TRUE(d.ok()) << d.error().message;
  auto registry = std::make_shared<Registry>();
  const std::string pinned = std::string("registry.example/app:1@") + kDigest;
  registry->signed_images = {pinned};
  VerificationCacheOptions co;
  co.negative_ttl = std::chrono::seconds(0);
  auto cache = std::make_shared<CachingImagePolicyVerifier>(registry, co);
  WebhookOptions o;
  o.policies = std::move(*d);
  o.evaluation_threads = 1;
  o.image_policy_verifier = cache;
  Webhook webhook(std::move(o));

  auto first = webhook.evaluate(review(pinned), false, false);
  EXPECT_TRUE(first.allowed) << first.message;
  EXPECT_EQ(registry->verifications, 1);
  EXPECT_TRUE(webhook.evaluate(review(pinned), false, false).allowed);
  EXPECT_EQ(registry->verifications, 1);
  EXPECT_GE(cache->stats().hits, 1u);
  // The mutating webhook's tag lookups go through the cache too, and a tag is verified as the
  // digest it names (the registry only knows the pinned reference).
  EXPECT_EQ(webhook.evaluate(review("registry.example/app:1"), true, false).patch.size(), 1u);
  EXPECT_EQ(webhook.evaluate(review("registry.example/app:1"), true, false).patch.size(), 1u);
  EXPECT_EQ(cache->stats().tag_misses, 1u);
  auto tag = cache->verify_signature("registry.example/app:1", policy::IvpolAttestor{}, false);
  ASSERT_TRUE(tag.ok()) << tag.error().message;
  EXPECT_TRUE(tag->verified);

  // A failure with no negative lifetime is asked again each time.
  const std::string other = std::string("registry.example/other:1@") + kDigest;
  EXPECT_FALSE(webhook.evaluate(review(other), false, false).allowed);
  EXPECT_FALSE(webhook.evaluate(review(other), false, false).allowed);
  EXPECT_EQ(registry->verifications, 4);
}

}  // namespace
}  // namespace vouch::admission
