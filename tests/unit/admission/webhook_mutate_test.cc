// The mutating webhook with mutate rules: the AdmissionReview patch is every policy's
// mutation in order, each policy seeing the resource as the ones before it left it; a
// mutation that fails blocks under failurePolicy Fail.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/admission/policy_set.h"
#include "vouch/admission/review.h"
#include "vouch/admission/webhook.h"
#include "vouch/policy/json_patch.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using vouch::testing::TempDir;

const char* kLabelPolicy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: a-label}
spec:
  rules:
    - name: add-team
      match: {any: [{resources: {kinds: [Pod]}}]}
      mutate:
        patchStrategicMerge:
          metadata: {labels: {+(team): platform}}
)";

const char* kCopyPolicy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: b-annotate}
spec:
  rules:
    - name: copy-team
      match: {any: [{resources: {kinds: [Pod]}}]}
      mutate:
        patchesJson6902: |-
          - op: add
            path: /metadata/annotations
            value: {team: "{{request.object.metadata.labels.team}}"}
)";

const char* kBrokenPolicy = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: c-broken}
spec:
  failurePolicy: Fail
  rules:
    - name: bad-path
      match: {any: [{resources: {kinds: [Pod]}}]}
      mutate:
        patchesJson6902: |-
          - op: replace
            path: /spec/nothing/here
            value: x
)";

bj::object pod() {
  return bj::object{{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", bj::object{{"name", "web"}, {"namespace", "shop"}}},
                    {"spec", bj::object{{"containers", bj::array{bj::object{{"name", "c"}, {"image", "nginx:1.27"}}}}}}};
}

AdmissionReview review_of(const bj::object& object) {
  bj::object req{{"uid", "1"},
                 {"kind", bj::object{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                 {"resource", bj::object{{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                 {"name", "web"},
                 {"namespace", "shop"},
                 {"operation", "CREATE"},
                 {"userInfo", bj::object{{"username", "admin"}}},
                 {"object", object},
                 {"dryRun", false}};
  auto r = decode_review(
      bj::serialize(bj::object{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}}));
  EXPECT_TRUE(std::holds_alternative<AdmissionReview>(r));
  return std::get<AdmissionReview>(std::move(r));
}

std::unique_ptr<Webhook> webhook_with(TempDir& tmp, const std::vector<std::string>& docs) {
  for (size_t i = 0; i < docs.size(); ++i) std::ofstream(tmp.path() / fmt::format("p{}.yaml", i)) << docs[i];
  auto d = PolicyDirectory::open(tmp.path().string());
  EXPECT_TRUE(d.ok()) << d.error().message;
  WebhookOptions o;
  o.policies = std::move(*d);
  o.evaluation_threads = 1;
  return std::make_unique<Webhook>(std::move(o));
}

TEST(WebhookMutate, PatchCarriesEveryPolicysMutationInOrder) {
  TempDir tmp;
  auto webhook = webhook_with(tmp, {kLabelPolicy, kCopyPolicy});
  auto r = webhook->evaluate(review_of(pod()), true, false);
  ASSERT_TRUE(r.allowed) << r.message;
  ASSERT_FALSE(r.patch.empty());
  auto patched = policy::apply_json_patch(bj::value(pod()), r.patch);
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_EQ(patched->at("metadata").at("labels").at("team"), "platform");
  // The second policy read the label the first one added.
  EXPECT_EQ(patched->at("metadata").at("annotations").at("team"), "platform");
  // The validating webhook does not mutate again.
  auto v = webhook->evaluate(review_of(patched->as_object()), false, false);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.patch.empty());
}

TEST(WebhookMutate, NothingToChangeMeansNoPatch) {
  TempDir tmp;
  auto webhook = webhook_with(tmp, {kLabelPolicy});
  bj::object labelled = pod();
  labelled["metadata"].as_object()["labels"] = bj::object{{"team", "data"}};
  auto r = webhook->evaluate(review_of(labelled), true, false);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.patch.empty());
}

TEST(WebhookMutate, FailedMutationBlocksUnderFailurePolicyFail) {
  TempDir tmp;
  auto webhook = webhook_with(tmp, {kBrokenPolicy});
  auto r = webhook->evaluate(review_of(pod()), true, false);
  EXPECT_FALSE(r.allowed);
  EXPECT_NE(r.message.find("bad-path"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace vouch::admission
