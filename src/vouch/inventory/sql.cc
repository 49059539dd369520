// The inventory's SQL over SQLite (statements prepared once and kept) and PostgreSQL (placeholders
// renumbered, many-row inserts in chunks).
#include "sql.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "vouch/db/postgres.h"
#include "vouch/db/sqlite.h"

namespace vouch::inventory::sql {
namespace {

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(db::SqliteConnection c) : c_(std::move(c)) {}

  Result<std::vector<Row>> query(std::string_view sql, const std::vector<Param>& params, int columns) override {
    VOUCH_ASSIGN_OR_RETURN(db::SqliteStatement * st, statement(sql));
    bind(*st, params, 0, params.size());
    std::vector<Row> rows;
    while (true) {
      auto row = st->step();
      if (!row.ok()) {
        st->reset();
        return std::move(row).error();
      }
      if (!*row) break;
      Row r;
      r.reserve(static_cast<size_t>(columns));
      for (int i = 0; i < columns; ++i) r.emplace_back(st->column_text_view(i));
      rows.push_back(std::move(r));
    }
    st->reset();
    return rows;
  }

  Status insert_rows(std::string_view head, std::string_view tail, int columns,
                     const std::vector<Param>& values) override {
    std::string sql(head);
    sql += "(";
    for (int i = 0; i < columns; ++i) sql += i ? ",?" : "?";
    sql += ")";
    sql += tail;
    VOUCH_ASSIGN_OR_RETURN(db::SqliteStatement * st, statement(sql));
    const size_t n = static_cast<size_t>(columns);
    for (size_t start = 0; start + n <= values.size(); start += n) {
      bind(*st, values, start, n);
      Status s = st->run();
      st->reset();
      VOUCH_RETURN_IF_ERROR(s);
    }
    return ok_status();
  }

  Status script(std::string_view sql) override { return c_.exec_script(sql); }
  Status begin() override { return c_.exec_script(db::SqliteConnection::kBeginTransaction); }
  Status commit() override { return c_.exec_script("COMMIT"); }
  void rollback() override { (void)c_.exec_script("ROLLBACK"); }
  bool is_postgres() const override { return false; }

 private:
  static void bind(db::SqliteStatement& st, const std::vector<Param>& params, size_t start, size_t n) {
    st.reset();
    for (size_t i = 0; i < n; ++i)
      if (params[start + i]) st.bind_text(static_cast<int>(i + 1), *params[start + i]);
  }

  Result<db::SqliteStatement*> statement(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return &it->second;
    VOUCH_ASSIGN_OR_RETURN(db::SqliteStatement st, c_.prepare(sql));
    auto [inserted, _] = cache_.emplace(std::string(sql), std::move(st));
    return &inserted->second;
  }

  // Declared first: the statements are finalized before the connection closes.
  db::SqliteConnection c_;
  std::map<std::string, db::SqliteStatement, std::less<>> cache_;
};

// '?' -> $1, $2, … (the inventory's SQL has no '?' inside literals); NULL parameters become NULL.
class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(db::PgConnection c) : c_(std::move(c)) {}

  Result<std::vector<Row>> query(std::string_view sql, const std::vector<Param>& params, int columns) override {
    std::vector<db::PgParam> ps;
    ps.reserve(params.size());
    std::string text = numbered_with_nulls(sql, params, ps);
    VOUCH_ASSIGN_OR_RETURN(db::PgResult r, c_.exec(text, ps));
    std::vector<Row> rows;
    rows.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      Row row;
      row.reserve(static_cast<size_t>(columns));
      for (int k = 0; k < columns; ++k) row.emplace_back(r.is_null(i, k) ? std::string_view() : r.text(i, k));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Status insert_rows(std::string_view head, std::string_view tail, int columns,
                     const std::vector<Param>& values) override {
    const size_t n = static_cast<size_t>(columns);
    const size_t per_chunk = 30000 / n;  // PostgreSQL takes up to 65535 parameters
    const size_t rows = values.size() / n;
    for (size_t start = 0; start < rows; start += per_chunk) {
      size_t count = std::min(per_chunk, rows - start);
      std::string sql(head);
      std::vector<db::PgParam> ps;
      ps.reserve(count * n);
      int next = 1;
      for (size_t r = 0; r < count; ++r) {
        sql += r ? ",(" : "(";
        for (size_t k = 0; k < n; ++k) {
          if (k) sql += ",";
          const Param& p = values[(start + r) * n + k];
          if (!p) {
            sql += "NULL";
          } else {
            sql += fmt::format("${}", next++);
            ps.push_back(db::PgParam::text(*p));
          }
        }
        sql += ")";
      }
      sql += tail;
      auto r = c_.exec(sql, ps);
      if (!r.ok()) return std::move(r).error();
    }
    return ok_status();
  }

  Status script(std::string_view sql) override { return c_.exec_script(sql); }
  Status begin() override { return c_.exec_script(db::PgConnection::kBeginTransaction); }
  Status commit() override { return c_.exec_script("COMMIT"); }
  void rollback() override { (void)c_.exec_script("ROLLBACK"); }
  bool is_postgres() const override { return true; }

 private:
  static std::string numbered_with_nulls(std::string_view sql, const std::vector<Param>& params,
                                         std::vector<db::PgParam>& out) {
    std::string text;
    text.reserve(sql.size() + 16);
    size_t i = 0;
    int n = 1;
    for (char c : sql) {
      if (c != '?') {
        text += c;
        continue;
      }
      const Param& p = i < params.size() ? params[i] : Param();
      ++i;
      if (!p) {
        text += "NULL";
      } else {
        text += fmt::format("${}", n++);
        out.push_back(db::PgParam::text(*p));
      }
    }
    return text;
  }

  db::PgConnection c_;
};

}  // namespace

Status Database::exec(std::string_view sql, const std::vector<Param>& params) {
  auto r = query(sql, params, 0);
  if (!r.ok()) return std::move(r).error();
  return ok_status();
}

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(db::SqliteConnection c,
                         db::SqliteConnection::open(path, {.writable = true, .create = true, .busy_timeout_ms = 10000,
                                                           .label = path}));
  VOUCH_RETURN_IF_ERROR(c.exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                                        // A rescan's batch touches index pages all over the
                                        // findings: kept in memory until it commits (64 MiB).
                                        "PRAGMA cache_size=-65536;"));
  return std::unique_ptr<Database>(std::make_unique<SqliteDatabase>(std::move(c)));
}

Result<std::unique_ptr<Database>> open_postgres(const std::string& url) {
  VOUCH_ASSIGN_OR_RETURN(db::PgConnection c, db::PgConnection::connect(url));
  return std::unique_ptr<Database>(std::make_unique<PostgresDatabase>(std::move(c)));
}

}  // namespace vouch::inventory::sql
