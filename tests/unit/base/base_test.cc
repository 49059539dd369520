#include <gtest/gtest.h>

#include "vouch/base/bytes.h"
#include "vouch/base/canonical_json.h"
#include "vouch/base/json.h"
#include "vouch/base/time.h"

namespace vouch {
namespace {

TEST(Bytes, HexRoundTrip) {
  Bytes b{0x00, 0xab, 0xff};
  EXPECT_EQ(hex_encode(b), "00abff");
  EXPECT_EQ(*hex_decode("00ABff"), b);
  EXPECT_FALSE(hex_decode("0g").ok());
  EXPECT_FALSE(hex_decode("abc").ok());
}

TEST(Bytes, Base64) {
  EXPECT_EQ(base64_encode(as_bytes("hello")), "aGVsbG8=");
  EXPECT_EQ(to_string(*base64_decode("aGVsbG8=")), "hello");
  EXPECT_FALSE(base64_decode("aGVsbG8").ok());          // padding required
  EXPECT_FALSE(base64_decode("aGVsbG9=").ok());         // non-canonical trailing bits
  EXPECT_FALSE(base64_decode("INVALID!!!BASE64").ok());
  EXPECT_EQ(to_string(*protojson_bytes_decode("aGVsbG8")), "hello");
  EXPECT_EQ(to_string(*protojson_bytes_decode("aGVs\nbG8=\n")), "hello");  // wrapped, as Go accepts
  EXPECT_EQ(to_string(*base64url_decode("_-8")), "\xff\xef");
}

TEST(Json, PathInErrors) {
  auto v = json::parse(R"({"a":{"b":[1,"x"]}})");
  ASSERT_TRUE(v.ok());
  auto root = json::Node::root(*v);
  auto arr = root.get("a")->get("b")->array();
  ASSERT_TRUE(arr.ok());
  auto bad = (*arr)[1].int64();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "a.b[1]: expected an integer");
  EXPECT_EQ(root.get("missing").error().message, "missing: missing");
}

TEST(Json, DepthAndSizeLimits) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(json::parse(deep).ok());
  EXPECT_FALSE(json::parse("{}", {.max_bytes = 1}).ok());
  EXPECT_FALSE(json::parse("{\"a\":").ok());
}

TEST(CanonicalJson, Rfc8785) {
  auto v = json::parse(R"({"b":2,"a":"x\u000f\n","c":[true,null,1.5e30,0.000001,100]})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*json::canonicalize(*v), "{\"a\":\"x\\u000f\\n\",\"b\":2,\"c\":[true,null,1.5e+30,0.000001,100]}");
  // Keys sort by UTF-16 code units: U+20AC (euro) sorts before U+1F600 (surrogates 0xD83D...).
  auto u = json::parse("{\"\xf0\x9f\x98\x80\":1,\"\xe2\x82\xac\":2}");
  EXPECT_EQ(*json::canonicalize(*u), "{\"\xe2\x82\xac\":2,\"\xf0\x9f\x98\x80\":1}");
}

TEST(Time, Rfc3339) {
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_rfc3339("2021-10-07T13:56:59.123Z"), 1633615019);
  EXPECT_EQ(*parse_rfc3339("2021-10-07T15:56:59+02:00"), 1633615019);
  EXPECT_EQ(format_rfc3339(1633615019), "2021-10-07T13:56:59Z");
  EXPECT_FALSE(parse_rfc3339("2021-13-07T13:56:59Z").ok());
  EXPECT_FALSE(parse_rfc3339("yesterday").ok());
}

}  // namespace
}  // namespace vouch
