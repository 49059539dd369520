// The evaluation budget: expressions that would grow without bound in memory or time end
// with a limit-exceeded error, and legitimate expressions are not affected.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "vouch/base/json.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/jmespath.h"
#include "vouch/policy/policy.h"

namespace vouch::policy::jmespath {
namespace {

// `[s,s] | [@,@] | [@,@] ...`: each stage doubles the result (2^31 copies of the string).
std::string doubling(int stages) {
  std::string e = "[s,s]";
  for (int i = 0; i < stages; ++i) e += " | [@,@]";
  return e;
}

// The same, starting from any expression.
std::string doubling_of(std::string_view operand, int stages) {
  std::string e = fmt::format("[{0}, {0}]", operand);
  for (int i = 0; i < stages; ++i) e += " | [@,@]";
  return e;
}

Result<bj::value> run(std::string_view expression, const bj::value& data, const Budget& budget = {}) {
  Limits limits;
  limits.budget = budget;
  VOUCH_ASSIGN_OR_RETURN(Expression e, Expression::compile(expression, kyverno_functions(), limits));
  return e.search(data);
}

void expect_over_budget(const Result<bj::value>& r, std::string_view unit) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_kind(r.error()), ErrorKind::kLimit) << r.error().message;
  EXPECT_NE(r.error().message.find("exceeded its budget of"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(unit), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
}

TEST(JmespathBudget, DoublingMultiSelectStopsOnBytes) {
  bj::value data = {{"s", "abc"}};
  auto start = std::chrono::steady_clock::now();
  expect_over_budget(run("length(" + doubling(30) + ")", data), "bytes");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // A few doublings are fine.
  auto small = run("length(" + doubling(10) + ")", data);
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ(*small, bj::value(2));
}

TEST(JmespathBudget, ProjectionsAndFlattenAreCharged) {
  bj::value data = {{"a", bj::array(1000, bj::value("0123456789"))}};
  Budget tight{.max_steps = 20'000'000, .max_bytes = 10'000};
  expect_over_budget(run("a[*]", data, tight), "bytes");
  expect_over_budget(run("a[]", data, tight), "bytes");
  expect_over_budget(run("a[:]", data, tight), "bytes");
  expect_over_budget(run("a[?@ == '0123456789']", data, tight), "bytes");
  expect_over_budget(run("map(&@, a)", data, tight), "bytes");
  ASSERT_TRUE(run("length(a)", data, tight).ok());
}

TEST(JmespathBudget, StepsBoundWork) {
  bj::value data = {{"a", bj::array(10'000, bj::value(1))}};
  Budget few{.max_steps = 5'000, .max_bytes = uint64_t{64} << 20};
  expect_over_budget(run("a[?@ == `1`] | length(@)", data, few), "steps");
  expect_over_budget(run("sort_by(a, &@)", data, few), "steps");
  auto r = run("a[?@ == `1`] | length(@)", data);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, bj::value(10'000));
}

TEST(JmespathBudget, NestedReplaceAllStops) {
  bj::value data = {{"s", std::string(100'000, 'a')}};
  auto start = std::chrono::steady_clock::now();
  expect_over_budget(run("replace_all(replace_all(s, 'a', s), 'a', s)", data), "bytes");
  expect_over_budget(run("replace_all(s, '', s)", data), "bytes");
  expect_over_budget(run("replace(s, 'a', s, `-1`)", data), "bytes");
  expect_over_budget(run("regex_replace_all('a', s, s)", data), "bytes");
  expect_over_budget(run("regex_replace_all_literal('', s, s)", data), "bytes");
  expect_over_budget(run("join(s, split(s, ''))", data), "bytes");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // Growth that fits is fine.
  auto r = run("length(replace_all(s, 'a', 'bb'))", data);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, bj::value(200'000));
  r = run("length(regex_replace_all('a+', s, 'b'))", data);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, bj::value(1));
}

TEST(JmespathBudget, EachSearchHasItsOwnBudget) {
  Limits limits;
  limits.budget.max_bytes = 4096;
  auto e = Expression::compile("[s, s, s]", kyverno_functions(), limits);
  ASSERT_TRUE(e.ok()) << e.error().message;
  bj::value data = {{"s", std::string(1000, 'x')}};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(e->search(data).ok());
}

TEST(JmespathBudget, PolicyContextVariableGivesAnErrorResult) {
  const std::string yaml = R"(apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: bomb}
spec:
  validationFailureAction: Enforce
  rules:
    - name: grow
      match: {any: [{resources: {kinds: [Pod]}}]}
      context:
        - name: big
          variable:
            jmesPath: "length()" + doubling_of("request.object.metadata.name", 30) + R"Y()"
      validate:
        deny:
          conditions:
            any: [{key: "{{ big }}", operator: GreaterThan, value: 0}]
)Y";
  auto policies = parse_policies(yaml, "test");
  ASSERT_TRUE(policies.ok()) << policies.error().message;
  ASSERT_EQ(policies->size(), 1u);
  auto pod = parse_document("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: b}]}\n",
                            "test");
  ASSERT_TRUE(pod.ok()) << pod.error().message;
  Request request;
  request.object = *pod;
  Engine engine;
  auto results = engine.apply((*policies)[0], request);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, RuleStatus::kError);
  // The reason reaches the result: an exceeded budget is not mistaken for a null entry.
  EXPECT_NE(results[0].message.find("exceeded its budget"), std::string::npos) << results[0].message;
}

}  // namespace
}  // namespace vouch::policy::jmespath
