// Where `vouch db update` gets its data and how a site mirrors it: OSV's per-ecosystem all.zip
// exports (from OSV's bucket, any web server laid out the same way, or a directory), or a single
// database snapshot described by latest.json, as `vouch db build` writes and `vouch db serve`
// serves it. Every download lands in a scratch directory and is checked before use.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/net/http.h"

namespace vouch::inventory {

// OSV's public exports: <base>/<ecosystem>/all.zip and <base>/ecosystems.txt.
inline constexpr std::string_view kOsvExportBase = "https://osv-vulnerabilities.storage.googleapis.com";

// latest.json, as grype's database distribution writes it.
struct LatestJson {
  std::string status = "active";
  int schema_version = 0;
  UnixSeconds built = 0;
  std::string path;      // the snapshot, relative to latest.json
  std::string checksum;  // "sha256:<hex>"
};
Result<LatestJson> parse_latest_json(std::string_view text);
std::string serialize_latest_json(const LatestJson& latest);

// "sha256:<hex>" of a file, read in pieces.
Result<std::string> sha256_file(const std::filesystem::path& file);

// What a source yielded, ready to apply: OSV archives and record files, or one snapshot.
struct FetchedData {
  std::string source;  // as given
  std::vector<std::filesystem::path> osv_inputs;
  std::optional<std::filesystem::path> snapshot;
  size_t verified = 0;    // files checked against SHA256SUMS or latest.json
  size_t unverified = 0;  // files no checksum covered
};

struct FetchOptions {
  // Ecosystems to take from a mirror (as OSV names them: "PyPI", "Go"); empty: all it lists.
  std::vector<std::string> ecosystems;
  // Refuse files no checksum covers (a mirror without SHA256SUMS).
  bool require_checksums = false;
  uint64_t max_download_bytes = uint64_t{8} << 30;
};

// Fetches `source` into `scratch`:
//   …/latest.json (URL or file), or a directory holding latest.json: the snapshot it names,
//     its checksum verified;
//   …/x.zip (URL or file): that archive;
//   a directory or a base URL: <ecosystem>/all.zip for each wanted ecosystem (those listed in
//     ecosystems.txt, else the subdirectories); SHA256SUMS beside them, when present, is checked;
//   any other directory: the OSV records (*.json) in it.
// A checksum that does not match fails the fetch, naming the file.
Result<FetchedData> fetch_source(const std::string& source, const std::filesystem::path& scratch,
                                 net::Client& client, const FetchOptions& options);

}  // namespace vouch::inventory
