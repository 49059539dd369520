// Subresource requests (pods/exec, deployments/scale, …/status, pods/ephemeralcontainers) as the
// API server sends them: matched by the kind of the resource called plus the subresource, as
// Kyverno matches them, with request.kind, request.resource and request.subResource as sent.
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/admission/manifests.h"
#include "vouch/admission/policy_set.h"
#include "vouch/admission/review.h"
#include "vouch/admission/webhook.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;

constexpr const char* kUid = "b3c1e0a4-6f1d-4d51-9a55-2f1f7c1d2e10";

// An AdmissionReview as the API server writes it.
std::string review_body(const bj::object& kind, const bj::object& resource, const std::string& sub_resource,
                        const std::string& name, const std::string& ns, const std::string& operation,
                        const bj::value& object, const bj::value& old_object = nullptr) {
  bj::object req{{"uid", kUid},
                 {"kind", kind},
                 {"resource", resource},
                 {"requestKind", kind},
                 {"requestResource", resource},
                 {"name", name},
                 {"namespace", ns},
                 {"operation", operation},
                 {"userInfo", bj::object{{"username", "alice"}, {"groups", bj::array{"system:authenticated"}}}},
                 {"object", object},
                 {"oldObject", old_object},
                 {"dryRun", false}};
  if (!sub_resource.empty()) {
    req["subResource"] = sub_resource;
    req["requestSubResource"] = sub_resource;
  }
  return bj::serialize(bj::object{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}});
}

bj::object gvk(const char* group, const char* version, const char* kind) {
  return {{"group", group}, {"version", version}, {"kind", kind}};
}
bj::object gvr(const char* group, const char* version, const char* resource) {
  return {{"group", group}, {"version", version}, {"resource", resource}};
}

bj::object pod(const std::string& image) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", bj::object{{"name", "web"}, {"namespace", "prod"}, {"uid", "pod-uid-1"}}},
          {"spec", bj::object{{"containers", bj::array{bj::object{{"name", "app"}, {"image", image}}}}}}};
}

// kubectl exec -n prod web -- sh
std::string exec_review() {
  bj::object options{{"kind", "PodExecOptions"},
                     {"apiVersion", "v1"},
                     {"stdin", true},
                     {"tty", true},
                     {"container", "app"},
                     {"command", bj::array{"sh"}}};
  return review_body(gvk("", "v1", "PodExecOptions"), gvr("", "v1", "pods"), "exec", "web", "prod", "CONNECT", options);
}

// kubectl scale -n prod deployment/api --replicas=N
std::string scale_review(int replicas) {
  auto scale = [&](int n) {
    return bj::object{{"kind", "Scale"},
                      {"apiVersion", "autoscaling/v1"},
                      {"metadata", bj::object{{"name", "api"}, {"namespace", "prod"}, {"uid", "deploy-uid-1"}}},
                      {"spec", bj::object{{"replicas", n}}},
                      {"status", bj::object{{"replicas", 2}, {"selector", "app=api"}}}};
  };
  return review_body(gvk("autoscaling", "v1", "Scale"), gvr("apps", "v1", "deployments"), "scale", "api", "prod",
                     "UPDATE", scale(replicas), scale(2));
}

std::string pod_create_review(const std::string& image) {
  return review_body(gvk("", "v1", "Pod"), gvr("", "v1", "pods"), "", "web", "prod", "CREATE", pod(image));
}

AdmissionReview decoded(const std::string& body) {
  auto r = decode_review(body);
  EXPECT_TRUE(std::holds_alternative<AdmissionReview>(r)) << std::get<ReviewError>(r).message;
  return std::get<AdmissionReview>(std::move(r));
}

struct SubresourceFixture {
  vouch::testing::TempDir tmp;
  std::mutex mu;
  std::vector<ReviewResults> recorded;
  std::unique_ptr<Webhook> webhook;

  explicit SubresourceFixture(const std::vector<std::string>& docs) {
    for (size_t i = 0; i < docs.size(); ++i) std::ofstream(tmp.path() / fmt::format("p{}.yaml", i)) << docs[i];
    auto d = PolicyDirectory::open(tmp.path().string());
    EXPECT_TRUE(d.ok()) << d.error().message;
    WebhookOptions o;
    o.policies = std::move(*d);
    o.evaluation_threads = 2;
    o.on_results = [this](ReviewResults r) {
      std::lock_guard lock(mu);
      recorded.push_back(std::move(r));
    };
    webhook = std::make_unique<Webhook>(std::move(o));
  }
  AdmissionResponse validate(const std::string& body, bool ignore = false) {
    return webhook->evaluate(decoded(body), false, ignore);
  }
};

// Denies every request its match selects, naming the kind and subresource it saw (an UPDATE
// too, whose old object would be denied as well).
std::string deny_policy(const std::string& name, const std::string& kinds, const std::string& extra_match = "",
                        const std::string& failure_policy = "Fail") {
  return fmt::format(R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: {0}}}
spec:
  validationFailureAction: Enforce
  failurePolicy: {3}
  background: false
  rules:
    - name: deny
      match: {{any: [{{resources: {{kinds: {1}{2}}}}}]}}
      validate:
        allowExistingViolations: false
        message: "denied {{{{ request.kind.kind }}}} {{{{ request.resource.resource }}}}/{{{{ request.subResource }}}}"
        deny:
          conditions:
            any: [{{key: "{{{{ request.operation }}}}", operator: AnyIn, value: [CREATE, UPDATE, DELETE, CONNECT]}}]
)",
                     name, kinds, extra_match, failure_policy);
}

TEST(AdmissionSubresource, MatchedKindIsTheResourcesKindWithTheSubresource) {
  auto exec = matched_kind(decoded(exec_review()).request);
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  EXPECT_EQ(exec->api_version, "v1");
  EXPECT_EQ(exec->kind, "Pod");
  EXPECT_EQ(exec->sub_resource, "exec");
  auto scale = matched_kind(decoded(scale_review(3)).request);
  ASSERT_TRUE(scale.ok()) << scale.error().message;
  EXPECT_EQ(scale->api_version, "apps/v1");
  EXPECT_EQ(scale->kind, "Deployment");
  EXPECT_EQ(scale->sub_resource, "scale");
  auto plain = matched_kind(decoded(pod_create_review("nginx:1.25")).request);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->kind, "Pod");
  EXPECT_EQ(plain->sub_resource, "");
  // Without a subresource the object's kind is used, and must be what the resource holds.
  auto wrong = matched_kind(
      decoded(review_body(gvk("", "v1", "Pod"), gvr("apps", "v1", "deployments"), "", "web", "prod", "CREATE", pod("x")))
          .request);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("deployments.apps"), std::string::npos) << wrong.error().message;
  // One table for the manifests and the webhook.
  EXPECT_EQ(builtin_kind_of("apps", "deployments"), "Deployment");
  EXPECT_EQ(builtin_kind_of("", "pods"), "Pod");
  EXPECT_EQ(builtin_kind_of("events.k8s.io", "events"), "Event");
  EXPECT_EQ(builtin_kind_of("example.com", "widgets"), std::nullopt);
  EXPECT_EQ(builtin_kind_of("", "deployments"), std::nullopt);
}

TEST(AdmissionSubresource, DecodesResourceAndRefusesMistypedFields) {
  auto r = decoded(scale_review(3)).request;
  EXPECT_EQ(r.resource.group, "apps");
  EXPECT_EQ(r.resource.version, "v1");
  EXPECT_EQ(r.resource.resource, "deployments");
  EXPECT_EQ(r.sub_resource, "scale");
  EXPECT_EQ(r.kind.kind, "Scale");
  auto refused = [](std::string body, std::string_view field) {
    auto doc = bj::parse(body);
    doc.at("request").as_object()[field] = "pods";
    auto d = decode_review(bj::serialize(doc));
    return std::holds_alternative<ReviewError>(d) ? std::get<ReviewError>(d).message : std::string("decoded");
  };
  EXPECT_EQ(refused(exec_review(), "resource"), "request.resource: expected an object");
  EXPECT_EQ(refused(exec_review(), "requestKind"), "request.requestKind: expected an object");
  EXPECT_EQ(refused(exec_review(), "requestResource"), "request.requestResource: expected an object");
}

TEST(AdmissionSubresource, PodExecRuleDeniesExecAndLeavesPodCreateAlone) {
  SubresourceFixture f({deny_policy("no-exec", "[Pod/exec]")});
  auto exec = f.validate(exec_review());
  EXPECT_FALSE(exec.allowed);
  // Kyverno's text names the object's kind; the policy saw the AdmissionRequest's fields.
  EXPECT_EQ(exec.message,
            "\n\nresource PodExecOptions/prod/web was blocked due to the following policies \n\nno-exec:\n  deny: "
            "denied PodExecOptions pods/exec\n");
  auto create = f.validate(pod_create_review("nginx:1.25"));
  EXPECT_TRUE(create.allowed) << create.message;
  std::lock_guard lock(f.mu);
  ASSERT_EQ(f.recorded.size(), 1u);  // the Pod CREATE matched no rule
  // The result is the Pod's: a CONNECT's options are no resource of their own.
  EXPECT_EQ(f.recorded[0].resource.api_version, "v1");
  EXPECT_EQ(f.recorded[0].resource.kind, "Pod");
  EXPECT_EQ(f.recorded[0].resource.name, "web");
  EXPECT_EQ(f.recorded[0].resource.ns, "prod");
}

TEST(AdmissionSubresource, MutatingPathSeesConnectToo) {
  // Kyverno's mutating webhook takes CREATE, UPDATE and CONNECT; a validate rule does not run there.
  SubresourceFixture f({deny_policy("no-exec", "[Pod/exec]")});
  auto r = f.webhook->evaluate(decoded(exec_review()), true, false);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.patch.empty());
}

TEST(AdmissionSubresource, ConnectIsMatchedByOperations) {
  SubresourceFixture connect_only({deny_policy("connect-only", "[Pod/exec]", ", operations: [CONNECT]")});
  EXPECT_FALSE(connect_only.validate(exec_review()).allowed);
  SubresourceFixture create_only({deny_policy("create-only", "[Pod/exec]", ", operations: [CREATE]")});
  EXPECT_TRUE(create_only.validate(exec_review()).allowed);
  SubresourceFixture any_sub({deny_policy("any-sub", "[\"Pod/*\"]", ", operations: [CONNECT]")});
  EXPECT_FALSE(any_sub.validate(exec_review()).allowed);
}

TEST(AdmissionSubresource, PodRuleDoesNotMatchExec) {
  SubresourceFixture f({deny_policy("no-pods", "[Pod]")});
  EXPECT_TRUE(f.validate(exec_review()).allowed);
  std::lock_guard lock(f.mu);
  EXPECT_TRUE(f.recorded.empty());
}

TEST(AdmissionSubresource, DeploymentScaleRuleMatchesAScale) {
  const char* max_replicas = R"yaml(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: max-replicas}
spec:
  validationFailureAction: Enforce
  background: false
  rules:
    - name: at-most-four
      match: {any: [{resources: {kinds: [Deployment/scale], operations: [UPDATE]}}]}
      validate:
        message: "at most 4 replicas ({{ request.kind.group }}/{{ request.kind.kind }} of {{ request.resource.group }}/{{ request.resource.resource }})"
        pattern: {spec: {replicas: "<=4"}}
)yaml";
  SubresourceFixture f({max_replicas, deny_policy("no-deployments", "[Deployment]")});
  auto denied = f.validate(scale_review(10));
  EXPECT_FALSE(denied.allowed);
  EXPECT_NE(denied.message.find("at most 4 replicas (autoscaling/Scale of apps/deployments)"),
            std::string::npos)
      << denied.message;
  // A rule of kind Deployment alone does not see the scale subresource.
  EXPECT_EQ(denied.message.find("no-deployments"), std::string::npos) << denied.message;
  EXPECT_TRUE(f.validate(scale_review(3)).allowed);
  std::lock_guard lock(f.mu);
  ASSERT_EQ(f.recorded.size(), 2u);
  EXPECT_EQ(f.recorded[0].resource.kind, "Deployment");
  EXPECT_EQ(f.recorded[0].resource.api_version, "apps/v1");
  EXPECT_EQ(f.recorded[0].resource.name, "api");
  EXPECT_EQ(f.recorded[0].resource_uid, "deploy-uid-1");  // a Scale carries its Deployment's uid
}

TEST(AdmissionSubresource, WildcardStatusSelector) {
  SubresourceFixture f({deny_policy("no-status", "[\"*/status\"]")});
  auto status = [](const bj::object& kind, const bj::object& resource, const bj::object& object) {
    return review_body(kind, resource, "status", "web", "prod", "UPDATE", object, object);
  };
  EXPECT_FALSE(f.validate(status(gvk("", "v1", "Pod"), gvr("", "v1", "pods"), pod("nginx:1.25"))).allowed);
  bj::object deploy{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", bj::object{{"name", "api"}}}};
  EXPECT_FALSE(f.validate(status(gvk("apps", "v1", "Deployment"), gvr("apps", "v1", "deployments"), deploy)).allowed);
  EXPECT_TRUE(f.validate(pod_create_review("nginx:1.25")).allowed);
  EXPECT_TRUE(f.validate(exec_review()).allowed);
}

TEST(AdmissionSubresource, UnknownCustomResourceSubresourceIsAnError) {
  bj::object widget{{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", bj::object{{"name", "w"}}}};
  std::string body = review_body(gvk("example.com", "v1", "Widget"), gvr("example.com", "v1", "widgets"), "status", "w",
                                 "prod", "UPDATE", widget, widget);
  const std::string why =
      "cannot match widgets.example.com/status: widgets.example.com is not a built-in Kubernetes resource and vouch "
      "has no API discovery to find its kind (rules name a subresource as Kind/status)";
  SubresourceFixture fail({deny_policy("no-status", "[\"*/status\"]")});
  auto denied = fail.validate(body);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.message, "vouch: " + why + " (failurePolicy Fail)");
  SubresourceFixture ignore({deny_policy("no-status", "[\"*/status\"]", "", "Ignore")});
  auto allowed = ignore.validate(body, true);
  EXPECT_TRUE(allowed.allowed);
  ASSERT_EQ(allowed.warnings.size(), 1u);
  EXPECT_EQ(allowed.warnings[0], "vouch: " + why + "; allowed because failurePolicy is Ignore");
  // The custom resource itself (no subresource) is judged by the object's kind, as before.
  std::string plain = review_body(gvk("example.com", "v1", "Widget"), gvr("example.com", "v1", "widgets"), "", "w",
                                  "prod", "CREATE", widget);
  SubresourceFixture widgets({deny_policy("no-widgets", "[example.com/v1/Widget]")});
  EXPECT_FALSE(widgets.validate(plain).allowed);
  EXPECT_TRUE(widgets.validate(body).allowed == false);  // its status: an error on the Fail path
}

TEST(AdmissionSubresource, EphemeralContainersAreStillSeenByPodRules) {
  const char* no_latest = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: no-latest}
spec:
  validationFailureAction: Enforce
  rules:
    - name: no-latest-tag
      match: {any: [{resources: {kinds: [Pod]}}]}
      validate:
        message: "The :latest tag is not allowed."
        pattern: {spec: {containers: [{image: "!*:latest"}]}}
)";
  SubresourceFixture f({no_latest});
  std::string body = review_body(gvk("", "v1", "Pod"), gvr("", "v1", "pods"), "ephemeralcontainers", "web", "prod",
                                 "UPDATE", pod("nginx:latest"), pod("nginx:1.25"));
  EXPECT_FALSE(f.validate(body).allowed);
  // …but not other Pod subresources.
  std::string status = review_body(gvk("", "v1", "Pod"), gvr("", "v1", "pods"), "status", "web", "prod", "UPDATE",
                                   pod("nginx:latest"), pod("nginx:1.25"));
  EXPECT_TRUE(f.validate(status).allowed);
}

TEST(AdmissionSubresource, ValidatingPolicyResourceRulesFollowTheApiServer) {
  auto vpol = [](const std::string& resources) {
    return fmt::format(R"(apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {{name: rules}}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: ["*"]
        resources: {}
  validations:
    - expression: "false"
      messageExpression: "request.kind.kind + ' ' + request.resource.resource + '/' + request.subResource"
)",
                       resources);
  };
  EXPECT_TRUE(SubresourceFixture({vpol("[pods]")}).validate(exec_review()).allowed);
  EXPECT_TRUE(SubresourceFixture({vpol("[\"*\"]")}).validate(exec_review()).allowed);
  auto exec = SubresourceFixture({vpol("[pods/exec]")}).validate(exec_review());
  EXPECT_FALSE(exec.allowed);
  EXPECT_EQ(exec.message, "Policy rules failed: PodExecOptions pods/exec");
  EXPECT_FALSE(SubresourceFixture({vpol("[\"pods/*\"]")}).validate(exec_review()).allowed);
  EXPECT_FALSE(SubresourceFixture({vpol("[\"*/*\"]")}).validate(exec_review()).allowed);
  EXPECT_FALSE(SubresourceFixture({vpol("[pods]")}).validate(pod_create_review("nginx:1.25")).allowed);
}

}  // namespace
}  // namespace vouch::admission
