// The webhook's decisions, review decoding, the verification cache and the policy directory.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/admission/policy_set.h"
#include "vouch/admission/review.h"
#include "vouch/admission/verification_cache.h"
#include "vouch/admission/webhook.h"
#include "vouch/base/bytes.h"
#include "vouch/policy/policy.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using vouch::testing::TempDir;
using policy::AttestorSet;
using policy::ImageVerification;
using policy::ImageVerificationOutcome;

// Signed images are those whose name says so; digests are fixed per tag.
class FakeVerifier : public policy::ImageVerifier {
 public:
  Result<ImageVerificationOutcome> verify(const std::string& image, const ImageVerification&, const AttestorSet&,
                                          const policy::Attestation* attestation) override {
    verifies++;
    if (gate) gate->wait();
    if (image.find("unreachable") != std::string::npos) return io_error("registry unreachable");
    ImageVerificationOutcome o;
    o.digest = "sha256:" + std::string(64, 'a');
    o.verified = image.find("signed") != std::string::npos && image.find("unsigned") == std::string::npos;
    if (!o.verified) o.reason = ".entries[0].keys: no signatures found";
    if (attestation) o.predicates.push_back(bj::object{{"buildType", predicate_build_type}});
    return o;
  }
  Result<std::string> resolve_digest(const std::string& image, const ImageVerification&) override {
    resolves++;
    if (image.find("unreachable") != std::string::npos) return io_error("registry unreachable");
    return "sha256:" + std::string(64, 'a');
  }
  std::atomic<int> verifies{0}, resolves{0};
  std::shared_future<void>* gate = nullptr;
  std::string predicate_build_type = "https://example.com/build@v1";
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

const char* kVerifyPolicy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: check-images}
spec:
  validationFailureAction: Enforce
  validationFailureActionOverrides:
    - action: Audit
      namespaces: [dev]
  rules:
    - name: verify-signature
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["registry.example/*"]
          attestors: [{entries: [{keys: {publicKeys: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"}}]}]
)";

const char* kValidatePolicy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-latest}
spec:
  validationFailureAction: Enforce
  rules:
    - name: no-latest-tag
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "The :latest tag is not allowed."
        pattern:
          spec:
            containers:
              - image: "!*:latest"
)";

std::string review_json(const std::string& ns, const std::vector<std::string>& images, const std::string& op = "CREATE",
                        const std::vector<std::string>& old_images = {}) {
  auto pod = [&](const std::vector<std::string>& imgs) {
    bj::array containers;
    for (size_t i = 0; i < imgs.size(); ++i) containers.push_back(bj::object{{"name", fmt::format("c{}", i)}, {"image", imgs[i]}});
    return bj::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", bj::object{{"name", "web"}, {"namespace", ns}}},
                      {"spec", bj::object{{"containers", containers}}}};
  };
  bj::object req{{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
                 {"kind", bj::object{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                 {"resource", bj::object{{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                 {"name", "web"},
                 {"namespace", ns},
                 {"operation", op},
                 {"userInfo", bj::object{{"username", "admin"}, {"groups", bj::array{"system:authenticated"}}}},
                 {"object", pod(images)},
                 {"dryRun", false}};
  if (!old_images.empty()) req["oldObject"] = pod(old_images);
  return bj::serialize(bj::object{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}});
}

AdmissionReview decode(const std::string& body) {
  auto r = decode_review(body);
  EXPECT_TRUE(std::holds_alternative<AdmissionReview>(r)) << std::get<ReviewError>(r).message;
  return std::get<AdmissionReview>(std::move(r));
}

struct Fixture {
  TempDir tmp;
  std::shared_ptr<FakeVerifier> fake = std::make_shared<FakeVerifier>();
  std::shared_ptr<CachingImageVerifier> cache = std::make_shared<CachingImageVerifier>(fake);
  std::shared_ptr<PolicyDirectory> policies;
  std::vector<ReviewResults> recorded;
  std::mutex mu;
  std::unique_ptr<Webhook> webhook;

  explicit Fixture(std::vector<std::string> docs) {
    for (size_t i = 0; i < docs.size(); ++i) write(tmp.path() / fmt::format("p{}.yaml", i), docs[i]);
    auto d = PolicyDirectory::open(tmp.path().string());
    EXPECT_TRUE(d.ok()) << d.error().message;
    policies = std::move(*d);
    WebhookOptions o;
    o.policies = policies;
    o.verifier = cache;
    o.evaluation_threads = 4;
    o.on_results = [this](ReviewResults r) {
      std::lock_guard lock(mu);
      recorded.push_back(std::move(r));
    };
    webhook = std::make_unique<Webhook>(std::move(o));
  }
};

TEST(AdmissionReview, DecodesARequestAndEchoesTheReview) {
  auto review = decode(review_json("prod", {"nginx:1.25"}));
  EXPECT_EQ(review.request.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(review.request.kind.kind, "Pod");
  EXPECT_EQ(review.request.resource.resource, "pods");
  EXPECT_EQ(review.request.resource.version, "v1");
  EXPECT_EQ(review.request.operation, "CREATE");
  EXPECT_EQ(review.request.user.groups.size(), 1u);
  AdmissionResponse r;
  r.allowed = false;
  r.message = "no";
  r.warnings = {"w"};
  r.patch = {bj::object{{"op", "replace"}, {"path", "/spec/containers/0/image"}, {"value", "x@sha256:1"}}};
  auto out = bj::parse(encode_review_response(review, r)).as_object();
  EXPECT_EQ(out.at("kind"), "AdmissionReview");
  EXPECT_TRUE(out.contains("request"));
  const auto& resp = out.at("response").as_object();
  EXPECT_EQ(resp.at("uid"), "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(resp.at("allowed"), false);
  EXPECT_EQ(resp.at("status").at("message"), "no");
  EXPECT_EQ(resp.at("patchType"), "JSONPatch");
  auto patch = base64_decode(resp.at("patch").as_string());
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(bj::parse(to_string(*patch)).as_array().size(), 1u);
}

TEST(AdmissionReview, RefusesWhatIsNotAReviewWithKyvernosStatuses) {
  auto status_of = [](std::string_view body) {
    auto r = decode_review(body);
    return std::holds_alternative<ReviewError>(r) ? std::get<ReviewError>(r).status : 200;
  };
  EXPECT_EQ(status_of("{not json"), 417);
  EXPECT_EQ(status_of(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})"), 400);
  EXPECT_EQ(status_of(R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}})"), 400);
  EXPECT_EQ(status_of(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"EXPLODE","object":{}}})"), 400);
  EXPECT_EQ(status_of(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":[]}})"), 400);
  std::string deep = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":)";
  for (int i = 0; i < 200; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "}";
  deep += "}}";
  EXPECT_EQ(status_of(deep), 400);
  EXPECT_EQ(status_of(std::string(4 << 20, ' ')), 413);
}

TEST(AdmissionReview, BlockedMessageAsKyvernoWritesIt) {
  policy::ResourceRef ref{"v1", "Pod", "web", "prod"};
  std::string m = blocked_message(ref, {{"check-images", "verify-signature",
                                         "failed to verify image registry.example/app:1: .attestors[0]: no signatures found"}});
  EXPECT_EQ(m,
            "\n\nresource Pod/prod/web was blocked due to the following policies \n\ncheck-images:\n  verify-signature: "
            "'failed to verify image registry.example/app:1: .attestors[0]: no signatures found'\n");
  EXPECT_EQ(yaml_scalar("plain text", 2), "plain text");
  EXPECT_EQ(yaml_scalar("it's: here", 2), "'it''s: here'");
  EXPECT_EQ(yaml_scalar("true", 2), "'true'");
  EXPECT_EQ(rule_warning("p", "r", "m"), "policy p.r: m");
}

TEST(AdmissionWebhook, EnforceDeniesAnUnsignedImageAndAuditWarns) {
  Fixture fx({kVerifyPolicy});
  auto denied = fx.webhook->evaluate(decode(review_json("prod", {"registry.example/app:unsigned"})), true, false);
  EXPECT_FALSE(denied.allowed);
  EXPECT_NE(denied.message.find("resource Pod/prod/web was blocked due to the following policies"), std::string::npos);
  EXPECT_NE(denied.message.find("verify-signature: 'failed to verify image registry.example/app:unsigned"),
            std::string::npos)
      << denied.message;
  EXPECT_TRUE(denied.patch.empty());
  // The dev namespace is overridden to Audit: admitted with a warning, reported as fail.
  auto audited = fx.webhook->evaluate(decode(review_json("dev", {"registry.example/app:unsigned"})), true, false);
  EXPECT_TRUE(audited.allowed);
  ASSERT_EQ(audited.warnings.size(), 1u);
  EXPECT_TRUE(audited.warnings[0].starts_with("policy check-images.verify-signature: failed to verify image"));
  std::lock_guard lock(fx.mu);
  ASSERT_EQ(fx.recorded.size(), 2u);
  EXPECT_EQ(fx.recorded[1].resource.ns, "dev");
  EXPECT_EQ(fx.recorded[1].results.at(0).status, policy::RuleStatus::kFail);
}

TEST(AdmissionWebhook, PinsASignedTagAndAnnotates) {
  Fixture fx({kVerifyPolicy});
  auto r = fx.webhook->evaluate(decode(review_json("prod", {"registry.example/app:signed", "nginx:1.25"})), true, false);
  ASSERT_TRUE(r.allowed) << r.message;
  ASSERT_EQ(r.patch.size(), 3u);
  EXPECT_EQ(r.patch[0].at("op"), "replace");
  EXPECT_EQ(r.patch[0].at("path"), "/spec/containers/0/image");
  EXPECT_EQ(r.patch[0].at("value").as_string(), "registry.example/app:signed@sha256:" + std::string(64, 'a'));
  EXPECT_EQ(r.patch[1].at("path"), "/metadata/annotations");
  EXPECT_EQ(r.patch[2].at("path"), "/metadata/annotations/kyverno.io~1verify-images");
  auto annotation = bj::parse(r.patch[2].at("value").as_string()).as_object();
  EXPECT_EQ(annotation.at("registry.example/app:signed@sha256:" + std::string(64, 'a')).as_string(), "pass");
  EXPECT_EQ(annotation.size(), 1u);  // nginx is not selected by the rule
}

TEST(AdmissionWebhook, IgnorePathLetsRegistryErrorsThroughButNotFailures) {
  std::string ignore_policy = kVerifyPolicy;
  ignore_policy.replace(ignore_policy.find("  validationFailureAction"), 0, "  failurePolicy: Ignore\n");
  Fixture fx({ignore_policy});
  auto review = decode(review_json("prod", {"registry.example/unreachable:1"}));
  // The policy is served on the /ignore paths only.
  EXPECT_TRUE(fx.webhook->evaluate(review, true, false).allowed);
  EXPECT_EQ(fx.fake->verifies, 0);
  auto ignored = fx.webhook->evaluate(review, true, true);
  EXPECT_TRUE(ignored.allowed);
  ASSERT_EQ(ignored.warnings.size(), 1u);
  EXPECT_NE(ignored.warnings[0].find("registry unreachable"), std::string::npos);
  EXPECT_FALSE(fx.webhook->evaluate(decode(review_json("prod", {"registry.example/app:unsigned"})), true, true).allowed);
}

TEST(AdmissionWebhook, FailPathDeniesRegistryErrors) {
  Fixture fx({kVerifyPolicy});
  auto r = fx.webhook->evaluate(decode(review_json("prod", {"registry.example/unreachable:1"})), true, false);
  EXPECT_FALSE(r.allowed);
  EXPECT_NE(r.message.find("registry unreachable"), std::string::npos);
}

TEST(AdmissionWebhook, ValidateRulesRunOnTheValidatingPathOnly) {
  Fixture fx({kValidatePolicy});
  auto review = decode(review_json("prod", {"nginx:latest"}));
  EXPECT_TRUE(fx.webhook->evaluate(review, true, false).allowed);
  auto r = fx.webhook->evaluate(review, false, false);
  EXPECT_FALSE(r.allowed);
  EXPECT_NE(r.message.find("no-latest-tag"), std::string::npos);
}

TEST(AdmissionWebhook, AnUpdateKeepingAnExistingViolationIsSkippedAsKyvernoDoes) {
  Fixture fx({kValidatePolicy});
  auto keep = fx.webhook->evaluate(decode(review_json("prod", {"nginx:latest"}, "UPDATE", {"nginx:latest"})), false, false);
  EXPECT_TRUE(keep.allowed) << keep.message;
  auto introduce = fx.webhook->evaluate(decode(review_json("prod", {"nginx:latest"}, "UPDATE", {"nginx:1.25"})), false, false);
  EXPECT_FALSE(introduce.allowed);
}

TEST(AdmissionWebhook, DryRunRecordsNothing) {
  Fixture fx({kValidatePolicy});
  auto body = review_json("prod", {"nginx:latest"});
  body.replace(body.find("\"dryRun\":false"), 14, "\"dryRun\":true");
  EXPECT_FALSE(fx.webhook->evaluate(decode(body), false, false).allowed);
  std::lock_guard lock(fx.mu);
  EXPECT_TRUE(fx.recorded.empty());
}

TEST(AdmissionWebhook, DeleteIsNotVerified) {
  Fixture fx({kVerifyPolicy});
  auto body = review_json("prod", {"registry.example/app:unsigned"}, "DELETE", {"registry.example/app:unsigned"});
  EXPECT_TRUE(fx.webhook->evaluate(decode(body), true, false).allowed);
  EXPECT_EQ(fx.fake->verifies, 0);
}

TEST(AdmissionWebhook, AnswersBeforeTheDeadline) {
  Fixture fx({kVerifyPolicy});
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  fx.fake->gate = &gate;
  auto run = [&](const std::string& path) {
    net::HttpRequest req;
    req.method = "POST";
    req.path = path;
    req.query.emplace("timeout", "300ms");
    req.content_type = "application/json";
    req.body = review_json("prod", {"registry.example/app:signed"});
    std::promise<net::HttpResponse> answered;
    fx.webhook->handle(req, [&](net::HttpResponse r) { answered.set_value(std::move(r)); });
    auto f = answered.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return bj::parse(f.get().body).at("response").as_object();
  };
  auto fail = run("/mutate/fail");
  EXPECT_EQ(fail.at("allowed"), false);
  EXPECT_NE(fail.at("status").at("message").as_string().find("did not finish within the webhook timeout"), std::string::npos);
  release.set_value();
  fx.webhook.reset();  // the evaluation still waiting on the gate finishes before the gate goes
}

TEST(AdmissionWebhook, IgnorePathAllowsWithAWarningAtTheDeadline) {
  std::string ignore_policy = kVerifyPolicy;
  ignore_policy.replace(ignore_policy.find("  validationFailureAction"), 0, "  failurePolicy: Ignore\n");
  Fixture fx({ignore_policy});
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  fx.fake->gate = &gate;
  net::HttpRequest req;
  req.method = "POST";
  req.path = "/mutate/ignore";
  req.query.emplace("timeout", "200ms");
  req.content_type = "application/json; charset=utf-8";
  req.body = review_json("prod", {"registry.example/app:signed"});
  std::promise<net::HttpResponse> answered;
  fx.webhook->handle(req, [&](net::HttpResponse r) { answered.set_value(std::move(r)); });
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto resp = bj::parse(f.get().body).at("response").as_object();
  EXPECT_EQ(resp.at("allowed"), true);
  EXPECT_NE(resp.at("warnings").at(0).as_string().find("allowed because failurePolicy is Ignore"), std::string::npos);
  release.set_value();
  fx.webhook.reset();
}

TEST(AdmissionWebhook, RefusesWrongContentTypeAndMethod) {
  Fixture fx({kVerifyPolicy});
  auto status = [&](std::string method, std::string ct, std::string body) {
    net::HttpRequest req;
    req.method = std::move(method);
    req.path = "/validate/fail";
    req.content_type = std::move(ct);
    req.body = std::move(body);
    int out = 0;
    fx.webhook->handle(req, [&](net::HttpResponse r) { out = r.status; });
    return out;
  };
  EXPECT_EQ(status("POST", "text/plain", "{}"), 415);
  EXPECT_EQ(status("GET", "application/json", ""), 405);
  EXPECT_EQ(status("POST", "application/json", "{oops"), 417);
  EXPECT_EQ(status("POST", "application/json", "{}"), 400);
  EXPECT_EQ(parse_go_duration("1m30s")->count(), 90000);
  EXPECT_EQ(parse_go_duration("250ms")->count(), 250);
  EXPECT_FALSE(parse_go_duration("10 parsecs").ok());
}

TEST(AdmissionWebhook, NamespaceSelectorOverridesReadTheGivenNamespaceLabels) {
  std::string policy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-latest}
spec:
  validationFailureAction: Audit
  validationFailureActionOverrides:
    - action: Enforce
      namespaceSelector: {matchLabels: {env: prod}}
  rules:
    - name: no-latest-tag
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "The :latest tag is not allowed."
        pattern: {spec: {containers: [{image: "!*:latest"}]}}
)";
  TempDir tmp;
  write(tmp.path() / "p.yaml", policy);
  auto d = PolicyDirectory::open(tmp.path().string());
  ASSERT_TRUE(d.ok()) << d.error().message;
  WebhookOptions o;
  o.policies = std::move(*d);
  o.namespace_labels = {{"shop", {{"env", "prod"}}}, {"dev", {{"env", "dev"}}}};
  Webhook webhook(std::move(o));
  EXPECT_FALSE(webhook.evaluate(decode(review_json("shop", {"nginx:latest"})), false, false).allowed);
  auto dev = webhook.evaluate(decode(review_json("dev", {"nginx:latest"})), false, false);
  EXPECT_TRUE(dev.allowed);
  EXPECT_EQ(dev.warnings.size(), 1u);
}

// ---------------------------------------------------------------- verification cache

ImageVerification rule_with_fingerprint(const std::string& fp) {
  ImageVerification iv;
  iv.fingerprint = fp;
  return iv;
}

TEST(VerificationCache, VerifiesOnceAndAnswersFromTheCache) {
  auto fake = std::make_shared<FakeVerifier>();
  CachingImageVerifier cache(fake);
  auto rule = rule_with_fingerprint("r1");
  AttestorSet set;
  set.fingerprint = "s1";
  for (int i = 0; i < 5; ++i) {
    auto r = cache.verify("registry.example/app:signed", rule, set, nullptr);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->verified);
    EXPECT_EQ(r->digest, "sha256:" + std::string(64, 'a'));
  }
  EXPECT_EQ(fake->verifies, 1);
  EXPECT_EQ(fake->resolves, 1);  // the tag's digest is remembered too
  auto s = cache.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 4u);
  // Another attestor set or rule is another question.
  AttestorSet other;
  other.fingerprint = "s2";
  ASSERT_TRUE(cache.verify("registry.example/app:signed", rule, other, nullptr).ok());
  EXPECT_EQ(fake->verifies, 2);
  // The same digest in another repository has its own signatures.
  ASSERT_TRUE(cache.verify("registry.example/fork:signed", rule, set, nullptr).ok());
  EXPECT_EQ(fake->verifies, 3);
}

TEST(VerificationCache, KeepsFailuresBrieflyAndErrorsNotAtAll) {
  auto fake = std::make_shared<FakeVerifier>();
  VerificationCacheOptions o;
  o.negative_ttl = std::chrono::seconds(0);
  CachingImageVerifier no_negative(fake, o);
  auto rule = rule_with_fingerprint("r");
  AttestorSet set;
  set.fingerprint = "s";
  ASSERT_TRUE(no_negative.verify("registry.example/app:unsigned", rule, set, nullptr).ok());
  ASSERT_TRUE(no_negative.verify("registry.example/app:unsigned", rule, set, nullptr).ok());
  EXPECT_EQ(fake->verifies, 2);

  auto fake2 = std::make_shared<FakeVerifier>();
  CachingImageVerifier cache(fake2);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(cache.verify("registry.example/app:unsigned", rule, set, nullptr)->verified);
  EXPECT_EQ(fake2->verifies, 1);
  EXPECT_EQ(cache.stats().negative_hits, 2u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(cache.verify("registry.example/unreachable@sha256:" + std::string(64, 'b'), rule, set, nullptr).ok());
  EXPECT_EQ(fake2->verifies, 4);
  // useCache: false asks every time.
  rule.use_cache = false;
  ASSERT_TRUE(cache.verify("registry.example/app:signed", rule, set, nullptr).ok());
  ASSERT_TRUE(cache.verify("registry.example/app:signed", rule, set, nullptr).ok());
  EXPECT_EQ(fake2->verifies, 6);
}

TEST(VerificationCache, CoalescesConcurrentMisses) {
  auto fake = std::make_shared<FakeVerifier>();
  auto cache = std::make_shared<CachingImageVerifier>(fake);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  fake->gate = &gate;
  auto rule = rule_with_fingerprint("r");
  AttestorSet set;
  set.fingerprint = "s";
  const std::string image = "registry.example/app@sha256:" + std::string(64, 'c');
  std::vector<std::future<bool>> callers;
  for (int i = 0; i < 16; ++i)
    callers.push_back(std::async(std::launch::async, [&] { return cache->verify(image, rule, set, nullptr)->verified; }));
  // Every caller but the first waits on the first one's verification.
  for (int i = 0; i < 500 && cache->stats().coalesced < 15; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  release.set_value();
  for (auto& c : callers) EXPECT_FALSE(c.get());  // the digest-only name carries no "signed"
  EXPECT_EQ(fake->verifies, 1);
  EXPECT_EQ(cache->stats().coalesced, 15u);
}

TEST(VerificationCache, BoundsEntries) {
  auto fake = std::make_shared<FakeVerifier>();
  VerificationCacheOptions o;
  o.max_entries = 3;
  CachingImageVerifier cache(fake, o);
  auto rule = rule_with_fingerprint("r");
  AttestorSet set;
  set.fingerprint = "s";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cache.verify(fmt::format("registry.example/app{}:signed", i), rule, set, nullptr).ok());
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_EQ(cache.stats().evictions, 7u);
  EXPECT_EQ(repository_of("host:5000/a/b:tag@sha256:1"), "host:5000/a/b");
  EXPECT_EQ(repository_of("host:5000/a/b"), "host:5000/a/b");
}

TEST(AdmissionWebhook, AttestationConditionsAreEvaluatedOnEveryCacheHit) {
  const char* policy_a = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: provenance}
spec:
  validationFailureAction: Enforce
  rules:
    - name: built-by-us
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["registry.example/*"]
          attestations:
            - type: https://slsa.dev/provenance/v1
              attestors: [{entries: [{keys: {publicKeys: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"}}]}]
              conditions:
                - all:
                    - key: "{{ buildType }}"
                      operator: Equals
                      value: https://example.com/build@v1
)";
  Fixture fx({policy_a});
  auto review = decode(review_json("prod", {"registry.example/app:signed"}));
  EXPECT_TRUE(fx.webhook->evaluate(review, true, false).allowed);
  EXPECT_EQ(fx.fake->verifies, 1);
  // The cached predicate no longer satisfies the condition once the expected value changes:
  // the hit is judged again, not waved through.
  std::string changed = policy_a;
  changed.replace(changed.find("value: https://example.com/build@v1"), 36, "value: https://example.com/other@v1");
  write(fx.tmp.path() / "p0.yaml", changed);
  ASSERT_TRUE(fx.policies->reload().ok());
  auto r = fx.webhook->evaluate(review, true, false);
  EXPECT_FALSE(r.allowed);
  EXPECT_NE(r.message.find("attestation"), std::string::npos) << r.message;
  EXPECT_EQ(fx.fake->verifies, 1);  // answered from the cache, and still denied
  EXPECT_GE(fx.cache->stats().hits, 1u);
}

// ---------------------------------------------------------------- policy directory

TEST(PolicyDirectory, ReloadsAtomicallyAndKeepsTheLastGoodSet) {
  TempDir tmp;
  write(tmp.path() / "a.yaml", kValidatePolicy);
  // A mounted ConfigMap: the visible file is a symlink into a hidden, timestamped directory.
  write(tmp.path() / "..2026_12_07" / "b.yaml", kVerifyPolicy);
  fs::create_directory_symlink("..2026_12_07", tmp.path() / "..data");
  fs::create_symlink("..data/b.yaml", tmp.path() / "b.yaml");
  auto d = PolicyDirectory::open(tmp.path().string());
  ASSERT_TRUE(d.ok()) << d.error().message;
  auto first = (*d)->current();
  EXPECT_EQ(first->policies.size(), 2u);  // each read once
  EXPECT_FALSE(*(*d)->reload());          // unchanged
  write(tmp.path() / "a.yaml", "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec: {rules: [{name: r, nope: 1}]}\n");
  auto broken = (*d)->reload();
  EXPECT_FALSE(broken.ok());
  EXPECT_NE((*d)->last_error().find("a.yaml"), std::string::npos) << (*d)->last_error();
  EXPECT_EQ((*d)->current(), first);  // the last good set keeps serving
  EXPECT_EQ((*d)->reload_failures(), 1u);
  fs::remove(tmp.path() / "a.yaml");
  ASSERT_TRUE(*(*d)->reload());
  EXPECT_EQ((*d)->current()->policies.size(), 1u);
  EXPECT_TRUE((*d)->last_error().empty());
  EXPECT_NE((*d)->current()->version, first->version);
  write(tmp.path() / "dup.yaml", kVerifyPolicy);
  EXPECT_FALSE((*d)->reload().ok());  // the same ClusterPolicy twice
}

}  // namespace
}  // namespace vouch::admission
