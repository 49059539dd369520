// When `scan` calls the vulnerability data stale: the age limit's syntax and the warning.
#include <gtest/gtest.h>

#include "vouch/vuln/database.h"

namespace vouch::vuln {
namespace {

TEST(Freshness, MaxAgeSyntax) {
  EXPECT_EQ(*parse_max_age("120h"), 120 * 3600);
  EXPECT_EQ(*parse_max_age("5d"), 5 * 86400);
  EXPECT_EQ(*parse_max_age("90m"), 90 * 60);
  EXPECT_EQ(*parse_max_age("3600s"), 3600);
  EXPECT_EQ(*parse_max_age("42"), 42);
  EXPECT_EQ(*parse_max_age("0s"), 0);
  for (const char* bad : {"", "h", "5w", "-1d", "1.5h", "5 d", "99999999999999999999", "40000d"}) {
    auto r = parse_max_age(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("expected a duration"), std::string::npos) << r.error().message;
  }
}

TEST(Freshness, WarnsOnlyBeyondTheLimit) {
  DatabaseFreshness f;
  f.path = "/db/vouch.sqlite";
  const UnixSeconds now = 1'700'000'000;
  f.last_import = now - 5 * 86400;  // exactly at the default limit: fresh
  EXPECT_FALSE(staleness_warning(f, now, kStaleAfterSeconds).has_value());
  f.last_import = now - 5 * 86400 - 1;
  auto w = staleness_warning(f, now, kStaleAfterSeconds);
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("last imported 5 days ago (2023-11-09T22:13:19Z), more than the 5 days allowed"),
            std::string::npos)
      << *w;
  // A tighter limit makes an hour-old import stale; a looser one a week-old import fresh.
  f.last_import = now - 3600;
  EXPECT_TRUE(staleness_warning(f, now, 1800).has_value());
  EXPECT_FALSE(staleness_warning(f, now, 7200).has_value());
  f.last_import = now - 7 * 86400;
  EXPECT_FALSE(staleness_warning(f, now, *parse_max_age("8d")).has_value());
  // Never imported: always a warning.
  f.last_import.reset();
  auto never = staleness_warning(f, now, kStaleAfterSeconds);
  ASSERT_TRUE(never.has_value());
  EXPECT_NE(never->find("never imported"), std::string::npos);
}

}  // namespace
}  // namespace vouch::vuln
