// SQLite access for the stores that keep their data in an embedded database (the transparency
// log, the vulnerability database): a connection and a prepared statement that own their
// handles, typed bind and column helpers, a transaction guard, and schema migrations numbered
// by PRAGMA user_version. Errors are kIo and start with the connection's label.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/db/transaction.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vouch::db {

class SqliteConnection;

// A prepared statement. Parameters are numbered from 1, columns from 0.
class SqliteStatement {
 public:
  SqliteStatement() = default;

  bool prepared() const { return stmt_ != nullptr; }

  SqliteStatement& bind(int index, int64_t value);
  SqliteStatement& bind(int index, ByteView blob);  // a BLOB
  SqliteStatement& bind_text(int index, std::string_view text);

  // The next row: true when there is one, false when the statement is done.
  Result<bool> step();
  // Steps a statement that returns no row (INSERT, UPDATE, …).
  Status run();
  // Ready to run again, with no parameters bound.
  void reset();

  int64_t column_int(int column) const;
  Bytes column_blob(int column) const;
  std::string column_text(int column) const;
  // Valid until the next step or reset.
  std::string_view column_text_view(int column) const;
  bool column_is_null(int column) const;

 private:
  friend class SqliteConnection;
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const;
  };
  SqliteStatement(std::string label, sqlite3_stmt* stmt) : label_(std::move(label)), stmt_(stmt) {}
  std::string label_;  // the connection's, for error messages
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

struct SqliteOpenOptions {
  bool writable = false;          // read-only otherwise
  bool create = false;            // create the file when missing (requires writable)
  int busy_timeout_ms = 10000;    // how long to wait for another connection's lock
  std::string label = "sqlite";   // the prefix of error messages ("sqlite", a file name)
};

// One connection (not shared between threads at the same time).
class SqliteConnection {
 public:
  static Result<SqliteConnection> open(const std::string& path, SqliteOpenOptions options);

  bool is_open() const { return db_ != nullptr; }
  const std::string& label() const { return label_; }

  // BEGIN IMMEDIATE: a writer takes the lock when the transaction starts, not at its first write.
  static constexpr std::string_view kBeginTransaction = "BEGIN IMMEDIATE";
  // Runs one or more statements that take no parameters.
  Status exec_script(std::string_view sql);
  Result<SqliteStatement> prepare(std::string_view sql) const;

  // "<label>: <what>: <SQLite's message>".
  Error error(std::string_view what) const;

  Result<int64_t> user_version() const;
  // Brings the schema to version steps.size(): runs steps[v], steps[v+1], … from the stored
  // PRAGMA user_version v, each in its own transaction with the version bump. A database newer
  // than the steps is an error.
  Status migrate(std::span<const std::string_view> steps);

  sqlite3* handle() const { return db_.get(); }

 private:
  // sqlite3_close_v2 defers the close until the connection's last statement is finalized, so
  // statements may outlive their connection.
  struct Close {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Close> db_;
  std::string label_;
};

// BEGIN IMMEDIATE … COMMIT; rolled back when it goes out of scope uncommitted.
using SqliteTransaction = Transaction<SqliteConnection>;

}  // namespace vouch::db
