// The JMESPath compliance suite (jmespath/jmespath.test), one test per case.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/json.h"
#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;  // "<file>_<n>"
  std::string file;
  bj::value given;
  std::string expression;
  std::optional<bj::value> result;
  std::string error;  // the expected error kind, when no result
  std::string bench;  // benchmark cases: "parse" (compile only) or "full" (compile and search)
};

fs::path suite_dir() { return vouch::testing::testdata_dir() / "jmespath" / "tests"; }

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  std::error_code ec;
  if (!fs::is_directory(suite_dir(), ec)) return cases;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(suite_dir())) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    auto text = read_file(path);
    if (!text.ok()) continue;
    auto doc = json::parse(*text, {.max_bytes = 64 << 20, .max_depth = 256});
    if (!doc.ok() || !doc->is_array()) continue;
    std::string stem = path.stem().string();
    size_t n = 0;
    for (const auto& suite : doc->get_array()) {
      const auto& obj = suite.get_object();
      for (const auto& c : obj.at("cases").get_array()) {
        const auto& co = c.get_object();
        Case k;
        k.file = stem;
        k.name = stem + "_" + std::to_string(n++);
        k.given = obj.at("given");
        k.expression = std::string(co.at("expression").get_string());
        if (auto* r = co.if_contains("result")) k.result = *r;
        if (auto* e = co.if_contains("error")) k.error = std::string(e->get_string());
        if (auto* b = co.if_contains("bench")) k.bench = std::string(b->get_string());
        cases.push_back(std::move(k));
      }
    }
  }
  return cases;
}

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = load_cases();
  return cases;
}

TEST(JmespathCompliance, SuiteIsPresent) {
  ASSERT_TRUE(fs::is_directory(suite_dir())) << "set VOUCH_TESTDATA: no " << suite_dir();
  EXPECT_GE(all_cases().size(), 900u);
}

class Compliance : public ::testing::TestWithParam<size_t> {};

TEST_P(Compliance, Case) {
  const Case& c = all_cases()[GetParam()];
  SCOPED_TRACE("expression: " + c.expression + "\ngiven: " + json::serialize(c.given));
  auto compiled = Expression::compile(c.expression);
  Result<bj::value> got = compiled.ok() ? compiled->search(c.given) : Result<bj::value>(compiled.error());
  if (!c.result && c.error.empty()) {  // a benchmark case without an expected result
    ASSERT_FALSE(c.bench.empty()) << "case has neither result nor error";
    if (c.bench == "parse") {
      ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    } else {
      ASSERT_TRUE(got.ok()) << got.error().message;
    }
    return;
  }
  if (!c.error.empty()) {
    ASSERT_FALSE(got.ok()) << "expected a " << c.error << " error, got " << json::serialize(*got);
    auto kind = error_kind(got.error());
    ASSERT_TRUE(kind.has_value()) << got.error().message;
    EXPECT_EQ(error_kind_name(*kind), c.error) << got.error().message;
    return;
  }
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(values_equal(*got, *c.result))
      << "got " << json::serialize(*got) << ", want " << json::serialize(*c.result);
}

std::vector<size_t> case_indexes() {
  std::vector<size_t> v(all_cases().size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

INSTANTIATE_TEST_SUITE_P(Suite, Compliance, ::testing::ValuesIn(case_indexes()),
                         [](const ::testing::TestParamInfo<size_t>& info) { return all_cases()[info.param].name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Compliance);

}  // namespace
}  // namespace vouch::policy::jmespath
