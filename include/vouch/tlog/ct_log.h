// An RFC 6962 Certificate Transparency log, as a CA runs one beside itself: it accepts
// certificate and precertificate chains that end in one of its accepted roots, answers with an
// SCT v1 signed by its ECDSA P-256 key once the entry is durable, and serves signed tree heads,
// proofs, entries and roots over the RFC 6962 section 4 API (/ct/v1/...), as Google's ctfe does.
//
// The tree, the sequencer and the storage are tlog's Log and LogStorage: an entry's body is the
// RFC 6962 MerkleTreeLeaf (crypto::CtMerkleLeaf, binary; both storages keep it as bytes), so
// the Merkle tree, the leaf hashes and the proofs are RFC 6962's. The chain a submitter sent
// (get-entries' extra_data) is kept in the storage's settings under the leaf hash, written in
// the entry's own transaction. The directory holds the key (ct_key.pem, created on first start
// with mode 0600); the storage records the log's ID and creation time, so that a restart with
// another key fails instead of signing a tree that is not its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/sct.h"
#include "vouch/crypto/x509.h"
#include "vouch/net/http_server.h"
#include "vouch/tlog/log.h"

namespace boost::asio {
class thread_pool;
}

namespace vouch::tlog {

// ---- RFC 6962 structures -------------------------------------------------------------------

// The TreeHeadSignature struct (section 3.5) that an STH's signature covers: version v1,
// signature_type tree_hash, timestamp, tree size, root hash.
Bytes ct_tree_head_signature_input(uint64_t timestamp_ms, uint64_t tree_size, ByteView root_hash);

// get-entries' extra_data (section 4.6) for a chain as logged (chain[0] the submitted
// certificate, ending at the root): for x509 entries the certificate_chain (chain[1..]), for
// precert entries the PrecertChainEntry (chain[0], then chain[1..]).
Result<Bytes> ct_extra_data(crypto::CtEntryType type, const std::vector<Bytes>& chain);

// A signed tree head as get-sth serves it.
struct CtTreeHead {
  uint64_t tree_size = 0;
  uint64_t timestamp_ms = 0;
  Bytes root_hash;
  crypto::DigitallySigned signature;  // over ct_tree_head_signature_input
};

// ---- The log --------------------------------------------------------------------------------

struct CtLogOptions {
  std::filesystem::path dir;  // holds ct_key.pem and, by default, the storage
  std::string storage;        // a tlog storage URL (open_storage); empty: "sqlite:<dir>/ct.db"
  std::vector<Bytes> accepted_roots;  // DER certificates; at least one
  size_t max_batch = 1024;            // entries the sequencer makes durable in one transaction
  unsigned completion_threads = 2;    // sign SCTs and answer submitters, off the sequencer
};

struct CtAddResult {
  crypto::SignedCertificateTimestamp sct;
  uint64_t index = 0;
  bool duplicate = false;  // logged before: the SCT carries the first submission's timestamp
};

class CtLog {
 public:
  // Limits on a submission.
  static constexpr size_t kMaxChainLength = 16;
  static constexpr size_t kMaxCertificateBytes = 64 * 1024;
  // Entries per get-entries response, as ctfe's default.
  static constexpr uint64_t kMaxGetEntries = 1000;

  // Opens the log in options.dir: loads ct_key.pem, or creates it when neither the key nor a log
  // in the storage exists yet; opens the storage and starts the sequencer.
  static Result<std::unique_ptr<CtLog>> open(CtLogOptions options);
  // Stops the sequencer (queued entries are still made durable and answered).
  ~CtLog();
  CtLog(const CtLog&) = delete;
  CtLog& operator=(const CtLog&) = delete;

  const crypto::PublicKey& public_key() const { return log_->public_key(); }
  // SHA-256 of the DER public key, as SCTs carry it.
  const Bytes& log_id() const { return log_->log_id(); }
  // When the log was first opened: the start of its validity for verifiers.
  UnixSeconds created() const { return created_; }
  // The log as verifiers trust it (crypto::verify_embedded_scts, trusted_root.json ctlogs[]).
  crypto::CtLog trust_entry() const;
  const std::vector<crypto::Certificate>& accepted_roots() const { return roots_; }
  // The tree and its storage.
  Log& log() { return *log_; }

  using AddCallback = std::function<void(Result<CtAddResult>)>;
  // Checks the chain (crypto::verify_ct_submission), logs it and calls `done` with the SCT once
  // the entry is durable, on a completion thread (or at once, on this thread, for a chain that is
  // refused). A chain whose entry is logged already, or is being logged, gets an SCT for that
  // entry. Errors: kInvalidInput / kVerification for a chain the log refuses, others for
  // storage failures.
  void add(std::vector<Bytes> chain, bool precert, AddCallback done);
  // add() and wait.
  Result<CtAddResult> add_chain(std::vector<Bytes> chain);
  Result<CtAddResult> add_pre_chain(std::vector<Bytes> chain);

  // The signed tree head of the latest durable tree. Its timestamp is the time the tree was
  // sequenced, so repeated calls return the same head until the tree grows.
  Result<CtTreeHead> signed_tree_head();

  // The chain logged with an entry, as get-entries' extra_data; empty when it was not kept.
  Result<Bytes> extra_data(const StoredEntry& entry);

  // The /ct/v1/ API (RFC 6962 section 4): add-chain, add-pre-chain, get-sth,
  // get-sth-consistency, get-proof-by-hash, get-entries, get-roots. Status codes as ctfe's
  // (400 bad input, 404 unknown path or leaf, 405 wrong method); an error body is JSON
  // {"success": false, "error_message": "..."}.
  net::HttpHandler handler();
  void handle(net::HttpRequest request, net::Responder respond);

 private:
  CtLog() = default;
  Result<CtAddResult> existing_sct(uint64_t index);
  void finish(const Bytes& identity, Result<CtAddResult> result);

  crypto::PrivateKey key_;
  std::vector<crypto::Certificate> roots_;
  UnixSeconds created_ = 0;
  std::unique_ptr<Log> log_;
  std::unique_ptr<boost::asio::thread_pool> completions_;

  // Submissions being logged, by entry identity: later submitters of the same entry wait for
  // the first instead of logging it twice.
  std::mutex pending_mu_;
  std::map<Bytes, std::vector<AddCallback>> pending_;

  std::mutex sth_mu_;
  std::optional<CtTreeHead> sth_;  // the last head signed, reused while the tree is unchanged
};

}  // namespace vouch::tlog
