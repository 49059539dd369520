#include "vouch/admission/rollout.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <unistd.h>

#include "vouch/policy/engine.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using policy::FailureAction;
using policy::RuleStatus;

constexpr UnixSeconds kNow = 1'700'000'000;
constexpr UnixSeconds kDay = 86400;

RuleHistory history(std::string ns, std::string rule, int observed_days, std::map<std::string, int64_t> counts,
                     FailureAction action = FailureAction::kAudit, std::string policy = "image-hygiene") {
  RuleHistory h;
  h.ns = std::move(ns);
  h.policy = std::move(policy);
  h.rule = std::move(rule);
  h.first_recorded = kNow - observed_days * kDay;
  h.last_recorded = kNow - 60;
  h.action = action;
  h.counts = std::move(counts);
  for (const char* bad : {"fail", "error"}) {
    auto it = h.counts.find(bad);
    if (it == h.counts.end()) continue;
    ResultGroup g;
    g.resource = {"v1", "Pod", "web-" + h.ns, h.ns};
    g.status = std::string(bad) == "fail" ? RuleStatus::kFail : RuleStatus::kError;
    g.count = it->second;
    g.first_seen = kNow - 3 * kDay;
    g.last_seen = kNow - 2 * kDay;
    g.message = "image not signed";
    h.problems.push_back(g);
  }
  return h;
}

const NamespaceRollout& ns_of(const RuleRollout& r, const std::string& ns) {
  for (const auto& n : r.namespaces)
    if (n.ns == ns) return n;
  throw std::runtime_error("no namespace " + ns);
}

const RuleRollout& rule_of(const RolloutStatus& s, const std::string& rule) {
  for (const auto& r : s.rules)
    if (r.rule == rule) return r;
  throw std::runtime_error("no rule " + rule);
}

TEST(Rollout, GoOnlyWithoutFailuresOverTheWholeWindow) {
  RolloutStatus s = assess_rollout({history("shop", "no-latest-tag", 20, {{"pass", 40}}),
                                    history("dev", "no-latest-tag", 20, {{"pass", 10}, {"fail", 3}}),
                                    history("new", "no-latest-tag", 5, {{"pass", 7}}),
                                    history("fresh", "no-latest-tag", 0, {{"pass", 1}}),
                                    history("broken", "no-latest-tag", 3, {{"error", 1}})},
                                   {.days = 14, .now = kNow});
  EXPECT_EQ(s.since, kNow - 14 * kDay);
  ASSERT_EQ(s.rules.size(), 1u);
  const RuleRollout& r = s.rules[0];
  EXPECT_EQ(r.stage, Stage::kAudit);
  EXPECT_EQ(ns_of(r, "shop").verdict, Verdict::kGo);
  EXPECT_EQ(ns_of(r, "shop").reason, "no fail or error result in 14 days");
  EXPECT_EQ(ns_of(r, "shop").observed_days, 20);

  const NamespaceRollout& dev = ns_of(r, "dev");
  EXPECT_EQ(dev.verdict, Verdict::kNoGo);
  EXPECT_EQ(dev.failures, 3);
  EXPECT_EQ(dev.last_failure, kNow - 2 * kDay);
  EXPECT_NE(dev.reason.find("3 fail results in 14 days"), std::string::npos) << dev.reason;
  ASSERT_EQ(dev.failing.size(), 1u);
  EXPECT_EQ(dev.failing[0].resource.name, "web-dev");

  EXPECT_EQ(ns_of(r, "new").verdict, Verdict::kNoGo);
  EXPECT_EQ(ns_of(r, "new").reason, "only 5 days of reports (needs 14)");
  EXPECT_EQ(ns_of(r, "fresh").reason, "less than a day of reports (needs 14)");
  EXPECT_EQ(ns_of(r, "broken").reason,
            fmt::format("1 error result in 14 days (the last at {}); only 3 days of reports (needs 14)",
                        format_rfc3339(kNow - 2 * kDay)));
  EXPECT_EQ(r.full_enforce, Verdict::kNoGo);
  EXPECT_EQ(r.full_enforce_reason, "not ready: broken, dev, fresh, new");

  // Exactly the window is enough; a shorter window asks for less.
  EXPECT_EQ(ns_of(assess_rollout({history("new", "r", 14, {{"pass", 1}})}, {.days = 14, .now = kNow}).rules[0], "new").verdict,
            Verdict::kGo);
  EXPECT_EQ(ns_of(assess_rollout({history("new", "r", 5, {{"skip", 1}})}, {.days = 5, .now = kNow}).rules[0], "new").verdict,
            Verdict::kGo);
  // Long history but nothing in the window: what failed before may still run.
  const NamespaceRollout quiet =
      ns_of(assess_rollout({history("quiet", "r", 40, {})}, {.days = 14, .now = kNow}).rules[0], "quiet");
  EXPECT_EQ(quiet.verdict, Verdict::kNoGo);
  EXPECT_EQ(quiet.reason.rfind("no results in the last 14 days", 0), 0u) << quiet.reason;
}

TEST(Rollout, StagesAndFullEnforce) {
  RolloutStatus s = assess_rollout(
      {history("shop", "partial", 30, {{"pass", 4}}, FailureAction::kEnforce), history("dev", "partial", 30, {{"pass", 4}}),
       history("", "partial", 30, {{"pass", 1}}),  // cluster-scoped resources count for full enforce
       history("shop", "full", 30, {}, FailureAction::kEnforce), history("dev", "full", 30, {{"fail", 2}}, FailureAction::kEnforce),
       history("shop", "held", 30, {}, FailureAction::kEnforce), history("", "held", 30, {{"fail", 1}})},
      {.days = 14, .now = kNow});
  const RuleRollout& partial = rule_of(s, "partial");
  EXPECT_EQ(partial.stage, Stage::kPartialEnforce);
  EXPECT_EQ(ns_of(partial, "shop").verdict, Verdict::kEnforced);
  EXPECT_EQ(partial.full_enforce, Verdict::kGo);
  EXPECT_EQ(partial.namespaces[0].ns, "");  // cluster-scoped first

  const RuleRollout& full = rule_of(s, "full");
  EXPECT_EQ(full.stage, Stage::kFullEnforce);
  EXPECT_EQ(full.full_enforce, Verdict::kEnforced);
  EXPECT_EQ(ns_of(full, "dev").verdict, Verdict::kEnforced);  // blocked requests, not audit failures

  const RuleRollout& held = rule_of(s, "held");
  EXPECT_EQ(held.full_enforce, Verdict::kNoGo);
  EXPECT_EQ(held.full_enforce_reason, "not ready: (cluster-scoped)");
}

TEST(Rollout, StatusAsTableAndJson) {
  RolloutStatus s = assess_rollout({history("shop", "no-latest-tag", 20, {{"pass", 40}}),
                                    history("dev", "no-latest-tag", 20, {{"pass", 10}, {"fail", 3}})},
                                   {.days = 14, .now = kNow});
  std::string table = rollout_status_table(s);
  EXPECT_NE(table.find("image-hygiene/no-latest-tag: stage audit; full enforce NO-GO (not ready: dev)"), std::string::npos)
      << table;
  EXPECT_NE(table.find("fail Pod/web-dev (3x"), std::string::npos) << table;
  std::string shop_only = rollout_status_table(s, std::string("shop"));
  EXPECT_EQ(shop_only.find("web-dev"), std::string::npos) << shop_only;
  EXPECT_NE(shop_only.find("GO"), std::string::npos);
  EXPECT_NE(rollout_status_table(s, std::string("nowhere")).find("No results recorded in namespace nowhere"),
            std::string::npos);

  bj::object json = rollout_status_json(s);
  EXPECT_EQ(json.at("days"), 14);
  const auto& rule = json.at("rules").at(0).as_object();
  EXPECT_EQ(rule.at("stage"), "audit");
  EXPECT_EQ(rule.at("fullEnforce").at("verdict"), "NO-GO");
  const auto& dev = rule.at("namespaces").at(0).as_object();
  EXPECT_EQ(dev.at("namespace"), "dev");
  EXPECT_EQ(dev.at("verdict"), "NO-GO");
  EXPECT_EQ(dev.at("results").at("fail"), 3);
  EXPECT_EQ(dev.at("failing").at(0).at("name"), "web-dev");
  EXPECT_EQ(dev.at("failing").at(0).at("lastSeen"), bj::value(format_rfc3339(kNow - 2 * kDay)));
  EXPECT_EQ(rollout_status_json(s, std::string("shop")).at("rules").at(0).at("namespaces").as_array().size(), 1u);
}

// ---------------------------------------------------------------- plan

policy::Policy parse(const std::string& json) {
  auto doc = bj::parse(json);
  auto p = policy::parse_policy(doc);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return *p;
}

// The action the engine applies to a failing Pod in `ns` under the policy document `doc`.
FailureAction action_in(const bj::value& doc, const std::string& rule, const std::string& ns) {
  auto p = policy::parse_policy(doc);
  EXPECT_TRUE(p.ok()) << p.error().message;
  bj::value pod = bj::parse(fmt::format(
      R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web","namespace":"{}"}},"spec":{{"containers":[{{"name":"c","image":"nginx:latest"}}]}}}})",
      ns));
  policy::Engine engine;
  policy::Request request;
  request.object = pod;
  for (const auto& r : engine.apply(*p, request))
    if (r.rule == rule) return r.action;
  ADD_FAILURE() << "rule " << rule << " has no result in " << ns;
  return FailureAction::kAudit;
}

const char* kHygiene = R"({
  "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
  "metadata": {"name": "image-hygiene", "resourceVersion": "4711", "uid": "abc", "generation": 3,
               "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
  "spec": {
    "validationFailureAction": "Audit",
    "validationFailureActionOverrides": [{"action": "Audit", "namespaces": ["kube-*"]}],
    "rules": [
      {"name": "no-latest-tag", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
       "validate": {"message": "no latest", "pattern": {"spec": {"containers": [{"image": "!*:latest"}]}}}},
      {"name": "require-digest", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
       "validate": {"failureActionOverrides": [{"action": "Audit", "namespaces": ["shop-dev"]}],
                    "message": "digest", "pattern": {"spec": {"containers": [{"image": "*@sha256:*"}]}}}}
    ]},
  "status": {"ready": true}
})";

TEST(Rollout, PlanEnforcesGoNamespacesOfAValidateRule) {
  policy::Policy p = parse(kHygiene);
  RolloutStatus s = assess_rollout({history("shop", "no-latest-tag", 20, {{"pass", 40}}),
                                    history("kube-system", "no-latest-tag", 20, {{"pass", 4}}),
                                    history("dev", "no-latest-tag", 20, {{"fail", 1}}),
                                    history("new", "no-latest-tag", 2, {{"pass", 1}})},
                                   {.days = 14, .now = kNow});
  RolloutPlan plan = plan_rollout({p}, s);
  ASSERT_EQ(plan.documents.size(), 1u);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0], "image-hygiene/no-latest-tag: Enforce in kube-system, shop (validate.failureActionOverrides)");
  const bj::value& doc = plan.documents[0];
  const auto& rule = doc.at("spec").at("rules").at(0).as_object();
  // The new entry first, then the policy's overrides that the rule-level list replaces.
  EXPECT_EQ(rule.at("validate").at("failureActionOverrides"),
            bj::parse(R"([{"action":"Enforce","namespaces":["kube-system","shop"]},{"action":"Audit","namespaces":["kube-*"]}])"));
  EXPECT_FALSE(rule.at("validate").as_object().contains("failureAction"));
  // As the engine reads the result.
  EXPECT_EQ(action_in(doc, "no-latest-tag", "shop"), FailureAction::kEnforce);
  EXPECT_EQ(action_in(doc, "no-latest-tag", "kube-system"), FailureAction::kEnforce);
  EXPECT_EQ(action_in(doc, "no-latest-tag", "kube-public"), FailureAction::kAudit);
  EXPECT_EQ(action_in(doc, "no-latest-tag", "dev"), FailureAction::kAudit);
  EXPECT_EQ(action_in(doc, "no-latest-tag", "new"), FailureAction::kAudit);
  EXPECT_EQ(action_in(doc, "require-digest", "shop"), FailureAction::kAudit);  // other rules unchanged
  // Server-set fields are gone, the rest of the document is kept.
  const auto& meta = doc.at("metadata").as_object();
  EXPECT_FALSE(meta.contains("resourceVersion"));
  EXPECT_FALSE(meta.contains("uid"));
  EXPECT_FALSE(meta.contains("generation"));
  EXPECT_FALSE(meta.contains("annotations"));
  EXPECT_FALSE(doc.as_object().contains("status"));
  EXPECT_EQ(doc.at("spec").at("validationFailureActionOverrides"), p.raw.at("spec").at("validationFailureActionOverrides"));

  // Planned again on the result, with the same (not yet refreshed) history: nothing changes.
  RolloutPlan again = plan_rollout({parse(bj::serialize(doc))}, s);
  EXPECT_TRUE(again.documents.empty()) << bj::serialize(again.documents.at(0));
}

TEST(Rollout, PlanForFullEnforce) {
  policy::Policy p = parse(kHygiene);
  RolloutStatus s = assess_rollout({history("shop", "require-digest", 20, {{"pass", 40}}, FailureAction::kEnforce),
                                    history("shop-dev", "require-digest", 20, {{"pass", 4}}),
                                    history("kube-system", "no-latest-tag", 20, {{"pass", 4}}),
                                    history("shop", "no-latest-tag", 20, {{"pass", 4}})},
                                   {.days = 14, .now = kNow});
  EXPECT_EQ(rule_of(s, "require-digest").full_enforce, Verdict::kGo);
  RolloutPlan plan = plan_rollout({p}, s);
  ASSERT_EQ(plan.documents.size(), 1u);
  const bj::value& doc = plan.documents[0];
  const auto& digest = doc.at("spec").at("rules").at(1).at("validate").as_object();
  EXPECT_EQ(digest.at("failureAction"), "Enforce");
  // shop-dev was kept in Audit by an override: it is GO, so an Enforce entry comes first.
  EXPECT_EQ(digest.at("failureActionOverrides"),
            bj::parse(R"([{"action":"Enforce","namespaces":["shop-dev"]},{"action":"Audit","namespaces":["shop-dev"]}])"));
  for (const char* ns : {"shop", "shop-dev", "elsewhere"})
    EXPECT_EQ(action_in(doc, "require-digest", ns), FailureAction::kEnforce) << ns;
  // no-latest-tag: every namespace GO; kube-system is matched by the policy's Audit override.
  const auto& latest = doc.at("spec").at("rules").at(0).at("validate").as_object();
  EXPECT_EQ(latest.at("failureAction"), "Enforce");
  for (const char* ns : {"shop", "kube-system", "elsewhere"})
    EXPECT_EQ(action_in(doc, "no-latest-tag", ns), FailureAction::kEnforce) << ns;
  EXPECT_EQ(action_in(doc, "no-latest-tag", "kube-public"), FailureAction::kAudit);  // an exception nobody cleared
  EXPECT_EQ(plan.changes.size(), 4u);
  EXPECT_TRUE(plan_rollout({parse(bj::serialize(doc))}, s).documents.empty());
}

const char* kSigned = R"({
  "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
  "metadata": {"name": "require-signed"},
  "spec": {
    "validationFailureAction": "Audit",
    "rules": [
      {"name": "verify", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
       "verifyImages": [{"imageReferences": ["*"], "attestors": [{"entries": [{"keys": {"publicKeys": "k"}}]}]}]},
      {"name": "labels", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
       "validate": {"message": "labels", "pattern": {"metadata": {"labels": {"app": "?*"}}}}}
    ]}
})";

TEST(Rollout, PlanForVerifyImagesUsesThePolicyOverridesAndHoldsBackSharedNamespaces) {
  policy::Policy p = parse(kSigned);
  RolloutStatus s = assess_rollout({history("bookstore", "verify", 20, {{"pass", 40}}, FailureAction::kAudit, "require-signed"),
                                    history("monitoring", "verify", 20, {{"pass", 10}}, FailureAction::kAudit, "require-signed"),
                                    history("monitoring", "labels", 20, {{"fail", 2}}, FailureAction::kAudit, "require-signed"),
                                    history("kube-system", "verify", 20, {{"fail", 9}}, FailureAction::kAudit, "require-signed")},
                                   {.days = 14, .now = kNow});
  RolloutPlan plan = plan_rollout({p}, s);
  ASSERT_EQ(plan.documents.size(), 1u);
  const bj::value& doc = plan.documents[0];
  EXPECT_EQ(doc.at("spec").at("validationFailureActionOverrides"),
            bj::parse(R"([{"action":"Enforce","namespaces":["bookstore"]}])"));
  ASSERT_EQ(plan.held_back.size(), 1u);
  EXPECT_NE(plan.held_back[0].find("monitoring stays in Audit"), std::string::npos) << plan.held_back[0];
  EXPECT_NE(plan.held_back[0].find("labels"), std::string::npos) << plan.held_back[0];
  EXPECT_EQ(plan.changes, std::vector<std::string>{
                              "require-signed/verify: Enforce in bookstore (spec.validationFailureActionOverrides)"});
  auto parsed = policy::parse_policy(doc);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE(parsed->rules[0].verify_images[0].failure_action.has_value());
  EXPECT_EQ(action_in(doc, "labels", "bookstore"), FailureAction::kEnforce);  // shares the policy-level list
  EXPECT_EQ(action_in(doc, "labels", "monitoring"), FailureAction::kAudit);

  // Once every namespace is ready: failureAction on the verifyImages entries.
  RolloutStatus ready = assess_rollout({history("bookstore", "verify", 20, {{"pass", 40}}, FailureAction::kAudit, "require-signed"),
                                        history("monitoring", "verify", 20, {{"pass", 10}}, FailureAction::kAudit, "require-signed")},
                                       {.days = 14, .now = kNow});
  RolloutPlan full = plan_rollout({p}, ready);
  ASSERT_EQ(full.documents.size(), 1u);
  EXPECT_EQ(full.documents[0].at("spec").at("rules").at(0).at("verifyImages").at(0).at("failureAction"), "Enforce");
  EXPECT_TRUE(full.held_back.empty());
}

TEST(Rollout, NothingToPlanWithoutGoNamespaces) {
  RolloutStatus s = assess_rollout({history("dev", "no-latest-tag", 20, {{"fail", 1}}),
                                    history("shop", "no-latest-tag", 3, {{"pass", 1}}),
                                    history("shop", "unknown-rule", 30, {{"pass", 1}})},
                                   {.days = 14, .now = kNow});
  RolloutPlan plan = plan_rollout({parse(kHygiene), parse(kSigned)}, s);
  EXPECT_TRUE(plan.documents.empty());
  EXPECT_TRUE(plan.changes.empty());
}

TEST(Rollout, StatusFromTheStore) {
  fs::path dir = fs::temp_directory_path() / fmt::format("vouch-rollout-test-{}-{}", ::getpid(), std::random_device{}());
  fs::create_directories(dir);
  {
    auto store = open_report_store((dir / "reports.db").string(), {.clock = [] { return kNow; }});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto r = [](std::string ns, RuleStatus status, UnixSeconds when) {
      RecordedResult x;
      x.result.policy = "image-hygiene";
      x.result.rule = "no-latest-tag";
      x.result.status = status;
      x.resource = {"v1", "Pod", "web", std::move(ns)};
      x.when = when;
      return x;
    };
    // Three weeks of audit: shop clean; dev failed last week; new only since yesterday.
    ASSERT_TRUE((*store)->record({r("shop", RuleStatus::kPass, kNow - 21 * kDay), r("shop", RuleStatus::kPass, kNow - kDay),
                                  r("dev", RuleStatus::kPass, kNow - 21 * kDay), r("dev", RuleStatus::kFail, kNow - 7 * kDay),
                                  r("new", RuleStatus::kPass, kNow - kDay)})
                    .ok());
    auto s = rollout_status(**store, {.days = 14, .now = kNow});
    ASSERT_TRUE(s.ok()) << s.error().message;
    const RuleRollout& rule = rule_of(*s, "no-latest-tag");
    EXPECT_EQ(ns_of(rule, "shop").verdict, Verdict::kGo);
    EXPECT_EQ(ns_of(rule, "dev").verdict, Verdict::kNoGo);
    EXPECT_EQ(ns_of(rule, "new").verdict, Verdict::kNoGo);
    EXPECT_EQ(ns_of(rule, "new").reason, "only 1 day of reports (needs 14)");
    EXPECT_FALSE(rollout_status(**store, {.days = 0, .now = kNow}).ok());
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vouch::admission
