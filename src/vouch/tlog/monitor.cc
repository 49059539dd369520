#include "vouch/tlog/monitor.h"

#include <map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/x509.h"
#include "vouch/tlog/checkpoint.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

namespace bj = boost::json;

void collect_pems(const bj::value& v, std::vector<std::string>& out, int depth) {
  if (depth > 16) return;
  if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) collect_pems(child, out, depth + 1);
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) collect_pems(child, out, depth + 1);
  } else if (v.is_string()) {
    auto decoded = base64_decode(v.as_string());
    if (decoded.ok() && as_chars(*decoded).find("-----BEGIN CERTIFICATE-----") != std::string_view::npos)
      out.push_back(to_string(*decoded));
  }
}

}  // namespace

Result<std::optional<MonitorState>> load_monitor_state(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<MonitorState>();
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, 1 << 20));
  auto v = json::parse(text, {.max_bytes = 1 << 20, .max_depth = 8});
  if (!v.ok()) return std::move(v).error().context(path);
  json::Node n = json::Node::root(*v);
  MonitorState s;
  auto fill = [&]() -> Status {
    VOUCH_ASSIGN_OR_RETURN(int64_t size, n.get_int64("size"));
    VOUCH_ASSIGN_OR_RETURN(std::string root, n.get_string("rootHash"));
    VOUCH_ASSIGN_OR_RETURN(s.checkpoint, n.get_string("checkpoint"));
    VOUCH_ASSIGN_OR_RETURN(int64_t next, n.get_int64("nextIndex"));
    auto r = hex_decode(root);
    if (size < 0 || next < 0 || !r.ok() || r->size() != kHashSize) return n.error("malformed monitor state");
    s.size = static_cast<uint64_t>(size);
    s.next_index = static_cast<uint64_t>(next);
    s.root_hash = std::move(*r);
    return ok_status();
  };
  if (auto st = fill(); !st.ok()) return std::move(st).error().context(path);
  return std::optional<MonitorState>(std::move(s));
}

Status save_monitor_state(const std::string& path, const MonitorState& s) {
  bj::object o{{"size", s.size}, {"rootHash", hex_encode(s.root_hash)}, {"checkpoint", s.checkpoint}, {"nextIndex", s.next_index}};
  return write_file_atomic(path, json::pretty(o), 0644);
}

std::vector<std::string> entry_identities(std::string_view body) {
  std::vector<std::string> out;
  auto v = json::parse(body, {.max_bytes = 64 << 20, .max_depth = 32});
  if (!v.ok()) return out;
  std::vector<std::string> pems;
  collect_pems(*v, pems, 0);
  for (const auto& pem : pems) {
    auto cert = crypto::Certificate::from_pem(pem);
    if (!cert.ok()) continue;
    auto sans = cert->subject_alt_names();
    for (auto* list : {&sans.emails, &sans.uris, &sans.dns_names, &sans.other_names})
      out.insert(out.end(), list->begin(), list->end());
  }
  return out;
}

Result<MonitorRound> monitor_round(const RekorClient& client, const crypto::PublicKey& log_key,
                                   const std::optional<MonitorState>& previous, size_t max_entries,
                                   const std::function<void(const RekorLogEntry&, const std::vector<std::string>&)>& on_entry) {
  VOUCH_ASSIGN_OR_RETURN(RekorLogInfo info, client.log_info());
  auto note = parse_signed_note(info.signed_tree_head);
  if (!note.ok()) return std::move(note).error().context("signed tree head");
  auto cp = parse_checkpoint(note->text);
  if (!cp.ok()) return std::move(cp).error().context("signed tree head");
  auto host = rekor_v1_origin_host(cp->origin);
  std::string name = host ? std::string(*host) : cp->origin;
  uint32_t key_id = host ? legacy_key_id(log_key) : note_key_id(name, log_key);
  VOUCH_ASSIGN_OR_RETURN(NoteVerifier verifier, make_note_verifier(name, log_key, key_id));
  if (auto st = verify_note(*note, verifier); !st.ok())
    return verification_failed(fmt::format("signed tree head: {}", st.error().message));
  if (cp->size != info.tree_size || !bytes_equal(cp->root_hash, info.root_hash))
    return verification_failed("signed tree head: its size and root hash are not the log info's");

  if (previous) {
    if (cp->size < previous->size)
      return verification_failed(fmt::format("inconsistent log: tree size went from {} down to {}", previous->size, cp->size));
    if (cp->size == previous->size) {
      if (!bytes_equal(cp->root_hash, previous->root_hash))
        return verification_failed(fmt::format("inconsistent log: two different root hashes for tree size {}", cp->size));
    } else if (previous->size > 0) {
      VOUCH_ASSIGN_OR_RETURN(RekorConsistencyProof proof, client.consistency_proof(previous->size, cp->size));
      if (auto st = verify_consistency(previous->size, cp->size, proof.hashes, previous->root_hash, cp->root_hash); !st.ok())
        return verification_failed(fmt::format("inconsistent log: tree {} does not extend tree {}: {}", cp->size,
                                               previous->size, st.error().message));
    }
  }

  MonitorRound round;
  round.state.size = cp->size;
  round.state.root_hash = cp->root_hash;
  round.state.checkpoint = info.signed_tree_head;
  round.state.next_index = previous ? previous->next_index : 0;
  uint64_t end = std::min<uint64_t>(cp->size, round.state.next_index + max_entries);
  // Roots proven to extend the verified tree head, by tree size: an entry's inclusion proof may
  // be at a newer size than the tree head this round verified.
  std::map<uint64_t, Bytes> proven{{cp->size, cp->root_hash}};
  for (uint64_t i = round.state.next_index; i < end; ++i) {
    VOUCH_ASSIGN_OR_RETURN(RekorLogEntry e, client.entry_by_index(i));
    Bytes leaf = hash_leaf(as_bytes(e.body));
    std::string_view id = e.uuid;
    if (id.size() == 80) id = id.substr(16);
    if (static_cast<uint64_t>(e.log_index) != i || hex_encode(leaf) != id)
      return verification_failed(fmt::format("entry {}: the log returned an entry that is not its leaf {}", i, e.uuid));
    if (!e.inclusion_proof) return verification_failed(fmt::format("entry {}: no inclusion proof", i));
    const RekorInclusionProof& p = *e.inclusion_proof;
    if (p.tree_size < 0 || static_cast<uint64_t>(p.tree_size) < cp->size)
      return verification_failed(fmt::format("entry {}: inclusion proof for tree size {} is older than the verified {}", i,
                                             p.tree_size, cp->size));
    auto size = static_cast<uint64_t>(p.tree_size);
    if (!proven.count(size)) {
      VOUCH_ASSIGN_OR_RETURN(RekorConsistencyProof c, client.consistency_proof(cp->size, size));
      if (auto st = verify_consistency(cp->size, size, c.hashes, cp->root_hash, p.root_hash); !st.ok())
        return verification_failed(fmt::format("inconsistent log: entry {}'s tree {} does not extend tree {}: {}", i, size,
                                               cp->size, st.error().message));
      proven[size] = p.root_hash;
    }
    if (!bytes_equal(proven[size], p.root_hash))
      return verification_failed(fmt::format("inconsistent log: two root hashes for tree size {}", size));
    if (auto st = verify_inclusion(i, size, leaf, p.hashes, p.root_hash); !st.ok())
      return verification_failed(fmt::format("entry {}: {}", i, st.error().message));
    on_entry(e, entry_identities(e.body));
    round.entries_seen++;
    round.state.next_index = i + 1;
  }
  return round;
}

}  // namespace vouch::tlog
