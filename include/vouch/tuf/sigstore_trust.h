// Sigstore's trust material over TUF, as cosign gets it: a TUF root of trust (the public-good
// root is embedded), a mirror, and a local cache ($TUF_ROOT, default ~/.sigstore/root) holding the
// verified metadata and the `trusted_root.json` and `signing_config.v0.2.json` targets, so that
// runs without a network use what the last refresh verified.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/net/http.h"

namespace vouch::tuf {

inline constexpr std::string_view kPublicGoodMirror = "https://tuf-repo-cdn.sigstore.dev";
inline constexpr std::string_view kTrustedRootTarget = "trusted_root.json";
inline constexpr std::string_view kSigningConfigTarget = "signing_config.v0.2.json";

// sigstore/root-signing's root.json, version 15.
std::string_view public_good_root();

// $TUF_ROOT, else ~/.sigstore/root.
std::filesystem::path tuf_root_dir();

struct SigstoreTrust {
  std::string mirror;
  std::string trusted_root;                   // trusted_root.json, verified through TUF
  std::optional<std::string> signing_config;  // signing_config.v0.2.json when the repository has one
  std::optional<UnixSeconds> refreshed_at;    // the last successful refresh
  bool offline = false;       // the mirror could not be reached: this is the cache's
  std::string offline_reason;  // why, when offline
  bool stale = false;          // offline and the cached timestamp or snapshot has expired
};

struct InitializeOptions {
  std::string mirror = std::string(kPublicGoodMirror);
  std::optional<std::string> root;           // root.json to trust (default: the embedded one)
  std::optional<std::string> root_checksum;  // sha256 hex the root file must have
  net::ClientOptions http;
};

// cosign initialize: trusts `root` for `mirror` (remembered in $TUF_ROOT/remote.json), refreshes
// and caches the Sigstore targets.
Result<SigstoreTrust> initialize(const InitializeOptions& options);

// The trusted root for verification: refreshed from the remembered mirror (initialising with the
// public-good root and mirror on first use); when the mirror cannot be reached, the cache's copy
// with `offline` set. An error when neither gives one.
Result<SigstoreTrust> sigstore_trust(net::ClientOptions http = {});

}  // namespace vouch::tuf
