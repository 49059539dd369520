#include "vouch/tlog/log.h"

#include <chrono>
#include <future>
#include <map>
#include <random>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/canonical_json.h"
#include "vouch/base/time.h"
#include "vouch/crypto/digest.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {

// ---- Signing --------------------------------------------------------------------------------

Bytes rekor_log_id(const crypto::PublicKey& key) { return crypto::sha256(key.der()); }

Result<std::string> sign_checkpoint(const crypto::PrivateKey& key, std::string_view name, const Checkpoint& checkpoint) {
  if (!is_valid_note_key_name(name)) return invalid_input(fmt::format("checkpoint: invalid key name '{}'", name));
  SignedNote note;
  note.text = format_checkpoint(checkpoint);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, key.sign(as_bytes(note.text)));
  note.signatures.push_back({std::string(name), legacy_key_id(key.public_key()), std::move(sig)});
  return format_signed_note(note);
}

// ---- Tree reads -----------------------------------------------------------------------------

namespace {

// Fetches the proof's nodes from storage (one call) and rehashes them into the proof.
Result<std::vector<Bytes>> fetch_proof(LogStorage& storage, const ProofNodes& nodes) {
  if (nodes.ids.empty()) return std::vector<Bytes>();
  VOUCH_ASSIGN_OR_RETURN(std::vector<Bytes> hashes, storage.nodes(nodes.ids));
  return rehash(std::move(hashes), nodes);
}

}  // namespace

Result<Bytes> stored_root(LogStorage& storage, uint64_t size) {
  if (size == 0) return empty_root();
  VOUCH_ASSIGN_OR_RETURN(std::vector<Bytes> root, fetch_proof(storage, root_nodes(size)));
  return std::move(root.front());
}

Result<std::vector<Bytes>> stored_inclusion_proof(LogStorage& storage, uint64_t index, uint64_t size) {
  if (index >= size)
    return invalid_input(fmt::format("inclusion proof: index {} is not below tree size {}", index, size));
  return fetch_proof(storage, inclusion_nodes(index, size));
}

Result<std::vector<Bytes>> stored_consistency_proof(LogStorage& storage, uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 > size2)
    return invalid_input(fmt::format("consistency proof: sizes {} and {} are not 0 < first <= last", size1, size2));
  return fetch_proof(storage, consistency_nodes(size1, size2));
}

// ---- The log --------------------------------------------------------------------------------

namespace {

Bytes fold_frontier(const std::vector<Bytes>& frontier, uint64_t size) {
  if (size == 0) return empty_root();
  Bytes root;
  for (int level = 0; level < 64; ++level) {
    if (!(size >> level & 1)) continue;
    root = root.empty() ? frontier[level] : hash_children(frontier[level], root);
  }
  return root;
}

int64_t now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Log::Log(std::unique_ptr<LogStorage> storage, crypto::PrivateKey key, LogOptions options)
    : storage_(std::move(storage)),
      key_(std::move(key)),
      public_key_(key_.public_key()),
      options_(std::move(options)),
      log_id_(rekor_log_id(public_key_)),
      frontier_(64) {}

Log::~Log() { stop(); }

std::string Log::origin() const { return fmt::format("{} - {}", options_.hostname, tree_id_); }

Result<std::unique_ptr<Log>> Log::open(std::unique_ptr<LogStorage> storage, crypto::PrivateKey key, LogOptions options) {
  if (!is_valid_note_key_name(options.hostname))
    return invalid_input(fmt::format("log hostname '{}' is not a valid checkpoint key name", options.hostname));
  if (options.max_batch == 0) options.max_batch = 1;
  std::unique_ptr<Log> log(new Log(std::move(storage), std::move(key), std::move(options)));
  VOUCH_RETURN_IF_ERROR(log->load());
  log->thread_ = std::thread([l = log.get()] { l->run(); });
  return log;
}

Status Log::load() {
  VOUCH_ASSIGN_OR_RETURN(auto tree_id, storage_->get_setting("tree_id"));
  if (!tree_id) {
    std::random_device rd;
    std::uniform_int_distribution<int64_t> dist(1, INT64_MAX);
    tree_id = std::to_string(dist(rd));
    VOUCH_RETURN_IF_ERROR(storage_->put_setting("tree_id", *tree_id));
  }
  try {
    tree_id_ = std::stoll(*tree_id);
  } catch (const std::exception&) {
    return invalid_input(fmt::format("log storage: tree_id '{}' is not a number", *tree_id));
  }
  VOUCH_ASSIGN_OR_RETURN(size_, storage_->size());
  // The frontier is the tree's compact range: one perfect subtree per set bit of the size.
  if (size_ > 0) {
    const ProofNodes range = root_nodes(size_);
    VOUCH_ASSIGN_OR_RETURN(auto hashes, storage_->nodes(range.ids));
    for (size_t i = 0; i < hashes.size(); ++i) frontier_[range.ids[i].level] = std::move(hashes[i]);
  }
  SignedTreeHead head{size_, fold_frontier(frontier_, size_), {}};
  VOUCH_ASSIGN_OR_RETURN(auto stored, storage_->latest_checkpoint());
  if (stored) {
    auto note = parse_signed_note(*stored);
    auto cp = note.ok() ? parse_checkpoint(note->text) : Result<Checkpoint>(note.error());
    if (cp.ok() && cp->size == size_ && bytes_equal(cp->root_hash, head.root_hash) && cp->origin == origin())
      head.checkpoint = *stored;
  }
  if (head.checkpoint.empty()) {
    Checkpoint cp{origin(), size_, head.root_hash, {fmt::format("Timestamp: {}", now_nanos())}};
    VOUCH_ASSIGN_OR_RETURN(head.checkpoint, sign_checkpoint(key_, options_.hostname, cp));
  }
  std::lock_guard lock(head_mu_);
  head_ = std::move(head);
  return ok_status();
}

SignedTreeHead Log::head() const {
  std::lock_guard lock(head_mu_);
  return head_;
}

void Log::submit(Submission submission, Callback done) {
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.emplace_back(std::move(submission), std::move(done));
      queue_cv_.notify_one();
      return;
    }
  }
  done(io_error("the log is shutting down"));
}

Result<SubmitResult> Log::append(Submission submission) {
  auto promise = std::make_shared<std::promise<Result<SubmitResult>>>();
  auto future = promise->get_future();
  submit(std::move(submission), [promise](Result<SubmitResult> r) { promise->set_value(std::move(r)); });
  return future.get();
}

void Log::stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Log::run() {
  for (;;) {
    std::vector<std::pair<Submission, Callback>> work;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && work.size() < options_.max_batch) {
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    sequence(work);
  }
}

void Log::sequence(std::vector<std::pair<Submission, Callback>>& work) {
  struct Pending {
    size_t work_index;
    std::optional<size_t> batch_pos;    // position in batch.entries
    std::optional<StoredEntry> existing;  // logged before
    std::optional<Error> error;
  };
  std::vector<Pending> pending;
  Batch batch;
  std::map<Bytes, size_t> in_batch;  // leaf hash -> position
  std::vector<Bytes> frontier = frontier_;
  uint64_t size = size_;
  int64_t integrated_time = now_unix();

  for (size_t i = 0; i < work.size(); ++i) {
    Submission& s = work[i].first;
    Pending p{i, {}, {}, {}};
    Bytes leaf = hash_leaf(as_bytes(s.body));
    if (auto it = in_batch.find(leaf); it != in_batch.end()) {
      p.batch_pos = it->second;
      p.existing = StoredEntry{};  // marks a duplicate of an entry in this batch
      pending.push_back(std::move(p));
      continue;
    }
    auto idx = storage_->index_of(leaf);
    if (!idx.ok()) {
      p.error = idx.error();
    } else if (*idx) {
      auto e = storage_->entry(**idx);
      if (!e.ok() || !*e) {
        p.error = e.ok() ? internal_error("log storage: indexed entry is missing") : e.error();
      } else {
        p.existing = std::move(**e);
      }
    } else {
      StoredEntry e;
      e.index = size;
      e.leaf_hash = leaf;
      e.body = std::move(s.body);
      e.integrated_time = integrated_time;
      e.index_keys = std::move(s.index_keys);
      auto set = sign_entry_timestamp(key_, as_bytes(e.body), integrated_time, log_id_, static_cast<int64_t>(e.index));
      if (!set.ok()) {
        p.error = set.error();
      } else {
        e.signed_entry_timestamp = std::move(*set);
        // Append the leaf to the compact range, recording every node that becomes complete.
        Bytes h = leaf;
        uint8_t level = 0;
        batch.nodes.push_back({NodeId{0, size}, h});
        while (size >> level & 1) {
          h = hash_children(frontier[level], h);
          frontier[level].clear();
          ++level;
          batch.nodes.push_back({NodeId{level, size >> level}, h});
        }
        frontier[level] = h;
        ++size;
        in_batch[leaf] = batch.entries.size();
        p.batch_pos = batch.entries.size();
        batch.entries.push_back(std::move(e));
        for (auto& setting : s.settings) batch.settings.push_back(std::move(setting));
      }
    }
    pending.push_back(std::move(p));
  }

  Status committed = ok_status();
  SignedTreeHead head;
  if (!batch.entries.empty()) {
    head.size = size;
    head.root_hash = fold_frontier(frontier, size);
    Checkpoint cp{origin(), size, head.root_hash, {fmt::format("Timestamp: {}", now_nanos())}};
    auto note = sign_checkpoint(key_, options_.hostname, cp);
    if (!note.ok()) {
      committed = note.error();
    } else {
      head.checkpoint = *note;
      batch.checkpoint = std::move(*note);
      committed = storage_->append(batch);
    }
    if (committed.ok()) {
      frontier_ = std::move(frontier);
      size_ = size;
      std::lock_guard lock(head_mu_);
      head_ = head;
      stats_.batches++;
      stats_.entries += batch.entries.size();
    } else {
      stats_.failures++;
    }
  }

  for (Pending& p : pending) {
    Callback& done = work[p.work_index].second;
    if (p.error) {
      done(*p.error);
    } else if (p.existing && !p.batch_pos) {
      stats_.duplicates++;
      done(SubmitResult{std::move(*p.existing), true});
    } else if (!committed.ok()) {
      done(committed.error());
    } else {
      StoredEntry e = batch.entries[*p.batch_pos];
      e.index_keys.clear();
      bool dup = p.existing.has_value();
      if (dup) stats_.duplicates++;
      done(SubmitResult{std::move(e), dup});
    }
  }
}

}  // namespace vouch::tlog
