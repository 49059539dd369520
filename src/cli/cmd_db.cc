// db import, db status: the local OSV vulnerability database, as grype's `db` commands.
#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "vouch/vuln/database.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

struct DbOptions {
  std::string db;
  std::string output = "text";
  std::vector<std::string> inputs;
};

std::filesystem::path db_dir(const DbOptions& o) {
  return o.db.empty() ? vuln::default_database_dir() : std::filesystem::path(o.db);
}

std::string human_age(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return fmt::format("{} seconds", seconds);
  if (seconds < 7200) return fmt::format("{} minutes", seconds / 60);
  if (seconds < 2 * 86400) return fmt::format("{} hours", seconds / 3600);
  return fmt::format("{} days", seconds / 86400);
}

int db_import(const DbOptions& o) {
  auto store = vuln::open_sqlite_store(vuln::database_file(db_dir(o)), true);
  if (!store.ok()) return report(store.error());
  std::vector<std::filesystem::path> inputs(o.inputs.begin(), o.inputs.end());
  Progress progress;
  progress.phase("importing OSV records");
  auto stats = vuln::import_osv(**store, inputs, [&](size_t n) { progress.set(n); });
  progress.finish();
  if (!stats.ok()) return report(stats.error());
  // Inputs of which not one record could be read are bad input, not an import (exit 2).
  const bool nothing_readable = stats->malformed > 0 && stats->added + stats->updated + stats->unchanged == 0;
  auto finish = [&] {
    if (!nothing_readable) return kExitOk;
    return report(invalid_input(fmt::format("db import: all {} records were malformed; nothing imported", stats->malformed)));
  };
  if (o.output == "json") {
    bj::array problems, warnings;
    for (const auto& p : stats->problems) problems.emplace_back(p);
    for (const auto& w : stats->warnings) warnings.emplace_back(w);
    print_json(bj::object{{"database", vuln::database_file(db_dir(o)).string()},
                          {"records", stats->seen},
                          {"added", stats->added},
                          {"updated", stats->updated},
                          {"unchanged", stats->unchanged},
                          {"malformed", stats->malformed},
                          {"problems", std::move(problems)},
                          {"warnings", std::move(warnings)},
                          {"seconds", stats->seconds}});
    return finish();
  }
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < stats->problems.size() && i < kShown; ++i)
    fmt::print(stderr, "skipped: {}\n", printable_line(stats->problems[i]));
  if (stats->problems.size() > kShown) fmt::print(stderr, "skipped: … and {} more\n", stats->problems.size() - kShown);
  for (size_t i = 0; i < stats->warnings.size() && i < kShown; ++i)
    fmt::print(stderr, "warning: {}\n", printable_line(stats->warnings[i]));
  if (stats->warnings.size() > kShown) fmt::print(stderr, "warning: … and {} more\n", stats->warnings.size() - kShown);
  fmt::print("{} records read in {:.1f} s: {} added, {} updated, {} unchanged, {} malformed\n", stats->seen,
             stats->seconds, stats->added, stats->updated, stats->unchanged, stats->malformed);
  return finish();
}

int db_status(const DbOptions& o) {
  auto store = vuln::open_sqlite_store(vuln::database_file(db_dir(o)), false);
  if (!store.ok()) return report(store.error());
  auto s = (*store)->status();
  if (!s.ok()) return report(s.error());
  int64_t age = s->last_import ? now_unix() - *s->last_import : -1;
  bool stale = !s->last_import || age > vuln::kStaleAfterSeconds;
  if (o.output == "json") {
    bj::object eco;
    for (const auto& [k, v] : s->by_ecosystem) eco[k] = v;
    bj::object out{{"database", s->path},
                   {"records", s->records},
                   {"withdrawn", s->withdrawn},
                   {"newestModified", s->newest_modified},
                   {"sizeBytes", s->size_bytes},
                   {"stale", stale},
                   {"ecosystems", std::move(eco)}};
    if (s->last_import) {
      out["lastImport"] = format_rfc3339(*s->last_import);
      out["ageSeconds"] = age;
    }
    print_json(out);
    return kExitOk;
  }
  fmt::print("Database:     {}\n", s->path);
  fmt::print("Records:      {} ({} withdrawn)\n", s->records, s->withdrawn);
  fmt::print("Newest:       {}\n", s->newest_modified.empty() ? "-" : s->newest_modified);
  if (s->last_import)
    fmt::print("Last import:  {} ({} ago{})\n", format_rfc3339(*s->last_import), human_age(age),
               stale ? ", stale: import fresh data" : "");
  else
    fmt::print("Last import:  never\n");
  fmt::print("Size:         {:.1f} MB\n", static_cast<double>(s->size_bytes) / 1e6);
  fmt::print("Ecosystems:\n");
  for (const auto& [k, v] : s->by_ecosystem) fmt::print("  {:<24} {}\n", k, v);
  return kExitOk;
}

}  // namespace

void register_db_commands(CLI::App& app, int& exit_code) {
  auto* db = app.add_subcommand("db", "Manage the local vulnerability database (OSV records in SQLite).");
  db->require_subcommand(1);

  auto imp = std::make_shared<DbOptions>();
  auto* import_cmd = db->add_subcommand(
      "import",
      "Import OSV records: JSON files, directories (searched for *.json) and the per-ecosystem\n"
      "all.zip archives OSV publishes. Idempotent; a record replaces the stored one only when its\n"
      "`modified` time is newer. Malformed records are reported and skipped.\n"
      "Database: --db DIR, else $XDG_CACHE_HOME/vouch/db (~/.cache/vouch/db).");
  import_cmd->add_option("--db", imp->db, "Database directory");
  add_output_flag(import_cmd, imp->output);
  import_cmd->add_option("INPUT", imp->inputs, "OSV .json files, directories or .zip archives")->required();
  import_cmd->callback([imp, &exit_code] { exit_code = db_import(*imp); });

  auto st = std::make_shared<DbOptions>();
  auto* status_cmd = db->add_subcommand("status", "Show what the vulnerability database holds and how old it is.");
  status_cmd->add_option("--db", st->db, "Database directory");
  add_output_flag(status_cmd, st->output);
  status_cmd->callback([st, &exit_code] { exit_code = db_status(*st); });

  add_db_update_commands(*db, exit_code);
}

}  // namespace vouch::cli
