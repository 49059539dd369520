// `vouch db update` as a function, for `db update` itself and for `vouch watch`, which updates
// the database on a schedule.
#pragma once

#include <string>
#include <vector>

#include "cli/common.h"

namespace vouch::cli {

struct DbUpdateOptions {
  std::string db;
  std::vector<std::string> sources;
  std::vector<std::string> ecosystems;
  bool require_checksums = false;
  std::string ca_file;
  std::string output = "text";
  TimeoutFlag timeout;
  // After a successful update, rescan this inventory store (only the images holding a package
  // a changed record names).
  std::string inventory;
};

// Updates the database from each source in turn, then rescans the inventory when one is named;
// prints what it did. Returns the exit code.
int run_db_update(const DbUpdateOptions& options);

}  // namespace vouch::cli
