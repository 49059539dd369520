#include "vouch/tlog/client.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/net/http.h"

namespace vouch::tlog {
namespace {

namespace bj = boost::json;
using json::Node;

constexpr json::ParseLimits kLimits{.max_bytes = 64 << 20, .max_depth = 16};

Result<Bytes> hex_field(const Node& n, std::string_view key) {
  VOUCH_ASSIGN_OR_RETURN(std::string s, n.get_string(key));
  auto b = hex_decode(s);
  if (!b.ok()) return n.error(fmt::format("{}: not hex", key));
  return std::move(*b);
}

// A JSON array of hex hashes (proof hashes).
Result<std::vector<Bytes>> hex_hashes(const Node& n, std::string_view key) {
  VOUCH_ASSIGN_OR_RETURN(Node hashes, n.get(key));
  VOUCH_ASSIGN_OR_RETURN(auto items, hashes.array());
  std::vector<Bytes> out;
  for (const auto& h : items) {
    VOUCH_ASSIGN_OR_RETURN(std::string s, h.string());
    auto b = hex_decode(s);
    if (!b.ok()) return h.error("not hex");
    out.push_back(std::move(*b));
  }
  return out;
}

Result<RekorLogEntry> parse_entry(const Node& n, std::string id) {
  RekorLogEntry e;
  e.uuid = std::move(id);
  VOUCH_ASSIGN_OR_RETURN(Bytes body, n.get_bytes("body"));
  e.body = to_string(body);
  VOUCH_ASSIGN_OR_RETURN(e.integrated_time, n.get_int64("integratedTime"));
  VOUCH_ASSIGN_OR_RETURN(e.log_id, hex_field(n, "logID"));
  VOUCH_ASSIGN_OR_RETURN(e.log_index, n.get_int64("logIndex"));
  if (auto v = n.find("verification")) {
    if (auto set = v->find("signedEntryTimestamp")) {
      VOUCH_ASSIGN_OR_RETURN(Bytes s, set->bytes());
      e.signed_entry_timestamp = std::move(s);
    }
    if (auto p = v->find("inclusionProof")) {
      RekorInclusionProof proof;
      VOUCH_ASSIGN_OR_RETURN(proof.log_index, p->get_int64("logIndex"));
      VOUCH_ASSIGN_OR_RETURN(proof.root_hash, hex_field(*p, "rootHash"));
      VOUCH_ASSIGN_OR_RETURN(proof.tree_size, p->get_int64("treeSize"));
      VOUCH_ASSIGN_OR_RETURN(proof.hashes, hex_hashes(*p, "hashes"));
      if (auto cp = p->find("checkpoint")) {
        VOUCH_ASSIGN_OR_RETURN(proof.checkpoint, cp->string());
      }
      e.inclusion_proof = std::move(proof);
    }
  }
  return e;
}

Error api_error(const net::Response& r, std::string_view what) {
  std::string message = r.body;
  auto v = json::parse(r.body, {.max_bytes = 1 << 20, .max_depth = 8});
  if (v.ok() && v->is_object()) {
    if (const auto* m = v->as_object().if_contains("message"); m && m->is_string()) message = std::string(m->as_string());
  }
  if (message.size() > 500) message.resize(500);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  Error e = r.status == 404 ? not_found(fmt::format("{}: HTTP 404: {}", what, message))
                            : (r.status >= 400 && r.status < 500 ? invalid_input(fmt::format("{}: HTTP {}: {}", what, r.status, message))
                                                                 : io_error(fmt::format("{}: HTTP {}: {}", what, r.status, message)));
  return e;
}

Result<RekorLogEntry> single(const std::string& body) {
  VOUCH_ASSIGN_OR_RETURN(auto entries, parse_log_entries(body));
  if (entries.size() != 1) return invalid_input(fmt::format("log entry response: {} entries, want 1", entries.size()));
  return std::move(entries.front());
}

}  // namespace

Result<std::vector<RekorLogEntry>> parse_log_entries(const bj::value& v) {
  if (!v.is_object()) return invalid_input("log entries: not a JSON object");
  std::vector<RekorLogEntry> out;
  for (const auto& [k, entry] : v.as_object()) {
    Node n(&entry, std::string(k));
    auto e = parse_entry(n, std::string(k));
    if (!e.ok()) return std::move(e).error().context("log entry");
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<RekorLogEntry>> parse_log_entries(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(text, kLimits));
  return parse_log_entries(v);
}

net::ClientOptions default_rekor_client_options(std::optional<std::chrono::steady_clock::time_point> deadline) {
  net::ClientOptions o;
  o.deadline = deadline;
  o.timeout = std::chrono::seconds(30);
  o.request_deadline = std::chrono::seconds(60);
  return o;
}

RekorClient::RekorClient(std::string base_url, net::ClientOptions options)
    : base_url_(std::move(base_url)), http_(std::make_shared<net::Client>(std::move(options))) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<net::Response> RekorClient::get(const std::string& path) const {
  net::Request req;
  req.url = base_url_ + path;
  req.headers.add("Accept", "application/json");
  return http_->send(req, kLimits.max_bytes);
}

Result<net::Response> RekorClient::post(const std::string& path, std::string_view json) const {
  net::Request req;
  req.method = "POST";
  req.url = base_url_ + path;
  req.headers.add("Content-Type", "application/json");
  req.headers.add("Accept", "application/json");
  req.body = std::string(json);
  return http_->send(req, kLimits.max_bytes);
}

Result<RekorLogInfo> RekorClient::log_info() const {
  VOUCH_ASSIGN_OR_RETURN(auto r, get("/api/v1/log"));
  if (r.status != 200) return api_error(r, "log info");
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(r.body, kLimits));
  Node n = Node::root(v);
  RekorLogInfo info;
  VOUCH_ASSIGN_OR_RETURN(info.root_hash, hex_field(n, "rootHash"));
  VOUCH_ASSIGN_OR_RETURN(int64_t size, n.get_int64("treeSize"));
  if (size < 0) return n.error("treeSize: negative");
  info.tree_size = static_cast<uint64_t>(size);
  VOUCH_ASSIGN_OR_RETURN(info.signed_tree_head, n.get_string("signedTreeHead"));
  if (auto t = n.find("treeID")) {
    VOUCH_ASSIGN_OR_RETURN(info.tree_id, t->string());
  }
  return info;
}

Result<std::string> RekorClient::public_key_pem() const {
  VOUCH_ASSIGN_OR_RETURN(auto r, get("/api/v1/log/publicKey"));
  if (r.status != 200) return api_error(r, "public key");
  return r.body;
}

Result<RekorLogEntry> RekorClient::entry_by_index(uint64_t index) const {
  VOUCH_ASSIGN_OR_RETURN(auto r, get(fmt::format("/api/v1/log/entries?logIndex={}", index)));
  if (r.status != 200) return api_error(r, fmt::format("entry {}", index));
  return single(r.body);
}

Result<RekorLogEntry> RekorClient::entry_by_uuid(const std::string& uuid) const {
  for (char c : uuid)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return invalid_input(fmt::format("entry UUID '{}': not hex", uuid));
  VOUCH_ASSIGN_OR_RETURN(auto r, get(fmt::format("/api/v1/log/entries/{}", uuid)));
  if (r.status != 200) return api_error(r, fmt::format("entry {}", uuid));
  return single(r.body);
}

Result<RekorLogEntry> RekorClient::create_entry(std::string_view proposed) const {
  VOUCH_ASSIGN_OR_RETURN(auto r, post("/api/v1/log/entries", proposed));
  if (r.status == 409) {
    std::string location = r.headers.get("Location").value_or("");
    size_t slash = location.rfind('/');
    if (slash == std::string::npos) return api_error(r, "create entry");
    return entry_by_uuid(location.substr(slash + 1));
  }
  if (r.status != 201 && r.status != 200) return api_error(r, "create entry");
  return single(r.body);
}

Result<RekorConsistencyProof> RekorClient::consistency_proof(uint64_t first, uint64_t last) const {
  VOUCH_ASSIGN_OR_RETURN(auto r, get(fmt::format("/api/v1/log/proof?firstSize={}&lastSize={}", first, last)));
  if (r.status != 200) return api_error(r, "consistency proof");
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(r.body, kLimits));
  Node n = Node::root(v);
  RekorConsistencyProof p;
  VOUCH_ASSIGN_OR_RETURN(p.root_hash, hex_field(n, "rootHash"));
  VOUCH_ASSIGN_OR_RETURN(p.hashes, hex_hashes(n, "hashes"));
  return p;
}

Result<std::vector<std::string>> RekorClient::search(const std::optional<std::string>& hash,
                                                     const std::optional<std::string>& public_key_pem,
                                                     const std::optional<std::string>& email) const {
  bj::object q;
  if (hash) q["hash"] = *hash;
  if (public_key_pem) q["publicKey"] = bj::object{{"format", "x509"}, {"content", base64_encode(as_bytes(*public_key_pem))}};
  if (email) q["email"] = *email;
  VOUCH_ASSIGN_OR_RETURN(auto r, post("/api/v1/index/retrieve", json::serialize(q)));
  if (r.status != 200) return api_error(r, "search");
  VOUCH_ASSIGN_OR_RETURN(bj::value v, json::parse(r.body, kLimits));
  Node n = Node::root(v);
  VOUCH_ASSIGN_OR_RETURN(auto items, n.array());
  std::vector<std::string> out;
  for (const auto& i : items) {
    VOUCH_ASSIGN_OR_RETURN(std::string s, i.string());
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vouch::tlog
