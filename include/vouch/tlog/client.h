// A client of the Rekor v1 REST API (vouch's own log or Rekor): log info, entries by index or
// UUID, entry creation, consistency proofs and index search. Responses are parsed strictly;
// nothing here verifies them (see merkle.h, checkpoint.h and the sigstore verifier).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/net/http.h"

namespace vouch::tlog {

struct RekorInclusionProof {
  int64_t log_index = 0;
  Bytes root_hash;
  int64_t tree_size = 0;
  std::vector<Bytes> hashes;
  std::string checkpoint;
};

struct RekorLogEntry {
  std::string uuid;  // the key the server returned it under (entry ID or UUID)
  std::string body;  // decoded canonical body
  int64_t integrated_time = 0;
  Bytes log_id;
  int64_t log_index = 0;
  std::optional<Bytes> signed_entry_timestamp;
  std::optional<RekorInclusionProof> inclusion_proof;
};

struct RekorLogInfo {
  Bytes root_hash;
  uint64_t tree_size = 0;
  std::string signed_tree_head;
  std::string tree_id;
};

struct RekorConsistencyProof {
  Bytes root_hash;
  std::vector<Bytes> hashes;
};

// {"<id>": LogEntry, ...} as the API returns it.
Result<std::vector<RekorLogEntry>> parse_log_entries(std::string_view json);
// The same, from a parsed value (an object).
Result<std::vector<RekorLogEntry>> parse_log_entries(const boost::json::value& v);

// What a log client uses unless told otherwise: net's retries and TLS defaults, 30 seconds per
// attempt, one minute in all per request, and every request ending by `deadline` (a command's
// -t/--timeout) when there is one.
net::ClientOptions default_rekor_client_options(
    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

class RekorClient {
 public:
  explicit RekorClient(std::string base_url, net::ClientOptions options = default_rekor_client_options());
  const std::string& base_url() const { return base_url_; }

  Result<RekorLogInfo> log_info() const;
  Result<std::string> public_key_pem() const;
  Result<RekorLogEntry> entry_by_index(uint64_t index) const;
  Result<RekorLogEntry> entry_by_uuid(const std::string& uuid) const;
  // POSTs a proposed entry. An entry that is already logged (409) is fetched and returned.
  Result<RekorLogEntry> create_entry(std::string_view proposed_entry_json) const;
  Result<RekorConsistencyProof> consistency_proof(uint64_t first_size, uint64_t last_size) const;
  // Index search: any of hash ("sha256:<hex>"), public key (PEM), email; returns entry UUIDs.
  Result<std::vector<std::string>> search(const std::optional<std::string>& hash,
                                          const std::optional<std::string>& public_key_pem,
                                          const std::optional<std::string>& email) const;

 private:
  Result<net::Response> get(const std::string& path) const;
  Result<net::Response> post(const std::string& path, std::string_view json) const;

  std::string base_url_;
  std::shared_ptr<net::Client> http_;  // shared: copies of a client use one
};

}  // namespace vouch::tlog
