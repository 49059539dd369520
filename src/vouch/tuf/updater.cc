#include "vouch/tuf/updater.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/crypto/digest.h"

namespace vouch::tuf {
namespace {

namespace fs = std::filesystem;

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string url_escape(std::string_view s, bool keep_slash) {
  std::string out;
  for (char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string join_url(const std::string& base, const std::string& rest) {
  if (!base.empty() && base.back() == '/') return base + rest;
  return base + "/" + rest;
}

class DefaultFetcher final : public Fetcher {
 public:
  explicit DefaultFetcher(net::ClientOptions http) : http_(std::move(http)) {}

  Result<std::string> fetch(const std::string& url, size_t max_bytes) override {
    if (url.starts_with("http://") || url.starts_with("https://")) {
      net::Request req{"GET", url, {}, {}, true};
      auto r = http_.send(req, max_bytes);
      if (!r.ok()) return std::move(r).error();
      if (r->status == 404 || r->status == 403) return not_found(fmt::format("{}: HTTP {}", url, r->status));
      if (r->status != 200) return io_error(fmt::format("{}: HTTP {}", url, r->status));
      return std::move(r->body);
    }
    std::string path = url.starts_with("file://") ? url.substr(7) : url;
    std::error_code ec;
    if (!fs::exists(path, ec)) return not_found(fmt::format("{}: no such file", path));
    auto bytes = read_file(path, max_bytes);
    if (!bytes.ok()) return std::move(bytes).error();
    return std::move(*bytes);
  }

 private:
  net::Client http_;
};

std::optional<std::string> read_cached(const fs::path& path, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  auto bytes = read_file(path, max_bytes);
  if (!bytes.ok()) return std::nullopt;
  return std::move(*bytes);
}

std::string expired_message(std::string_view what, UnixSeconds expires) {
  return fmt::format("{}: expired at {} (a freeze or a repository that is not refreshed)", what, format_rfc3339(expires));
}

// A role's document as the metadata listing it says it must be: its length and hashes, signed
// by `signers` among `keys`, of the listed version. `lister` names the listing role.
template <typename T>
Result<Metadata<T>> check_listed(std::string bytes, std::string_view role, const std::string& name, const MetaFile& meta,
                                 Result<Metadata<T>> (*parse)(std::string), const std::map<std::string, Key>& keys,
                                 const Role& signers, std::string_view lister) {
  const std::string what = fmt::format("{}: {}", role, name);
  VOUCH_RETURN_IF_ERROR(check_length_and_hashes(bytes, meta.length, meta.hashes, what));
  auto m = parse(std::move(bytes));
  if (!m.ok()) return std::move(m).error().context(what);
  VOUCH_RETURN_IF_ERROR(verify_threshold(m->signed_json, m->signatures, keys, signers, what));
  if (m->role.version != meta.version)
    return verification_failed(fmt::format("{} has version {}, the {} says {}", what, m->role.version, lister, meta.version));
  return m;
}

}  // namespace

std::unique_ptr<Fetcher> default_fetcher(net::ClientOptions http) { return std::make_unique<DefaultFetcher>(std::move(http)); }

Status check_length_and_hashes(std::string_view bytes, std::optional<int64_t> length,
                               const std::map<std::string, std::string>& hashes, std::string_view what) {
  if (length && static_cast<int64_t>(bytes.size()) != *length)
    return verification_failed(fmt::format("{}: {} bytes, the metadata says {}", what, bytes.size(), *length));
  bool known = hashes.empty();
  for (const auto& [alg, hex] : hashes) {
    crypto::HashAlgorithm h;
    if (alg == "sha256") h = crypto::HashAlgorithm::kSha256;
    else if (alg == "sha512") h = crypto::HashAlgorithm::kSha512;
    else continue;
    known = true;
    if (hex_encode(crypto::digest(h, as_bytes(bytes))) != hex)
      return verification_failed(fmt::format("{}: {} does not match the metadata", what, alg));
  }
  if (!known) return verification_failed(fmt::format("{}: no hash algorithm this client knows (sha256, sha512)", what));
  return ok_status();
}

std::string file_name_for(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (unreserved(c) && c != '~') out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  if (out.empty() || out == "." || out == "..") {
    std::string dots;
    for (size_t i = 0; i < out.size(); ++i) dots += "%2E";
    return dots.empty() ? "%00" : dots;
  }
  return out;
}

Result<Updater> Updater::open(UpdaterOptions options, std::unique_ptr<Fetcher> fetcher) {
  Updater u;
  u.options_ = std::move(options);
  if (u.options_.targets_url.empty()) u.options_.targets_url = join_url(u.options_.metadata_url, "targets");
  u.fetcher_ = fetcher ? std::move(fetcher) : default_fetcher();
  fs::path root_path = u.options_.cache_dir / "root.json";
  auto bytes = read_file(root_path, kMaxRootBytes);
  if (!bytes.ok()) return std::move(bytes).error().context("trusted TUF root");
  auto root = parse_root(std::move(*bytes));
  if (!root.ok()) return std::move(root).error().context(root_path.string());
  VOUCH_RETURN_IF_ERROR(verify_threshold(root->signed_json, root->signatures, root->role.keys, root->role.roles.at("root"),
                                         fmt::format("{} (version {})", root_path.string(), root->role.version)));
  u.root_ = std::move(*root);
  return u;
}

UnixSeconds Updater::now() const { return options_.now ? *options_.now : now_unix(); }

fs::path Updater::cache_path(const std::string& role) const { return options_.cache_dir / (file_name_for(role) + ".json"); }

Status Updater::persist(const std::string& role, const std::string& bytes) const {
  std::error_code ec;
  fs::create_directories(options_.cache_dir, ec);
  return write_file_atomic(cache_path(role), bytes);
}

Result<std::string> Updater::fetch_metadata(const std::string& name, size_t max_bytes) {
  return fetcher_->fetch(join_url(options_.metadata_url, url_escape(name, false)), max_bytes);
}

template <typename T>
Result<Metadata<T>> Updater::fetch_listed(const std::string& role, const std::string& label, const MetaFile& meta,
                                          size_t max_bytes, Result<Metadata<T>> (*parse)(std::string),
                                          const std::map<std::string, Key>& keys, const Role& signers,
                                          std::string_view lister) {
  const std::string name = root_.role.consistent_snapshot ? fmt::format("{}.{}.json", meta.version, role) : role + ".json";
  auto bytes = fetch_metadata(name, meta.length ? static_cast<size_t>(*meta.length) : max_bytes);
  if (!bytes.ok()) return std::move(bytes).error().context(fmt::format("{}: fetching {}", label, name));
  return check_listed(std::move(*bytes), label, name, meta, parse, keys, signers, lister);
}

Status Updater::refresh() {
  offline_ = false;
  VOUCH_RETURN_IF_ERROR(update_root());
  VOUCH_RETURN_IF_ERROR(update_timestamp());
  VOUCH_RETURN_IF_ERROR(update_snapshot(false));
  return update_targets(false);
}

Status Updater::update_root() {
  const Role old_timestamp = root_.role.roles.at("timestamp"), old_snapshot = root_.role.roles.at("snapshot");
  const int64_t start = root_.role.version;
  for (int i = 0; i < options_.max_root_rotations; ++i) {
    const int64_t next = root_.role.version + 1;
    const std::string name = fmt::format("{}.root.json", next);
    auto bytes = fetch_metadata(name, kMaxRootBytes);
    if (!bytes.ok()) {
      if (bytes.error().code == ErrorCode::kNotFound) break;
      return std::move(bytes).error().context(fmt::format("root: fetching {}", name));
    }
    auto parsed = parse_root(std::move(*bytes));
    if (!parsed.ok()) return std::move(parsed).error().context(name);
    VOUCH_RETURN_IF_ERROR(verify_threshold(parsed->signed_json, parsed->signatures, root_.role.keys,
                                           root_.role.roles.at("root"),
                                           fmt::format("root: {} by the keys of trusted root version {}", name, root_.role.version)));
    VOUCH_RETURN_IF_ERROR(verify_threshold(parsed->signed_json, parsed->signatures, parsed->role.keys,
                                           parsed->role.roles.at("root"), fmt::format("root: {} by its own keys", name)));
    if (parsed->role.version != next)
      return verification_failed(fmt::format("root: {} has version {}", name, parsed->role.version));
    root_ = std::move(*parsed);
    VOUCH_RETURN_IF_ERROR(persist("root", root_.bytes));
  }
  if (root_.role.expired(now())) return verification_failed(expired_message(fmt::format("root version {}", root_.role.version), root_.role.expires));
  if (root_.role.version != start) {
    // Rotated timestamp or snapshot keys: what the old keys signed is no longer trusted (a
    // recovery from a fast-forward attack, specification 5.3.11).
    auto same = [](const Role& a, const Role& b) { return a.keyids == b.keyids && a.threshold == b.threshold; };
    std::error_code ec;
    if (!same(old_timestamp, root_.role.roles.at("timestamp"))) fs::remove(cache_path("timestamp"), ec);
    if (!same(old_snapshot, root_.role.roles.at("snapshot"))) fs::remove(cache_path("snapshot"), ec);
  }
  return ok_status();
}

Status Updater::update_timestamp() {
  // What the cache trusted before, if it still verifies under the current root.
  std::optional<Metadata<Timestamp>> trusted;
  if (auto cached = read_cached(cache_path("timestamp"), kMaxTimestampBytes)) {
    auto m = parse_timestamp(std::move(*cached));
    if (m.ok() && verify_threshold(m->signed_json, m->signatures, root_.role.keys, root_.role.roles.at("timestamp"), "")
                      .ok())
      trusted = std::move(*m);
  }
  auto bytes = fetch_metadata("timestamp.json", kMaxTimestampBytes);
  if (!bytes.ok()) return std::move(bytes).error().context("timestamp: fetching timestamp.json");
  auto fresh = parse_timestamp(std::move(*bytes));
  if (!fresh.ok()) return std::move(fresh).error().context("timestamp.json");
  VOUCH_RETURN_IF_ERROR(verify_threshold(fresh->signed_json, fresh->signatures, root_.role.keys,
                                         root_.role.roles.at("timestamp"), "timestamp: timestamp.json"));
  if (trusted) {
    if (fresh->role.version < trusted->role.version)
      return verification_failed(fmt::format("timestamp: version {} is below the trusted version {} (a rollback)",
                                             fresh->role.version, trusted->role.version));
    if (fresh->role.snapshot.version < trusted->role.snapshot.version)
      return verification_failed(fmt::format("timestamp: lists snapshot version {} below the trusted {} (a rollback)",
                                             fresh->role.snapshot.version, trusted->role.snapshot.version));
  }
  if (fresh->role.expired(now()))
    return verification_failed(expired_message(fmt::format("timestamp version {}", fresh->role.version), fresh->role.expires));
  if (!trusted || fresh->role.version > trusted->role.version) VOUCH_RETURN_IF_ERROR(persist("timestamp", fresh->bytes));
  timestamp_ = std::move(*fresh);
  return ok_status();
}

Status Updater::update_snapshot(bool offline) {
  const MetaFile& meta = timestamp_->role.snapshot;
  std::optional<Metadata<Snapshot>> previous;  // the trusted snapshot, for the rollback check
  if (auto cached = read_cached(cache_path("snapshot"), kMaxSnapshotBytes)) {
    std::string copy = *cached;
    auto m = parse_snapshot(std::move(*cached));
    if (m.ok() &&
        verify_threshold(m->signed_json, m->signatures, root_.role.keys, root_.role.roles.at("snapshot"), "").ok()) {
      if (m->role.version == meta.version && check_length_and_hashes(copy, meta.length, meta.hashes, "").ok()) {
        if (m->role.expired(now()) && !offline)
          return verification_failed(expired_message(fmt::format("snapshot version {}", m->role.version), m->role.expires));
        snapshot_ = std::move(*m);
        return ok_status();
      }
      previous = std::move(*m);
    }
  }
  if (offline) return not_found("snapshot: the cache holds none that matches the cached timestamp");
  auto fresh = fetch_listed("snapshot", "snapshot", meta, kMaxSnapshotBytes, &parse_snapshot, root_.role.keys,
                            root_.role.roles.at("snapshot"), "timestamp");
  if (!fresh.ok()) return std::move(fresh).error();
  if (previous) {
    for (const auto& [file, old] : previous->role.meta) {
      auto it = fresh->role.meta.find(file);
      if (it == fresh->role.meta.end())
        return verification_failed(fmt::format("snapshot: version {} no longer lists {} (a rollback)", fresh->role.version, file));
      if (it->second.version < old.version)
        return verification_failed(fmt::format("snapshot: version {} lists {} version {} below the trusted {} (a rollback)",
                                               fresh->role.version, file, it->second.version, old.version));
    }
  }
  if (fresh->role.expired(now()))
    return verification_failed(expired_message(fmt::format("snapshot version {}", fresh->role.version), fresh->role.expires));
  VOUCH_RETURN_IF_ERROR(persist("snapshot", fresh->bytes));
  snapshot_ = std::move(*fresh);
  return ok_status();
}

Status Updater::update_targets(bool offline) {
  auto meta_it = snapshot_->role.meta.find("targets.json");
  const MetaFile& meta = meta_it->second;
  if (auto cached = read_cached(cache_path("targets"), kMaxTargetsBytes)) {
    auto m = check_listed(std::move(*cached), "targets", "cached", meta, &parse_targets, root_.role.keys,
                          root_.role.roles.at("targets"), "snapshot");
    if (m.ok()) {
      if (m->role.expired(now()))
        return verification_failed(expired_message(fmt::format("targets version {}", m->role.version), m->role.expires));
      targets_ = std::move(*m);
      return ok_status();
    }
  }
  if (offline) return not_found("targets: the cache holds none that matches the cached snapshot");
  auto fresh = fetch_listed("targets", "targets", meta, kMaxTargetsBytes, &parse_targets, root_.role.keys,
                            root_.role.roles.at("targets"), "snapshot");
  if (!fresh.ok()) return std::move(fresh).error();
  if (fresh->role.expired(now()))
    return verification_failed(expired_message(fmt::format("targets version {}", fresh->role.version), fresh->role.expires));
  VOUCH_RETURN_IF_ERROR(persist("targets", fresh->bytes));
  targets_ = std::move(*fresh);
  return ok_status();
}

Status Updater::load_cached(bool* stale) {
  offline_ = true;
  if (stale) *stale = false;
  if (root_.role.expired(now()))
    return verification_failed(expired_message(fmt::format("root version {}", root_.role.version), root_.role.expires));
  auto cached = read_cached(cache_path("timestamp"), kMaxTimestampBytes);
  if (!cached) return not_found("timestamp: the cache holds none (run a refresh with a network first)");
  auto ts = parse_timestamp(std::move(*cached));
  if (!ts.ok()) return std::move(ts).error().context("cached timestamp");
  VOUCH_RETURN_IF_ERROR(verify_threshold(ts->signed_json, ts->signatures, root_.role.keys, root_.role.roles.at("timestamp"),
                                         "cached timestamp"));
  timestamp_ = std::move(*ts);
  VOUCH_RETURN_IF_ERROR(update_snapshot(true));
  if (stale) *stale = timestamp_->role.expired(now()) || snapshot_->role.expired(now());
  return update_targets(true);
}

Result<Metadata<Targets>> Updater::load_delegated(const std::string& role, const Targets& parent, bool offline) {
  auto meta_it = snapshot_->role.meta.find(role + ".json");
  if (meta_it == snapshot_->role.meta.end())
    return verification_failed(fmt::format("delegated role \"{}\": the snapshot does not list it", role));
  const MetaFile& meta = meta_it->second;
  const DelegatedRole* d = nullptr;
  for (const auto& r : parent.delegations->roles)
    if (r.name == role) d = &r;
  Role verifier{d->keyids, d->threshold};
  const std::string label = fmt::format("delegated role \"{}\"", role);
  if (auto cached = read_cached(cache_path(role), kMaxTargetsBytes)) {
    auto m = check_listed(std::move(*cached), label, "cached", meta, &parse_targets, parent.delegations->keys, verifier,
                          "snapshot");
    if (m.ok() && m->role.expired(now())) return verification_failed(expired_message(label, m->role.expires));
    if (m.ok() || offline) return m;
  }
  if (offline) return not_found(fmt::format("delegated role \"{}\": not in the cache", role));
  VOUCH_ASSIGN_OR_RETURN(auto m, fetch_listed(role, label, meta, kMaxTargetsBytes, &parse_targets, parent.delegations->keys,
                                              verifier, "snapshot"));
  if (m.role.expired(now())) return verification_failed(expired_message(label, m.role.expires));
  VOUCH_RETURN_IF_ERROR(persist(role, m.bytes));
  return m;
}

Result<std::optional<TargetFile>> Updater::target_info(const std::string& name) {
  if (!targets_) return internal_error("target_info before refresh");
  // Preorder depth-first search over the delegations (specification 5.6.7).
  std::vector<std::string> to_visit{"targets"};
  std::set<std::string> visited;
  int budget = options_.max_delegations;
  while (!to_visit.empty() && budget > 0) {
    std::string role = to_visit.back();
    to_visit.pop_back();
    if (!visited.insert(role).second) continue;
    const Targets* t = nullptr;
    if (role == "targets") {
      t = &targets_->role;
    } else {
      auto it = delegated_.find(role);
      if (it == delegated_.end()) return internal_error("delegated role visited before it was loaded");
      t = &it->second.role;
    }
    if (auto hit = t->targets.find(name); hit != t->targets.end()) return std::optional<TargetFile>(hit->second);
    --budget;
    if (!t->delegations) continue;
    std::vector<std::string> children;
    for (const auto& d : t->delegations->roles) {
      if (!d.matches(name)) continue;
      if (!delegated_.contains(d.name)) {
        VOUCH_ASSIGN_OR_RETURN(auto m, load_delegated(d.name, *t, offline_));
        delegated_.emplace(d.name, std::move(m));
        // `t` may point into delegated_, whose nodes stay put.
      }
      children.push_back(d.name);
      if (d.terminating) {
        to_visit.clear();
        break;
      }
    }
    to_visit.insert(to_visit.end(), children.rbegin(), children.rend());
  }
  return std::optional<TargetFile>();
}

Result<std::string> Updater::cached_target(const TargetFile& target) const {
  fs::path path = options_.cache_dir / "targets" / file_name_for(target.name);
  auto bytes = read_cached(path, static_cast<size_t>(target.length) + 1);
  if (!bytes) return not_found(fmt::format("target {}: not in the cache", target.name));
  VOUCH_RETURN_IF_ERROR(check_length_and_hashes(*bytes, target.length, target.hashes, fmt::format("cached target {}", target.name)));
  return std::move(*bytes);
}

Result<std::string> Updater::download_target(const TargetFile& target) {
  if (auto cached = cached_target(target); cached.ok()) return cached;
  if (offline_) return not_found(fmt::format("target {}: not in the cache, and no network refresh was made", target.name));
  std::string path = target.name;
  if (root_.role.consistent_snapshot) {
    auto h = target.hashes.find("sha256");
    if (h == target.hashes.end()) h = target.hashes.begin();
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    path = dir + h->second + "." + base;
  }
  auto bytes = fetcher_->fetch(join_url(options_.targets_url, url_escape(path, true)), static_cast<size_t>(target.length));
  if (!bytes.ok()) return std::move(bytes).error().context(fmt::format("target {}", target.name));
  VOUCH_RETURN_IF_ERROR(check_length_and_hashes(*bytes, target.length, target.hashes, fmt::format("target {}", target.name)));
  std::error_code ec;
  fs::create_directories(options_.cache_dir / "targets", ec);
  VOUCH_RETURN_IF_ERROR(write_file_atomic(options_.cache_dir / "targets" / file_name_for(target.name), *bytes));
  return std::move(*bytes);
}

}  // namespace vouch::tuf
