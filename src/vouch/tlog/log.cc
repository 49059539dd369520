#include "vouch/tlog/log.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <string_view>
#include <unordered_map>
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

namespace {

struct NodeIdHash {
  size_t operator()(const NodeId& id) const { return std::hash<uint64_t>()(id.index * 64 + id.level); }
};

// The inclusion proofs of a batch's entries in the tree the batch makes, from memory: every node
// such a proof needs is either in the compact range of the tree before the batch (the leaves left
// of the entry are covered by perfect subtrees that were complete then, or became complete in the
// batch) or among the nodes the batch completed (everything right of the entry is in the batch).
class BatchProofs {
 public:
  BatchProofs(const std::vector<Bytes>& frontier, uint64_t old_size, const std::vector<StoredNode>& batch_nodes) {
    if (old_size > 0) {
      for (const NodeId& id : root_nodes(old_size).ids) nodes_.emplace(id, &frontier[id.level]);
    }
    for (const StoredNode& n : batch_nodes) nodes_.emplace(n.id, &n.hash);
  }

  Result<std::vector<Bytes>> proof(uint64_t index, uint64_t size) const {
    const ProofNodes wanted = inclusion_nodes(index, size);
    std::vector<Bytes> hashes;
    hashes.reserve(wanted.ids.size());
    for (const NodeId& id : wanted.ids) {
      auto it = nodes_.find(id);
      if (it == nodes_.end())
        return internal_error(fmt::format("log: node at level {} index {} is not in the batch", id.level, id.index));
      hashes.push_back(*it->second);
    }
    return rehash(std::move(hashes), wanted);
  }

 private:
  std::unordered_map<NodeId, const Bytes*, NodeIdHash> nodes_;
};

}  // namespace

// A batch on its way from the sequencer to storage, with what its submitters are to be told.
struct Log::Sequenced {
  uint64_t number = 0;
  uint64_t epoch = 0;
  Batch batch;
  SignedTreeHead head;              // the tree with the batch
  uint64_t old_size = 0;            // the tree before it, for the inclusion proofs
  std::vector<Bytes> old_frontier;

  struct Answer {
    Callback done;
    std::optional<size_t> position;               // this submission's entry in batch.entries
    std::shared_ptr<const StoredEntry> earlier;   // the entry an earlier batch carries
    bool duplicate = false;
  };
  std::vector<Answer> answers;
};

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
  log->committer_ = std::thread([l = log.get()] { l->run_committer(); });
  log->sequencer_ = std::thread([l = log.get()] { l->run_sequencer(); });
  return log;
}

Status Log::load_tree() {
  VOUCH_ASSIGN_OR_RETURN(uint64_t size, storage_->size());
  // The frontier is the tree's compact range: one perfect subtree per set bit of the size.
  std::vector<Bytes> frontier(64);
  if (size > 0) {
    const ProofNodes range = root_nodes(size);
    VOUCH_ASSIGN_OR_RETURN(auto hashes, storage_->nodes(range.ids));
    for (size_t i = 0; i < hashes.size(); ++i) frontier[range.ids[i].level] = std::move(hashes[i]);
  }
  size_ = size;
  frontier_ = std::move(frontier);
  return ok_status();
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
  VOUCH_RETURN_IF_ERROR(load_tree());
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
  // The leaf hash is computed here, on the submitter's thread, not by the sequencer.
  Bytes leaf = hash_leaf(as_bytes(submission.body));
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(Queued{std::move(submission), std::move(leaf), std::move(done)});
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
  if (sequencer_.joinable()) sequencer_.join();
  if (committer_.joinable()) committer_.join();
}

void Log::run_sequencer() {
  for (;;) {
    {
      // Work is taken only when the committer can take the batch it makes: until then it
      // accumulates, and the batch grows with the load.
      std::unique_lock lock(pipeline_mu_);
      pipeline_cv_.wait(lock, [&] { return !sequenced_; });
      if (commit_failed_) {
        // What was sequenced after the failed batch failed with it: start again from storage.
        pipeline_cv_.wait(lock, [&] { return !committing_ && !sequenced_; });
        commit_failed_ = false;
        ++epoch_;
        in_flight_.clear();
        lock.unlock();
        if (Status st = load_tree(); !st.ok()) {
          std::lock_guard again(pipeline_mu_);
          commit_failed_ = true;  // read it again before the next batch
        }
      } else {
        // Entries whose batches are finished are in storage now (or failed).
        std::erase_if(in_flight_, [&](const auto& e) { return e.second.first <= finished_batch_; });
      }
    }
    std::vector<Queued> work;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, nothing left
      const size_t n = std::min(queue_.size(), options_.max_batch);
      work.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::unique_ptr<Sequenced> batch = sequence(work);
    if (!batch) continue;
    std::lock_guard lock(pipeline_mu_);
    sequenced_ = std::move(batch);
    pipeline_cv_.notify_all();
  }
  std::lock_guard lock(pipeline_mu_);
  sequencer_done_ = true;
  pipeline_cv_.notify_all();
}

void Log::run_committer() {
  for (;;) {
    std::unique_ptr<Sequenced> batch;
    {
      std::unique_lock lock(pipeline_mu_);
      pipeline_cv_.wait(lock, [&] { return sequenced_ || sequencer_done_; });
      if (!sequenced_) return;  // the sequencer is done and everything is committed
      batch = std::move(sequenced_);
      committing_ = true;
      pipeline_cv_.notify_all();  // the sequencer may take the next batch's work now
    }
    commit(*batch);
    std::lock_guard lock(pipeline_mu_);
    committing_ = false;
    finished_batch_ = batch->number;
    pipeline_cv_.notify_all();
  }
}

std::unique_ptr<Log::Sequenced> Log::sequence(std::vector<Queued>& work) {
  auto fail_all = [&](const Error& e) {
    stats_.failures++;
    for (Queued& q : work) q.done(e);
  };
  // Submissions of a body already in this batch share its first submission's outcome; the first
  // ones are looked up in the batches on their way and, all at once, in storage.
  std::unordered_map<std::string_view, size_t> first_of;  // leaf hash -> work index
  std::vector<size_t> fresh;                              // work indexes to look up in storage
  std::vector<Bytes> lookup;
  for (size_t i = 0; i < work.size(); ++i) {
    std::string_view leaf = as_chars(work[i].leaf_hash);
    if (!first_of.try_emplace(leaf, i).second || in_flight_.count(std::string(leaf))) continue;
    fresh.push_back(i);
    lookup.push_back(work[i].leaf_hash);
  }
  auto stored = storage_->indexes_of(lookup);
  if (!stored.ok()) {
    fail_all(stored.error());
    return nullptr;
  }
  if (stored->size() != lookup.size()) {
    fail_all(internal_error("log storage: the index look-up returned the wrong number of rows"));
    return nullptr;
  }
  std::vector<std::optional<uint64_t>> stored_index(work.size());
  for (size_t f = 0; f < fresh.size(); ++f) stored_index[fresh[f]] = (*stored)[f];

  auto out = std::make_unique<Sequenced>();
  out->epoch = epoch_;
  out->old_size = size_;
  Batch& batch = out->batch;
  uint64_t size = size_;
  std::vector<Bytes> frontier = frontier_;
  const int64_t integrated_time = now_unix();
  std::vector<std::optional<size_t>> answer_of(work.size());          // first submissions answered at commit
  std::vector<std::optional<Result<SubmitResult>>> answered(work.size());  // first submissions answered now

  for (size_t i = 0; i < work.size(); ++i) {
    if (first_of.at(as_chars(work[i].leaf_hash)) != i) continue;
    Submission& s = work[i].submission;
    if (auto it = in_flight_.find(to_string(work[i].leaf_hash)); it != in_flight_.end()) {
      // Carried by a batch still on its way: answered once that batch is committed (this batch
      // commits after it).
      answer_of[i] = out->answers.size();
      out->answers.push_back({std::move(work[i].done), std::nullopt, it->second.second, true});
      continue;
    }
    if (stored_index[i]) {
      auto e = storage_->entry(*stored_index[i]);
      if (!e.ok()) {
        answered[i] = e.error();
      } else if (!*e) {
        answered[i] = internal_error("log storage: an indexed entry is missing");
      } else {
        answered[i] = SubmitResult{std::move(**e), true, {}, {}};
      }
      continue;
    }
    StoredEntry e;
    e.index = size;
    e.leaf_hash = work[i].leaf_hash;
    e.body = std::move(s.body);
    e.integrated_time = integrated_time;
    e.index_keys = std::move(s.index_keys);
    auto set = sign_entry_timestamp(key_, as_bytes(e.body), integrated_time, log_id_, static_cast<int64_t>(e.index));
    if (!set.ok()) {
      answered[i] = set.error();
      continue;
    }
    e.signed_entry_timestamp = std::move(*set);
    // Append the leaf to the compact range, recording every node that becomes complete.
    Bytes h = e.leaf_hash;
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
    answer_of[i] = out->answers.size();
    out->answers.push_back({std::move(work[i].done), batch.entries.size(), nullptr, false});
    batch.entries.push_back(std::move(e));
    for (auto& setting : s.settings) batch.settings.push_back(std::move(setting));
  }

  // The others, and the later submissions of each body, are answered as their first one is.
  for (size_t i = 0; i < work.size(); ++i) {
    const size_t first = first_of.at(as_chars(work[i].leaf_hash));
    if (answered[first]) {
      Result<SubmitResult> r = *answered[first];
      if (r.ok()) stats_.duplicates++;
      work[i].done(std::move(r));
    } else if (first != i) {
      const std::optional<size_t> position = out->answers[*answer_of[first]].position;
      std::shared_ptr<const StoredEntry> earlier = out->answers[*answer_of[first]].earlier;
      out->answers.push_back({std::move(work[i].done), position, std::move(earlier), true});
    }
  }
  if (out->answers.empty()) return nullptr;  // nothing to commit or to wait for

  if (!batch.entries.empty()) {
    out->head.size = size;
    out->head.root_hash = fold_frontier(frontier, size);
    Checkpoint cp{origin(), size, out->head.root_hash, {fmt::format("Timestamp: {}", now_nanos())}};
    auto note = sign_checkpoint(key_, options_.hostname, cp);
    if (!note.ok()) {
      stats_.failures++;
      for (auto& a : out->answers) a.done(note.error());
      return nullptr;
    }
    out->head.checkpoint = *note;
    batch.checkpoint = std::move(*note);
  }

  out->number = next_batch_++;
  for (const StoredEntry& e : batch.entries)
    in_flight_.emplace(to_string(e.leaf_hash), std::make_pair(out->number, std::make_shared<const StoredEntry>(e)));
  out->old_frontier = std::move(frontier_);
  frontier_ = std::move(frontier);
  size_ = size;
  return out;
}

void Log::commit(Sequenced& s) {
  Status committed = ok_status();
  if (s.epoch <= failed_epoch_) {
    committed = io_error("log storage: an earlier batch failed to commit");
  } else if (!s.batch.entries.empty()) {
    committed = storage_->append(s.batch);
  }
  if (!committed.ok()) {
    failed_epoch_ = s.epoch;
    stats_.failures++;
    std::lock_guard lock(pipeline_mu_);
    commit_failed_ = true;
  } else if (!s.batch.entries.empty()) {
    std::lock_guard lock(head_mu_);
    head_ = s.head;
    stats_.batches++;
    stats_.entries += s.batch.entries.size();
  }

  std::optional<BatchProofs> proofs;
  if (committed.ok() && !s.batch.entries.empty()) proofs.emplace(s.old_frontier, s.old_size, s.batch.nodes);
  for (Sequenced::Answer& a : s.answers) {
    if (!committed.ok()) {
      a.done(committed.error());
      continue;
    }
    if (a.duplicate) stats_.duplicates++;
    if (a.earlier) {
      StoredEntry e = *a.earlier;
      e.index_keys.clear();
      a.done(SubmitResult{std::move(e), true, {}, {}});
      continue;
    }
    StoredEntry e = s.batch.entries[*a.position];
    e.index_keys.clear();
    if (a.duplicate) {
      a.done(SubmitResult{std::move(e), true, {}, {}});
      continue;
    }
    auto proof = proofs->proof(e.index, s.head.size);
    if (!proof.ok()) {
      a.done(proof.error());
      continue;
    }
    a.done(SubmitResult{std::move(e), false, s.head, std::move(*proof)});
  }
}

}  // namespace vouch::tlog
