// A transparency log as Rekor v1 runs one: an append-only RFC 6962 Merkle tree in a
// LogStorage, a sequencer that batches submissions and acknowledges each entry only once its
// batch is durable, checkpoints signed as Rekor v1 signs them (origin "<host> - <tree ID>",
// key name <host>, key hint SHA-256(DER public key)[:4], a "Timestamp: <ns>" line), and signed
// entry timestamps over canonical {body, integratedTime, logID, logIndex}.
//
// Group commit: the sequencer takes everything queued (up to max_batch) as one batch: it looks
// the batch's leaves up in storage at once, assigns indexes, signs the entry timestamps, extends
// the tree (whose compact range lives in memory) and signs the checkpoint. A second thread
// commits the batches in order, one transaction and one fsync each, and then answers the
// batch's submitters. The sequencer prepares the next batch while the previous one commits, and
// takes its work only when the committer is ready for it, so whatever arrives during a commit
// joins the next batch: batches grow with the load. Each new entry's inclusion proof is computed
// from memory (the tree before the batch and the nodes the batch completed).
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
#include <unordered_map>
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
  // A new entry only: the signed tree head its batch committed, and the entry's RFC 9162
  // inclusion proof in that tree, computed in memory from the batch (no storage read).
  SignedTreeHead head;
  std::vector<Bytes> inclusion_proof;
};

class Log {
 public:
  // Opens the log in `storage` (creating its tree ID on first use) and starts the sequencer and
  // the committer.
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
  // Queues an entry. `done` runs on the log's committer thread once the entry's batch is
  // durable (or failed), or on the sequencer's when the body was logged before or the entry
  // could not be sequenced; it must not block.
  void submit(Submission submission, Callback done);
  // submit() and wait.
  Result<SubmitResult> append(Submission submission);

  // Stops accepting entries, sequences and commits what is queued, and joins the threads.
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
  // Reads the tree's size and compact range from storage into size_ and frontier_.
  Status load_tree();

  // A submission waiting for the sequencer, with its leaf hash (computed by the submitter).
  struct Queued {
    Submission submission;
    Bytes leaf_hash;
    Callback done;
  };
  struct Sequenced;  // a batch on its way from the sequencer to storage (log.cc)

  void run_sequencer();
  void run_committer();
  std::unique_ptr<Sequenced> sequence(std::vector<Queued>& work);
  void commit(Sequenced& batch);

  std::unique_ptr<LogStorage> storage_;
  crypto::PrivateKey key_;
  crypto::PublicKey public_key_;
  LogOptions options_;
  Bytes log_id_;
  int64_t tree_id_ = 0;

  // Sequencer thread only: the tree as sequenced, its batches committed or on their way (the
  // compact range: frontier_[l] = the perfect subtree of 2^l leaves when bit l of size_ is set),
  // and the entries on their way, by leaf hash, with the batch that carries them.
  uint64_t size_ = 0;
  std::vector<Bytes> frontier_;
  std::unordered_map<std::string, std::pair<uint64_t, std::shared_ptr<const StoredEntry>>> in_flight_;
  uint64_t next_batch_ = 1;
  uint64_t epoch_ = 1;  // bumped when the tree is read again after a failed commit

  mutable std::mutex head_mu_;
  SignedTreeHead head_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Queued> queue_;
  bool stopping_ = false;

  // Between the sequencer and the committer.
  std::mutex pipeline_mu_;
  std::condition_variable pipeline_cv_;
  std::unique_ptr<Sequenced> sequenced_;  // the next batch to commit
  bool committing_ = false;
  uint64_t finished_batch_ = 0;  // batches up to this one are committed or failed
  bool commit_failed_ = false;   // the sequencer reads the tree again before its next batch
  uint64_t failed_epoch_ = 0;    // committer only: batches of this epoch or older fail unwritten
  bool sequencer_done_ = false;

  std::thread sequencer_;
  std::thread committer_;
  Stats stats_;
};

}  // namespace vouch::tlog
