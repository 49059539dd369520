// What the inventory commands and `db update --inventory` print about a rescan.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "vouch/inventory/scan.h"

namespace vouch::cli {

boost::json::object rescan_json(const inventory::RescanResult& result, int64_t pending_alerts);
// One line: updates covered, images and packages matched again, findings opened, reopened,
// closed and deleted, images expired, alerts pending, time.
std::string rescan_summary(const inventory::RescanResult& result, int64_t pending_alerts);

}  // namespace vouch::cli
