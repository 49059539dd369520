// Durable storage for a transparency log: entries, the Merkle tree's node hashes, the search
// index and the signed checkpoints, behind one interface with an embedded SQLite
// implementation and a PostgreSQL one. Every append is one transaction that is durable
// (fsync'd) when it returns; the sequencer appends a whole batch at once, so one fsync covers
// all its entries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/tlog/merkle.h"  // NodeId

namespace vouch::tlog {

struct StoredNode {
  NodeId id;
  Bytes hash;
};

struct StoredEntry {
  uint64_t index = 0;
  Bytes leaf_hash;
  std::string body;  // the canonical entry body (the leaf)
  int64_t integrated_time = 0;
  Bytes signed_entry_timestamp;
  std::vector<std::string> index_keys;  // search keys: "sha256:<hex>", key digests, emails
};

// One sequenced batch: its entries (consecutive indexes from the current size), the nodes that
// became complete, and the signed checkpoint of the tree that results.
struct Batch {
  std::vector<StoredEntry> entries;
  std::vector<StoredNode> nodes;
  std::string checkpoint;  // signed note
  // Settings the entries bring with them (a CT entry's submitted chain), durable with them.
  std::vector<std::pair<std::string, std::string>> settings;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Storage-wide settings (tree ID, ...); nullopt when unset.
  virtual Result<std::optional<std::string>> get_setting(const std::string& name) = 0;
  virtual Status put_setting(const std::string& name, const std::string& value) = 0;

  // The number of entries stored.
  virtual Result<uint64_t> size() = 0;
  // Appends a batch (its settings included) in one durable transaction. Fails (and stores nothing) unless the batch's
  // first index is size(), or when an entry's leaf hash is already stored.
  virtual Status append(const Batch& batch) = 0;

  virtual Result<std::optional<StoredEntry>> entry(uint64_t index) = 0;
  virtual Result<std::optional<uint64_t>> index_of(ByteView leaf_hash) = 0;
  // index_of() for many leaf hashes in one look-up (one statement per batch, not one per entry):
  // the result has one element per hash, in order.
  virtual Result<std::vector<std::optional<uint64_t>>> indexes_of(const std::vector<Bytes>& leaf_hashes) = 0;
  // Node hashes; a missing node is an error (kNotFound).
  virtual Result<std::vector<Bytes>> nodes(const std::vector<NodeId>& ids) = 0;
  // Entry indexes recorded under a search key, ascending, at most `limit`.
  virtual Result<std::vector<uint64_t>> search(const std::string& key, size_t limit) = 0;
  // The last checkpoint stored (signed note), if any.
  virtual Result<std::optional<std::string>> latest_checkpoint() = 0;
};

// "sqlite:PATH" or a plain path. WAL journal, synchronous=FULL: a committed append survives a
// crash of the process or the machine.
Result<std::unique_ptr<LogStorage>> open_sqlite_storage(const std::string& path);

// "postgres://…" or "postgresql://…" (a libpq connection URI). Tables are created on first use.
Result<std::unique_ptr<LogStorage>> open_postgres_storage(const std::string& url);

// Opens storage by URL: "sqlite:PATH", a plain path (SQLite), or a PostgreSQL URI.
Result<std::unique_ptr<LogStorage>> open_storage(const std::string& url);

}  // namespace vouch::tlog
