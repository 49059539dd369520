#include "vouch/db/sqlite.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace vouch::db {

// ---- SqliteStatement ------------------------------------------------------------------------

void SqliteStatement::Finalize::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, ByteView blob) {
  sqlite3_bind_blob(stmt_.get(), index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> SqliteStatement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_.get());
  return io_error(fmt::format("{}: {}: {}", label_, sql ? std::string_view(sql).substr(0, 60) : "step",
                              sqlite3_errmsg(sqlite3_db_handle(stmt_.get()))));
}

Status SqliteStatement::run() {
  VOUCH_ASSIGN_OR_RETURN(bool row, step());
  (void)row;  // a statement with RETURNING would yield rows; none here are expected to matter
  return ok_status();
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t SqliteStatement::column_int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

Bytes SqliteStatement::column_blob(int column) const {
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_.get(), column));
  return p ? Bytes(p, p + sqlite3_column_bytes(stmt_.get(), column)) : Bytes();
}

std::string SqliteStatement::column_text(int column) const { return std::string(column_text_view(column)); }

std::string_view SqliteStatement::column_text_view(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column))) : std::string_view();
}

bool SqliteStatement::column_is_null(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }

// ---- SqliteConnection -----------------------------------------------------------------------

Result<SqliteConnection> SqliteConnection::open(const std::string& path, SqliteOpenOptions options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= options.writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  if (options.writable && options.create) flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return io_error(options.label == path ? fmt::format("{}: {}", path, msg)
                                          : fmt::format("{}: open {}: {}", options.label, path, msg));
  }
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  SqliteConnection c;
  c.db_.reset(db);
  c.label_ = std::move(options.label);
  return c;
}

void SqliteConnection::Close::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Status SqliteConnection::exec_script(std::string_view sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_.get());
    sqlite3_free(err);
    return io_error(fmt::format("{}: {}", label_, msg));
  }
  return ok_status();
}

Result<SqliteStatement> SqliteConnection::prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error("prepare");
  }
  return SqliteStatement(label_, stmt);
}

Error SqliteConnection::error(std::string_view what) const {
  return io_error(fmt::format("{}: {}: {}", label_, what, db_ ? sqlite3_errmsg(db_.get()) : "not open"));
}

Result<int64_t> SqliteConnection::user_version() const {
  VOUCH_ASSIGN_OR_RETURN(SqliteStatement st, prepare("PRAGMA user_version"));
  VOUCH_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return error("read the schema version");
  return st.column_int(0);
}

Status SqliteConnection::migrate(std::span<const std::string_view> steps) {
  VOUCH_ASSIGN_OR_RETURN(int64_t version, user_version());
  const auto target = static_cast<int64_t>(steps.size());
  if (version > target)
    return invalid_input(fmt::format("{}: schema version {} is newer than this program's {}", label_, version, target));
  for (; version < target; ++version) {
    VOUCH_ASSIGN_OR_RETURN(SqliteTransaction tx, SqliteTransaction::begin(*this));
    VOUCH_RETURN_IF_ERROR(exec_script(steps[static_cast<size_t>(version)]));
    VOUCH_RETURN_IF_ERROR(exec_script(fmt::format("PRAGMA user_version = {}", version + 1)));
    VOUCH_RETURN_IF_ERROR(tx.commit());
  }
  return ok_status();
}

}  // namespace vouch::db
