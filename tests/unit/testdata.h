// Where the shared, published test data lives: $VOUCH_TESTDATA, else ../shared/testdata
// beside the repository.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "vouch/base/file.h"

namespace vouch::testing {

inline std::filesystem::path testdata_dir() {
  if (const char* env = std::getenv("VOUCH_TESTDATA")) return env;
  return std::filesystem::path(VOUCH_SOURCE_DIR) / ".." / "shared" / "testdata";
}

inline std::string read_testdata(const std::filesystem::path& relative) {
  auto r = read_file(testdata_dir() / relative);
  if (!r.ok()) throw std::runtime_error(r.error().message);
  return *r;
}

}  // namespace vouch::testing
