#include "vouch/tuf/repository.h"

#include <map>

#include <fmt/format.h>

#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/tuf/metadata.h"

namespace vouch::tuf {

namespace bj = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kRoles[] = {"root", "targets", "snapshot", "timestamp"};
constexpr const char* kSpecVersion = "1.0.31";

fs::path key_file(const fs::path& dir, std::string_view role) { return dir / "keys" / (std::string(role) + ".pem"); }

Result<bj::object> signed_of(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string bytes, read_file(path, kMaxTargetsBytes));
  auto doc = json::parse(bytes);
  if (!doc.ok()) return std::move(doc).error().context(path.string());
  auto* s = doc->is_object() ? doc->get_object().if_contains("signed") : nullptr;
  if (!s || !s->is_object()) return invalid_input(fmt::format("{}: no \"signed\" object", path.string()));
  return s->get_object();
}

int64_t version_of(const bj::object& o) {
  auto* v = o.if_contains("version");
  return v && v->is_int64() ? v->get_int64() : 0;
}

}  // namespace

struct Repository::State {
  bj::object root, targets;
  int64_t snapshot_version = 0, timestamp_version = 0;
  std::map<std::string, crypto::PrivateKey> keys;  // role -> current key
};

Repository::Repository(fs::path dir, RepositoryPeriods periods)
    : dir_(std::move(dir)), periods_(periods), state_(std::make_shared<State>()) {}

int64_t Repository::root_version() const { return version_of(state_->root); }

Result<Repository> Repository::init(const fs::path& dir, RepositoryPeriods periods) {
  std::error_code ec;
  if (fs::exists(dir / "repository" / "root.json", ec) || fs::exists(dir / "keys", ec))
    return invalid_input(fmt::format("{}: already holds a TUF repository", dir.string()));
  fs::create_directories(dir / "keys", ec);
  fs::create_directories(dir / "repository" / "targets", ec);
  if (ec) return io_error(fmt::format("{}: cannot create the repository: {}", dir.string(), ec.message()));
  Repository repo(dir, periods);
  State& s = *repo.state_;
  bj::object keys, roles;
  for (const char* role : kRoles) {
    VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(key_file(dir, role), key.pkcs8_pem(), 0600));
    VOUCH_ASSIGN_OR_RETURN(Key k, Key::from_public_key(key.public_key()));
    keys[k.key_id()] = k.to_json();
    roles[role] = bj::object{{"keyids", bj::array{bj::value(k.key_id())}}, {"threshold", 1}};
    s.keys.emplace(role, std::move(key));
  }
  s.root = bj::object{{"_type", "root"}, {"spec_version", kSpecVersion}, {"version", 0}, {"expires", ""},
                      {"keys", std::move(keys)}, {"roles", std::move(roles)}, {"consistent_snapshot", true}};
  s.targets = bj::object{{"_type", "targets"}, {"spec_version", kSpecVersion}, {"version", 0}, {"expires", ""},
                         {"targets", bj::object{}}};
  VOUCH_RETURN_IF_ERROR(repo.write_root({}));
  VOUCH_RETURN_IF_ERROR(repo.write_targets());
  VOUCH_RETURN_IF_ERROR(repo.write_snapshot_and_timestamp());
  return repo;
}

Result<Repository> Repository::open(const fs::path& dir, RepositoryPeriods periods) {
  Repository repo(dir, periods);
  VOUCH_RETURN_IF_ERROR(repo.load());
  return repo;
}

Status Repository::load() {
  State& s = *state_;
  fs::path meta = metadata_dir();
  VOUCH_ASSIGN_OR_RETURN(s.root, signed_of(meta / "root.json"));
  VOUCH_ASSIGN_OR_RETURN(s.targets, signed_of(meta / "targets.json"));
  VOUCH_ASSIGN_OR_RETURN(bj::object snapshot, signed_of(meta / "snapshot.json"));
  VOUCH_ASSIGN_OR_RETURN(bj::object timestamp, signed_of(meta / "timestamp.json"));
  s.snapshot_version = version_of(snapshot);
  s.timestamp_version = version_of(timestamp);
  for (const char* role : kRoles) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(key_file(dir_, role), 1 << 20));
    auto key = crypto::PrivateKey::from_pem(pem);
    if (!key.ok()) return std::move(key).error().context(key_file(dir_, role).string());
    s.keys.emplace(role, std::move(*key));
  }
  return ok_status();
}

namespace {

// Signs `signed_json` with `keys` (each under its TUF key ID) and writes it to every path;
// `written` receives the document when the caller needs its bytes.
Status sign_and_write(const bj::object& signed_json, const std::vector<const crypto::PrivateKey*>& keys,
                      const std::vector<fs::path>& paths, std::string* written = nullptr) {
  std::vector<SigningKey> signing;
  for (const auto* k : keys) {
    VOUCH_ASSIGN_OR_RETURN(Key pub, Key::from_public_key(k->public_key()));
    signing.push_back({pub.key_id(), *k});
  }
  VOUCH_ASSIGN_OR_RETURN(std::string doc, sign_document(signed_json, signing));
  for (const auto& p : paths) VOUCH_RETURN_IF_ERROR(write_file_atomic(p, doc));
  if (written) *written = std::move(doc);
  return ok_status();
}

// The expiry `days` from now, as TUF writes it.
std::string expires_in(int64_t days) { return format_rfc3339(now_unix() + days * 86400); }

}  // namespace

Status Repository::write_root(const std::vector<std::string>& signing_key_files) {
  State& s = *state_;
  int64_t version = version_of(s.root) + 1;
  s.root["version"] = version;
  s.root["expires"] = expires_in(periods_.root_days);
  std::vector<crypto::PrivateKey> old;
  for (const auto& f : signing_key_files) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(f, 1 << 20));
    VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey k, crypto::PrivateKey::from_pem(pem));
    old.push_back(std::move(k));
  }
  std::vector<const crypto::PrivateKey*> keys{&s.keys.at("root")};
  for (const auto& k : old) keys.push_back(&k);
  fs::path meta = metadata_dir();
  return sign_and_write(s.root, keys, {meta / fmt::format("{}.root.json", version), meta / "root.json"});
}

Status Repository::write_targets() {
  State& s = *state_;
  int64_t version = version_of(s.targets) + 1;
  s.targets["version"] = version;
  s.targets["expires"] = expires_in(periods_.targets_days);
  fs::path meta = metadata_dir();
  return sign_and_write(s.targets, {&s.keys.at("targets")},
                        {meta / fmt::format("{}.targets.json", version), meta / "targets.json"});
}

Status Repository::write_snapshot_and_timestamp() {
  State& s = *state_;
  fs::path meta = metadata_dir();
  s.snapshot_version += 1;
  bj::object snapshot{{"_type", "snapshot"},
                      {"spec_version", kSpecVersion},
                      {"version", s.snapshot_version},
                      {"expires", expires_in(periods_.snapshot_days)},
                      {"meta", bj::object{{"targets.json", bj::object{{"version", version_of(s.targets)}}}}}};
  std::string snap_doc;
  VOUCH_RETURN_IF_ERROR(sign_and_write(snapshot, {&s.keys.at("snapshot")},
                                       {meta / fmt::format("{}.snapshot.json", s.snapshot_version), meta / "snapshot.json"},
                                       &snap_doc));
  s.timestamp_version += 1;
  bj::object snapshot_meta{{"version", s.snapshot_version},
                           {"length", static_cast<int64_t>(snap_doc.size())},
                           {"hashes", bj::object{{"sha256", hex_encode(crypto::sha256(snap_doc))}}}};
  bj::object timestamp{{"_type", "timestamp"},
                       {"spec_version", kSpecVersion},
                       {"version", s.timestamp_version},
                       {"expires", expires_in(periods_.timestamp_days)},
                       {"meta", bj::object{{"snapshot.json", std::move(snapshot_meta)}}}};
  return sign_and_write(timestamp, {&s.keys.at("timestamp")}, {meta / "timestamp.json"});
}

Result<int64_t> Repository::add_target(const fs::path& file, const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos || name.find('\\') != std::string::npos)
    return invalid_input(fmt::format("target name \"{}\": must be a relative path without \"..\"", name));
  VOUCH_ASSIGN_OR_RETURN(std::string bytes, read_file(file));
  std::string sha = hex_encode(crypto::sha256(bytes));
  size_t slash = name.rfind('/');
  fs::path dir = metadata_dir() / "targets";
  if (slash != std::string::npos) dir /= name.substr(0, slash);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(dir / (sha + "." + (slash == std::string::npos ? name : name.substr(slash + 1))), bytes));
  State& s = *state_;
  s.targets["targets"].as_object()[name] =
      bj::object{{"length", static_cast<int64_t>(bytes.size())}, {"hashes", bj::object{{"sha256", sha}}}};
  VOUCH_RETURN_IF_ERROR(write_targets());
  VOUCH_RETURN_IF_ERROR(write_snapshot_and_timestamp());
  return version_of(s.targets);
}

Result<int64_t> Repository::rotate_key(const std::string& role) {
  if (role != "root" && role != "targets" && role != "snapshot" && role != "timestamp")
    return invalid_input(fmt::format("role \"{}\": one of root, targets, snapshot, timestamp", role));
  State& s = *state_;
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey fresh, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  VOUCH_ASSIGN_OR_RETURN(Key old_pub, Key::from_public_key(s.keys.at(role).public_key()));
  VOUCH_ASSIGN_OR_RETURN(Key new_pub, Key::from_public_key(fresh.public_key()));
  auto& keys = s.root["keys"].as_object();
  auto& roles = s.root["roles"].as_object();
  roles[role].as_object()["keyids"] = bj::array{bj::value(new_pub.key_id())};
  keys[new_pub.key_id()] = new_pub.to_json();
  bool still_used = false;
  for (const auto& [name, r] : roles)
    for (const auto& id : r.as_object().at("keyids").as_array())
      if (id.as_string() == old_pub.key_id()) still_used = true;
  if (!still_used) keys.erase(old_pub.key_id());
  // The new root is signed by the old root key as well (clients holding the old root require it).
  fs::path old_key = key_file(dir_, role);
  fs::path retired = dir_ / "keys" / fmt::format("{}.retired-{}.pem", role, version_of(s.root));
  std::error_code ec;
  fs::copy_file(old_key, retired, fs::copy_options::overwrite_existing, ec);
  if (ec) return io_error(fmt::format("{}: {}", retired.string(), ec.message()));
  fs::permissions(retired, fs::perms::owner_read | fs::perms::owner_write, ec);
  VOUCH_RETURN_IF_ERROR(write_file_atomic(old_key, fresh.pkcs8_pem(), 0600));
  s.keys.insert_or_assign(role, std::move(fresh));
  VOUCH_RETURN_IF_ERROR(write_root(role == "root" ? std::vector<std::string>{retired.string()} : std::vector<std::string>{}));
  if (role == "targets") VOUCH_RETURN_IF_ERROR(write_targets());
  VOUCH_RETURN_IF_ERROR(write_snapshot_and_timestamp());
  return version_of(s.root);
}

Status Repository::refresh() { return write_snapshot_and_timestamp(); }

}  // namespace vouch::tuf
