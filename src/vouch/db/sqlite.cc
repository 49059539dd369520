#include "vouch/db/sqlite.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace vouch::db {

// ---- SqliteStatement ------------------------------------------------------------------------

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : label_(std::move(other.label_)), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    label_ = std::move(other.label_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, ByteView blob) {
  sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> SqliteStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  return io_error(fmt::format("{}: {}: {}", label_, sql ? std::string_view(sql).substr(0, 60) : "step",
                              sqlite3_errmsg(sqlite3_db_handle(stmt_))));
}

Status SqliteStatement::run() {
  VOUCH_ASSIGN_OR_RETURN(bool row, step());
  (void)row;  // a statement with RETURNING would yield rows; none here are expected to matter
  return ok_status();
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStatement::column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

Bytes SqliteStatement::column_blob(int column) const {
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  return p ? Bytes(p, p + sqlite3_column_bytes(stmt_, column)) : Bytes();
}

std::string SqliteStatement::column_text(int column) const { return std::string(column_text_view(column)); }

std::string_view SqliteStatement::column_text_view(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string_view();
}

bool SqliteStatement::column_is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

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
  c.db_ = db;
  c.label_ = std::move(options.label);
  return c;
}

SqliteConnection::SqliteConnection(SqliteConnection&& other) noexcept
    : db_(other.db_), label_(std::move(other.label_)) {
  other.db_ = nullptr;
}

SqliteConnection& SqliteConnection::operator=(SqliteConnection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = other.db_;
    label_ = std::move(other.label_);
    other.db_ = nullptr;
  }
  return *this;
}

// close_v2 defers the close until the last statement of this connection is finalized, so
// statements may outlive it in any order.
SqliteConnection::~SqliteConnection() { sqlite3_close_v2(db_); }

Status SqliteConnection::exec(std::string_view sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return io_error(fmt::format("{}: {}", label_, msg));
  }
  return ok_status();
}

Result<SqliteStatement> SqliteConnection::prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error("prepare");
  }
  return SqliteStatement(label_, stmt);
}

Error SqliteConnection::error(std::string_view what) const {
  return io_error(fmt::format("{}: {}: {}", label_, what, db_ ? sqlite3_errmsg(db_) : "not open"));
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
    VOUCH_RETURN_IF_ERROR(exec(steps[static_cast<size_t>(version)]));
    VOUCH_RETURN_IF_ERROR(exec(fmt::format("PRAGMA user_version = {}", version + 1)));
    VOUCH_RETURN_IF_ERROR(tx.commit());
  }
  return ok_status();
}

// ---- SqliteTransaction ----------------------------------------------------------------------

Result<SqliteTransaction> SqliteTransaction::begin(SqliteConnection& connection) {
  VOUCH_RETURN_IF_ERROR(connection.exec("BEGIN IMMEDIATE"));
  return SqliteTransaction(&connection);
}

SqliteTransaction::~SqliteTransaction() {
  if (connection_) (void)connection_->exec("ROLLBACK");
}

Status SqliteTransaction::commit() {
  SqliteConnection* c = connection_;
  connection_ = nullptr;
  if (!c) return internal_error("sqlite: transaction already finished");
  return c->exec("COMMIT");
}

}  // namespace vouch::db
