// db update, db changes, db build, db serve: keeping the vulnerability database fresh from OSV's exports or
// from a site's own mirror of one snapshot file.
#include <unistd.h>

#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/db_update.h"
#include "cli/inventory_common.h"
#include "vouch/inventory/scan.h"
#include "vouch/inventory/store.h"
#include "vouch/base/file.h"
#include "vouch/inventory/mirror.h"
#include "vouch/net/http_server.h"
#include "vouch/vuln/database.h"
#include "vouch/vuln/update.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

fs::path db_file_of(const std::string& db) {
  return vuln::database_file(db.empty() ? vuln::default_database_dir() : fs::path(db));
}

// A scratch directory beside the database (same file system, so nothing crosses devices).
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& near) {
    std::error_code ec;
    fs::create_directories(near, ec);
    path_ = near / fmt::format(".fetch-{}", ::getpid());
    fs::remove_all(path_, ec);
    fs::create_directories(path_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

int run_db_update(const DbUpdateOptions& o) {
  const fs::path db_file = db_file_of(o.db);
  std::vector<std::string> sources = o.sources;
  if (sources.empty()) sources.emplace_back(inventory::kOsvExportBase);
  net::ClientOptions co;
  co.ca_file = o.ca_file;
  co.deadline = o.timeout.deadline();
  net::Client client(co);
  inventory::FetchOptions fo;
  fo.ecosystems = o.ecosystems;
  fo.require_checksums = o.require_checksums;
  bj::array results;
  for (const auto& source : sources) {
    ScratchDir scratch(db_file.parent_path());
    auto run = [&]() -> Result<vuln::UpdateResult> {
      VOUCH_ASSIGN_OR_RETURN(inventory::FetchedData data, inventory::fetch_source(source, scratch.path(), client, fo));
      Result<vuln::UpdateResult> r = data.snapshot ? vuln::install_snapshot(db_file, *data.snapshot, source)
                                                   : vuln::update_from_osv(db_file, data.osv_inputs, source);
      if (!r.ok()) return std::move(r).error();
      if (o.output != "json") {
        constexpr size_t kShown = 20;
        for (size_t i = 0; i < r->problems.size() && i < kShown; ++i)
          fmt::print(stderr, "skipped: {}\n", printable_line(r->problems[i]));
        if (r->problems.size() > kShown) fmt::print(stderr, "skipped: … and {} more\n", r->problems.size() - kShown);
        std::string update = r->seq ? fmt::format("update {}", r->seq) : std::string("no change");
        fmt::print("{}: {} from {}: {} added, {} modified, {} removed, {} unchanged, {} skipped; "
                   "{} file(s) checksum-verified, {} unverified ({:.1f} s)\n",
                   db_file.string(), update, printable_line(source), r->added, r->modified, r->removed,
                   r->unchanged, r->skipped, data.verified, data.unverified, r->seconds);
      } else {
        bj::array problems;
        for (const auto& p : r->problems) problems.emplace_back(p);
        results.push_back(bj::object{{"source", source},
                                     {"update", r->seq},
                                     {"snapshot", data.snapshot.has_value()},
                                     {"records", r->seen},
                                     {"added", r->added},
                                     {"modified", r->modified},
                                     {"removed", r->removed},
                                     {"unchanged", r->unchanged},
                                     {"skipped", r->skipped},
                                     {"verified", data.verified},
                                     {"unverified", data.unverified},
                                     {"problems", std::move(problems)},
                                     {"seconds", r->seconds}});
      }
      return r;
    };
    auto r = run();
    if (!r.ok()) {
      Error e = r.error();
      e.message += "; the previous database is unchanged";
      return report(e.context(fmt::format("db update {}", source)));
    }
  }
  bj::object out{{"database", db_file.string()}, {"updates", std::move(results)}};
  if (!o.inventory.empty()) {
    // The update is in place whatever happens here: a failed rescan says so and is left for the
    // next `inventory rescan`, which picks up every update it has not covered.
    auto rescanned = [&]() -> Result<std::pair<inventory::RescanResult, int64_t>> {
      VOUCH_ASSIGN_OR_RETURN(auto vulns, vuln::open_sqlite_store(db_file, false));
      VOUCH_ASSIGN_OR_RETURN(auto store, inventory::open_inventory_store(o.inventory));
      VOUCH_ASSIGN_OR_RETURN(inventory::RescanResult r, inventory::rescan(*store, *vulns, db_file, {}));
      VOUCH_ASSIGN_OR_RETURN(int64_t pending, store->pending_events());
      return std::make_pair(std::move(r), pending);
    }();
    if (!rescanned.ok()) {
      if (o.output == "json") print_json(out);
      Error e = rescanned.error();
      e.message += "; the database update is in place (run `vouch inventory rescan`)";
      return report(e.context("inventory rescan"));
    }
    if (o.output == "json")
      out["rescan"] = rescan_json(rescanned->first, rescanned->second);
    else
      fmt::print("inventory {}: {}\n", printable_line(o.inventory), rescan_summary(rescanned->first, rescanned->second));
  }
  if (o.output == "json") print_json(out);
  return kExitOk;
}

namespace {

struct BuildOptions {
  std::string db;
  std::string out;
};

Status db_build(const BuildOptions& o) {
  const fs::path out = fs::absolute(o.out);
  std::error_code ec;
  fs::create_directories(out.parent_path(), ec);
  VOUCH_RETURN_IF_ERROR(vuln::build_snapshot(db_file_of(o.db), out));
  inventory::LatestJson latest;
  latest.schema_version = vuln::kSnapshotSchemaVersion;
  latest.built = now_unix();
  latest.path = out.filename().string();
  VOUCH_ASSIGN_OR_RETURN(latest.checksum, inventory::sha256_file(out));
  fs::path latest_path = out.parent_path() / "latest.json";
  VOUCH_RETURN_IF_ERROR(write_file_atomic(latest_path, inventory::serialize_latest_json(latest) + "\n"));
  fmt::print("{} ({} bytes, {}) and {}\n", out.string(), fs::file_size(out, ec), latest.checksum,
             latest_path.string());
  return ok_status();
}

struct ChangesOptions {
  std::string db;
  int64_t since = 0;
  std::string output = "text";
};

Status db_changes(const ChangesOptions& o) {
  const fs::path file = db_file_of(o.db);
  VOUCH_ASSIGN_OR_RETURN(auto updates, vuln::list_updates(file));
  VOUCH_ASSIGN_OR_RETURN(vuln::ChangeSet changes, vuln::changes_since(file, o.since));
  if (o.output == "json") {
    bj::array ups, ids, pkgs;
    for (const auto& u : updates) {
      if (u.seq <= o.since) continue;
      ups.push_back(bj::object{{"update", u.seq},
                               {"finished", format_rfc3339(u.finished)},
                               {"source", u.source},
                               {"added", u.added},
                               {"modified", u.modified},
                               {"removed", u.removed},
                               {"skipped", u.skipped}});
    }
    for (const auto& id : changes.ids) ids.emplace_back(id);
    for (const auto& [eco, name] : changes.packages) pkgs.push_back(bj::array{bj::string(eco), bj::string(name)});
    print_json(bj::object{{"since", o.since},
                          {"last", changes.last_seq},
                          {"updates", std::move(ups)},
                          {"ids", std::move(ids)},
                          {"packages", std::move(pkgs)}});
    return ok_status();
  }
  for (const auto& u : updates)
    if (u.seq > o.since)
      fmt::print("update {}  {}  {}: {} added, {} modified, {} removed, {} skipped\n", u.seq,
                 format_rfc3339(u.finished), printable_line(u.source), u.added, u.modified, u.removed, u.skipped);
  fmt::print("{} records changed after update {}, naming {} packages\n", changes.ids.size(), o.since,
             changes.packages.size());
  return ok_status();
}

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string file;
};

Status db_serve(const ServeOptions& o) {
  const fs::path file = fs::absolute(o.file);
  // The snapshot must be a database this vouch can read, as every client will check.
  {
    auto check = vuln::open_sqlite_store(file, false);
    if (!check.ok()) return std::move(check).error();
  }
  VOUCH_ASSIGN_OR_RETURN(std::string body, read_file(file, size_t{16} << 30));
  inventory::LatestJson latest;
  latest.schema_version = vuln::kSnapshotSchemaVersion;
  std::error_code ec;
  auto mtime = fs::last_write_time(file, ec);
  latest.built = ec ? now_unix()
                    : std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                          .count();
  latest.path = file.filename().string();
  VOUCH_ASSIGN_OR_RETURN(latest.checksum, inventory::sha256_file(file));
  auto snapshot = std::make_shared<const std::string>(std::move(body));
  auto latest_text = std::make_shared<const std::string>(inventory::serialize_latest_json(latest) + "\n");
  const std::string snapshot_path = "/" + latest.path;
  net::HttpServerOptions http;
  http.listen = o.listen;
  http.max_body_bytes = 1 << 10;
  http.request_deadline = std::chrono::seconds(600);
  VOUCH_ASSIGN_OR_RETURN(auto server,
                         net::HttpServer::start(http, [=](net::HttpRequest req, net::Responder respond) {
                           net::HttpResponse resp;
                           if (req.method != "GET") {
                             resp.status = 405;
                             resp.body = "{\"error\":\"only GET\"}";
                           } else if (req.path == "/latest.json") {
                             resp.body = *latest_text;
                           } else if (req.path == snapshot_path) {
                             resp.content_type = "application/vnd.sqlite3";
                             resp.body = *snapshot;
                           } else {
                             resp.status = 404;
                             resp.body = "{\"error\":\"not found\"}";
                           }
                           respond(std::move(resp));
                         }));
  server_log("vulnerability database serving", {{"address", server->address()},
                                                 {"snapshot", file.string()},
                                                 {"checksum", latest.checksum}});
  server->run_until_signal();
  server_log("vulnerability database stopped", {});
  return ok_status();
}

}  // namespace

void add_db_update_commands(CLI::App& db, int& exit_code) {
  auto u = std::make_shared<DbUpdateOptions>();
  auto* update = db.add_subcommand(
      "update",
      "Fetch fresh OSV data and apply only the records whose `modified` is newer, recording which\n"
      "records changed (rescans use this). --source: a base URL or directory laid out as OSV's\n"
      "exports (<ecosystem>/all.zip, ecosystems.txt, optional SHA256SUMS), one all.zip, or a\n"
      "latest.json (URL, file or a directory holding one) naming a snapshot from `vouch db build`.\n"
      "Default: OSV's public exports. The update is applied to a copy that replaces the database\n"
      "only when complete: a failed, truncated or hostile update leaves the previous one in place.");
  update->add_option("--db", u->db, "Database directory");
  update->add_option("--source", u->sources, "URL or directory to update from (repeatable)");
  update->add_option("--ecosystem", u->ecosystems, "OSV ecosystem to take (repeatable; default: all listed)");
  update->add_flag("--require-checksums", u->require_checksums, "Refuse archives no SHA256SUMS covers");
  update->add_option("--ca-file", u->ca_file, "Extra trust anchors (PEM) for HTTPS sources");
  update->add_option("--inventory", u->inventory,
                     "After a successful update, rescan this inventory store (a SQLite file or postgres://…): only\n"
                     "the images holding a package a changed record names, as `inventory rescan`");
  add_output_flag(update, u->output);
  u->timeout.add(update);
  update->callback([u, &exit_code] { exit_code = run_db_update(*u); });

  auto b = std::make_shared<BuildOptions>();
  auto* build = db.add_subcommand(
      "build", "Write the database as one snapshot file and a latest.json (schema version, build time,\n"
               "sha256) beside it, for `vouch db serve` or any web server to offer to `db update`.");
  build->add_option("--db", b->db, "Database directory");
  build->add_option("-o,--output-file", b->out, "The snapshot file to write")->required();
  on_run(build, exit_code, [b] { return db_build(*b); });

  auto c = std::make_shared<ChangesOptions>();
  auto* changes = db.add_subcommand("changes", "List the updates and the records they changed after --since N.");
  changes->add_option("--db", c->db, "Database directory");
  changes->add_option("--since", c->since, "Only updates after this one (default 0: all)");
  add_output_flag(changes, c->output);
  on_run(changes, exit_code, [c] { return db_changes(*c); });

  auto s = std::make_shared<ServeOptions>();
  auto* serve = db.add_subcommand(
      "serve", "Serve a snapshot (GET /latest.json and GET /<file>) to `vouch db update --source URL/latest.json`.");
  serve->add_option("--listen", s->listen, "HOST:PORT to listen on (port 0 picks one)");
  serve->add_option("--db", s->file, "The snapshot file (`vouch db build -o FILE`)")->required();
  on_run(serve, exit_code, [s] { return db_serve(*s); });
}

}  // namespace vouch::cli
