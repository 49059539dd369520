#include "vouch/oci/registry.h"

#include <strings.h>

#include <charconv>
#include <cstdlib>

#include "store_common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/oci/credentials.h"
#include "vouch/net/url_policy.h"

namespace vouch::oci {
namespace {

using json::Node;
using net::check_redirect;
using net::check_url_allowed;
using net::is_localhost_registry;
using net::resolve_url;
using net::url_origin;

constexpr size_t kDefaultChunk = 16 << 20;
constexpr size_t kMonolithicLimit = 32 << 20;
constexpr int kMaxRedirects = 10;

constexpr long kMinBytesPerSecond = 1024;  // averaged over kLowSpeedSeconds
constexpr long kLowSpeedSeconds = 30;

std::string duration_text(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000) : fmt::format("{}ms", d.count());
}

// A transport error after the deadline is named as the deadline, whatever libcurl called it.
Error past_deadline(Error e, std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds timeout,
                    std::string_view where = {}) {
  // libcurl's own timer, set from the same deadline, may fire a moment before ours.
  if (std::chrono::steady_clock::now() + std::chrono::milliseconds(250) < deadline || e.code != ErrorCode::kIo) return e;
  Error late = io_error(fmt::format("not finished within the {} timeout (-t/--timeout)", duration_text(timeout)));
  if (!where.empty()) late.context(where);
  return late;
}

class StreamReader final : public BlobReader {
 public:
  StreamReader(std::unique_ptr<net::ResponseStream> s, std::chrono::steady_clock::time_point deadline,
               std::chrono::milliseconds timeout)
      : s_(std::move(s)), deadline_(deadline), timeout_(timeout) {}
  Result<size_t> read(std::span<uint8_t> out) override {
    auto n = s_->read(out);
    if (!n.ok()) return past_deadline(std::move(n).error(), deadline_, timeout_);
    return n;
  }

 private:
  std::unique_ptr<net::ResponseStream> s_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds timeout_;
};

bool is_redirect(long status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }
long status_of(const net::Response& r) { return r.status; }
long status_of(const std::unique_ptr<net::ResponseStream>& s) { return s->status(); }
const net::Headers& headers_of(const net::Response& r) { return r.headers; }
const net::Headers& headers_of(const std::unique_ptr<net::ResponseStream>& s) { return s->headers(); }

void drop_authorization(net::Request& req) {
  net::Headers kept;
  for (const auto& [name, value] : req.headers.items())
    if (strcasecmp(name.c_str(), "Authorization") != 0) kept.add(name, value);
  req.headers = std::move(kept);
}

// Sends `req` through `exchange` (a whole or a streamed response), following redirects here
// rather than in libcurl so that every hop is checked (check_redirect) and the Authorization
// header never leaves the origin it was meant for.
template <typename Exchange>
auto follow(net::Request req, bool allow_insecure, Exchange exchange) -> decltype(exchange(req)) {
  req.follow_redirects = false;
  auto first = url_origin(req.url);
  for (int hop = 0;; ++hop) {
    auto sent = exchange(req);
    if (!sent.ok() || !is_redirect(status_of(*sent))) return sent;
    auto location = headers_of(*sent).get("Location");
    if (!location) return sent;
    if (hop == kMaxRedirects) return io_error(fmt::format("{} {}: more than {} redirects", req.method, req.url, kMaxRedirects));
    VOUCH_ASSIGN_OR_RETURN(std::string next, resolve_url(req.url, *location));
    VOUCH_RETURN_IF_ERROR(check_redirect(req.url, next, allow_insecure));
    auto origin = url_origin(next);
    if (!first.ok() || !origin.ok() || *origin != *first) drop_authorization(req);
    long status = status_of(*sent);
    if (status == 303 || ((status == 301 || status == 302) && req.method == "POST")) {
      if (req.method != "HEAD") req.method = "GET";
      req.body.clear();
    }
    req.url = std::move(next);
  }
}

std::string http_error(const net::Response& r, std::string_view what) {
  // Distribution error bodies: {"errors":[{"code","message"}]}
  std::string detail;
  auto doc = json::parse(r.body, {.max_bytes = 1 << 20, .max_depth = 16});
  if (doc.ok() && doc->is_object()) {
    if (auto* errs = doc->as_object().if_contains("errors"); errs && errs->is_array() && !errs->as_array().empty()) {
      const auto& e = errs->as_array()[0];
      if (e.is_object()) {
        if (auto* c = e.as_object().if_contains("code"); c && c->is_string()) detail += std::string(c->as_string());
        if (auto* m = e.as_object().if_contains("message"); m && m->is_string())
          detail += (detail.empty() ? "" : ": ") + std::string(m->as_string());
      }
    }
  }
  return fmt::format("{}: HTTP {}{}", what, r.status, detail.empty() ? "" : " (" + detail + ")");
}

}  // namespace

RegistryClient::RegistryClient(std::string registry, StoreOptions options, bool push)
    : registry_(std::move(registry)), options_(std::move(options)), push_(push) {
  host_ = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
  deadline_ = std::chrono::steady_clock::now() + options_.timeout;
  net::ClientOptions o;
  o.deadline = deadline_;
  o.low_speed_bytes_per_second = kMinBytesPerSecond;
  o.low_speed_seconds = kLowSpeedSeconds;
  o.max_retries = options_.max_retries;
  o.ca_file = options_.ca_file;
  o.verify_tls = !options_.allow_insecure;
  http_ = std::make_unique<net::Client>(o);
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::base_url() {
  if (scheme_.empty()) {
    bool plain_ok = options_.allow_insecure || is_localhost_registry(registry_);
    scheme_ = "https";
    if (plain_ok) {
      // Probe TLS once without retries; plain HTTP when the registry does not speak it.
      net::ClientOptions o = http_->options();
      o.max_retries = 0;
      o.connect_timeout_seconds = 5;
      o.verify_tls = false;
      net::Client probe(o);
      auto r = probe.send({"GET", "https://" + host_ + "/v2/", {}, {}, false}, 1 << 20);
      if (!r.ok()) scheme_ = "http";
    }
  }
  return scheme_ + "://" + host_;
}

std::string RegistryClient::scope(const std::string& repo) const {
  return fmt::format("repository:{}:{}", repo, push_ ? "pull,push" : "pull");
}

Result<Credentials> RegistryClient::credentials() {
  if (!creds_) {
    if (!options_.username.empty() || !options_.password.empty()) {
      creds_ = Credentials{options_.username, options_.password, {}};
    } else {
      std::string path = options_.docker_config.empty() ? default_docker_config_path() : options_.docker_config;
      VOUCH_ASSIGN_OR_RETURN(creds_, credentials_from_docker_config(path, registry_));
    }
  }
  return *creds_;
}

void RegistryClient::apply_auth(net::Request& req, const std::string& repo) {
  auto it = auth_by_repo_.find(repo);
  if (it == auth_by_repo_.end()) return;
  // The registry's credentials go to the registry's own origin only (an upload Location may
  // name another host).
  auto registry = url_origin(base_url());
  auto target = url_origin(req.url);
  if (registry.ok() && target.ok() && *registry == *target) req.headers.add("Authorization", it->second);
}

Status RegistryClient::authenticate(const std::string& header, const std::string& repo) {
  auto challenges = net::parse_www_authenticate(header);
  VOUCH_ASSIGN_OR_RETURN(Credentials c, credentials());
  for (const auto& ch : challenges) {
    if (ch.scheme == "basic") {
      if (c.username.empty() && c.password.empty())
        return verification_failed(fmt::format("{}: authentication required and no credentials (docker login, or --username/--password)", registry_));
      auth_by_repo_[repo] = "Basic " + base64_encode(as_bytes(c.username + ":" + c.password));
      return ok_status();
    }
    if (ch.scheme == "bearer") {
      auto realm = ch.params.find("realm");
      if (realm == ch.params.end()) return invalid_input(fmt::format("{}: bearer challenge without a realm", registry_));
      std::string url = realm->second;
      if (auto allowed = check_url_allowed(url, options_.allow_insecure, "token realm"); !allowed.ok())
        return std::move(allowed).error().context(registry_);
      std::string service = ch.params.count("service") ? ch.params.at("service") : "";
      std::string sc = repo.empty() ? (ch.params.count("scope") ? ch.params.at("scope") : "") : scope(repo);
      net::Request tr;
      net::Response resp;
      if (!c.identity_token.empty()) {
        tr.method = "POST";
        tr.url = url;
        tr.headers.add("Content-Type", "application/x-www-form-urlencoded");
        tr.body = fmt::format("grant_type=refresh_token&service={}&scope={}&client_id=vouch&refresh_token={}",
                              net::url_escape(service), net::url_escape(sc), net::url_escape(c.identity_token));
      } else {
        std::string sep = url.find('?') == std::string::npos ? "?" : "&";
        tr.url = url;
        if (!service.empty()) { tr.url += sep + "service=" + net::url_escape(service); sep = "&"; }
        if (!sc.empty()) tr.url += sep + "scope=" + net::url_escape(sc);
        if (!c.username.empty() || !c.password.empty())
          tr.headers.add("Authorization", "Basic " + base64_encode(as_bytes(c.username + ":" + c.password)));
      }
      VOUCH_ASSIGN_OR_RETURN(resp, follow(std::move(tr), options_.allow_insecure, [&](const net::Request& r) { return http_->send(r, 1 << 20); }));
      if (resp.status == 401 || resp.status == 403)
        return verification_failed(fmt::format("{}: token endpoint refused the credentials (HTTP {})", registry_, resp.status));
      if (resp.status != 200) return io_error(http_error(resp, fmt::format("{}: token endpoint", registry_)));
      auto doc = json::parse(resp.body, {.max_bytes = 1 << 20, .max_depth = 8});
      if (!doc.ok()) return std::move(doc).error().context("token response");
      Node root = Node::root(*doc);
      std::string token;
      if (auto t = root.find("token")) { VOUCH_ASSIGN_OR_RETURN(token, t->string()); }
      if (token.empty())
        if (auto t = root.find("access_token")) { VOUCH_ASSIGN_OR_RETURN(token, t->string()); }
      if (token.empty()) return invalid_input(fmt::format("{}: token response has no token", registry_));
      auth_by_repo_[repo] = "Bearer " + token;
      return ok_status();
    }
  }
  return invalid_input(fmt::format("{}: unsupported authentication challenge '{}'", registry_, header.substr(0, 200)));
}

namespace {
Error tls_hint(Error e, const std::string& registry) {
  if (e.message.find("SSL") != std::string::npos && !is_localhost_registry(registry))
    e.message += fmt::format(" (TLS to {} failed; plain HTTP is used only for localhost or with --allow-insecure-registry)", registry);
  return e;
}
}  // namespace

Result<net::Response> RegistryClient::request(net::Request req, const std::string& repo, size_t max_body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    net::Request r = req;
    apply_auth(r, repo);
    auto sent = follow(std::move(r), options_.allow_insecure, [&](const net::Request& x) { return http_->send(x, max_body); });
    if (!sent.ok()) return past_deadline(tls_hint(std::move(sent).error(), registry_), deadline_, options_.timeout, registry_);
    net::Response resp = std::move(sent).value();
    if (resp.status != 401 || attempt == 1) return resp;
    auto challenge = resp.headers.get("WWW-Authenticate");
    if (!challenge) return resp;
    VOUCH_RETURN_IF_ERROR(authenticate(*challenge, repo));
  }
  return internal_error("unreachable");
}

Result<std::unique_ptr<net::ResponseStream>> RegistryClient::request_stream(net::Request req, const std::string& repo) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    net::Request r = req;
    apply_auth(r, repo);
    auto opened = follow(std::move(r), options_.allow_insecure, [&](const net::Request& x) { return http_->open(x); });
    if (!opened.ok()) return past_deadline(tls_hint(std::move(opened).error(), registry_), deadline_, options_.timeout, registry_);
    auto stream = std::move(opened).value();
    if (stream->status() != 401 || attempt == 1) return stream;
    auto challenge = stream->headers().get("WWW-Authenticate");
    if (!challenge) return stream;
    VOUCH_RETURN_IF_ERROR(authenticate(*challenge, repo));
  }
  return internal_error("unreachable");
}

Status RegistryClient::ping() {
  VOUCH_ASSIGN_OR_RETURN(net::Response r, request({"GET", base_url() + "/v2/", {}, {}, true}, ""));
  if (r.status == 200) return ok_status();
  return io_error(http_error(r, registry_ + ": /v2/"));
}

Result<std::optional<Manifest>> RegistryClient::get_manifest(const std::string& repo, const std::string& identifier,
                                                             std::string_view expected_media_type) {
  net::Request req{"GET", fmt::format("{}/v2/{}/manifests/{}", base_url(), repo, identifier), {}, {}, true};
  req.headers.add("Accept", std::string(media_type::kAcceptManifests));
  std::string what = fmt::format("{}/{}@{}", registry_, repo, identifier);
  auto resp = request(req, repo, kMaxManifestBytes);
  if (!resp.ok()) {
    if (resp.error().message.find("exceeds the limit") != std::string::npos)
      return invalid_input(fmt::format("{}: manifest larger than the limit of {} bytes", what, kMaxManifestBytes));
    return std::move(resp).error();
  }
  if (resp->status == 404) return std::optional<Manifest>();
  if (resp->status == 401 || resp->status == 403) return verification_failed(http_error(*resp, what));
  if (resp->status != 200) return io_error(http_error(*resp, what));
  if (auto d = Digest::parse(identifier); d.ok()) {
    VOUCH_RETURN_IF_ERROR(d->verify(as_bytes(resp->body), what));
  } else if (auto header = resp->headers.get("Docker-Content-Digest")) {
    auto hd = Digest::parse(*header);
    if (hd.ok()) VOUCH_RETURN_IF_ERROR(hd->verify(as_bytes(resp->body), what + " (Docker-Content-Digest)"));
  }
  std::string ct = resp->headers.get("Content-Type").value_or(std::string(expected_media_type));
  auto m = parse_manifest(std::move(resp->body), ct);
  if (!m.ok()) return std::move(m).error().context(what);
  return std::optional<Manifest>(std::move(m).value());
}

Result<std::unique_ptr<BlobReader>> RegistryClient::open_blob(const std::string& repo, const Descriptor& d) {
  std::string what = fmt::format("{}/{}@{}", registry_, repo, d.digest.str());
  VOUCH_ASSIGN_OR_RETURN(auto stream, request_stream({"GET", fmt::format("{}/v2/{}/blobs/{}", base_url(), repo, d.digest.str()), {}, {}, true}, repo));
  if (stream->status() == 404) return not_found(fmt::format("{}: blob not found", what));
  if (stream->status() != 200) return io_error(fmt::format("{}: HTTP {}", what, stream->status()));
  if (auto length = stream->headers().get("Content-Length")) {
    int64_t declared = 0;
    auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), declared);
    if (ec == std::errc() && end == length->data() + length->size() && declared > d.size)
      return invalid_input(fmt::format("blob {}: the registry declares {} bytes, more than the {} bytes its descriptor says",
                                       what, declared, d.size));
  }
  return verifying_reader(std::make_unique<StreamReader>(std::move(stream), deadline_, options_.timeout), d, "blob " + what);
}

Result<bool> RegistryClient::has_blob(const std::string& repo, const Digest& d) {
  VOUCH_ASSIGN_OR_RETURN(net::Response r, request({"HEAD", fmt::format("{}/v2/{}/blobs/{}", base_url(), repo, d.str()), {}, {}, true}, repo));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  return io_error(http_error(r, fmt::format("{}/{}: HEAD blob {}", registry_, repo, d.str())));
}

Result<std::string> RegistryClient::resolve_location(const std::string& request_url, const std::string& location) {
  VOUCH_ASSIGN_OR_RETURN(std::string url, resolve_url(request_url, location));
  VOUCH_RETURN_IF_ERROR(check_redirect(request_url, url, options_.allow_insecure));
  return url;
}

Status RegistryClient::push_blob(const std::string& repo, const Descriptor& d, BlobReader& from) {
  std::string what = fmt::format("{}/{}: upload of {}", registry_, repo, d.digest.str());
  VOUCH_ASSIGN_OR_RETURN(bool exists, has_blob(repo, d.digest));
  if (exists) return ok_status();
  std::string upload_url = fmt::format("{}/v2/{}/blobs/uploads/", base_url(), repo);
  VOUCH_ASSIGN_OR_RETURN(net::Response start, request({"POST", upload_url, {}, {}, true}, repo));
  if (start.status != 202) return io_error(http_error(start, what));
  auto loc = start.headers.get("Location");
  if (!loc) return io_error(what + ": no Location in the upload response");
  VOUCH_ASSIGN_OR_RETURN(std::string location, resolve_location(upload_url, *loc));
  size_t chunk = options_.chunk_size ? options_.chunk_size : kDefaultChunk;
  bool monolithic = options_.chunk_size == 0 && d.size <= static_cast<int64_t>(kMonolithicLimit);
  auto with_digest = [&](std::string url) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "digest=" + net::url_escape(d.digest.str());
  };
  if (monolithic) {
    VOUCH_ASSIGN_OR_RETURN(std::string body, read_all(from, kMonolithicLimit, what));
    net::Request put{"PUT", with_digest(location), {}, std::move(body), true};
    put.headers.add("Content-Type", "application/octet-stream");
    VOUCH_ASSIGN_OR_RETURN(net::Response r, request(put, repo));
    if (r.status != 201) return io_error(http_error(r, what));
    return ok_status();
  }
  int64_t offset = 0;
  std::string buf;
  std::vector<uint8_t> piece(256 * 1024);
  bool eof = false;
  while (!eof) {
    buf.clear();
    while (buf.size() < chunk) {
      VOUCH_ASSIGN_OR_RETURN(size_t n, from.read(std::span<uint8_t>(piece.data(), std::min(piece.size(), chunk - buf.size()))));
      if (n == 0) { eof = true; break; }
      buf.append(reinterpret_cast<const char*>(piece.data()), n);
    }
    if (buf.empty()) break;
    net::Request patch{"PATCH", location, {}, buf, true};
    patch.headers.add("Content-Type", "application/octet-stream");
    patch.headers.add("Content-Range", fmt::format("{}-{}", offset, offset + static_cast<int64_t>(buf.size()) - 1));
    VOUCH_ASSIGN_OR_RETURN(net::Response r, request(patch, repo));
    if (r.status != 202) return io_error(http_error(r, what + " (chunk)"));
    offset += static_cast<int64_t>(buf.size());
    if (auto l = r.headers.get("Location")) { VOUCH_ASSIGN_OR_RETURN(location, resolve_location(location, *l)); }
  }
  VOUCH_ASSIGN_OR_RETURN(net::Response fin, request({"PUT", with_digest(location), {}, {}, true}, repo));
  if (fin.status != 201) return io_error(http_error(fin, what + " (commit)"));
  return ok_status();
}

Result<bool> RegistryClient::push_manifest(const std::string& repo, const std::string& identifier, const Manifest& m) {
  net::Request put{"PUT", fmt::format("{}/v2/{}/manifests/{}", base_url(), repo, identifier), {}, m.bytes, true};
  put.headers.add("Content-Type", m.media_type);
  VOUCH_ASSIGN_OR_RETURN(net::Response r, request(put, repo));
  std::string what = fmt::format("{}/{}: push of manifest {}", registry_, repo, m.digest.str());
  if (r.status != 201 && r.status != 200) return io_error(http_error(r, what));
  if (auto dg = r.headers.get("Docker-Content-Digest"); dg && *dg != m.digest.str())
    return verification_failed(fmt::format("{}: the registry stored it as {}", what, *dg));
  return r.headers.get("OCI-Subject").has_value();
}

Result<bool> RegistryClient::delete_manifest(const std::string& repo, const Digest& digest) {
  net::Request del{"DELETE", fmt::format("{}/v2/{}/manifests/{}", base_url(), repo, digest.str()), {}, {}, true};
  VOUCH_ASSIGN_OR_RETURN(net::Response r, request(del, repo));
  if (r.status == 202 || r.status == 200) return true;
  if (r.status == 404) return false;
  std::string what = fmt::format("{}/{}: delete of manifest {}", registry_, repo, digest.str());
  if (r.status == 405)
    return io_error(fmt::format("{}: the registry does not allow deletes (docker-registry: storage.delete.enabled)", what));
  return io_error(http_error(r, what));
}

Result<std::vector<std::string>> RegistryClient::list_tags(const std::string& repo) {
  std::vector<std::string> tags;
  std::string url = fmt::format("{}/v2/{}/tags/list?n=1000", base_url(), repo);
  for (int page = 0; page < 1000 && !url.empty(); ++page) {
    VOUCH_ASSIGN_OR_RETURN(net::Response r, request({"GET", url, {}, {}, true}, repo));
    if (r.status == 404) return not_found(fmt::format("{}/{}: repository not found", registry_, repo));
    if (r.status != 200) return io_error(http_error(r, fmt::format("{}/{}: tags", registry_, repo)));
    auto doc = json::parse(r.body, {.max_bytes = 16 << 20, .max_depth = 8});
    if (!doc.ok()) return std::move(doc).error().context("tags list");
    if (auto list = Node::root(*doc).find("tags")) {
      VOUCH_ASSIGN_OR_RETURN(auto items, list->array());
      for (const auto& i : items) {
        VOUCH_ASSIGN_OR_RETURN(std::string t, i.string());
        tags.push_back(t);
      }
    }
    std::string next;
    if (auto link = r.headers.get("Link")) {
      size_t a = link->find('<'), b = link->find('>');
      if (a != std::string::npos && b != std::string::npos && b > a && link->find("rel=\"next\"") != std::string::npos) {
        VOUCH_ASSIGN_OR_RETURN(next, resolve_location(url, link->substr(a + 1, b - a - 1)));
      }
    }
    url = std::move(next);
  }
  return tags;
}

Result<std::optional<std::vector<Descriptor>>> RegistryClient::referrers_api(const std::string& repo, const Digest& subject) {
  net::Request req{"GET", fmt::format("{}/v2/{}/referrers/{}", base_url(), repo, subject.str()), {}, {}, true};
  req.headers.add("Accept", std::string(media_type::kOciIndex));
  VOUCH_ASSIGN_OR_RETURN(net::Response r, request(req, repo, kMaxManifestBytes));
  if (r.status == 404 || r.status == 400 || r.status == 405) return std::optional<std::vector<Descriptor>>();
  if (r.status != 200) return io_error(http_error(r, fmt::format("{}/{}: referrers", registry_, repo)));
  auto m = parse_manifest(std::move(r.body), media_type::kOciIndex);
  if (!m.ok()) return std::move(m).error().context("referrers response");
  if (!m->is_index()) return invalid_input("referrers response is not an index");
  return std::optional<std::vector<Descriptor>>(m->manifests);
}

}  // namespace vouch::oci
