// Fetching vulnerability data for `vouch db update`: OSV exports from a web server or a
// directory, or a snapshot named by latest.json, each file checked before it is used.
#include "vouch/inventory/mirror.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/reference.h"

namespace vouch::inventory {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

constexpr size_t kMaxListBytes = 4 << 20;  // latest.json, ecosystems.txt, SHA256SUMS

bool is_url(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line = trim(text.substr(start, end - start));
    if (!line.empty() && line[0] != '#') out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

// A name from a listing or latest.json used as a path: relative, no "..", no odd characters.
Status check_relative(std::string_view name, std::string_view where) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos ||
      name.find('\\') != std::string_view::npos || name.find('\0') != std::string_view::npos ||
      name.find("://") != std::string_view::npos)
    return invalid_input(fmt::format("{}: '{}' is not a plain relative path", where, name));
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20) return invalid_input(fmt::format("{}: control character in a path", where));
  return ok_status();
}

// The mirror: files relative to a base, read from disk or over HTTP.
class Mirror {
 public:
  Mirror(std::string base, net::Client& client, const fs::path& scratch, uint64_t max_bytes)
      : base_(std::move(base)), client_(client), scratch_(scratch), max_bytes_(max_bytes) {
    while (base_.size() > 1 && base_.back() == '/') base_.pop_back();
  }

  std::string location(std::string_view rel) const { return base_ + "/" + std::string(rel); }

  // A small text file; nullopt when the mirror has none.
  Result<std::optional<std::string>> small(std::string_view rel) {
    if (!is_url(base_)) {
      std::error_code ec;
      if (!fs::exists(fs::path(base_) / rel, ec)) return std::optional<std::string>();
      VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(fs::path(base_) / rel, kMaxListBytes));
      return std::optional<std::string>(std::move(text));
    }
    net::Request req;
    req.url = location(rel);
    VOUCH_ASSIGN_OR_RETURN(net::Response resp, client_.send(req, kMaxListBytes));
    if (resp.status == 404) return std::optional<std::string>();
    if (resp.status != 200) return io_error(fmt::format("{}: HTTP {}", req.url, resp.status));
    return std::optional<std::string>(std::move(resp.body));
  }

  // A file of any size: the path of the local file, or of the download in scratch.
  Result<fs::path> file(std::string_view rel) {
    if (!is_url(base_)) {
      fs::path p = fs::path(base_) / rel;
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) return not_found(fmt::format("{}: no such file", p.string()));
      return p;
    }
    std::string name = std::string(rel);
    for (char& c : name)
      if (c == '/') c = '_';
    fs::path out = scratch_ / name;
    net::Request req;
    req.url = location(rel);
    VOUCH_ASSIGN_OR_RETURN(auto stream, client_.open(req));
    if (stream->status() != 200) return io_error(fmt::format("{}: HTTP {}", req.url, stream->status()));
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f) return io_error(fmt::format("{}: cannot write", out.string()));
    std::vector<uint8_t> buf(1 << 16);
    uint64_t total = 0;
    while (true) {
      VOUCH_ASSIGN_OR_RETURN(size_t n, stream->read(buf));
      if (n == 0) break;
      total += n;
      if (total > max_bytes_) return invalid_input(fmt::format("{}: larger than {} bytes", req.url, max_bytes_));
      f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
    }
    f.close();
    if (!f) return io_error(fmt::format("{}: write failed", out.string()));
    if (auto length = stream->headers().get("content-length")) {
      if (std::to_string(total) != trim(*length))
        return io_error(fmt::format("{}: {} bytes received of {}", req.url, total, trim(*length)));
    }
    return out;
  }

  bool local() const { return !is_url(base_); }
  const std::string& base() const { return base_; }

 private:
  std::string base_;
  net::Client& client_;
  fs::path scratch_;
  uint64_t max_bytes_;
};

Status verify_checksum(const fs::path& file, std::string_view expected, std::string_view what) {
  VOUCH_ASSIGN_OR_RETURN(std::string actual, sha256_file(file));
  if (actual != expected)
    return verification_failed(fmt::format("{}: checksum mismatch (expected {}, got {})", what, expected, actual));
  return ok_status();
}

// SHA256SUMS as sha256sum writes it: "<hex>  <path>" (or "<hex> *<path>").
Result<std::map<std::string, std::string>> parse_sums(std::string_view text, std::string_view where) {
  std::map<std::string, std::string> out;
  for (const auto& line : lines(text)) {
    size_t sp = line.find(' ');
    if (sp != 64) return invalid_input(fmt::format("{}: malformed line '{}'", where, line.substr(0, 80)));
    std::string hex = line.substr(0, 64);
    for (char c : hex)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        return invalid_input(fmt::format("{}: malformed digest '{}'", where, hex));
    std::string name = trim(std::string_view(line).substr(65));
    if (!name.empty() && name[0] == '*') name.erase(0, 1);
    out[name] = "sha256:" + hex;
  }
  return out;
}

Result<FetchedData> fetch_snapshot(Mirror& mirror, std::string_view latest_rel, FetchedData data) {
  VOUCH_ASSIGN_OR_RETURN(auto text, mirror.small(latest_rel));
  if (!text) return not_found(fmt::format("{}: not found", mirror.location(latest_rel)));
  auto latest = parse_latest_json(*text);
  if (!latest.ok()) return std::move(latest).error().context(mirror.location(latest_rel));
  std::string dir;
  if (size_t slash = std::string_view(latest_rel).rfind('/'); slash != std::string_view::npos)
    dir = std::string(latest_rel.substr(0, slash + 1));
  VOUCH_ASSIGN_OR_RETURN(fs::path file, mirror.file(dir + latest->path));
  VOUCH_RETURN_IF_ERROR(verify_checksum(file, latest->checksum, mirror.location(dir + latest->path)));
  data.snapshot = file;
  ++data.verified;
  return data;
}

}  // namespace

Result<LatestJson> parse_latest_json(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(text, {.max_bytes = kMaxListBytes}));
  json::Node root = json::Node::root(v);
  if (!root.is_object()) return invalid_input("latest.json: not a JSON object");
  LatestJson out;
  if (auto s = root.find("status")) {
    VOUCH_ASSIGN_OR_RETURN(out.status, s->string());
  }
  if (out.status != "active") return invalid_input(fmt::format("latest.json: status '{}' (not active)", out.status));
  VOUCH_ASSIGN_OR_RETURN(int64_t version, root.get_int64("schemaVersion"));
  if (version != 1)
    return invalid_input(fmt::format("latest.json: schemaVersion {} is not supported (this vouch reads 1)", version));
  out.schema_version = static_cast<int>(version);
  VOUCH_ASSIGN_OR_RETURN(std::string built, root.get_string("built"));
  VOUCH_ASSIGN_OR_RETURN(out.built, parse_rfc3339(built));
  VOUCH_ASSIGN_OR_RETURN(out.path, root.get_string("path"));
  VOUCH_RETURN_IF_ERROR(check_relative(out.path, "latest.json path"));
  VOUCH_ASSIGN_OR_RETURN(out.checksum, root.get_string("checksum"));
  if (!out.checksum.starts_with("sha256:") || out.checksum.size() != 71)
    return invalid_input(fmt::format("latest.json: checksum '{}' is not sha256:<64 hex digits>", out.checksum));
  return out;
}

std::string serialize_latest_json(const LatestJson& latest) {
  bj::object o{{"status", latest.status},
               {"schemaVersion", latest.schema_version},
               {"built", format_rfc3339(latest.built)},
               {"path", latest.path},
               {"checksum", latest.checksum}};
  return json::pretty(o);
}

Result<std::string> sha256_file(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) return io_error(fmt::format("{}: cannot open", file.string()));
  oci::Digester d("sha256");
  std::vector<char> buf(1 << 16);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = f.gcount();
    if (n > 0) d.update(as_bytes(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  if (f.bad()) return io_error(fmt::format("{}: read failed", file.string()));
  return d.finish().str();
}

Result<FetchedData> fetch_source(const std::string& source, const fs::path& scratch, net::Client& client,
                                 const FetchOptions& options) {
  FetchedData data;
  data.source = source;
  std::error_code ec;
  const bool url = is_url(source);
  // One file named directly.
  std::string_view name = source;
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
  const bool directory = !url && fs::is_directory(source, ec);
  if (!url && !directory && !fs::exists(source, ec))
    return not_found(fmt::format("{}: no such file, directory or URL", source));
  const bool one_file = name == "latest.json" || name.ends_with(".zip") || (!url && !directory);
  if (one_file) {
    std::string base = source.substr(0, source.size() - name.size());
    Mirror mirror(base.empty() ? "." : base, client, scratch, options.max_download_bytes);
    if (name == "latest.json") return fetch_snapshot(mirror, name, std::move(data));
    if (!url && !name.ends_with(".zip")) {
      data.osv_inputs.push_back(source);
      ++data.unverified;
      return data;
    }
    VOUCH_ASSIGN_OR_RETURN(fs::path file, mirror.file(name));
    VOUCH_ASSIGN_OR_RETURN(auto sums_text, mirror.small("SHA256SUMS"));
    if (sums_text) {
      VOUCH_ASSIGN_OR_RETURN(auto sums, parse_sums(*sums_text, mirror.location("SHA256SUMS")));
      auto it = sums.find(std::string(name));
      if (it == sums.end()) return verification_failed(fmt::format("{}: not listed in SHA256SUMS", source));
      VOUCH_RETURN_IF_ERROR(verify_checksum(file, it->second, source));
      ++data.verified;
    } else {
      if (options.require_checksums)
        return verification_failed(fmt::format("{}: no SHA256SUMS beside it (--require-checksums)", source));
      ++data.unverified;
    }
    data.osv_inputs.push_back(file);
    return data;
  }

  // A directory or a base URL: a snapshot when latest.json is there, else OSV's layout.
  Mirror mirror(source, client, scratch, options.max_download_bytes);
  {
    VOUCH_ASSIGN_OR_RETURN(auto latest, mirror.small("latest.json"));
    if (latest) return fetch_snapshot(mirror, "latest.json", std::move(data));
  }
  std::vector<std::string> ecosystems = options.ecosystems;
  if (ecosystems.empty()) {
    VOUCH_ASSIGN_OR_RETURN(auto listed, mirror.small("ecosystems.txt"));
    if (listed) {
      ecosystems = lines(*listed);
    } else if (mirror.local()) {
      for (const auto& e : fs::directory_iterator(source, ec))
        if (e.is_directory() && fs::exists(e.path() / "all.zip")) ecosystems.push_back(e.path().filename().string());
      std::sort(ecosystems.begin(), ecosystems.end());
    }
    if (ecosystems.empty() && mirror.local()) {
      // A directory of OSV records (*.json, as `db import` reads them).
      data.osv_inputs.push_back(source);
      ++data.unverified;
      return data;
    }
    if (ecosystems.empty())
      return invalid_input(fmt::format("{}: no ecosystems.txt; name the ecosystems with --ecosystem", source));
  }
  std::optional<std::map<std::string, std::string>> sums;
  VOUCH_ASSIGN_OR_RETURN(auto sums_text, mirror.small("SHA256SUMS"));
  if (sums_text) {
    VOUCH_ASSIGN_OR_RETURN(sums, parse_sums(*sums_text, mirror.location("SHA256SUMS")));
  } else if (options.require_checksums) {
    return verification_failed(fmt::format("{}: no SHA256SUMS (--require-checksums)", source));
  }
  for (const auto& eco : ecosystems) {
    VOUCH_RETURN_IF_ERROR(check_relative(eco, "ecosystem"));
    std::string rel = eco + "/all.zip";
    VOUCH_ASSIGN_OR_RETURN(fs::path file, mirror.file(rel));
    if (sums) {
      auto it = sums->find(rel);
      if (it == sums->end()) return verification_failed(fmt::format("{}: not listed in SHA256SUMS", mirror.location(rel)));
      VOUCH_RETURN_IF_ERROR(verify_checksum(file, it->second, mirror.location(rel)));
      ++data.verified;
    } else {
      ++data.unverified;
    }
    data.osv_inputs.push_back(file);
  }
  return data;
}

}  // namespace vouch::inventory
