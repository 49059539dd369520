// A log monitor: follows a Rekor v1 log's signed tree heads, verifies each against the log's
// key and proves it consistent with the last verified one (kept on disk), and hands every new
// entry, with the identities in its signing certificates, to a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"
#include "vouch/tlog/client.h"

namespace vouch::tlog {

struct MonitorState {
  uint64_t size = 0;
  Bytes root_hash;
  std::string checkpoint;   // the signed note last verified
  uint64_t next_index = 0;  // entries before this were handed to the callback
};

Result<std::optional<MonitorState>> load_monitor_state(const std::string& path);
Status save_monitor_state(const std::string& path, const MonitorState& state);

// Identities in an entry body's certificates (email, URI, DNS and otherName SANs); empty for
// entries signed with bare keys.
std::vector<std::string> entry_identities(std::string_view body);

struct MonitorRound {
  MonitorState state;       // the new verified state
  uint64_t entries_seen = 0;
};

// One round: fetch and verify the signed tree head (key name = the origin's host, Rekor v1 key
// hint), check it extends `previous` (consistency proof, or equal roots at equal size; a smaller
// tree is an inconsistency), then fetch at most `max_entries` new entries, check each is the
// leaf at its index (its UUID is its leaf hash) and is included in the verified tree (or in a
// newer tree proven consistent with it), and call `on_entry`. Fails with kVerification on
// any inconsistency or bad signature.
Result<MonitorRound> monitor_round(const RekorClient& client, const crypto::PublicKey& log_key,
                                   const std::optional<MonitorState>& previous, size_t max_entries,
                                   const std::function<void(const RekorLogEntry&, const std::vector<std::string>&)>& on_entry);

}  // namespace vouch::tlog
