// The report store on PostgreSQL, shared by several webhook replicas: one writer connection per
// process (batches are written in one transaction, rows in key order so that replicas writing
// the same rows take their locks in the same order), one reader connection. The schema is
// migrated under an advisory lock, so replicas that start together do not race.
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "report_store_internal.h"
#include "vouch/base/json.h"
#include "vouch/db/postgres.h"

namespace vouch::admission {
namespace {

namespace bj = boost::json;
using db::PgConnection;
using db::PgParam;
using db::PgResult;
using namespace report_store_internal;

// Advisory lock keys: schema migration, and pruning (one replica prunes at a time).
constexpr int64_t kMigrationLock = 0x766f756368726570;  // "vouchrep"
constexpr int64_t kPruneLock = 0x766f756368707275;      // "vouchpru"

constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE admission_latest (
  ns TEXT NOT NULL, kind TEXT NOT NULL, api_group TEXT NOT NULL, name TEXT NOT NULL,
  policy TEXT NOT NULL, rule TEXT NOT NULL,
  api_version TEXT NOT NULL, uid TEXT NOT NULL, origin_rule TEXT NOT NULL, autogen BOOLEAN NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL, patches TEXT NOT NULL,
  process TEXT NOT NULL, recorded_at BIGINT NOT NULL,
  PRIMARY KEY (ns, kind, api_group, name, policy, rule));
CREATE TABLE admission_history (
  id BIGSERIAL PRIMARY KEY,
  recorded_at BIGINT NOT NULL,
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL, reported_rule TEXT NOT NULL,
  status TEXT NOT NULL, action TEXT NOT NULL,
  api_version TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,
  process TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX admission_history_time ON admission_history(recorded_at);
CREATE TABLE admission_rules (
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL,
  first_recorded BIGINT NOT NULL, last_recorded BIGINT NOT NULL, action TEXT NOT NULL,
  PRIMARY KEY (ns, policy, rule));
)sql",
    // A result's reportProperties (a JSON object of strings) and whether its policy is scored;
    // rows written before read as scored with no properties.
    R"sql(
ALTER TABLE admission_latest ADD COLUMN scored BOOLEAN NOT NULL DEFAULT TRUE,
  ADD COLUMN properties TEXT NOT NULL DEFAULT '{}';
)sql",
};

Status status_of(Result<PgResult> r) { return r.ok() ? ok_status() : Status(std::move(r).error()); }

// One multi-row INSERT per chunk of rows (PostgreSQL allows 65535 parameters per statement).
Status insert_rows(PgConnection& c, std::string_view head, std::string_view tail, size_t columns, size_t rows,
                   const std::function<void(size_t, std::vector<PgParam>&)>& row) {
  const size_t chunk = 60000 / columns;
  for (size_t start = 0; start < rows; start += chunk) {
    const size_t n = std::min(chunk, rows - start);
    std::string sql(head);
    std::vector<PgParam> params;
    params.reserve(n * columns);
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ",(" : "(";
      for (size_t k = 0; k < columns; ++k) sql += fmt::format("{}${}", k ? "," : "", i * columns + k + 1);
      sql += ")";
      row(start + i, params);
    }
    sql += tail;
    VOUCH_RETURN_IF_ERROR(status_of(c.exec(sql, params)));
  }
  return ok_status();
}

class PostgresReportStore final : public GroupCommitStore {
 public:
  PostgresReportStore(std::string url, PgConnection writer, ReportStoreOptions options)
      : GroupCommitStore(std::move(options)), url_(std::move(url)), writer_(std::move(writer)) {}

  Status init() {
    VOUCH_ASSIGN_OR_RETURN(db::PgTransaction tx, db::PgTransaction::begin(writer_));
    VOUCH_RETURN_IF_ERROR(status_of(writer_.exec("SELECT pg_advisory_xact_lock($1)", {PgParam::num(kMigrationLock)})));
    // No NOTICE on stderr for a table that exists.
    VOUCH_RETURN_IF_ERROR(writer_.exec_script("SET LOCAL client_min_messages = warning"));
    VOUCH_RETURN_IF_ERROR(writer_.exec_script("CREATE TABLE IF NOT EXISTS admission_schema (version INTEGER NOT NULL)"));
    VOUCH_ASSIGN_OR_RETURN(PgResult r, writer_.exec("SELECT version FROM admission_schema"));
    int64_t version = r.rows() > 0 ? r.num(0, 0) : 0;
    const auto target = static_cast<int64_t>(std::size(kMigrations));
    if (version > target)
      return invalid_input(fmt::format("report store: schema version {} is newer than this program's {}", version, target));
    for (; version < target; ++version) VOUCH_RETURN_IF_ERROR(writer_.exec_script(kMigrations[version]));
    VOUCH_RETURN_IF_ERROR(writer_.exec_script("DELETE FROM admission_schema"));
    VOUCH_RETURN_IF_ERROR(
        status_of(writer_.exec("INSERT INTO admission_schema(version) VALUES($1)", {PgParam::num(version)})));
    return tx.commit();
  }

  Result<std::vector<RecordedResult>> latest(const std::optional<std::string>& ns) override {
    std::lock_guard lock(read_mu_);
    VOUCH_ASSIGN_OR_RETURN(PgConnection & c, reader());
    std::vector<PgParam> params;
    if (ns) params.push_back(PgParam::text(*ns));
    VOUCH_ASSIGN_OR_RETURN(
        PgResult r, c.exec(fmt::format("SELECT ns, kind, name, policy, rule, api_version, uid, origin_rule, autogen, type, "
                                       "status, action, message, patches, process, recorded_at, scored, properties "
                                       "FROM admission_latest{}",
                                       ns ? " WHERE ns = $1" : ""),
                           params));
    std::vector<RecordedResult> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      RecordedResult rr;
      rr.resource.ns = r.text(i, 0);
      rr.resource.kind = r.text(i, 1);
      rr.resource.name = r.text(i, 2);
      rr.result.policy = r.text(i, 3);
      rr.result.rule = r.text(i, 4);
      rr.resource.api_version = r.text(i, 5);
      rr.resource_uid = r.text(i, 6);
      rr.result.origin_rule = r.text(i, 7);
      rr.result.autogen = r.text(i, 8) == "t";
      rr.result.type = r.text(i, 9);
      VOUCH_ASSIGN_OR_RETURN(rr.result.status, parse_status(r.text(i, 10)));
      rr.result.action = parse_action(r.text(i, 11));
      rr.result.message = r.text(i, 12);
      VOUCH_ASSIGN_OR_RETURN(bj::value ops, json::parse(r.text(i, 13)));
      if (ops.is_array())
        for (auto& op : ops.get_array())
          if (op.is_object()) rr.result.patches.push_back(op.get_object());
      rr.process = r.text(i, 14);
      rr.when = r.num(i, 15);
      rr.result.scored = r.text(i, 16) == "t";
      VOUCH_ASSIGN_OR_RETURN(rr.result.properties, parse_properties(r.text(i, 17)));
      out.push_back(std::move(rr));
    }
    return out;
  }

  Result<std::vector<RuleHistory>> history(UnixSeconds since, const std::optional<std::string>& ns) override {
    std::lock_guard lock(read_mu_);
    VOUCH_ASSIGN_OR_RETURN(PgConnection & c, reader());
    // One snapshot for the three queries.
    VOUCH_RETURN_IF_ERROR(c.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    auto out = history_on(c, since, ns);
    (void)c.exec_script(out.ok() ? "COMMIT" : "ROLLBACK");
    return out;
  }

 protected:
  Status write(const WriteBatch& batch) override {
    if (!writer_.healthy()) writer_.reset();
    VOUCH_ASSIGN_OR_RETURN(db::PgTransaction tx, db::PgTransaction::begin(writer_));
    VOUCH_RETURN_IF_ERROR(insert_rows(
        writer_,
        "INSERT INTO admission_history(recorded_at, ns, policy, rule, reported_rule, status, action, api_version, kind, "
        "name, uid, process, message) VALUES ",
        "", 13, batch.history.size(), [&](size_t i, std::vector<PgParam>& p) {
          const RecordedResult& r = *batch.history[i];
          p.push_back(PgParam::num(r.when));
          p.push_back(PgParam::text(r.resource.ns));
          p.push_back(PgParam::text(r.result.policy));
          p.push_back(PgParam::text(written_rule(r.result)));
          p.push_back(PgParam::text(r.result.rule));
          p.push_back(PgParam::text(std::string(policy::rule_status_name(r.result.status))));
          p.push_back(PgParam::text(std::string(policy::failure_action_name(r.result.action))));
          p.push_back(PgParam::text(r.resource.api_version));
          p.push_back(PgParam::text(r.resource.kind));
          p.push_back(PgParam::text(r.resource.name));
          p.push_back(PgParam::text(r.resource_uid));
          p.push_back(PgParam::text(r.process));
          p.push_back(PgParam::text(r.result.message));
        }));
    VOUCH_RETURN_IF_ERROR(insert_rows(
        writer_,
        "INSERT INTO admission_latest(ns, kind, api_group, name, policy, rule, api_version, uid, origin_rule, autogen, "
        "type, status, action, message, patches, process, recorded_at, scored, properties) VALUES ",
        " ON CONFLICT (ns, kind, api_group, name, policy, rule) DO UPDATE SET api_version = excluded.api_version, "
        "uid = excluded.uid, origin_rule = excluded.origin_rule, autogen = excluded.autogen, type = excluded.type, "
        "status = excluded.status, action = excluded.action, message = excluded.message, patches = excluded.patches, "
        "process = excluded.process, recorded_at = excluded.recorded_at, scored = excluded.scored, "
        "properties = excluded.properties "
        "WHERE excluded.recorded_at >= admission_latest.recorded_at",
        19, batch.latest.size(), [&](size_t i, std::vector<PgParam>& p) {
          const RecordedResult& r = *batch.latest[i];
          bj::array ops(r.result.patches.begin(), r.result.patches.end());
          p.push_back(PgParam::text(r.resource.ns));
          p.push_back(PgParam::text(r.resource.kind));
          p.push_back(PgParam::text(api_group(r.resource.api_version)));
          p.push_back(PgParam::text(r.resource.name));
          p.push_back(PgParam::text(r.result.policy));
          p.push_back(PgParam::text(r.result.rule));
          p.push_back(PgParam::text(r.resource.api_version));
          p.push_back(PgParam::text(r.resource_uid));
          p.push_back(PgParam::text(r.result.origin_rule));
          p.push_back(PgParam::text(r.result.autogen ? "true" : "false"));
          p.push_back(PgParam::text(r.result.type));
          p.push_back(PgParam::text(std::string(policy::rule_status_name(r.result.status))));
          p.push_back(PgParam::text(std::string(policy::failure_action_name(r.result.action))));
          p.push_back(PgParam::text(r.result.message));
          p.push_back(PgParam::text(json::serialize(ops)));
          p.push_back(PgParam::text(r.process));
          p.push_back(PgParam::num(r.when));
          p.push_back(PgParam::text(r.result.scored ? "true" : "false"));
          p.push_back(PgParam::text(properties_text(r.result)));
        }));
    VOUCH_RETURN_IF_ERROR(insert_rows(
        writer_, "INSERT INTO admission_rules(ns, policy, rule, first_recorded, last_recorded, action) VALUES ",
        " ON CONFLICT (ns, policy, rule) DO UPDATE SET "
        "first_recorded = LEAST(admission_rules.first_recorded, excluded.first_recorded), "
        "action = CASE WHEN excluded.last_recorded >= admission_rules.last_recorded "
        "THEN excluded.action ELSE admission_rules.action END, "
        "last_recorded = GREATEST(admission_rules.last_recorded, excluded.last_recorded)",
        6, batch.states.size(), [&](size_t i, std::vector<PgParam>& p) {
          const RuleState& s = batch.states[i];
          p.push_back(PgParam::text(s.ns));
          p.push_back(PgParam::text(s.policy));
          p.push_back(PgParam::text(s.rule));
          p.push_back(PgParam::num(s.first));
          p.push_back(PgParam::num(s.last));
          p.push_back(PgParam::text(std::string(policy::failure_action_name(s.action))));
        }));
    // Another replica pruning the same rows would make this transaction wait; one is enough.
    VOUCH_ASSIGN_OR_RETURN(PgResult lock, writer_.exec("SELECT pg_try_advisory_xact_lock($1)", {PgParam::num(kPruneLock)}));
    if (lock.rows() > 0 && lock.text(0, 0) == "t") {
      VOUCH_RETURN_IF_ERROR(status_of(
          writer_.exec("DELETE FROM admission_history WHERE recorded_at < $1", {PgParam::num(batch.prune_before)})));
      VOUCH_RETURN_IF_ERROR(status_of(
          writer_.exec("DELETE FROM admission_rules WHERE last_recorded < $1", {PgParam::num(batch.prune_before)})));
    }
    return tx.commit();
  }

 private:
  Result<std::reference_wrapper<PgConnection>> reader() {
    if (!reader_ || !reader_->healthy()) {
      VOUCH_ASSIGN_OR_RETURN(PgConnection c, PgConnection::connect(url_));
      reader_.emplace(std::move(c));
    }
    return std::ref(*reader_);
  }

  static Result<std::vector<RuleHistory>> history_on(PgConnection& c, UnixSeconds since,
                                                     const std::optional<std::string>& ns) {
    using Key = std::tuple<std::string, std::string, std::string>;
    std::map<Key, RuleHistory> rules;
    std::vector<PgParam> window{PgParam::num(since)};
    if (ns) window.push_back(PgParam::text(*ns));
    {
      std::vector<PgParam> params;
      if (ns) params.push_back(PgParam::text(*ns));
      VOUCH_ASSIGN_OR_RETURN(PgResult r, c.exec(fmt::format("SELECT ns, policy, rule, first_recorded, last_recorded, action "
                                                            "FROM admission_rules{}",
                                                            ns ? " WHERE ns = $1" : ""),
                                                params));
      for (int i = 0; i < r.rows(); ++i) {
        RuleHistory h;
        h.ns = r.text(i, 0);
        h.policy = r.text(i, 1);
        h.rule = r.text(i, 2);
        h.first_recorded = r.num(i, 3);
        h.last_recorded = r.num(i, 4);
        h.action = parse_action(r.text(i, 5));
        rules.emplace(Key{h.ns, h.policy, h.rule}, std::move(h));
      }
    }
    auto entry = [&](std::string_view n, std::string_view p, std::string_view r) -> RuleHistory& {
      auto [it, fresh] = rules.try_emplace(Key{std::string(n), std::string(p), std::string(r)});
      if (fresh) {
        it->second.ns = n;
        it->second.policy = p;
        it->second.rule = r;
      }
      return it->second;
    };
    const std::string where_ns = ns ? " AND ns = $2" : "";
    {
      VOUCH_ASSIGN_OR_RETURN(PgResult r, c.exec("SELECT ns, policy, rule, status, COUNT(*), MIN(recorded_at), MAX(recorded_at) "
                                                "FROM admission_history WHERE recorded_at >= $1" + where_ns +
                                                " GROUP BY ns, policy, rule, status",
                                                window));
      for (int i = 0; i < r.rows(); ++i) {
        RuleHistory& h = entry(r.text(i, 0), r.text(i, 1), r.text(i, 2));
        h.counts[std::string(r.text(i, 3))] += r.num(i, 4);
        if (h.first_recorded == 0 || r.num(i, 5) < h.first_recorded) h.first_recorded = r.num(i, 5);
        h.last_recorded = std::max(h.last_recorded, r.num(i, 6));
      }
    }
    {
      VOUCH_ASSIGN_OR_RETURN(
          PgResult r,
          c.exec("SELECT g.ns, g.policy, g.rule, g.kind, g.name, g.status, g.n, g.first_seen, g.last_seen, "
                 "h.api_version, h.uid, h.message FROM (SELECT ns, policy, rule, kind, name, status, COUNT(*) AS n, "
                 "MIN(recorded_at) AS first_seen, MAX(recorded_at) AS last_seen, MAX(id) AS last_id "
                 "FROM admission_history WHERE recorded_at >= $1 AND status IN ('fail', 'error')" +
                     where_ns +
                     " GROUP BY ns, policy, rule, kind, name, status) AS g JOIN admission_history AS h ON h.id = g.last_id",
                 window));
      for (int i = 0; i < r.rows(); ++i) {
        RuleHistory& h = entry(r.text(i, 0), r.text(i, 1), r.text(i, 2));
        ResultGroup g;
        g.resource.ns = h.ns;
        g.resource.kind = r.text(i, 3);
        g.resource.name = r.text(i, 4);
        VOUCH_ASSIGN_OR_RETURN(g.status, parse_status(r.text(i, 5)));
        g.count = r.num(i, 6);
        g.first_seen = r.num(i, 7);
        g.last_seen = r.num(i, 8);
        g.resource.api_version = r.text(i, 9);
        g.resource_uid = r.text(i, 10);
        g.message = r.text(i, 11);
        h.problems.push_back(std::move(g));
      }
    }
    std::vector<RuleHistory> out;
    out.reserve(rules.size());
    for (auto& [key, h] : rules) out.push_back(std::move(h));
    return out;
  }

  std::string url_;
  PgConnection writer_;  // used by write() only, which the group commit runs one at a time
  std::mutex read_mu_;
  std::optional<PgConnection> reader_;
};

}  // namespace

Result<std::unique_ptr<ReportStore>> open_postgres_report_store(const std::string& url, ReportStoreOptions options) {
  VOUCH_ASSIGN_OR_RETURN(PgConnection c, PgConnection::connect(url));
  auto store = std::make_unique<PostgresReportStore>(url, std::move(c), std::move(options));
  VOUCH_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<ReportStore>(std::move(store));
}

}  // namespace vouch::admission
