// The RFC 6962 section 4 API of a CtLog, with the paths, parameters, JSON field names and
// status codes of Google's ctfe (trillian/ctfe/handlers.go).
#include <algorithm>
#include <charconv>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/tlog/ct_log.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

namespace bj = boost::json;
using net::HttpResponse;

constexpr size_t kMaxAddChainBody = 2 << 20;
constexpr std::string_view kCacheImmutable = "public, max-age=86400";
constexpr std::string_view kCachePartial = "public, max-age=60";

HttpResponse json_response(const bj::value& v) { return HttpResponse{200, "application/json", json::serialize(v), {}}; }

// As ctfe's SendHTTPError (Go's http.Error): the status text, a line with the reason, text/plain.
HttpResponse error_response(int status, std::string_view message) {
  std::string_view text = status == 400   ? "Bad Request"
                          : status == 404 ? "Not Found"
                          : status == 405 ? "Method Not Allowed"
                          : status == 503 ? "Service Unavailable"
                                          : "Internal Server Error";
  return HttpResponse{status, "text/plain; charset=utf-8", fmt::format("{}\n{}\n", text, message),
                      {{"X-Content-Type-Options", "nosniff"}}};
}

HttpResponse error_response(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kVerification:
      return error_response(400, e.message);
    case ErrorCode::kNotFound:
      return error_response(404, e.message);
    case ErrorCode::kIo:
      return error_response(503, e.message);
    default:
      return error_response(500, e.message);
  }
}

// A query parameter as a non-negative decimal integer (the first value, as Go's FormValue).
Result<uint64_t> uint_param(const net::HttpRequest& req, std::string_view name) {
  auto it = req.query.find(std::string(name));
  if (it == req.query.end() || it->second.empty())
    return invalid_input(fmt::format("parameter '{}' is required", name));
  const std::string& s = it->second;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > static_cast<uint64_t>(INT64_MAX))
    return invalid_input(fmt::format("parameter '{}' is malformed: '{}' is not a non-negative integer", name, s));
  return v;
}

bj::array base64_array(const std::vector<Bytes>& items) {
  bj::array a;
  for (const auto& h : items) a.push_back(bj::value(base64_encode(h)));
  return a;
}

Result<std::vector<Bytes>> parse_chain_body(std::string_view body) {
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(body, {.max_bytes = kMaxAddChainBody, .max_depth = 4}));
  json::Node root = json::Node::root(v);
  if (!root.is_object()) return invalid_input("failed to parse add-chain body: not a JSON object");
  auto chain = root.find("chain");
  if (!chain) return invalid_input("cert chain was empty");
  VOUCH_ASSIGN_OR_RETURN(std::vector<json::Node> items, chain->array());
  if (items.empty()) return invalid_input("cert chain was empty");
  if (items.size() > CtLog::kMaxChainLength)
    return invalid_input(fmt::format("the chain has {} certificates, at most {} are accepted", items.size(),
                                     CtLog::kMaxChainLength));
  std::vector<Bytes> out;
  for (const json::Node& item : items) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, item.string());
    auto der = base64_decode(text);
    if (!der.ok()) return invalid_input(fmt::format("{}: not a base64 DER certificate", item.path()));
    out.push_back(std::move(*der));
  }
  return out;
}

}  // namespace

net::HttpHandler CtLog::handler() {
  return [this](net::HttpRequest r, net::Responder respond) { handle(std::move(r), std::move(respond)); };
}

void CtLog::handle(net::HttpRequest req, net::Responder respond) {
  const std::string& path = req.path;
  struct Route {
    std::string_view path;
    std::string_view method;
  };
  static constexpr Route kRoutes[] = {
      {"/ct/v1/add-chain", "POST"},          {"/ct/v1/add-pre-chain", "POST"},   {"/ct/v1/get-sth", "GET"},
      {"/ct/v1/get-sth-consistency", "GET"}, {"/ct/v1/get-proof-by-hash", "GET"}, {"/ct/v1/get-entries", "GET"},
      {"/ct/v1/get-roots", "GET"},
  };
  const Route* route = nullptr;
  for (const Route& r : kRoutes)
    if (r.path == path) route = &r;
  if (!route) return respond(error_response(404, fmt::format("no such endpoint: {}", path)));
  if (req.method != route->method) return respond(error_response(405, fmt::format("method not allowed: {}", req.method)));

  if (path == "/ct/v1/add-chain" || path == "/ct/v1/add-pre-chain") {
    auto chain = parse_chain_body(req.body);
    if (!chain.ok()) return respond(error_response(400, chain.error().message));
    add(std::move(*chain), path == "/ct/v1/add-pre-chain", [respond](Result<CtAddResult> r) {
      if (!r.ok()) return respond(error_response(r.error()));
      auto signature = r->sct.signature.serialize();
      if (!signature.ok()) return respond(error_response(500, signature.error().message));
      respond(json_response(bj::object{{"sct_version", 0},
                                       {"id", base64_encode(r->sct.log_id)},
                                       {"timestamp", r->sct.timestamp_ms},
                                       {"extensions", base64_encode(r->sct.extensions)},
                                       {"signature", base64_encode(*signature)}}));
    });
    return;
  }

  if (path == "/ct/v1/get-sth") {
    auto sth = signed_tree_head();
    if (!sth.ok()) return respond(error_response(sth.error()));
    auto signature = sth->signature.serialize();
    if (!signature.ok()) return respond(error_response(500, signature.error().message));
    return respond(json_response(bj::object{{"tree_size", sth->tree_size},
                                            {"timestamp", sth->timestamp_ms},
                                            {"sha256_root_hash", base64_encode(sth->root_hash)},
                                            {"tree_head_signature", base64_encode(*signature)}}));
  }

  if (path == "/ct/v1/get-sth-consistency") {
    auto first = uint_param(req, "first");
    if (!first.ok()) return respond(error_response(400, first.error().message));
    auto second = uint_param(req, "second");
    if (!second.ok()) return respond(error_response(400, second.error().message));
    if (*second < *first)
      return respond(error_response(400, fmt::format("invalid first, second params: {} {}", *first, *second)));
    std::vector<Bytes> proof;
    if (*first > 0) {
      const uint64_t size = log_->head().size;
      if (*second > size)
        return respond(error_response(400, fmt::format("need tree size: {} for proof but only got: {}", *second, size)));
      auto hashes = stored_consistency_proof(log_->storage(), *first, *second);
      if (!hashes.ok()) return respond(error_response(500, hashes.error().message));
      proof = std::move(*hashes);
    }
    HttpResponse res = json_response(bj::object{{"consistency", base64_array(proof)}});
    res.headers.emplace_back("Cache-Control", kCacheImmutable);
    return respond(std::move(res));
  }

  if (path == "/ct/v1/get-proof-by-hash") {
    auto it = req.query.find("hash");
    if (it == req.query.end() || it->second.empty())
      return respond(error_response(400, "get-proof-by-hash: missing / empty hash param"));
    auto hash = base64_decode(it->second);
    if (!hash.ok()) return respond(error_response(400, "get-proof-by-hash: invalid base64 hash"));
    if (hash->size() != kHashSize)
      return respond(error_response(
          400, fmt::format("get-proof-by-hash: the hash has {} bytes, want {}", hash->size(), kHashSize)));
    auto tree_size = uint_param(req, "tree_size");
    if (!tree_size.ok() || *tree_size < 1)
      return respond(error_response(400, "get-proof-by-hash: missing or invalid tree_size"));
    const uint64_t size = log_->head().size;
    if (*tree_size > size)
      return respond(error_response(404, fmt::format("log returned tree size: {} but we expected: {}", size, *tree_size)));
    auto index = log_->storage().index_of(*hash);
    if (!index.ok()) return respond(error_response(500, index.error().message));
    if (!*index || **index >= *tree_size)
      return respond(
          error_response(404, fmt::format("no leaf with hash {} in the tree of size {}", it->second, *tree_size)));
    auto proof = stored_inclusion_proof(log_->storage(), **index, *tree_size);
    if (!proof.ok()) return respond(error_response(500, proof.error().message));
    HttpResponse res = json_response(bj::object{{"leaf_index", **index}, {"audit_path", base64_array(*proof)}});
    res.headers.emplace_back("Cache-Control", kCacheImmutable);
    return respond(std::move(res));
  }

  if (path == "/ct/v1/get-entries") {
    auto start = uint_param(req, "start");
    if (!start.ok()) return respond(error_response(400, "bad range on get-entries request: " + start.error().message));
    auto end = uint_param(req, "end");
    if (!end.ok()) return respond(error_response(400, "bad range on get-entries request: " + end.error().message));
    if (*start > *end)
      return respond(error_response(
          400, fmt::format("bad range on get-entries request: start ({}) and end ({}) is not a valid range", *start,
                           *end)));
    const uint64_t requested = *end - *start + 1;
    const uint64_t size = log_->head().size;
    if (size <= *start)
      return respond(
          error_response(400, fmt::format("need tree size: {} to get leaves but only got: {}", *start + 1, size)));
    const uint64_t last = std::min({*end, *start + kMaxGetEntries - 1, size - 1});
    bj::array entries;
    for (uint64_t i = *start; i <= last; ++i) {
      auto stored = log_->storage().entry(i);
      if (!stored.ok()) return respond(error_response(500, stored.error().message));
      if (!*stored) return respond(error_response(500, fmt::format("entry {} is missing from the storage", i)));
      auto extra = extra_data(**stored);
      if (!extra.ok()) return respond(error_response(500, extra.error().message));
      entries.push_back(bj::object{{"leaf_input", base64_encode(as_bytes((*stored)->body))},
                                   {"extra_data", base64_encode(*extra)}});
    }
    const bool partial = last - *start + 1 < requested;
    HttpResponse res = json_response(bj::object{{"entries", std::move(entries)}});
    res.headers.emplace_back("Cache-Control", partial ? kCachePartial : kCacheImmutable);
    return respond(std::move(res));
  }

  // get-roots
  bj::array certificates;
  for (const auto& root : roots_) certificates.push_back(bj::value(base64_encode(root.der())));
  respond(json_response(bj::object{{"certificates", std::move(certificates)}}));
}

}  // namespace vouch::tlog
