// The CEL interpreter's own guarantees: parse errors with positions and limits, the evaluator's
// error semantics, compile-once/evaluate-many, the cost limit, and the Kubernetes libraries.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/cel/cel.h"

namespace vouch::cel {
namespace {

Environment kubernetes_env() {
  EnvironmentOptions options;
  options.libraries = Libraries::kubernetes();
  return Environment(options);
}

Value eval(std::string_view expr, const Activation& vars = {}) {
  static const Environment env = kubernetes_env();
  auto program = env.compile(expr);
  if (!program.ok()) return Value::error("compile: " + program.error().message);
  auto r = program->evaluate(vars);
  if (!r.ok()) return Value::error("evaluate: " + r.error().message);
  return r->value;
}

bool is_true(std::string_view expr, const Activation& vars = {}) {
  Value v = eval(expr, vars);
  EXPECT_TRUE(v.is(Kind::kBool)) << expr << " gave " << v.debug_string();
  return v.is(Kind::kBool) && v.as_bool();
}

TEST(CelParse, ErrorsNameLineAndColumn) {
  Environment env;
  auto p = env.compile("1 +\n  (2 * )");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("line 2, column 8"), std::string::npos) << p.error().message;
  auto q = env.compile("a.b.");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("column 5"), std::string::npos) << q.error().message;
  EXPECT_FALSE(env.compile("'unterminated").ok());
  EXPECT_FALSE(env.compile("9223372036854775808").ok());
  EXPECT_FALSE(env.compile("if").ok());  // reserved word
  EXPECT_FALSE(env.compile("has(a)").ok());
  EXPECT_FALSE(env.compile("[1].all(x.y, true)").ok());
}

TEST(CelParse, NestingAndSizeAreBounded) {
  Environment env;
  // Deep parentheses, deep lists and long operator chains all stop at the nesting limit
  // instead of exhausting the stack.
  EXPECT_FALSE(env.compile(std::string(100000, '(') + "1" + std::string(100000, ')')).ok());
  EXPECT_FALSE(env.compile(std::string(5000, '[') + std::string(5000, ']')).ok());
  std::string chain = "1";
  for (int k = 0; k < 5000; ++k) chain += " + 1";
  auto r = env.compile(chain);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested more than"), std::string::npos) << r.error().message;
  // What the spec requires implementations to support still parses.
  std::string ors = "false";
  for (int k = 0; k < 31; ++k) ors += " || false";
  EXPECT_TRUE(env.compile(ors).ok());
  EnvironmentOptions small;
  small.parse_limits.max_source_code_points = 10;
  EXPECT_FALSE(Environment(small).compile("1 + 2 + 3 + 4").ok());
}

TEST(CelEval, LogicAbsorbsErrorsInEitherOrder) {
  EXPECT_TRUE(is_true("1/0 == 1 || true"));
  EXPECT_TRUE(is_true("true || 1/0 == 1"));
  EXPECT_FALSE(is_true("1/0 == 1 && false"));
  EXPECT_FALSE(is_true("false && 1/0 == 1"));
  EXPECT_TRUE(eval("true && 1/0 == 1").is_error());
  EXPECT_TRUE(eval("1/0 == 1 || false").is_error());
  EXPECT_TRUE(is_true("[1, 0].exists(x, 1 / x == 1)"));
  EXPECT_TRUE(eval("[0, 1].all(x, 1 / x == 1)").is_error());
}

TEST(CelEval, OverflowAndHeterogeneousEquality) {
  EXPECT_TRUE(eval("9223372036854775807 + 1").is_error());
  EXPECT_TRUE(eval("-9223372036854775808 - 1").is_error());
  EXPECT_TRUE(eval("0u - 1u").is_error());
  EXPECT_TRUE(eval("1 + 1u").is_error());
  EXPECT_TRUE(is_true("1 == 1u && 1u == 1.0 && [1] == [1.0] && {1: 'a'}[1u] == 'a'"));
  EXPECT_FALSE(is_true("1 == '1'"));
  EXPECT_TRUE(is_true("has({'a': 1}.a) && !has({'a': 1}.b)"));
}

TEST(CelEval, CompileOnceEvaluateManyAcrossThreads) {
  Environment env = kubernetes_env();
  auto program = env.compile("object.spec.containers.all(c, c.image.startsWith(prefix))");
  ASSERT_TRUE(program.ok()) << program.error().message;
  auto doc = json::parse(R"({"spec": {"containers": [{"image": "ghcr.io/a"}, {"image": "ghcr.io/b"}]}})");
  ASSERT_TRUE(doc.ok());
  Value object = from_json(*doc);
  auto run = [&](const std::string& prefix) {
    Activation vars;
    vars.bind("object", object);
    vars.bind("prefix", Value::string(prefix));
    auto r = program->evaluate_value(vars);
    return r.ok() && r->as_bool();
  };
  std::vector<std::thread> threads;
  std::atomic<int> passed{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) passed += run("ghcr.io/") && !run("docker.io/");
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(passed.load(), 800);
}

TEST(CelEval, UnboundVariableIsAnErrorNotFalse) {
  auto v = eval("missing == 1");
  ASSERT_TRUE(v.is_error());
  EXPECT_NE(v.error_message().find("undeclared reference to 'missing'"), std::string::npos);
}

TEST(CelEval, TimeZoneThatIsNotAZoneFileIsAnError) {
  // "Asia/" names a directory of the zone database and "Nowhere/Zone" nothing at all: both are
  // errors of the expression, not of the process.
  for (std::string_view expr : {"timestamp('2009-02-13T23:31:30Z').getMinutes('Asia/')",
                                "timestamp('2009-02-13T23:31:30Z').getHours('Nowhere/Zone')"}) {
    EXPECT_TRUE(eval(expr).is_error()) << expr;
  }
  if (std::filesystem::exists("/usr/share/zoneinfo/Asia/Tokyo")) {
    EXPECT_TRUE(is_true("timestamp('2009-02-13T23:31:30Z').getHours('Asia/Tokyo') == 8"));
  }
}

TEST(CelCost, ExplodingComprehensionIsStopped) {
  Environment env = kubernetes_env();
  // 1000^3 iterations would take minutes; the limit stops it after about a million units.
  auto program = env.compile("lists.range(1000).map(x, lists.range(1000).map(y, lists.range(1000).map(z, x + y + z)))");
  ASSERT_TRUE(program.ok()) << program.error().message;
  auto start = std::chrono::steady_clock::now();
  auto r = program->evaluate({});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exceeded its cost limit of 1000000"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  // A smaller expression fits and reports what it spent.
  auto small = env.compile("lists.range(10).map(x, x * 2).size() == 10");
  ASSERT_TRUE(small.ok());
  auto ok = small->evaluate({});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->value.as_bool());
  EXPECT_GT(ok->cost, 10u);
  EXPECT_LT(ok->cost, 200u);
}

TEST(CelCost, DoublingStringsAndPathologicalMatchesAreStopped) {
  Environment env = kubernetes_env();
  Activation vars;
  vars.bind("s", Value::string(std::string(200000, 'a')));
  // RE2 matches in linear time, and the cost of each match grows with input and pattern.
  auto match = env.compile("lists.range(100).all(i, s.matches('(a+)+(b|c|d|e|f|g|h|i|j|k|l|m|n|o|p)$') == false)");
  ASSERT_TRUE(match.ok()) << match.error().message;
  EvalOptions limit;
  limit.cost_limit = 200'000;
  auto r = match->evaluate(vars, limit);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cost limit"), std::string::npos);
  // Repeated concatenation pays for the sizes it builds.
  auto grow = env.compile("lists.range(60).map(i, s + s + s + s).size()");
  ASSERT_TRUE(grow.ok());
  EXPECT_FALSE(grow->evaluate(vars, limit).ok());
  // An empty pattern with a long replacement would build gigabytes; it is charged up front.
  auto replace = env.compile("s.replace('', s)");
  ASSERT_TRUE(replace.ok());
  auto replaced = replace->evaluate(vars);
  ASSERT_FALSE(replaced.ok());
  EXPECT_NE(replaced.error().message.find("cost limit"), std::string::npos);
  EvalOptions tight;
  tight.cost_limit = 5;
  auto cheap = env.compile("1 + 2 + 3 + 4 + 5 + 6");
  ASSERT_TRUE(cheap.ok());
  EXPECT_FALSE(cheap->evaluate({}, tight).ok());
}

TEST(CelKubernetesLibs, StringsListsRegex) {
  EXPECT_TRUE(is_true("'a,b,c'.split(',') == ['a', 'b', 'c'] && ['a', 'b'].join('-') == 'a-b'"));
  EXPECT_TRUE(is_true("'Hello'.lowerAscii() == 'hello' && ' x '.trim() == 'x' && 'abc'.substring(1) == 'bc'"));
  EXPECT_TRUE(is_true("'%s has %d items'.format(['cart', 3]) == 'cart has 3 items'"));
  EXPECT_TRUE(is_true("[1, 2, 3].isSorted() && [1, 2, 3].sum() == 6 && [3, 1].min() == 1 && [3, 1].max() == 3"));
  EXPECT_TRUE(is_true("[1, 2, 3].indexOf(2) == 1 && 'abcb'.lastIndexOf('b') == 3"));
  EXPECT_TRUE(is_true("'abc 123 def 456'.find('[0-9]+') == '123' && 'abc 123 def 456'.findAll('[0-9]+') == ['123', '456']"));
  EXPECT_TRUE(eval("'x'.matches('(')").is_error());
  EXPECT_TRUE(is_true("sets.contains([1, 2, 3], [2]) && sets.intersects([1], [1, 5]) && !sets.equivalent([1], [2])"));
}

TEST(CelKubernetesLibs, UrlQuantityIp) {
  EXPECT_TRUE(is_true("url('https://example.com:8443/a/b?x=1&x=2').getHost() == 'example.com:8443'"));
  EXPECT_TRUE(is_true("url('https://[::1]:80/').getHostname() == '::1' && url('https://e.com/p').getPort() == ''"));
  EXPECT_TRUE(is_true("url('https://e.com/p?x=1&x=2&y').getQuery() == {'x': ['1', '2'], 'y': ['']}"));
  EXPECT_TRUE(is_true("isURL('/absolute/path') && !isURL('relative/path')"));
  EXPECT_TRUE(is_true("quantity('1Gi').isGreaterThan(quantity('1G')) && quantity('1k') == quantity('1000')"));
  EXPECT_TRUE(is_true("quantity('500m').add(quantity('500m')) == quantity('1') && quantity('2').sub(1).asInteger() == 1"));
  EXPECT_TRUE(is_true("quantity('1.5Gi').asInteger() == 1610612736 && !quantity('0.5').isInteger()"));
  EXPECT_TRUE(is_true("quantity('-1').sign() == -1 && quantity('100Mi').compareTo(quantity('1Gi')) == -1"));
  EXPECT_FALSE(is_true("isQuantity('1.2.3')"));
  EXPECT_TRUE(is_true("cidr('10.0.0.0/8').containsIP('10.1.2.3') && !cidr('10.0.0.0/8').containsIP('11.0.0.1')"));
  EXPECT_TRUE(is_true("ip('10.0.0.1').family() == 4 && ip('::1').isLoopback() && string(ip('::1')) == '::1'"));
}

TEST(CelKubernetesLibs, OptionalsOnKubernetesObjects) {
  auto doc = json::parse(R"({"metadata": {"labels": {"app": "web"}}})");
  ASSERT_TRUE(doc.ok());
  Activation vars;
  vars.bind("object", from_json(*doc));
  EXPECT_TRUE(is_true("object.metadata.?labels.?app.orValue('') == 'web'", vars));
  EXPECT_TRUE(is_true("object.metadata.?annotations.?owner.orValue('none') == 'none'", vars));
  EXPECT_TRUE(is_true("!has(object.metadata.annotations) && has(object.metadata.labels.app)", vars));
}

}  // namespace
}  // namespace vouch::cel
