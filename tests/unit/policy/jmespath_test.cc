// The JMESPath API: errors, limits and untrusted input.
#include <gtest/gtest.h>

#include <thread>

#include "vouch/base/json.h"
#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath {
namespace {

TEST(Jmespath, CompileOnceSearchMany) {
  auto expr = Expression::compile("spec.containers[?name=='app'].image | [0]");
  ASSERT_TRUE(expr.ok()) << expr.error().message;
  auto doc = json::parse(R"({"spec":{"containers":[{"name":"side","image":"a"},{"name":"app","image":"b"}]}})");
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = expr->search(*doc);
        if (r.ok() && *r == bj::value("b")) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good, 800);
}

TEST(Jmespath, SyntaxErrorsNamePosition) {
  auto r = Expression::compile("foo[");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_kind(r.error()), ErrorKind::kSyntax);
  EXPECT_NE(r.error().message.find("position 4"), std::string::npos) << r.error().message;
  r = Expression::compile("a.b ^ c");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("position 4"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
}

TEST(Jmespath, ErrorKinds) {
  EXPECT_EQ(error_kind(Expression::compile("nope(@)").error()), ErrorKind::kUnknownFunction);
  EXPECT_EQ(error_kind(Expression::compile("abs(@, @)").error()), ErrorKind::kInvalidArity);
  EXPECT_EQ(error_kind(search("abs(@)", bj::value("x")).error()), ErrorKind::kInvalidType);
  EXPECT_EQ(error_kind(search("[::0]", bj::array{}).error()), ErrorKind::kInvalidValue);
  EXPECT_FALSE(error_kind(invalid_input("other")).has_value());
}

TEST(Jmespath, DeepExpressionsAreRejected) {
  for (const std::string& deep : {std::string(100000, '(') + "a" + std::string(100000, ')'),
                                  std::string(50000, '!') + "a",
                                  [] {
                                    std::string s = "a";
                                    for (int i = 0; i < 20000; ++i) s = "f(" + s + ")";
                                    return s;
                                  }(),
                                  [] {
                                    std::string s;
                                    for (int i = 0; i < 20000; ++i) s += "[";
                                    return s + "a";
                                  }(),
                                  [] {
                                    std::string s = "a";
                                    for (int i = 0; i < 20000; ++i) s += "[0][1:2]";
                                    return s;
                                  }(),
                                  [] {
                                    std::string s = "a";
                                    for (int i = 0; i < 20000; ++i) s += " == a";
                                    return s;
                                  }(),
                                  "`" + std::string(10000, '[') + std::string(10000, ']') + "`"}) {
    auto r = Expression::compile(deep, kyverno_functions());
    ASSERT_FALSE(r.ok());
    auto kind = error_kind(r.error());
    ASSERT_TRUE(kind.has_value()) << r.error().message;
  }
  // Long but flat chains are fine.
  std::string chain = "a";
  for (int i = 0; i < 5000; ++i) chain += ".a";
  EXPECT_TRUE(Expression::compile(chain).ok());
  EXPECT_FALSE(Expression::compile(std::string(1 << 20, 'a')).ok());  // over the size limit
}

TEST(Jmespath, DeepDataDoesNotCrash) {
  // Deeper than any parser would produce, built by hand.
  bj::value deep = bj::array{};
  for (int i = 0; i < 5000; ++i) {
    bj::array outer;
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  auto s = search("to_string(@)", deep);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(error_kind(s.error()), ErrorKind::kLimit);
  auto eq = search("@ == @", deep);  // equality is iterative
  ASSERT_TRUE(eq.ok());
  EXPECT_TRUE(eq->as_bool());
  EXPECT_TRUE(search("[0][0][0] | length(@)", deep).ok());
  auto y = search("parse_yaml(@)", bj::value(bj::string([] {
                      std::string s;
                      for (int i = 0; i < 3000; ++i) s += "- ";
                      return s + "x";
                    }())), kyverno_functions());
  EXPECT_FALSE(y.ok());
  // Release without deep recursion.
  while (deep.is_array() && !deep.get_array().empty()) {
    bj::value inner = std::move(deep.get_array()[0]);
    deep = std::move(inner);
  }
}

TEST(Jmespath, ToStringFormatsNumbersAsGo) {
  auto r = search("[to_string(`1.0`), to_string(`1e21`), to_string(`0.0000001`), to_string(`{\"b\":1,\"a\":[true]}`)]",
                  bj::object{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json::serialize(*r), R"(["1","1e+21","1e-7","{\"a\":[true],\"b\":1}"])");
}

}  // namespace
}  // namespace vouch::policy::jmespath
