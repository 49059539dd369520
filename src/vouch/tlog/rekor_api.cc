#include "vouch/tlog/rekor_api.h"

#include <charconv>
#include <map>
#include <mutex>
#include <set>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include "vouch/base/ascii.h"
#include "vouch/base/json.h"
#include "vouch/net/prometheus.h"
#include "vouch/tlog/entries.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

namespace bj = boost::json;
using net::HttpResponse;

constexpr size_t kMaxRetrieve = 10;     // entries per retrieve request, as Rekor's default
constexpr size_t kMaxSearchResults = 1000;

HttpResponse json_response(int status, const bj::value& v) {
  return HttpResponse{status, "application/json", json::serialize(v) + "\n", {}};
}

HttpResponse error_response(int status, std::string_view message) {
  return json_response(status, bj::object{{"code", status}, {"message", message}});
}

int status_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kVerification:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

HttpResponse error_response(const Error& e) {
  int status = status_for(e);
  // Storage failures are reported as such (5xx); the message names the failing operation.
  return error_response(status, status >= 500 ? "internal error: " + e.message : e.message);
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bj::array hex_array(const std::vector<Bytes>& hashes) {
  bj::array a;
  for (const auto& h : hashes) a.push_back(bj::value(hex_encode(h)));
  return a;
}

}  // namespace

std::string entry_uuid(const StoredEntry& entry) { return hex_encode(entry.leaf_hash); }

std::string entry_id(int64_t tree_id, const StoredEntry& entry) {
  return fmt::format("{:016x}{}", static_cast<uint64_t>(tree_id), entry_uuid(entry));
}

namespace {

bj::object log_entry_with_proof(const Log& log, const StoredEntry& entry, const SignedTreeHead& head,
                                const std::vector<Bytes>& hashes) {
  bj::object proof{{"checkpoint", head.checkpoint},
                   {"hashes", hex_array(hashes)},
                   {"logIndex", entry.index},
                   {"rootHash", hex_encode(head.root_hash)},
                   {"treeSize", head.size}};
  return bj::object{
      {"body", base64_encode(as_bytes(entry.body))},
      {"integratedTime", entry.integrated_time},
      {"logID", hex_encode(log.log_id())},
      {"logIndex", entry.index},
      {"verification", bj::object{{"inclusionProof", std::move(proof)},
                                  {"signedEntryTimestamp", base64_encode(entry.signed_entry_timestamp)}}}};
}

}  // namespace

Result<bj::object> log_entry_json(Log& log, const StoredEntry& entry, const SignedTreeHead& head) {
  if (entry.index >= head.size) return internal_error("entry is not in the tree head");
  VOUCH_ASSIGN_OR_RETURN(auto hashes, stored_inclusion_proof(log.storage(), entry.index, head.size));
  return log_entry_with_proof(log, entry, head, hashes);
}

struct RekorApi::Impl {
  Log& log;
  boost::asio::thread_pool completions;
  std::mutex metrics_mu;
  std::map<std::pair<std::string, int>, uint64_t> requests;  // (route, status) -> count
  std::map<std::pair<std::string_view, std::string_view>, uint64_t> proposals;  // (kind, version) -> count

  Impl(Log& l, unsigned threads) : log(l), completions(threads) {
    for (const EntryKind& k : kEntryKinds)
      if (k.logged) proposals[{k.kind, k.api_version}] = 0;
  }

  void count(const std::string& route, int status) {
    std::lock_guard lock(metrics_mu);
    requests[{route, status}]++;
  }

  Result<bj::object> entry_map(const StoredEntry& e, const SignedTreeHead& head) {
    VOUCH_ASSIGN_OR_RETURN(bj::object le, log_entry_json(log, e, head));
    return bj::object{{entry_id(log.tree_id(), e), std::move(le)}};
  }

  Result<std::optional<StoredEntry>> find_by_id(std::string_view id) {
    if (!(id.size() == 64 || id.size() == 80) || !is_hex(id))
      return invalid_input(fmt::format("entry ID '{}' is not 64 or 80 hex digits", id));
    if (id.size() == 80) {
      std::string tree = fmt::format("{:016x}", static_cast<uint64_t>(log.tree_id()));
      if (lower(id.substr(0, 16)) != tree) return std::optional<StoredEntry>();
      id = id.substr(16);
    }
    Bytes leaf = *hex_decode(id);
    VOUCH_ASSIGN_OR_RETURN(auto idx, log.storage().index_of(leaf));
    if (!idx) return std::optional<StoredEntry>();
    return fetch(*idx);
  }

  Result<std::optional<StoredEntry>> fetch(uint64_t index) {
    if (index >= log.head().size) return std::optional<StoredEntry>();
    return log.storage().entry(index);
  }

  HttpResponse create(const net::HttpRequest& req, net::Responder respond) {
    auto entry = canonicalize_proposed_entry(req.body);
    if (!entry.ok()) return error_response(400, entry.error().message);
    if (const EntryKind* kind = find_entry_kind(entry->kind, entry->api_version)) {
      std::lock_guard lock(metrics_mu);
      proposals[{kind->kind, kind->api_version}]++;
    }
    log.submit(Submission{std::move(entry->body), std::move(entry->index_keys)},
               [this, respond](Result<SubmitResult> r) {
                 boost::asio::post(completions, [this, respond, r = std::move(r)]() mutable {
                   HttpResponse res = created(std::move(r));
                   count("create", res.status);
                   respond(std::move(res));
                 });
               });
    return HttpResponse{0, "", "", {}};  // answered later
  }

  HttpResponse created(Result<SubmitResult> r) {
    if (!r.ok()) return error_response(r.error());
    std::string id = entry_id(log.tree_id(), r->entry);
    std::string location = "/api/v1/log/entries/" + id;
    if (r->duplicate) {
      HttpResponse res = error_response(409, fmt::format("an equivalent entry already exists in the transparency log with UUID {}", id));
      res.headers = {{"Location", location}, {"ETag", entry_uuid(r->entry)}};
      return res;
    }
    // The proof and tree head come with the result: answering reads nothing from storage.
    if (r->entry.index >= r->head.size) return error_response(internal_error("entry is not in its batch's tree head"));
    bj::object m{{id, log_entry_with_proof(log, r->entry, r->head, r->inclusion_proof)}};
    HttpResponse res = json_response(201, m);
    res.headers = {{"Location", location}, {"ETag", entry_uuid(r->entry)}};
    return res;
  }

  HttpResponse get_by_index(const net::HttpRequest& req) {
    auto it = req.query.find("logIndex");
    if (it == req.query.end()) return error_response(400, "logIndex: required");
    auto index = parse_uint(it->second);
    if (!index) return error_response(400, fmt::format("logIndex: '{}' is not a non-negative integer", it->second));
    SignedTreeHead head = log.head();
    if (*index >= head.size) return error_response(404, fmt::format("no entry at log index {}", *index));
    auto e = log.storage().entry(*index);
    if (!e.ok()) return error_response(e.error());
    if (!*e) return error_response(404, fmt::format("no entry at log index {}", *index));
    auto m = entry_map(**e, head);
    return m.ok() ? json_response(200, *m) : error_response(m.error());
  }

  HttpResponse get_by_id(std::string_view id) {
    SignedTreeHead head = log.head();
    auto e = find_by_id(id);
    if (!e.ok()) return error_response(e.error());
    if (!*e || (*e)->index >= head.size) return error_response(404, fmt::format("no entry with ID {}", id));
    auto m = entry_map(**e, head);
    return m.ok() ? json_response(200, *m) : error_response(m.error());
  }

  HttpResponse retrieve(const net::HttpRequest& req) {
    auto parsed = json::parse(req.body, {.max_bytes = 1 << 20, .max_depth = 8});
    if (!parsed.ok()) return error_response(400, parsed.error().message);
    json::Node root = json::Node::root(*parsed);
    if (!root.is_object()) return error_response(400, "request: not a JSON object");
    SignedTreeHead head = log.head();
    bj::array out;
    size_t total = 0;
    if (auto uuids = root.find("entryUUIDs")) {
      auto items = uuids->array();
      if (!items.ok()) return error_response(400, items.error().message);
      total += items->size();
      if (total > kMaxRetrieve) return error_response(400, fmt::format("at most {} entries per request", kMaxRetrieve));
      for (const auto& u : *items) {
        auto s = u.string();
        if (!s.ok()) return error_response(400, s.error().message);
        auto e = find_by_id(*s);
        if (!e.ok()) return error_response(e.error());
        if (!*e || (*e)->index >= head.size) continue;
        auto m = entry_map(**e, head);
        if (!m.ok()) return error_response(m.error());
        out.push_back(std::move(*m));
      }
    }
    if (auto indexes = root.find("logIndexes")) {
      auto items = indexes->array();
      if (!items.ok()) return error_response(400, items.error().message);
      total += items->size();
      if (total > kMaxRetrieve) return error_response(400, fmt::format("at most {} entries per request", kMaxRetrieve));
      for (const auto& i : *items) {
        auto v = i.int64();
        if (!v.ok() || *v < 0) return error_response(400, fmt::format("{}: not a non-negative integer", i.path()));
        auto e = fetch(static_cast<uint64_t>(*v));
        if (!e.ok()) return error_response(e.error());
        if (!*e) continue;
        auto m = entry_map(**e, head);
        if (!m.ok()) return error_response(m.error());
        out.push_back(std::move(*m));
      }
    }
    return json_response(200, out);
  }

  HttpResponse log_info() {
    SignedTreeHead head = log.head();
    return json_response(200, bj::object{{"rootHash", hex_encode(head.root_hash)},
                                         {"signedTreeHead", head.checkpoint},
                                         {"treeID", std::to_string(log.tree_id())},
                                         {"treeSize", head.size}});
  }

  HttpResponse proof(const net::HttpRequest& req) {
    SignedTreeHead head = log.head();
    uint64_t first = 1, last = head.size;
    if (auto it = req.query.find("firstSize"); it != req.query.end()) {
      auto v = parse_uint(it->second);
      if (!v) return error_response(400, fmt::format("firstSize: '{}' is not a non-negative integer", it->second));
      first = *v;
    }
    auto it = req.query.find("lastSize");
    if (it == req.query.end()) return error_response(400, "lastSize: required");
    auto v = parse_uint(it->second);
    if (!v) return error_response(400, fmt::format("lastSize: '{}' is not a non-negative integer", it->second));
    last = *v;
    if (first < 1 || first > last)
      return error_response(400, fmt::format("firstSize {} must be at least 1 and at most lastSize {}", first, last));
    if (last > head.size)
      return error_response(400, fmt::format("lastSize {} is beyond the tree size {}", last, head.size));
    auto hashes = stored_consistency_proof(log.storage(), first, last);
    if (!hashes.ok()) return error_response(hashes.error());
    auto root = stored_root(log.storage(), last);
    if (!root.ok()) return error_response(root.error());
    return json_response(200, bj::object{{"hashes", hex_array(*hashes)}, {"rootHash", hex_encode(*root)}});
  }

  HttpResponse search(const net::HttpRequest& req) {
    auto parsed = json::parse(req.body, {.max_bytes = 1 << 20, .max_depth = 8});
    if (!parsed.ok()) return error_response(400, parsed.error().message);
    json::Node root = json::Node::root(*parsed);
    if (!root.is_object()) return error_response(400, "request: not a JSON object");
    std::vector<std::string> keys;
    if (auto h = root.find("hash")) {
      auto s = h->string();
      if (!s.ok()) return error_response(400, s.error().message);
      std::string_view v = *s;
      std::string alg = "sha256";
      if (size_t colon = v.find(':'); colon != std::string_view::npos) {
        alg = lower(v.substr(0, colon));
        v = v.substr(colon + 1);
      }
      if (!is_hex(v) || v.empty()) return error_response(400, "hash: want [sha256:|sha384:|sha512:]<hex digest>");
      keys.push_back(index_key_for_hash(alg, v));
    }
    if (auto pk = root.find("publicKey")) {
      auto format = pk->find("format") ? pk->get_string("format") : Result<std::string>(std::string("x509"));
      if (!format.ok()) return error_response(400, format.error().message);
      if (*format != "x509") return error_response(400, fmt::format("publicKey.format: '{}' is not supported (want x509)", *format));
      auto content = pk->get_bytes("content");
      if (!content.ok()) return error_response(400, content.error().message);
      auto key = index_key_for_public_key(*content);
      if (!key.ok()) return error_response(400, key.error().message);
      keys.push_back(*key);
    }
    if (auto email = root.find("email")) {
      auto s = email->string();
      if (!s.ok()) return error_response(400, s.error().message);
      keys.push_back(index_key_for_email(*s));
    }
    if (keys.empty()) return error_response(400, "give at least one of hash, publicKey, email");
    std::string op = "and";
    if (auto o = root.find("operator")) {
      auto s = o->string();
      if (!s.ok() || (*s != "and" && *s != "or")) return error_response(400, "operator: want 'and' or 'or'");
      op = *s;
    }
    std::set<uint64_t> result;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto hits = log.storage().search(keys[i], kMaxSearchResults);
      if (!hits.ok()) return error_response(hits.error());
      std::set<uint64_t> these(hits->begin(), hits->end());
      if (i == 0 || op == "or") {
        result.insert(these.begin(), these.end());
      } else {
        std::set<uint64_t> both;
        for (uint64_t x : result)
          if (these.count(x)) both.insert(x);
        result = std::move(both);
      }
    }
    uint64_t size = log.head().size;
    bj::array out;
    for (uint64_t idx : result) {
      if (idx >= size) continue;
      auto e = log.storage().entry(idx);
      if (!e.ok()) return error_response(e.error());
      if (*e) out.push_back(bj::value(entry_id(log.tree_id(), **e)));
    }
    return json_response(200, out);
  }

  HttpResponse metrics() {
    SignedTreeHead head = log.head();
    const auto& s = log.stats();
    net::PrometheusText out;
    out.family("vouch_tlog_tree_size", "gauge", "Entries in the transparency log.").sample("vouch_tlog_tree_size", head.size);
    out.counter("vouch_tlog_entries_appended_total", "Entries appended since start.", s.entries.load());
    out.counter("vouch_tlog_batches_total", "Durable batches committed since start.", s.batches.load());
    out.counter("vouch_tlog_duplicates_total", "Submissions of entries already logged.", s.duplicates.load());
    out.counter("vouch_tlog_batch_failures_total", "Batches that failed to commit.", s.failures.load());
    std::lock_guard lock(metrics_mu);
    out.family("vouch_http_requests_total", "counter", "HTTP requests by route and status.");
    for (const auto& [k, v] : requests)
      out.sample("vouch_http_requests_total", v, {{"route", k.first}, {"code", std::to_string(k.second)}});
    out.family("vouch_tlog_proposals_total", "counter", "Valid proposed entries received, by kind and version.");
    for (const auto& [k, v] : proposals)
      out.sample("vouch_tlog_proposals_total", v, {{"kind", k.first}, {"version", k.second}});
    return HttpResponse{200, std::string(net::PrometheusText::kContentType), out.take(), {}};
  }

  // Routes a request; a response with status 0 means it will be answered asynchronously.
  HttpResponse route(const net::HttpRequest& req, net::Responder respond, std::string& name) {
    const std::string& p = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD", post = req.method == "POST";
    auto method_not_allowed = [&] { return error_response(405, fmt::format("method {} not allowed on {}", req.method, p)); };
    if (p == "/api/v1/log/entries") {
      name = post ? "create" : "get_by_index";
      if (post) return create(req, std::move(respond));
      if (get) return get_by_index(req);
      return method_not_allowed();
    }
    if (p == "/api/v1/log/entries/retrieve") {
      name = "retrieve";
      return post ? retrieve(req) : method_not_allowed();
    }
    if (p.starts_with("/api/v1/log/entries/")) {
      name = "get_by_id";
      return get ? get_by_id(std::string_view(p).substr(20)) : method_not_allowed();
    }
    if (p == "/api/v1/log") {
      name = "log_info";
      return get ? log_info() : method_not_allowed();
    }
    if (p == "/api/v1/log/publicKey") {
      name = "public_key";
      return get ? HttpResponse{200, "application/x-pem-file", log.public_key().pem(), {}} : method_not_allowed();
    }
    if (p == "/api/v1/log/proof") {
      name = "proof";
      return get ? proof(req) : method_not_allowed();
    }
    if (p == "/api/v1/index/retrieve") {
      name = "search";
      return post ? search(req) : method_not_allowed();
    }
    if (p == "/metrics") {
      name = "metrics";
      return metrics();
    }
    if (p == "/healthz") {
      name = "healthz";
      return HttpResponse{200, "text/plain", "ok\n", {}};
    }
    if (p == "/readyz") {
      name = "readyz";
      auto size = log.storage().size();
      if (!size.ok()) return error_response(503, "storage unavailable: " + size.error().message);
      return HttpResponse{200, "text/plain", "ok\n", {}};
    }
    name = "unknown";
    return error_response(404, fmt::format("no route for {} {}", req.method, p));
  }
};

RekorApi::RekorApi(Log& log, unsigned completion_threads) : impl_(std::make_unique<Impl>(log, completion_threads)) {}

RekorApi::~RekorApi() { impl_->completions.join(); }

void RekorApi::handle(net::HttpRequest request, net::Responder respond) {
  std::string name;
  HttpResponse res = impl_->route(request, respond, name);
  if (res.status == 0) return;
  impl_->count(name, res.status);
  respond(std::move(res));
}

}  // namespace vouch::tlog
