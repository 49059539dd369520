// JSON Patch (RFC 6902), with the examples of its appendix A.
#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/policy/json_patch.h"

namespace vouch::policy {
namespace {

namespace bj = boost::json;

bj::value js(std::string_view text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : bj::value();
}

Result<bj::value> patch(std::string_view doc, std::string_view ops) {
  return apply_json_patch(js(doc), js(ops).as_array());
}

TEST(JsonPatch, Rfc6902Examples) {
  EXPECT_EQ(*patch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])"), js(R"({"foo":"bar","baz":"qux"})"));
  EXPECT_EQ(*patch(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])"),
            js(R"({"foo":["bar","qux","baz"]})"));
  EXPECT_EQ(*patch(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])"), js(R"({"foo":"bar"})"));
  EXPECT_EQ(*patch(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])"), js(R"({"foo":["bar","baz"]})"));
  EXPECT_EQ(*patch(R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])"),
            js(R"({"baz":"boo","foo":"bar"})"));
  EXPECT_EQ(*patch(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                   R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])"),
            js(R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"));
  EXPECT_EQ(*patch(R"({"foo":["all","grass","cows","eat"]})", R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])"),
            js(R"({"foo":["all","cows","eat","grass"]})"));
  EXPECT_TRUE(patch(R"({"baz":"qux","foo":["a",2,"c"]})",
                    R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])").ok());
  EXPECT_FALSE(patch(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])").ok());
  EXPECT_EQ(*patch(R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])"),
            js(R"({"foo":"bar","child":{"grandchild":{}}})"));
  EXPECT_FALSE(patch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])").ok());
  EXPECT_EQ(*patch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10},{"op":"replace","path":"/~1","value":1}])"),
            js(R"({"/":1,"~1":10})"));
  EXPECT_EQ(*patch(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])"),
            js(R"({"foo":["bar",["abc","def"]]})"));
  EXPECT_EQ(*patch(R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])"), js(R"({"a":{"b":1},"c":{"b":1}})"));
}

TEST(JsonPatch, BadOperationsAreErrors) {
  EXPECT_FALSE(patch(R"({})", R"([{"op":"frobnicate","path":"/a"}])").ok());
  EXPECT_FALSE(patch(R"({})", R"([{"op":"replace","path":"/a","value":1}])").ok());
  EXPECT_FALSE(patch(R"({"a":[1]})", R"([{"op":"remove","path":"/a/01"}])").ok());
  EXPECT_FALSE(patch(R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":1}])").ok());
  EXPECT_FALSE(patch(R"({"a":{}})", R"([{"op":"move","from":"/a","path":"/a/b"}])").ok());
  EXPECT_FALSE(patch(R"({})", R"([{"op":"add","path":"a","value":1}])").ok());
}

// What the engine's mutateDigest makes.
TEST(JsonPatch, PinsAnImageToItsDigest) {
  auto out = apply_json_patch(js(R"({"spec":{"containers":[{"name":"a","image":"ghcr.io/x:1"}]}})"),
                              std::vector<bj::object>{bj::object{{"op", "replace"},
                                                                 {"path", "/spec/containers/0/image"},
                                                                 {"value", "ghcr.io/x:1@sha256:00"}}});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->at_pointer("/spec/containers/0/image"), "ghcr.io/x:1@sha256:00");
}

}  // namespace
}  // namespace vouch::policy
