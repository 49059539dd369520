// `vouch initialize` (cosign's: trust a TUF root for a mirror and cache Sigstore's targets) and
// `vouch tuf init|add-target|rotate-key|refresh|serve` (a TUF repository for a private stack).
#include <atomic>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/net/http_server.h"
#include "vouch/net/prometheus.h"
#include "vouch/tuf/repository.h"
#include "vouch/tuf/sigstore_trust.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

struct InitializeFlags {
  std::string mirror = std::string(tuf::kPublicGoodMirror);
  std::string root, root_checksum;
  std::string output = "text";
  TimeoutFlag timeout;
};

Status initialize(const InitializeFlags& f) {
  tuf::InitializeOptions o;
  o.mirror = f.mirror;
  if (!f.root.empty()) o.root = f.root;
  if (!f.root_checksum.empty()) o.root_checksum = f.root_checksum;
  o.http.deadline = f.timeout.deadline();
  VOUCH_ASSIGN_OR_RETURN(tuf::SigstoreTrust trust, tuf::initialize(o));
  if (f.output == "json") {
    print_json(bj::object{{"mirror", trust.mirror},
                          {"tufRoot", tuf::tuf_root_dir().string()},
                          {"trustedRoot", true},
                          {"signingConfig", trust.signing_config.has_value()}});
  } else {
    fmt::print(stderr, "Root status: initialized {} from {}\n", tuf::tuf_root_dir().string(), trust.mirror);
    fmt::print(stderr, "trusted_root.json: {} bytes{}\n", trust.trusted_root.size(),
               trust.signing_config ? ", signing_config.v0.2.json present" : "");
  }
  return ok_status();
}

struct RepoFlags {
  std::string dir;
  std::string file, name, role;
  std::string listen = "127.0.0.1:8001";
  std::string output = "text";
};

void report_done(const RepoFlags& f, bj::object fields, const std::string& text) {
  if (f.output == "json") print_json(fields);
  else fmt::print(stderr, "{}\n", text);
}

// Serves DIR/repository: metadata at /, targets at /targets/, plus /healthz, /readyz and /metrics.
Status serve(const RepoFlags& f) {
  fs::path root = fs::path(f.dir) / "repository";
  std::error_code ec;
  if (!fs::is_regular_file(root / "root.json", ec))
    return invalid_input(fmt::format("{}: no TUF repository (run vouch tuf init --dir {})", f.dir, f.dir));
  auto served = std::make_shared<std::atomic<uint64_t>>(0);
  auto missing = std::make_shared<std::atomic<uint64_t>>(0);
  net::HttpServerOptions http;
  http.listen = f.listen;
  auto handler = [root, served, missing](net::HttpRequest req, net::Responder respond) {
    net::HttpResponse r;
    if (req.method != "GET" && req.method != "HEAD") {
      r.status = 405;
      r.body = "{\"error\":\"only GET\"}";
      return respond(std::move(r));
    }
    if (req.path == "/healthz" || req.path == "/readyz") {
      r.body = "{\"status\":\"ok\"}";
      return respond(std::move(r));
    }
    if (req.path == "/metrics") {
      net::PrometheusText m;
      m.counter("vouch_tuf_files_served_total", "Files served", served->load());
      m.counter("vouch_tuf_files_not_found_total", "Requests for files the repository does not hold", missing->load());
      r.content_type = std::string(net::PrometheusText::kContentType);
      r.body = m.take();
      return respond(std::move(r));
    }
    // Only plain names below the repository: no "..", ".", empty segments or hidden files.
    std::string_view p = req.path;
    bool safe = p.size() > 1 && p.front() == '/';
    for (size_t start = 1; safe && start <= p.size();) {
      size_t slash = p.find('/', start);
      std::string_view seg = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      if (seg.empty() || seg.front() == '.') safe = false;
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    auto bytes = safe ? read_regular_file_no_follow(root / std::string(p.substr(1)), 64 << 20) : Result<std::string>(not_found(""));
    if (!bytes.ok()) {
      ++*missing;
      r.status = 404;
      r.body = "{\"error\":\"not found\"}";
      return respond(std::move(r));
    }
    ++*served;
    r.content_type = p.ends_with(".json") ? "application/json" : "application/octet-stream";
    r.body = std::move(*bytes);
    respond(std::move(r));
  };
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, handler));
  fmt::print(stderr, "{}\n", json::serialize(bj::object{{"time", format_rfc3339(now_unix())},
                                                        {"level", "info"},
                                                        {"msg", "TUF repository serving"},
                                                        {"address", server->address()},
                                                        {"dir", root.string()}}));
  server->run_until_signal();
  return ok_status();
}

}  // namespace

void register_tuf_commands(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<InitializeFlags>();
  auto* init = app.add_subcommand(
      "initialize",
      "Trust a TUF root for a Sigstore TUF mirror, as cosign initialize does: the root (default: the\n"
      "embedded public-good root) is kept in $TUF_ROOT (default ~/.sigstore/root) with the verified\n"
      "trusted_root.json and signing_config.v0.2.json. Verifying commands without --trusted-root then\n"
      "use it, refreshed online, or from this cache (with its age) when the mirror cannot be reached.");
  init->add_option("--mirror", f->mirror, "TUF repository: an http(s) URL, file:// URL or directory")->capture_default_str();
  init->add_option("--root", f->root, "root.json to trust instead of the embedded public-good root");
  init->add_option("--root-checksum", f->root_checksum, "sha256 (hex) that the --root file must have");
  f->timeout.add(init);
  add_output_flag(init, f->output);
  on_run(init, exit_code, [f] { return initialize(*f); });

  auto* tuf = app.add_subcommand("tuf", "Run a TUF repository for a private trust stack (keys in DIR/keys, metadata in DIR/repository).");
  tuf->require_subcommand(1);
  // Every repository command takes --dir; all but serve report with -o.
  auto add = [&](const char* name, const char* help, auto setup, auto run, bool reports = true) {
    auto r = std::make_shared<RepoFlags>();
    auto* cmd = tuf->add_subcommand(name, help);
    cmd->add_option("--dir", r->dir, "The repository's directory")->required();
    setup(cmd, *r);
    if (reports) add_output_flag(cmd, r->output);
    on_run(cmd, exit_code, [r, run] { return run(*r); });
  };
  add("init",
      "Create a repository: one ECDSA P-256 key per role (DIR/keys/*.pem, mode 0600), root version 1\n"
      "(also as DIR/repository/1.root.json, the file clients start from), empty targets, snapshot\n"
      "and timestamp, with consistent snapshots.",
      [](CLI::App*, RepoFlags&) {},
      [](const RepoFlags& r) -> Status {
        VOUCH_ASSIGN_OR_RETURN(auto repo, tuf::Repository::init(r.dir));
        report_done(r, {{"dir", r.dir}, {"rootVersion", repo.root_version()}},
                    fmt::format("created a TUF repository in {}; clients start from {}/repository/1.root.json", r.dir, r.dir));
        return ok_status();
      });
  add("add-target",
      "Add (or replace) a target file, stored as targets/<sha256>.<name>, and sign new targets,\n"
      "snapshot and timestamp versions. Sigstore clients read trusted_root.json and\n"
      "signing_config.v0.2.json.",
      [](CLI::App* c, RepoFlags& r) {
        c->add_option("FILE", r.file, "The file")->required();
        c->add_option("--name", r.name, "Target name (default: the file's name)");
      },
      [](const RepoFlags& r) -> Status {
        VOUCH_ASSIGN_OR_RETURN(auto repo, tuf::Repository::open(r.dir));
        std::string name = r.name.empty() ? fs::path(r.file).filename().string() : r.name;
        VOUCH_ASSIGN_OR_RETURN(int64_t version, repo.add_target(r.file, name));
        report_done(r, {{"target", name}, {"targetsVersion", version}},
                    fmt::format("added {} (targets version {})", name, version));
        return ok_status();
      });
  add("rotate-key",
      "Replace a role's key: a new root version signed by the root key (and, for --role root, by\n"
      "the old root key as well, so clients holding the old root accept it); the role's metadata\n"
      "is signed again with the new key.",
      [](CLI::App* c, RepoFlags& r) {
        c->add_option("--role", r.role, "root, targets, snapshot or timestamp")
            ->required()
            ->check(CLI::IsMember({"root", "targets", "snapshot", "timestamp"}));
      },
      [](const RepoFlags& r) -> Status {
        VOUCH_ASSIGN_OR_RETURN(auto repo, tuf::Repository::open(r.dir));
        VOUCH_ASSIGN_OR_RETURN(int64_t version, repo.rotate_key(r.role));
        report_done(r, {{"role", r.role}, {"rootVersion", version}},
                    fmt::format("rotated the {} key (root version {})", r.role, version));
        return ok_status();
      });
  add("refresh", "Sign new snapshot and timestamp versions with fresh expiry dates (run it before the timestamp expires).",
      [](CLI::App*, RepoFlags&) {},
      [](const RepoFlags& r) -> Status {
        VOUCH_ASSIGN_OR_RETURN(auto repo, tuf::Repository::open(r.dir));
        VOUCH_RETURN_IF_ERROR(repo.refresh());
        report_done(r, {{"refreshed", true}}, "signed new snapshot and timestamp versions");
        return ok_status();
      });
  add("serve",
      "Serve DIR/repository over HTTP (metadata at /, targets at /targets/; /healthz, /readyz,\n"
      "/metrics); stops gracefully on SIGINT or SIGTERM. Any static web server can serve the\n"
      "directory instead.",
      [](CLI::App* c, RepoFlags& r) { c->add_option("--listen", r.listen, "HOST:PORT to listen on")->capture_default_str(); },
      serve, false);
}

}  // namespace vouch::cli
