// Locates the shared test data for the tlog tests: <repo>/../shared/testdata, or the directory
// named by the VOUCH_TESTDATA environment variable when the repository is checked out elsewhere.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::tlog::testing {

inline std::filesystem::path testdata_dir() {
  std::filesystem::path root = VOUCH_SOURCE_DIR;
  if (const char* env = std::getenv("VOUCH_SOURCE_DIR"); env && *env) root = env;
  std::error_code ec;
  auto beside = root / ".." / "shared" / "testdata";
  if (std::filesystem::is_directory(beside, ec)) return beside.lexically_normal();
  if (const char* env = std::getenv("VOUCH_TESTDATA"); env && *env) return env;
  return {};
}

// The test data directory, or a fatal test failure that says how to provide it.
#define VOUCH_TESTDATA_OR_FAIL(var)                                                           \
  const std::filesystem::path var = ::vouch::tlog::testing::testdata_dir();                   \
  if (var.empty()) {                                                                          \
    FAIL() << "shared test data not found: expected <repo>/../shared/testdata or "            \
              "$VOUCH_TESTDATA";                                                              \
  }

inline Result<boost::json::value> read_json(const std::filesystem::path& path) {
  auto text = read_file(path, 16 << 20);
  if (!text.ok()) return std::move(text).error();
  auto v = json::parse(*text);
  if (!v.ok()) return std::move(v).error().context(path.string());
  return v;
}

}  // namespace vouch::tlog::testing
