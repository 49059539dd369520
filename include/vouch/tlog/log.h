// A transparency log as Rekor v1 runs one: an append-only RFC 6962 Merkle tree in a
// LogStorage, a sequencer that batches submissions and acknowledges each entry only once its
// batch is durable, checkpoints signed as Rekor v1 signs them (origin "<host> - <tree ID>",
// key name <host>, key hint SHA-256(DER public key)[:4], a "Timestamp: <ns>" line), and signed
// entry timestamps over canonical {body, integratedTime, logID, logIndex}.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"
#include "vouch/tlog/checkpoint.h"
#include "vouch/tlog/entry_timestamp.h"
#include "vouch/tlog/storage.h"

namespace vouch::tlog {

// ---- Signing as Rekor v1 signs -------------------------------------------------------------

// The log ID: SHA-256 of the log's DER (SubjectPublicKeyInfo) public key.
Bytes rekor_log_id(const crypto::PublicKey& key);

// A checkpoint signed under `name` with the Rekor v1 key hint (legacy_key_id).
Result<std::string> sign_checkpoint(const crypto::PrivateKey& key, std::string_view name, const Checkpoint& checkpoint);

// ---- Tree reads over storage ---------------------------------------------------------------

// The root hash of the first `size` leaves, from the node hashes in storage.
Result<Bytes> stored_root(LogStorage& storage, uint64_t size);
// RFC 9162 inclusion proof for leaf `index` in the tree of the first `size` leaves.
Result<std::vector<Bytes>> stored_inclusion_proof(LogStorage& storage, uint64_t index, uint64_t size);
// RFC 9162 consistency proof from size1 to size2 (0 < size1 <= size2).
Result<std::vector<Bytes>> stored_consistency_proof(LogStorage& storage, uint64_t size1, uint64_t size2);

// ---- The log --------------------------------------------------------------------------------

struct LogOptions {
  std::string hostname = "localhost";  // checkpoint origin "<hostname> - <tree ID>", key name <hostname>
  size_t max_batch = 1024;
};

struct SignedTreeHead {
  uint64_t size = 0;
  Bytes root_hash;
  std::string checkpoint;  // signed note
};

struct Submission {
  std::string body;                     // canonical entry body: the leaf
  std::vector<std::string> index_keys;  // search keys
  // Storage settings written in the same transaction as the entry, only when the entry is new.
  std::vector<std::pair<std::string, std::string>> settings = {};
};

struct SubmitResult {
  StoredEntry entry;
  bool duplicate = false;  // the body was logged before; `entry` is the existing entry
};

class Log {
 public:
  // Opens the log in `storage` (creating its tree ID on first use) and starts the sequencer.
  static Result<std::unique_ptr<Log>> open(std::unique_ptr<LogStorage> storage, crypto::PrivateKey key,
                                           LogOptions options);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  const crypto::PublicKey& public_key() const { return public_key_; }
  const Bytes& log_id() const { return log_id_; }
  int64_t tree_id() const { return tree_id_; }
  const std::string& hostname() const { return options_.hostname; }
  std::string origin() const;
  LogStorage& storage() { return *storage_; }

  // The latest durable signed tree head.
  SignedTreeHead head() const;

  using Callback = std::function<void(Result<SubmitResult>)>;
  // Queues an entry. `done` runs on the sequencer thread once the entry's batch is durable
  // (or failed); it must not block.
  void submit(Submission submission, Callback done);
  // submit() and wait.
  Result<SubmitResult> append(Submission submission);

  // Stops accepting entries, sequences what is queued, and joins the sequencer.
  void stop();

  struct Stats {
    std::atomic<uint64_t> batches{0};
    std::atomic<uint64_t> entries{0};
    std::atomic<uint64_t> duplicates{0};
    std::atomic<uint64_t> failures{0};
  };
  const Stats& stats() const { return stats_; }

 private:
  Log(std::unique_ptr<LogStorage> storage, crypto::PrivateKey key, LogOptions options);
  Status load();
  void run();
  void sequence(std::vector<std::pair<Submission, Callback>>& work);

  std::unique_ptr<LogStorage> storage_;
  crypto::PrivateKey key_;
  crypto::PublicKey public_key_;
  LogOptions options_;
  Bytes log_id_;
  int64_t tree_id_ = 0;

  // Sequencer state: the compact range of the tree (frontier[l] = the perfect subtree of 2^l
  // leaves when bit l of size_ is set).
  uint64_t size_ = 0;
  std::vector<Bytes> frontier_;

  mutable std::mutex head_mu_;
  SignedTreeHead head_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::pair<Submission, Callback>> queue_;
  bool stopping_ = false;
  std::thread thread_;
  Stats stats_;
};

}  // namespace vouch::tlog
