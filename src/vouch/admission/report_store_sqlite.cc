// The report store in a SQLite file: WAL journal (readers proceed while a batch commits, and
// several processes can share the file, each waiting up to the busy timeout for the write
// lock), synchronous=FULL so that a committed batch survives a crash.
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "report_store_internal.h"
#include "vouch/base/json.h"
#include "vouch/db/sqlite.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using db::SqliteConnection;
using db::SqliteStatement;
using namespace report_store_internal;

constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE admission_latest (
  ns TEXT NOT NULL, kind TEXT NOT NULL, api_group TEXT NOT NULL, name TEXT NOT NULL,
  policy TEXT NOT NULL, rule TEXT NOT NULL,
  api_version TEXT NOT NULL, uid TEXT NOT NULL, origin_rule TEXT NOT NULL, autogen INTEGER NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL, patches TEXT NOT NULL,
  process TEXT NOT NULL, recorded_at INTEGER NOT NULL,
  PRIMARY KEY (ns, kind, api_group, name, policy, rule)) WITHOUT ROWID;
CREATE TABLE admission_history (
  id INTEGER PRIMARY KEY,
  recorded_at INTEGER NOT NULL,
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL, reported_rule TEXT NOT NULL,
  status TEXT NOT NULL, action TEXT NOT NULL,
  api_version TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,
  process TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX admission_history_time ON admission_history(recorded_at);
CREATE TABLE admission_rules (
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL,
  first_recorded INTEGER NOT NULL, last_recorded INTEGER NOT NULL, action TEXT NOT NULL,
  PRIMARY KEY (ns, policy, rule)) WITHOUT ROWID;
)sql",
    // A result's reportProperties (a JSON object of strings) and whether its policy is scored;
    // rows written before read as scored with no properties.
    R"sql(
ALTER TABLE admission_latest ADD COLUMN scored INTEGER NOT NULL DEFAULT 1;
ALTER TABLE admission_latest ADD COLUMN properties TEXT NOT NULL DEFAULT '{}';
)sql",
};

std::string patches_text(const policy::RuleResult& r) {
  bj::array ops(r.patches.begin(), r.patches.end());
  return json::serialize(ops);
}

class SqliteReportStore final : public GroupCommitStore {
 public:
  SqliteReportStore(std::string path, SqliteConnection writer, ReportStoreOptions options)
      : GroupCommitStore(std::move(options)), path_(std::move(path)), writer_(std::move(writer)) {}

  Status init() { return writer_.migrate(kMigrations); }

  Result<std::vector<RecordedResult>> latest(const std::optional<std::string>& ns) override {
    std::lock_guard lock(read_mu_);
    VOUCH_ASSIGN_OR_RETURN(SqliteConnection & c, reader());
    VOUCH_ASSIGN_OR_RETURN(
        SqliteStatement s,
        c.prepare(fmt::format("SELECT ns, kind, name, policy, rule, api_version, uid, origin_rule, autogen, type, status, "
                              "action, message, patches, process, recorded_at, scored, properties "
                              "FROM admission_latest{}",
                              ns ? " WHERE ns = ?" : "")));
    if (ns) s.bind_text(1, *ns);
    std::vector<RecordedResult> out;
    for (;;) {
      VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      RecordedResult r;
      r.resource.ns = s.column_text(0);
      r.resource.kind = s.column_text(1);
      r.resource.name = s.column_text(2);
      r.result.policy = s.column_text(3);
      r.result.rule = s.column_text(4);
      r.resource.api_version = s.column_text(5);
      r.resource_uid = s.column_text(6);
      r.result.origin_rule = s.column_text(7);
      r.result.autogen = s.column_int(8) != 0;
      r.result.type = s.column_text(9);
      VOUCH_ASSIGN_OR_RETURN(r.result.status, parse_status(s.column_text_view(10)));
      r.result.action = parse_action(s.column_text_view(11));
      r.result.message = s.column_text(12);
      VOUCH_ASSIGN_OR_RETURN(bj::value ops, json::parse(s.column_text_view(13)));
      if (ops.is_array())
        for (auto& op : ops.get_array())
          if (op.is_object()) r.result.patches.push_back(op.get_object());
      r.process = s.column_text(14);
      r.when = s.column_int(15);
      r.result.scored = s.column_int(16) != 0;
      VOUCH_ASSIGN_OR_RETURN(r.result.properties, parse_properties(s.column_text_view(17)));
      out.push_back(std::move(r));
    }
    return out;
  }

  Result<std::vector<RuleHistory>> history(UnixSeconds since, const std::optional<std::string>& ns) override {
    std::lock_guard lock(read_mu_);
    VOUCH_ASSIGN_OR_RETURN(SqliteConnection & c, reader());
    // One read transaction, so that the three queries see the same state.
    VOUCH_RETURN_IF_ERROR(c.exec_script("BEGIN"));
    auto out = history_on(c, since, ns);
    (void)c.exec_script("COMMIT");
    return out;
  }

 protected:
  Status write(const WriteBatch& batch) override {
    VOUCH_ASSIGN_OR_RETURN(db::SqliteTransaction tx, db::SqliteTransaction::begin(writer_));
    VOUCH_ASSIGN_OR_RETURN(
        SqliteStatement hist,
        writer_.prepare("INSERT INTO admission_history(recorded_at, ns, policy, rule, reported_rule, status, action, "
                        "api_version, kind, name, uid, process, message) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const RecordedResult* r : batch.history) {
      hist.reset();
      hist.bind(1, r->when)
          .bind_text(2, r->resource.ns)
          .bind_text(3, r->result.policy)
          .bind_text(4, written_rule(r->result))
          .bind_text(5, r->result.rule)
          .bind_text(6, policy::rule_status_name(r->result.status))
          .bind_text(7, policy::failure_action_name(r->result.action))
          .bind_text(8, r->resource.api_version)
          .bind_text(9, r->resource.kind)
          .bind_text(10, r->resource.name)
          .bind_text(11, r->resource_uid)
          .bind_text(12, r->process)
          .bind_text(13, r->result.message);
      VOUCH_RETURN_IF_ERROR(hist.run());
    }
    VOUCH_ASSIGN_OR_RETURN(
        SqliteStatement latest,
        writer_.prepare(
            "INSERT INTO admission_latest(ns, kind, api_group, name, policy, rule, api_version, uid, origin_rule, autogen, "
            "type, status, action, message, patches, process, recorded_at, scored, properties) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(ns, kind, api_group, name, policy, rule) DO UPDATE SET api_version = excluded.api_version, "
            "uid = excluded.uid, origin_rule = excluded.origin_rule, autogen = excluded.autogen, type = excluded.type, "
            "status = excluded.status, action = excluded.action, message = excluded.message, patches = excluded.patches, "
            "process = excluded.process, recorded_at = excluded.recorded_at, scored = excluded.scored, "
            "properties = excluded.properties "
            "WHERE excluded.recorded_at >= admission_latest.recorded_at"));
    for (const RecordedResult* r : batch.latest) {
      latest.reset();
      latest.bind_text(1, r->resource.ns)
          .bind_text(2, r->resource.kind)
          .bind_text(3, api_group(r->resource.api_version))
          .bind_text(4, r->resource.name)
          .bind_text(5, r->result.policy)
          .bind_text(6, r->result.rule)
          .bind_text(7, r->resource.api_version)
          .bind_text(8, r->resource_uid)
          .bind_text(9, r->result.origin_rule)
          .bind(10, r->result.autogen ? 1 : 0)
          .bind_text(11, r->result.type)
          .bind_text(12, policy::rule_status_name(r->result.status))
          .bind_text(13, policy::failure_action_name(r->result.action))
          .bind_text(14, r->result.message)
          .bind_text(15, patches_text(r->result))
          .bind_text(16, r->process)
          .bind(17, r->when)
          .bind(18, r->result.scored ? 1 : 0)
          .bind_text(19, properties_text(r->result));
      VOUCH_RETURN_IF_ERROR(latest.run());
    }
    VOUCH_ASSIGN_OR_RETURN(
        SqliteStatement state,
        writer_.prepare("INSERT INTO admission_rules(ns, policy, rule, first_recorded, last_recorded, action) "
                        "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(ns, policy, rule) DO UPDATE SET "
                        "first_recorded = MIN(admission_rules.first_recorded, excluded.first_recorded), "
                        "action = CASE WHEN excluded.last_recorded >= admission_rules.last_recorded "
                        "THEN excluded.action ELSE admission_rules.action END, "
                        "last_recorded = MAX(admission_rules.last_recorded, excluded.last_recorded)"));
    for (const RuleState& s : batch.states) {
      state.reset();
      state.bind_text(1, s.ns)
          .bind_text(2, s.policy)
          .bind_text(3, s.rule)
          .bind(4, s.first)
          .bind(5, s.last)
          .bind_text(6, policy::failure_action_name(s.action));
      VOUCH_RETURN_IF_ERROR(state.run());
    }
    for (std::string_view sql : {"DELETE FROM admission_history WHERE recorded_at < ?",
                                 "DELETE FROM admission_rules WHERE last_recorded < ?"}) {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement prune, writer_.prepare(sql));
      prune.bind(1, batch.prune_before);
      VOUCH_RETURN_IF_ERROR(prune.run());
    }
    return tx.commit();
  }

 private:
  Result<std::reference_wrapper<SqliteConnection>> reader() {
    if (!reader_.is_open()) {
      VOUCH_ASSIGN_OR_RETURN(reader_, SqliteConnection::open(path_, {.writable = true, .create = false, .label = path_}));
      VOUCH_RETURN_IF_ERROR(reader_.exec_script("PRAGMA query_only=ON;"));
    }
    return std::ref(reader_);
  }

  static Result<std::vector<RuleHistory>> history_on(SqliteConnection& c, UnixSeconds since,
                                                     const std::optional<std::string>& ns) {
    using Key = std::tuple<std::string, std::string, std::string>;
    std::map<Key, RuleHistory> rules;
    const std::string where_ns = ns ? " AND ns = ?" : "";
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement s,
                             c.prepare("SELECT ns, policy, rule, first_recorded, last_recorded, action FROM admission_rules "
                                       "WHERE 1 = 1" + where_ns));
      if (ns) s.bind_text(1, *ns);
      for (;;) {
        VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        RuleHistory h;
        h.ns = s.column_text(0);
        h.policy = s.column_text(1);
        h.rule = s.column_text(2);
        h.first_recorded = s.column_int(3);
        h.last_recorded = s.column_int(4);
        h.action = parse_action(s.column_text_view(5));
        rules.emplace(Key{h.ns, h.policy, h.rule}, std::move(h));
      }
    }
    auto entry = [&](const std::string& n, const std::string& p, const std::string& r) -> RuleHistory& {
      auto [it, fresh] = rules.try_emplace(Key{n, p, r});
      if (fresh) {
        it->second.ns = n;
        it->second.policy = p;
        it->second.rule = r;
      }
      return it->second;
    };
    {
      VOUCH_ASSIGN_OR_RETURN(SqliteStatement s,
                             c.prepare("SELECT ns, policy, rule, status, COUNT(*), MIN(recorded_at), MAX(recorded_at) "
                                       "FROM admission_history WHERE recorded_at >= ?" + where_ns +
                                       " GROUP BY ns, policy, rule, status"));
      s.bind(1, since);
      if (ns) s.bind_text(2, *ns);
      for (;;) {
        VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        RuleHistory& h = entry(s.column_text(0), s.column_text(1), s.column_text(2));
        h.counts[s.column_text(3)] += s.column_int(4);
        if (h.first_recorded == 0 || s.column_int(5) < h.first_recorded) h.first_recorded = s.column_int(5);
        h.last_recorded = std::max(h.last_recorded, s.column_int(6));
      }
    }
    {
      VOUCH_ASSIGN_OR_RETURN(
          SqliteStatement s,
          c.prepare("SELECT g.ns, g.policy, g.rule, g.kind, g.name, g.status, g.n, g.first_seen, g.last_seen, "
                    "h.api_version, h.uid, h.message FROM (SELECT ns, policy, rule, kind, name, status, COUNT(*) AS n, "
                    "MIN(recorded_at) AS first_seen, MAX(recorded_at) AS last_seen, MAX(id) AS last_id "
                    "FROM admission_history WHERE recorded_at >= ? AND status IN ('fail', 'error')" +
                    where_ns +
                    " GROUP BY ns, policy, rule, kind, name, status) AS g JOIN admission_history AS h ON h.id = g.last_id"));
      s.bind(1, since);
      if (ns) s.bind_text(2, *ns);
      for (;;) {
        VOUCH_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        RuleHistory& h = entry(s.column_text(0), s.column_text(1), s.column_text(2));
        ResultGroup g;
        g.resource.ns = h.ns;
        g.resource.kind = s.column_text(3);
        g.resource.name = s.column_text(4);
        VOUCH_ASSIGN_OR_RETURN(g.status, parse_status(s.column_text_view(5)));
        g.count = s.column_int(6);
        g.first_seen = s.column_int(7);
        g.last_seen = s.column_int(8);
        g.resource.api_version = s.column_text(9);
        g.resource_uid = s.column_text(10);
        g.message = s.column_text(11);
        h.problems.push_back(std::move(g));
      }
    }
    std::vector<RuleHistory> out;
    out.reserve(rules.size());
    for (auto& [key, h] : rules) out.push_back(std::move(h));
    return out;
  }

  std::string path_;
  SqliteConnection writer_;  // used by write() only, which the group commit runs one at a time
  std::mutex read_mu_;
  SqliteConnection reader_;
};

}  // namespace

Result<std::unique_ptr<ReportStore>> open_sqlite_report_store(const std::string& path, ReportStoreOptions options) {
  if (path.empty()) return invalid_input("report store: empty SQLite path");
  std::error_code ec;
  if (options.must_exist && !std::filesystem::exists(path, ec))
    return not_found(fmt::format("report store {}: no such file (vouch admission serve and vouch admission scan write "
                                 "it; --reports or $VOUCH_REPORTS names another)",
                                 path));
  VOUCH_ASSIGN_OR_RETURN(SqliteConnection writer,
                         SqliteConnection::open(path, {.writable = true, .create = true, .busy_timeout_ms = 10000, .label = path}));
  VOUCH_RETURN_IF_ERROR(writer.exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  auto store = std::make_unique<SqliteReportStore>(path, std::move(writer), std::move(options));
  VOUCH_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<ReportStore>(std::move(store));
}

}  // namespace vouch::admission
