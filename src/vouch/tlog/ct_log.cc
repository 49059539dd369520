#include "vouch/tlog/ct_log.h"

#include <charconv>
#include <chrono>
#include <future>
#include <system_error>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/crypto/digest.h"
#include "vouch/tlog/checkpoint.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

constexpr size_t kMaxUint24 = 0xffffff;
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

// Storage settings of a CT log.
constexpr std::string_view kLogIdSetting = "ct_log_id";          // hex SHA-256 of the DER public key
constexpr std::string_view kCreatedSetting = "ct_created";       // Unix seconds
constexpr std::string_view kExtraDataPrefix = "ct_extra_data:";  // + hex leaf hash: base64 extra_data
constexpr std::string_view kEntryKeyPrefix = "ct_entry:";        // search key: + hex SHA-256(signed entry)

void put_uint(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Status put_opaque24(Bytes& out, ByteView data, std::string_view what) {
  if (data.size() > kMaxUint24)
    return invalid_input(fmt::format("{}: {} bytes is more than a 24-bit length allows", what, data.size()));
  put_uint(out, data.size(), 3);
  out.insert(out.end(), data.begin(), data.end());
  return ok_status();
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The time in a checkpoint's "Timestamp: <ns>" line, in milliseconds.
std::optional<uint64_t> checkpoint_time_ms(const std::string& envelope) {
  auto note = parse_signed_note(envelope);
  if (!note.ok()) return std::nullopt;
  auto cp = parse_checkpoint(note->text);
  if (!cp.ok()) return std::nullopt;
  constexpr std::string_view kPrefix = "Timestamp: ";
  for (const std::string& ext : cp->extensions) {
    if (!ext.starts_with(kPrefix)) continue;
    std::string_view digits = std::string_view(ext).substr(kPrefix.size());
    uint64_t ns = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ns);
    if (ec == std::errc() && p == digits.data() + digits.size()) return ns / 1000000;
  }
  return std::nullopt;
}

std::string entry_key(ByteView identity) { return std::string(kEntryKeyPrefix) + hex_encode(identity); }

std::string extra_data_setting(ByteView leaf_hash) { return std::string(kExtraDataPrefix) + hex_encode(leaf_hash); }

Result<crypto::PrivateKey> load_key(const std::filesystem::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(path, kMaxKeyFileBytes));
  auto key = crypto::PrivateKey::from_pem(pem);
  if (!key.ok()) return std::move(key).error().context(path.string());
  if (key->type() != crypto::KeyType::kEcdsaP256)
    return invalid_input(fmt::format("{}: a CT log key must be ECDSA P-256, not {}", path.string(),
                                     crypto::key_type_name(key->type())));
  return key;
}

}  // namespace

// ---- RFC 6962 structures -------------------------------------------------------------------

Bytes ct_tree_head_signature_input(uint64_t timestamp_ms, uint64_t tree_size, ByteView root_hash) {
  Bytes out{0, 1};  // version v1, signature_type tree_hash
  put_uint(out, timestamp_ms, 8);
  put_uint(out, tree_size, 8);
  out.insert(out.end(), root_hash.begin(), root_hash.end());
  return out;
}

Result<Bytes> ct_extra_data(crypto::CtEntryType type, const std::vector<Bytes>& chain) {
  if (chain.empty()) return invalid_input("CT extra data: empty chain");
  Bytes issuers;
  for (size_t i = 1; i < chain.size(); ++i)
    VOUCH_RETURN_IF_ERROR(put_opaque24(issuers, chain[i], fmt::format("chain[{}]", i)));
  Bytes out;
  if (type == crypto::CtEntryType::kPrecert) VOUCH_RETURN_IF_ERROR(put_opaque24(out, chain[0], "pre_certificate"));
  VOUCH_RETURN_IF_ERROR(put_opaque24(out, issuers, "certificate chain"));
  return out;
}

// ---- The log --------------------------------------------------------------------------------

Result<std::unique_ptr<CtLog>> CtLog::open(CtLogOptions options) {
  if (options.dir.empty()) return invalid_input("CT log: no directory given");
  if (options.accepted_roots.empty()) return invalid_input("CT log: no accepted root certificate");
  std::unique_ptr<CtLog> log(new CtLog());
  for (size_t i = 0; i < options.accepted_roots.size(); ++i) {
    auto root = crypto::Certificate::from_der(options.accepted_roots[i]);
    if (!root.ok()) return std::move(root).error().context(fmt::format("CT log: accepted root {}", i));
    log->roots_.push_back(std::move(*root));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return io_error(fmt::format("CT log: cannot create {}: {}", options.dir.string(), ec.message()));
  const std::string url =
      options.storage.empty() ? "sqlite:" + (options.dir / "ct.db").string() : options.storage;
  VOUCH_ASSIGN_OR_RETURN(std::unique_ptr<LogStorage> storage, open_storage(url));
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> stored_id, storage->get_setting(std::string(kLogIdSetting)));

  // The key: loaded, or created for a new log. A storage that holds a log but no key beside it
  // is an error: a new key would sign a tree it never made.
  const std::filesystem::path key_path = options.dir / "ct_key.pem";
  const bool key_exists = std::filesystem::exists(std::filesystem::symlink_status(key_path, ec));
  if (ec && ec != std::errc::no_such_file_or_directory)
    return io_error(fmt::format("CT log: {}: {}", key_path.string(), ec.message()));
  if (key_exists) {
    VOUCH_ASSIGN_OR_RETURN(log->key_, load_key(key_path));
  } else {
    if (stored_id)
      return not_found(fmt::format("CT log: the storage holds the log {} but its key {} is missing", *stored_id,
                                   key_path.string()));
    VOUCH_ASSIGN_OR_RETURN(log->key_, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(key_path, log->key_.pkcs8_pem(), 0600));
  }

  const std::string id_hex = hex_encode(crypto::sha256(log->key_.public_key().der()));
  if (stored_id) {
    if (*stored_id != id_hex)
      return invalid_input(fmt::format("CT log: the storage holds the log {}, but {} is the key of log {}", *stored_id,
                                       key_path.string(), id_hex));
    VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> created, storage->get_setting(std::string(kCreatedSetting)));
    int64_t t = 0;
    const std::string text = created.value_or("");
    auto [p, ec2] = std::from_chars(text.data(), text.data() + text.size(), t);
    if (text.empty() || ec2 != std::errc() || p != text.data() + text.size())
      return invalid_input(fmt::format("CT log: the storage's creation time '{}' is not a number", text));
    log->created_ = t;
  } else {
    VOUCH_ASSIGN_OR_RETURN(uint64_t size, storage->size());
    if (size > 0)
      return invalid_input(fmt::format("CT log: storage {} holds {} entries of a log that is not a CT log", url, size));
    log->created_ = now_unix();
    VOUCH_RETURN_IF_ERROR(storage->put_setting(std::string(kCreatedSetting), std::to_string(log->created_)));
    VOUCH_RETURN_IF_ERROR(storage->put_setting(std::string(kLogIdSetting), id_hex));
  }

  VOUCH_ASSIGN_OR_RETURN(log->log_, Log::open(std::move(storage), log->key_, LogOptions{"ct-log", options.max_batch}));
  log->completions_ = std::make_unique<boost::asio::thread_pool>(std::max(1u, options.completion_threads));
  return log;
}

CtLog::~CtLog() {
  // Queued entries are made durable and their callbacks post to the pool, which then drains.
  if (log_) log_->stop();
  if (completions_) completions_->join();
}

crypto::CtLog CtLog::trust_entry() const { return crypto::CtLog{log_id(), public_key(), created_, std::nullopt}; }

void CtLog::add(std::vector<Bytes> chain_der, bool precert, AddCallback done) {
  const std::string_view what = precert ? "add-pre-chain" : "add-chain";
  if (chain_der.empty()) {
    done(invalid_input(fmt::format("{}: the chain is empty", what)));
    return;
  }
  if (chain_der.size() > kMaxChainLength) {
    done(invalid_input(fmt::format("{}: the chain has {} certificates, at most {} are accepted", what,
                                   chain_der.size(), kMaxChainLength)));
    return;
  }
  std::vector<crypto::Certificate> chain;
  for (size_t i = 0; i < chain_der.size(); ++i) {
    if (chain_der[i].size() > kMaxCertificateBytes) {
      done(invalid_input(fmt::format("{}: chain[{}] has {} bytes, at most {} are accepted", what, i,
                                     chain_der[i].size(), kMaxCertificateBytes)));
      return;
    }
    auto cert = crypto::Certificate::from_der(chain_der[i]);
    if (!cert.ok()) {
      done(std::move(cert).error().context(fmt::format("{}: chain[{}]", what, i)));
      return;
    }
    chain.push_back(std::move(*cert));
  }
  auto logged = crypto::verify_ct_submission(chain, roots_, precert);
  if (!logged.ok()) {
    done(std::move(logged).error().context(what));
    return;
  }
  auto entry = precert ? crypto::precert_entry((*logged)[0], (*logged)[1]) : Result(crypto::x509_entry((*logged)[0]));
  if (!entry.ok()) {
    done(std::move(entry).error().context(what));
    return;
  }
  std::vector<Bytes> logged_der;
  for (const auto& c : *logged) logged_der.push_back(c.der());
  auto extra = ct_extra_data(entry->type, logged_der);
  auto signed_entry = entry->serialize();
  if (!extra.ok() || !signed_entry.ok()) {
    Error e = !extra.ok() ? extra.error() : signed_entry.error();
    done(e.context(what));
    return;
  }
  const Bytes identity = crypto::sha256(*signed_entry);

  {
    std::lock_guard lock(pending_mu_);
    auto [it, first] = pending_.try_emplace(identity);
    it->second.push_back(std::move(done));
    if (!first) return;  // answered with the first submission's result
  }
  // Only the first submitter of an entry gets here, so the look-up and the append below cannot
  // race with another submission of the same entry.
  auto found = log_->storage().search(entry_key(identity), 1);
  if (!found.ok()) return finish(identity, std::move(found).error());
  if (!found->empty()) return finish(identity, existing_sct(found->front()));

  crypto::CtMerkleLeaf leaf{now_ms(), std::move(*entry), {}};
  auto body = leaf.serialize();
  if (!body.ok()) return finish(identity, std::move(body).error());
  // The chain is stored in the entry's own transaction, so that get-entries always finds it.
  Submission submission{to_string(*body), {entry_key(identity)}};
  submission.settings.emplace_back(extra_data_setting(hash_leaf(*body)), base64_encode(*extra));
  log_->submit(std::move(submission), [this, identity](Result<SubmitResult> r) {
    boost::asio::post(*completions_, [this, identity, r = std::move(r)]() mutable {
      if (!r.ok()) return finish(identity, std::move(r).error());
      auto leaf = crypto::parse_ct_merkle_leaf(as_bytes(r->entry.body));
      if (!leaf.ok()) return finish(identity, std::move(leaf).error());
      auto sct = crypto::sign_sct(key_, leaf->entry, leaf->timestamp_ms, leaf->extensions);
      if (!sct.ok()) return finish(identity, std::move(sct).error());
      finish(identity, CtAddResult{std::move(*sct), r->entry.index, r->duplicate});
    });
  });
}

Result<CtAddResult> CtLog::existing_sct(uint64_t index) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<StoredEntry> stored, log_->storage().entry(index));
  if (!stored) return internal_error(fmt::format("CT log: entry {} is indexed but missing", index));
  VOUCH_ASSIGN_OR_RETURN(crypto::CtMerkleLeaf leaf, crypto::parse_ct_merkle_leaf(as_bytes(stored->body)));
  VOUCH_ASSIGN_OR_RETURN(auto sct, crypto::sign_sct(key_, leaf.entry, leaf.timestamp_ms, leaf.extensions));
  return CtAddResult{std::move(sct), index, true};
}

void CtLog::finish(const Bytes& identity, Result<CtAddResult> result) {
  std::vector<AddCallback> waiting;
  {
    std::lock_guard lock(pending_mu_);
    auto it = pending_.find(identity);
    if (it == pending_.end()) return;
    waiting = std::move(it->second);
    pending_.erase(it);
  }
  for (size_t i = 0; i < waiting.size(); ++i) {
    Result<CtAddResult> copy = result;
    if (i > 0 && copy.ok()) copy->duplicate = true;
    waiting[i](std::move(copy));
  }
}

Result<CtAddResult> CtLog::add_chain(std::vector<Bytes> chain) {
  std::promise<Result<CtAddResult>> promise;
  auto future = promise.get_future();
  add(std::move(chain), false, [&promise](Result<CtAddResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<CtAddResult> CtLog::add_pre_chain(std::vector<Bytes> chain) {
  std::promise<Result<CtAddResult>> promise;
  auto future = promise.get_future();
  add(std::move(chain), true, [&promise](Result<CtAddResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<CtTreeHead> CtLog::signed_tree_head() {
  const SignedTreeHead head = log_->head();
  std::lock_guard lock(sth_mu_);
  if (sth_ && sth_->tree_size == head.size && sth_->root_hash == head.root_hash) return *sth_;
  CtTreeHead sth{head.size, checkpoint_time_ms(head.checkpoint).value_or(now_ms()), head.root_hash, {}};
  const Bytes signed_data = ct_tree_head_signature_input(sth.timestamp_ms, sth.tree_size, sth.root_hash);
  VOUCH_ASSIGN_OR_RETURN(sth.signature, crypto::ct_sign(key_, signed_data));
  sth_ = sth;
  return sth;
}

Result<Bytes> CtLog::extra_data(const StoredEntry& entry) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string> text,
                         log_->storage().get_setting(extra_data_setting(entry.leaf_hash)));
  if (!text) return Bytes();
  auto data = base64_decode(*text);
  if (!data.ok()) return std::move(data).error().context(fmt::format("CT log: extra data of entry {}", entry.index));
  return data;
}

}  // namespace vouch::tlog
