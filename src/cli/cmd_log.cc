// vouch log serve|info|get|search|proof: run a Rekor-compatible transparency log, and query one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <re2/re2.h>

#include <atomic>
#include <cctype>
#include <map>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/base/time.h"
#include "vouch/crypto/cosign_key.h"
#include "vouch/crypto/digest.h"
#include "vouch/net/http_server.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/tlog/client.h"
#include "vouch/tlog/log.h"
#include "vouch/tlog/merkle.h"
#include "vouch/tlog/monitor.h"
#include "vouch/tlog/rekor_api.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct ServeOptions {
  std::string listen = "127.0.0.1:3000";
  std::string storage = "sqlite:vouch-log.db";
  std::string signing_key;
  std::string hostname;
  std::string key_type = "ecdsa-p256";
  size_t max_body = 8 << 20;
  unsigned threads = 4;
};

// The log's signing key. A key created for a new log is written to `create_path` only once the
// log is serving, so a start that fails leaves no key behind (and the next start, with a good
// storage, does not pair an old key with a new log).
struct SigningKey {
  crypto::PrivateKey key;
  std::string create_path;  // non-empty: generated now, not yet written
};

// The SQLite file of a `sqlite:PATH` or bare PATH storage; empty for a server URL.
std::string sqlite_path(const std::string& storage) {
  if (storage.starts_with("sqlite:")) return storage.substr(7);
  return storage.find("://") == std::string::npos ? storage : std::string();
}

Result<SigningKey> load_or_create_key(const ServeOptions& opts) {
  std::string path = opts.signing_key;
  bool create = false;
  if (path.empty()) {
    if (sqlite_path(opts.storage).empty()) return invalid_input("--signing-key is required for this storage");
    path = sqlite_path(opts.storage) + ".signing-key.pem";
    create = !fs::exists(path);
  }
  if (create) {
    auto type = opts.key_type == "ed25519" ? crypto::KeyType::kEd25519 : crypto::KeyType::kEcdsaP256;
    VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::generate(type));
    return SigningKey{std::move(key), path};
  }
  VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(path, 1 << 20));
  if (pem.find("ENCRYPTED") != std::string::npos) {
    VOUCH_ASSIGN_OR_RETURN(std::string password, read_password(false));
    auto key = crypto::decrypt_cosign_private_key(pem, password);
    if (!key.ok()) return std::move(key).error().context(path);
    return SigningKey{std::move(key).value(), ""};
  }
  auto key = crypto::PrivateKey::from_pem(pem);
  if (!key.ok()) return std::move(key).error().context(path);
  return SigningKey{std::move(key).value(), ""};
}

// Removes a SQLite storage file that a failed start created (destroyed after the storage that
// uses it); a start that succeeds disarms it.
struct CreatedStorageCleanup {
  std::string path;  // empty: nothing to remove
  ~CreatedStorageCleanup() {
    if (path.empty()) return;
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
  }
};

Status serve(const ServeOptions& opts) {
  VOUCH_ASSIGN_OR_RETURN(SigningKey signing, load_or_create_key(opts));
  CreatedStorageCleanup cleanup;
  if (std::string db = sqlite_path(opts.storage); !db.empty() && !fs::exists(db)) cleanup.path = db;
  VOUCH_ASSIGN_OR_RETURN(auto storage, tlog::open_storage(opts.storage));
  std::string hostname = opts.hostname;
  if (hostname.empty()) {
    char buf[256] = {};
    hostname = ::gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? buf : "localhost";
  }
  VOUCH_ASSIGN_OR_RETURN(auto log, tlog::Log::open(std::move(storage), signing.key, tlog::LogOptions{hostname, 1024}));
  auto api = std::make_unique<tlog::RekorApi>(*log);
  net::HttpServerOptions http;
  http.listen = opts.listen;
  http.max_body_bytes = opts.max_body;
  http.worker_threads = opts.threads;
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, api->handler()));
  if (!signing.create_path.empty()) {
    VOUCH_RETURN_IF_ERROR(write_file_atomic(signing.create_path, signing.key.pkcs8_pem(), 0600));
    server_log("created log signing key", {{"path", signing.create_path}});
  }
  cleanup.path.clear();
  auto head = log->head();
  server_log("transparency log serving", {{"address", server->address()},
                                        {"storage", opts.storage},
                                        {"treeID", std::to_string(log->tree_id())},
                                        {"logID", hex_encode(log->log_id())},
                                        {"origin", log->origin()},
                                        {"treeSize", head.size}});
  server->run_until_signal();
  // Queued entries are sequenced and answered (into the stopped server) before anything goes away.
  log->stop();
  api.reset();
  server_log("transparency log stopped", {{"treeSize", log->head().size}});
  return ok_status();
}

struct ClientOptions {
  std::string url = "http://127.0.0.1:3000";
  std::string ca_file;
  std::string output = "text";
  TimeoutFlag timeout;
  int64_t log_index = -1;
  std::string uuid;
  std::string hash;
  std::string artifact;
  std::string public_key;
  std::string email;
  uint64_t first_size = 1;
  uint64_t last_size = 0;
};

// A log client with net's retries, each request bounded, and all of them ending by `deadline`
// (the command's -t/--timeout) when there is one; `ca_file` (PEM) adds the CAs to trust for TLS.
tlog::RekorClient log_client(const std::string& url, const std::string& ca_file,
                             std::optional<std::chrono::steady_clock::time_point> deadline) {
  net::ClientOptions options = tlog::default_rekor_client_options(deadline);
  options.ca_file = ca_file;
  return tlog::RekorClient(url, std::move(options));
}

tlog::RekorClient log_client(const ClientOptions& opts) {
  return log_client(opts.url, opts.ca_file, opts.timeout.deadline());
}

// The decoded body as rekor-cli prints it: the entry's spec under its type's name
// ({"HashedRekordObj": spec}, {"DSSEObj": spec}, ...); the body itself when it is not an entry.
bj::value decoded_body(const std::string& body) {
  auto parsed = json::parse(body);
  if (!parsed.ok()) return bj::value(body);
  const auto* o = parsed->if_object();
  const auto* kind = o ? o->if_contains("kind") : nullptr;
  const auto* spec = o ? o->if_contains("spec") : nullptr;
  if (!kind || !kind->is_string() || !spec) return std::move(parsed).value();
  std::string k(kind->get_string());
  static const std::map<std::string, std::string> kNames{
      {"hashedrekord", "HashedRekordObj"}, {"rekord", "RekordObj"}, {"dsse", "DSSEObj"}, {"intoto", "IntotoObj"},
      {"rfc3161", "Rfc3161Obj"},           {"cose", "CoseObj"},     {"tuf", "TufObj"},   {"alpine", "AlpineModel"},
      {"helm", "HelmObj"},                 {"jar", "JARModel"},     {"rpm", "RPMModel"}};
  auto it = kNames.find(k);
  std::string name = it != kNames.end() ? it->second
                                        : std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(k[0])))) +
                                              k.substr(1) + "Obj";
  return bj::object{{name, *spec}};
}

// rekor-cli get's fields (--format json): Attestation, AttestationType, Body (decoded),
// LogIndex, IntegratedTime, UUID, LogID.
bj::object entry_json(const tlog::RekorLogEntry& e) {
  return bj::object{{"Attestation", ""},
                    {"AttestationType", ""},
                    {"Body", decoded_body(e.body)},
                    {"LogIndex", e.log_index},
                    {"IntegratedTime", e.integrated_time},
                    {"UUID", e.uuid},
                    {"LogID", hex_encode(e.log_id)}};
}

Status info(const ClientOptions& opts) {
  tlog::RekorClient client = log_client(opts);
  VOUCH_ASSIGN_OR_RETURN(auto i, client.log_info());
  if (opts.output == "json") {
    print_json(bj::object{{"treeSize", i.tree_size},
                          {"rootHash", hex_encode(i.root_hash)},
                          {"treeID", i.tree_id},
                          {"signedTreeHead", i.signed_tree_head}});
  } else {
    fmt::print("Verification Successful!\n");
    fmt::print("Tree Size: {}\nRoot Hash: {}\nTree ID: {}\n", i.tree_size, hex_encode(i.root_hash), i.tree_id);
    fmt::print("Signed Tree Head:\n{}", i.signed_tree_head);
  }
  return ok_status();
}

Status get(const ClientOptions& opts) {
  tlog::RekorClient client = log_client(opts);
  if ((opts.log_index >= 0) == !opts.uuid.empty()) return invalid_input("give one of --log-index or --uuid");
  auto e = opts.log_index >= 0 ? client.entry_by_index(static_cast<uint64_t>(opts.log_index)) : client.entry_by_uuid(opts.uuid);
  if (!e.ok()) return std::move(e).error();
  // The proof must lead to the root the entry claims.
  if (e->inclusion_proof) {
    VOUCH_RETURN_IF_ERROR(tlog::verify_inclusion(static_cast<uint64_t>(e->inclusion_proof->log_index),
                                                 static_cast<uint64_t>(e->inclusion_proof->tree_size),
                                                 tlog::hash_leaf(as_bytes(e->body)), e->inclusion_proof->hashes,
                                                 e->inclusion_proof->root_hash));
  }
  if (opts.output == "json") {
    print_json(entry_json(*e));
  } else {
    fmt::print("LogID: {}\nIndex: {}\nIntegratedTime: {}\nUUID: {}\nBody: {}", hex_encode(e->log_id), e->log_index,
               format_rfc3339(e->integrated_time), e->uuid, json::pretty(decoded_body(e->body)));
  }
  return ok_status();
}

// An artifact to search for: a regular file, or a pipe read to its end, since rekor-cli users
// hand it a shell's <(command). Anything else (a device, a directory) is refused.
Result<std::string> read_artifact(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: a FIFO nobody writes to must not hang the open; reads then block until the end.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return invalid_input(fmt::format("{}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    return read_file(path, max_bytes);
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    int e = errno;
    ::close(fd);
    return invalid_input(fmt::format("{}: {}", path, std::strerror(e)));
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      if (n < 0) return invalid_input(fmt::format("{}: {}", path, std::strerror(e)));
      return data;
    }
    if (data.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return invalid_input(fmt::format("{}: larger than the limit of {} bytes", path, max_bytes));
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

Status search(const ClientOptions& opts) {
  tlog::RekorClient client = log_client(opts);
  std::optional<std::string> hash, key, email;
  if (!opts.hash.empty()) hash = opts.hash;
  if (!opts.artifact.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string data, read_artifact(opts.artifact, 2ull << 30));
    hash = "sha256:" + hex_encode(crypto::sha256(data));
  }
  if (!opts.public_key.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(opts.public_key, 1 << 20));
    key = pem;
  }
  if (!opts.email.empty()) email = opts.email;
  if (!hash && !key && !email) return invalid_input("give --sha, --artifact, --public-key or --email");
  VOUCH_ASSIGN_OR_RETURN(auto uuids, client.search(hash, key, email));
  // As rekor-cli: finding nothing is a failure (exit 1), so that `search … || fallback` works.
  if (uuids.empty()) return verification_failed("no matching entries found");
  if (opts.output == "json") {
    bj::array a;
    for (auto& u : uuids) a.push_back(bj::value(u));
    print_json(bj::object{{"UUIDs", std::move(a)}});  // as rekor-cli search --format json
  } else {
    for (const auto& u : uuids) fmt::print("{}\n", u);
  }
  return ok_status();
}

Status proof(const ClientOptions& opts) {
  tlog::RekorClient client = log_client(opts);
  VOUCH_ASSIGN_OR_RETURN(auto p, client.consistency_proof(opts.first_size, opts.last_size));
  if (opts.output == "json") {
    bj::array hashes;
    for (const auto& h : p.hashes) hashes.push_back(bj::value(hex_encode(h)));
    print_json(bj::object{{"firstSize", opts.first_size},
                          {"lastSize", opts.last_size},
                          {"rootHash", hex_encode(p.root_hash)},
                          {"hashes", std::move(hashes)}});
  } else {
    fmt::print("Root Hash: {}\n", hex_encode(p.root_hash));
    for (const auto& h : p.hashes) fmt::print("{}\n", hex_encode(h));
  }
  return ok_status();
}

struct MonitorOptions {
  std::string url;
  std::string ca_file;
  std::vector<std::string> identities;
  std::string public_key;
  std::string state = "vouch-monitor.json";
  unsigned interval = 60;
  size_t max_entries = 10000;
  bool once = false;
  std::string output = "text";
};

std::atomic<bool> g_monitor_stop{false};

Status monitor(const MonitorOptions& opts) {
  std::vector<std::unique_ptr<RE2>> patterns;
  for (const auto& id : opts.identities) {
    auto re = std::make_unique<RE2>(id, RE2::Quiet);
    if (!re->ok()) return invalid_input(fmt::format("--identity '{}': invalid regular expression: {}", id, re->error()));
    patterns.push_back(std::move(re));
  }
  // A monitor runs until it is stopped: each request has its own bound, the rounds none.
  tlog::RekorClient client = log_client(opts.url, opts.ca_file, std::nullopt);
  // The log's key: given, or pinned beside the state on first use (trust on first use).
  std::string key_path = opts.public_key.empty() ? opts.state + ".log-key.pem" : opts.public_key;
  if (opts.public_key.empty() && !fs::exists(key_path)) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, client.public_key_pem());
    VOUCH_RETURN_IF_ERROR(crypto::PublicKey::from_pem(pem).ok() ? ok_status() : Status(invalid_input("the log's public key is not PEM")));
    VOUCH_RETURN_IF_ERROR(write_file_atomic(key_path, pem));
    fmt::print(stderr, "vouch: pinned the log's public key in {}\n", key_path);
  }
  VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(key_path, 1 << 20));
  auto key = crypto::PublicKey::from_pem(pem);
  if (!key.ok()) return std::move(key).error().context(key_path);
  std::signal(SIGINT, [](int) { g_monitor_stop = true; });
  std::signal(SIGTERM, [](int) { g_monitor_stop = true; });
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(auto previous, tlog::load_monitor_state(opts.state));
    auto on_entry = [&](const tlog::RekorLogEntry& e, const std::vector<std::string>& ids) {
      for (const auto& id : ids) {
        for (const auto& re : patterns) {
          if (!RE2::PartialMatch(id, *re)) continue;
          if (opts.output == "json") {
            fmt::print("{}\n", json::serialize(bj::object{{"logIndex", e.log_index}, {"uuid", e.uuid}, {"identity", id},
                                                          {"integratedTime", format_rfc3339(e.integrated_time)}}));
          } else {
            fmt::print("match: index {} uuid {} identity {} at {}\n", e.log_index, e.uuid, id, format_rfc3339(e.integrated_time));
          }
          std::fflush(stdout);
          return;
        }
      }
    };
    auto round = tlog::monitor_round(client, *key, previous, opts.max_entries, on_entry);
    if (!round.ok()) {
      if (round.error().code == ErrorCode::kVerification) return std::move(round).error();
      if (opts.once) return std::move(round).error();
      fmt::print(stderr, "vouch: {} (retrying)\n", round.error().message);
    } else {
      VOUCH_RETURN_IF_ERROR(tlog::save_monitor_state(opts.state, round->state));
      if (opts.output != "json")
        fmt::print(stderr, "verified tree size {} ({} new entries checked)\n", round->state.size, round->entries_seen);
      if (opts.once) return ok_status();
    }
    if (stdout_reader_gone()) return ok_status();  // nobody reads the matches any more
    for (unsigned i = 0; i < opts.interval * 10 && !g_monitor_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_monitor_stop) return ok_status();
  }
}

// A trusted root naming this log, its key pinned on first use (as `cosign initialize` trusts
// what it fetches once): the key is valid from the first entry's integrated time (now for an
// empty log). Check the printed key against the log operator's before relying on it.
Status trusted_root(const ClientOptions& opts) {
  tlog::RekorClient client = log_client(opts);
  VOUCH_ASSIGN_OR_RETURN(std::string pem, client.public_key_pem());
  VOUCH_ASSIGN_OR_RETURN(auto key, crypto::PublicKey::from_pem(pem));
  VOUCH_ASSIGN_OR_RETURN(std::string details, sigstore::key_details_for(key));
  VOUCH_ASSIGN_OR_RETURN(auto info, client.log_info());
  int64_t start = now_unix();
  if (info.tree_size > 0) {
    VOUCH_ASSIGN_OR_RETURN(auto first, client.entry_by_index(0));
    start = first.integrated_time;
  }
  sigstore::LogInstance log;
  log.base_url = opts.url;
  log.key_details = std::move(details);
  log.log_id = crypto::sha256(key.der());
  log.key = std::move(key);
  log.valid_for.start = start;
  sigstore::TrustedRoot root;
  root.tlogs.push_back(std::move(log));
  print_json(sigstore::trusted_root_json(root));
  return ok_status();
}

void add_client_options(CLI::App* cmd, ClientOptions& o) {
  cmd->add_option("--rekor-url,--log,--rekor_server", o.url, "Base URL of the log (also rekor-cli's --rekor_server)")
      ->envname("REKOR_SERVER")
      ->capture_default_str();
  cmd->add_option("--ca-file", o.ca_file, "CA certificates (PEM) to trust for the log's TLS certificate");
  o.timeout.add(cmd);
  add_output_flag(cmd, o.output, {"text", "json"}, "JSON with rekor-cli's field names");
  cmd->add_option("--format", o.output, "rekor-cli's name for -o: default (text) or json")
      ->check(CLI::IsMember({"default", "text", "json"}));
}

}  // namespace

void register_log_commands(CLI::App& app, int& exit_code) {
  auto* log = app.add_subcommand("log", "Run a Rekor-compatible transparency log, or query one.");
  log->require_subcommand(1);

  auto s = std::make_shared<ServeOptions>();
  auto* serve_cmd = log->add_subcommand(
      "serve",
      "Serve a transparency log with the Rekor v1 REST API (/api/v1/log, /api/v1/log/entries, ...),\n"
      "/metrics, /healthz and /readyz. Entries are acknowledged once durable. Stops gracefully on\n"
      "SIGINT or SIGTERM. Without --signing-key, a key is created beside the storage on first start.");
  serve_cmd->add_option("--listen", s->listen, "HOST:PORT to listen on")->capture_default_str();
  serve_cmd->add_option("--storage", s->storage, "Storage URL: sqlite:PATH or postgres://USER@HOST:PORT/DB")->capture_default_str();
  serve_cmd->add_option("--signing-key", s->signing_key, "Log signing key (PEM; ECDSA P-256 or Ed25519)");
  serve_cmd->add_option("--hostname", s->hostname, "Name in checkpoints (origin '<hostname> - <tree ID>'); verifiers such as sigstore-js expect it in the log's base URL (default: host name)");
  serve_cmd->add_option("--key-type", s->key_type, "Type of a created signing key")
      ->check(CLI::IsMember({"ecdsa-p256", "ed25519"}))
      ->capture_default_str();
  serve_cmd->add_option("--max-request-body", s->max_body, "Largest request body in bytes")->capture_default_str();
  serve_cmd->add_option("--threads", s->threads, "Worker threads")->capture_default_str();
  on_run(serve_cmd, exit_code, [s] { return serve(*s); });

  auto add = [&](const char* name, const char* help, auto fn, auto extra) {
    auto o = std::make_shared<ClientOptions>();
    auto* cmd = log->add_subcommand(name, help);
    add_client_options(cmd, *o);
    extra(cmd, *o);
    on_run(cmd, exit_code, [o, fn] { return fn(*o); });
  };
  auto m = std::make_shared<MonitorOptions>();
  auto* mon = log->add_subcommand(
      "monitor",
      "Follow a log: verify every signed tree head with the log's key and prove it consistent with\n"
      "the last verified one (kept in --state), and report new entries whose certificate identity\n"
      "matches an --identity regexp. Exit 1 on an inconsistency or a bad signature.");
  mon->add_option("--log,--rekor-url", m->url, "Base URL of the log")->required();
  mon->add_option("--ca-file", m->ca_file, "CA certificates (PEM) to trust for the log's TLS certificate");
  mon->add_option("--identity", m->identities, "RE2 regexp for certificate identities to report (repeatable)");
  mon->add_option("--public-key", m->public_key, "The log's public key (PEM); default: pinned on first use");
  mon->add_option("--state", m->state, "File holding the last verified checkpoint")->capture_default_str();
  mon->add_option("--interval", m->interval, "Seconds between rounds")->capture_default_str();
  mon->add_option("--max-entries", m->max_entries, "Most entries read per round")->capture_default_str();
  mon->add_flag("--once", m->once, "Run one round and exit");
  add_output_flag(mon, m->output, {"text", "json"}, "one line per match");
  on_run(mon, exit_code, [m] { return monitor(*m); });

  add("info", "Show the log's tree size, root hash and signed tree head.", info, [](CLI::App*, ClientOptions&) {});
  add("trusted-root",
      "Print a trusted_root.json naming this log, for verify --trusted-root. Its key is taken from the log\n"
      "itself (trust on first use: compare it with the operator's key) and valid from the first entry.",
      trusted_root, [](CLI::App*, ClientOptions&) {});
  add("get", "Fetch an entry by log index or UUID; its inclusion proof is checked against its root hash.", get,
      [](CLI::App* c, ClientOptions& o) {
        c->add_option("--log-index", o.log_index, "Log index");
        c->add_option("--uuid", o.uuid, "Entry UUID (64 hex) or entry ID (80 hex)");
      });
  add("search", "Find entries by artifact digest, public key or email; exit 1 when none matches (as rekor-cli).",
      search, [](CLI::App* c, ClientOptions& o) {
    c->add_option("--sha", o.hash, "Artifact digest: [sha256:]HEX");
    c->add_option("--artifact", o.artifact, "Artifact file or pipe, such as <(command) (its SHA-256 is searched)");
    c->add_option("--public-key", o.public_key, "Public key or certificate file (PEM)");
    c->add_option("--email", o.email, "Email address in a signing certificate");
  });
  add("proof", "Fetch a consistency proof between two tree sizes.", proof, [](CLI::App* c, ClientOptions& o) {
    c->add_option("--first-size", o.first_size, "Older tree size")->capture_default_str();
    c->add_option("--last-size", o.last_size, "Newer tree size")->required();
  });
}

}  // namespace vouch::cli
