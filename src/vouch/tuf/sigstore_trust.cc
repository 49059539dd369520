#include "vouch/tuf/sigstore_trust.h"

#include <cstdlib>

#include <fmt/format.h>

#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/tuf/updater.h"

namespace vouch::tuf {

namespace detail {
std::string_view public_good_root_json();  // generated from public_good_root.json
}

namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

fs::path cache_for(const std::string& mirror) { return tuf_root_dir() / file_name_for(mirror); }

UpdaterOptions updater_options(const std::string& mirror) {
  UpdaterOptions o;
  o.metadata_url = mirror;
  o.cache_dir = cache_for(mirror);
  return o;
}

std::optional<UnixSeconds> read_refreshed_at(const fs::path& dir) {
  auto text = read_file(dir / "refreshed-at", 64);
  if (!text.ok()) return std::nullopt;
  auto t = parse_rfc3339(std::string(*text).substr(0, text->find('\n')));
  if (!t.ok()) return std::nullopt;
  return *t;
}

// The Sigstore targets, downloaded (online) or from the cache (offline).
Status read_targets(Updater& u, SigstoreTrust& trust, bool offline) {
  auto get = [&](std::string_view name) -> Result<std::optional<std::string>> {
    VOUCH_ASSIGN_OR_RETURN(auto info, u.target_info(std::string(name)));
    if (!info) return std::optional<std::string>();
    auto bytes = offline ? u.cached_target(*info) : u.download_target(*info);
    if (!bytes.ok()) return std::move(bytes).error();
    return std::optional<std::string>(std::move(*bytes));
  };
  VOUCH_ASSIGN_OR_RETURN(auto root, get(kTrustedRootTarget));
  if (!root) return not_found(fmt::format("the TUF repository at {} has no {} target", trust.mirror, kTrustedRootTarget));
  trust.trusted_root = std::move(*root);
  VOUCH_ASSIGN_OR_RETURN(trust.signing_config, get(kSigningConfigTarget));
  return ok_status();
}

Result<SigstoreTrust> refresh_from(const std::string& mirror, const net::ClientOptions& http) {
  SigstoreTrust trust;
  trust.mirror = mirror;
  UpdaterOptions options = updater_options(mirror);
  VOUCH_ASSIGN_OR_RETURN(Updater online, Updater::open(options, default_fetcher(http)));
  Status refreshed = online.refresh();
  if (refreshed.ok()) {
    VOUCH_RETURN_IF_ERROR(read_targets(online, trust, false));
    UnixSeconds now = now_unix();
    // Best effort: only the age reported for offline runs depends on it.
    (void)write_file_atomic(options.cache_dir / "refreshed-at", format_rfc3339(now) + "\n");
    trust.refreshed_at = now;
    return trust;
  }
  // Only an unreachable mirror falls back to the cache; metadata that fails a check is an
  // error (a rollback or a freeze must not pass as an outage).
  if (refreshed.error().code != ErrorCode::kIo) return std::move(refreshed).error().context(fmt::format("TUF {}", mirror));
  VOUCH_ASSIGN_OR_RETURN(Updater cached, Updater::open(options, default_fetcher(http)));
  bool stale = false;
  Status loaded = cached.load_cached(&stale);
  if (!loaded.ok())
    return io_error(fmt::format("TUF {}: cannot refresh ({}) and the cache cannot serve: {}", mirror,
                                refreshed.error().message, loaded.error().message));
  VOUCH_RETURN_IF_ERROR(read_targets(cached, trust, true));
  trust.offline = true;
  trust.offline_reason = refreshed.error().message;
  trust.stale = stale;
  trust.refreshed_at = read_refreshed_at(options.cache_dir);
  return trust;
}

}  // namespace

std::string_view public_good_root() { return detail::public_good_root_json(); }

fs::path tuf_root_dir() {
  if (const char* env = std::getenv("TUF_ROOT"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".sigstore" / "root";
}

Result<SigstoreTrust> initialize(const InitializeOptions& options) {
  if (!options.mirror.starts_with("https://") && !options.mirror.starts_with("http://") &&
      !options.mirror.starts_with("file://") && !options.mirror.starts_with("/"))
    return invalid_input(fmt::format("--mirror {}: give an http(s) URL, a file:// URL or an absolute directory", options.mirror));
  std::string root;
  if (options.root) {
    VOUCH_ASSIGN_OR_RETURN(root, read_file(*options.root, kMaxRootBytes));
  } else {
    root = std::string(public_good_root());
  }
  if (options.root_checksum) {
    std::string want = *options.root_checksum;
    if (want.starts_with("sha256:")) want = want.substr(7);
    auto want_bytes = hex_decode(want);
    if (!want_bytes.ok() || want_bytes->size() != 32)
      return invalid_input("--root-checksum: want the sha256 of the root file in hex");
    if (hex_encode(crypto::sha256(root)) != hex_encode(*want_bytes))
      return verification_failed(fmt::format("{}: its sha256 is {}, --root-checksum says {}",
                                             options.root.value_or("the embedded root"), hex_encode(crypto::sha256(root)),
                                             hex_encode(*want_bytes)));
  }
  auto parsed = parse_root(root);
  if (!parsed.ok()) return std::move(parsed).error().context(options.root.value_or("embedded root"));
  // A new trust anchor starts a new cache: metadata from another root proves nothing now.
  fs::path dir = cache_for(options.mirror);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(dir / "root.json", root));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(tuf_root_dir() / "remote.json",
                                          json::serialize(bj::object{{"mirror", options.mirror}}) + "\n"));
  VOUCH_ASSIGN_OR_RETURN(SigstoreTrust trust, refresh_from(options.mirror, options.http));
  if (trust.offline) return io_error(fmt::format("TUF {}: cannot refresh: {}", options.mirror, trust.offline_reason));
  return trust;
}

Result<SigstoreTrust> sigstore_trust(net::ClientOptions http) {
  fs::path remote = tuf_root_dir() / "remote.json";
  std::error_code ec;
  if (!fs::exists(remote, ec)) {
    InitializeOptions first;
    first.http = std::move(http);
    auto trust = initialize(first);
    if (!trust.ok()) {
      fs::remove(remote, ec);  // nothing was initialised: the next run tries again
      return std::move(trust).error();
    }
    return trust;
  }
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(remote, 64 * 1024));
  auto doc = json::parse(text);
  const bj::value* mirror = doc.ok() && doc->is_object() ? doc->get_object().if_contains("mirror") : nullptr;
  if (!mirror || !mirror->is_string()) return invalid_input(fmt::format("{}: no \"mirror\" string", remote.string()));
  return refresh_from(std::string(mirror->get_string()), http);
}

}  // namespace vouch::tuf
