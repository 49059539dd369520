#include "vouch/base/ascii.h"

#include <gtest/gtest.h>

namespace vouch {
namespace {

TEST(Ascii, LowersOnlyAsciiLetters) {
  EXPECT_EQ(lower("Content-Type: ÄB"), "content-type: Äb");
  EXPECT_EQ(lower(""), "");
  EXPECT_TRUE(iequals("WWW-Authenticate", "www-authenticate"));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  static_assert(iequals("Bearer", "bEARER"));
}

}  // namespace
}  // namespace vouch
