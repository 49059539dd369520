// The Update Framework's metadata (specification 1.0): the four top-level roles (root,
// timestamp, snapshot, targets) and delegated targets roles, their keys and signatures over the
// canonical JSON of `signed`, parsed strictly where the specification requires a field and
// leniently elsewhere (unknown fields are kept and stay covered by the signatures).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/crypto/keys.h"

namespace vouch::tuf {

// The bytes TUF signs: OLPC canonical JSON (sorted keys, no whitespace, only `"` and `\`
// escaped, integers only), as securesystemslib, go-tuf and tuf-js write it.
Result<std::string> canonical_json(const boost::json::value& v);

// A key as metadata lists it: keytype, scheme and keyval.public. Supported: ed25519 (hex),
// ecdsa / ecdsa-sha2-nistp256 / ecdsa-sha2-nistp384 (PEM, or hex SEC1 point as older Sigstore
// roots have it), rsa with rsassa-pss-sha256 or rsa-pkcs1v15-sha256 (PEM).
struct Key {
  std::string keytype, scheme, public_value;
  crypto::PublicKey key;

  static Result<Key> parse(const boost::json::value& v, std::string_view where);
  // The key for `public_key` as a new repository writes it ("ecdsa"/"ed25519"/"rsa").
  static Result<Key> from_public_key(const crypto::PublicKey& public_key);
  boost::json::object to_json() const;
  // sha256 of the canonical JSON of to_json(), hex: the key ID a new repository gives it.
  std::string key_id() const;
  Status verify(std::string_view message, std::string_view signature_hex) const;
};

struct Role {
  std::vector<std::string> keyids;
  int threshold = 1;
};

struct MetaFile {
  int64_t version = 0;
  std::optional<int64_t> length;
  std::map<std::string, std::string> hashes;  // algorithm -> hex
};

struct TargetFile {
  std::string name;
  int64_t length = 0;
  std::map<std::string, std::string> hashes;  // algorithm -> hex
  boost::json::value custom;                  // null when absent
};

struct DelegatedRole {
  std::string name;
  std::vector<std::string> keyids;
  int threshold = 1;
  bool terminating = false;
  std::vector<std::string> paths;              // shell-style patterns ('*' does not cross '/')
  std::vector<std::string> path_hash_prefixes;  // alternatively, prefixes of sha256(target name)
  bool matches(std::string_view target_name) const;
};

struct Delegations {
  std::map<std::string, Key> keys;
  std::vector<DelegatedRole> roles;
};

// What every role's `signed` has.
struct Common {
  std::string type;  // "root", "timestamp", "snapshot", "targets"
  std::string spec_version;
  int64_t version = 0;
  UnixSeconds expires = 0;
  bool expired(UnixSeconds now) const { return now >= expires; }
};

struct Root : Common {
  bool consistent_snapshot = false;
  std::map<std::string, Key> keys;
  std::map<std::string, Role> roles;  // "root", "timestamp", "snapshot", "targets"
};

struct Timestamp : Common {
  MetaFile snapshot;  // meta["snapshot.json"]
};

struct Snapshot : Common {
  std::map<std::string, MetaFile> meta;  // "targets.json", "<role>.json"
};

struct Targets : Common {
  std::map<std::string, TargetFile> targets;
  std::optional<Delegations> delegations;
};

struct Signature {
  std::string keyid;
  std::string sig;  // hex
};

// A metadata document: the parsed role, the `signed` object as received and the signatures.
template <typename T>
struct Metadata {
  T role;
  boost::json::object signed_json;
  std::vector<Signature> signatures;
  std::string bytes;  // the document as received (what a cache stores)
};

// Largest metadata files accepted (before any length the repository states is known).
inline constexpr size_t kMaxRootBytes = 512 * 1024;
inline constexpr size_t kMaxTimestampBytes = 16 * 1024;
inline constexpr size_t kMaxSnapshotBytes = 2 * 1024 * 1024;
inline constexpr size_t kMaxTargetsBytes = 5 * 1024 * 1024;

// Parses a document whose `signed._type` must be the role's ("root", "timestamp", ...).
Result<Metadata<Root>> parse_root(std::string bytes);
Result<Metadata<Timestamp>> parse_timestamp(std::string bytes);
Result<Metadata<Snapshot>> parse_snapshot(std::string bytes);
Result<Metadata<Targets>> parse_targets(std::string bytes);

// Checks that at least `role.threshold` distinct keys of `role`, found in `keys`, signed the
// canonical `signed` object. `what` names the document in the error ("timestamp", "2.root.json").
Status verify_threshold(const boost::json::object& signed_json, const std::vector<Signature>& signatures,
                        const std::map<std::string, Key>& keys, const Role& role, std::string_view what);

// The canonical bytes of `signed` signed by each key: a whole document as a repository writes it
// (indented, `signatures` first).
struct SigningKey {
  std::string keyid;
  crypto::PrivateKey key;
};
Result<std::string> sign_document(const boost::json::object& signed_json, const std::vector<SigningKey>& keys);


}  // namespace vouch::tuf
