// PostgreSQL access (libpq) for the stores that can keep their data on a server (the
// transparency log): a connection and a query result that own their handles, parameterised
// statements (text or binary parameters, text results), and a transaction guard. Errors are
// kIo and start with "postgres: ".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/db/transaction.h"

struct pg_conn;
struct pg_result;

namespace vouch::db {

// One statement parameter ($1, $2, …): text (numbers, strings) or binary (bytea).
struct PgParam {
  std::string value;
  bool binary = false;
  static PgParam text(std::string s) { return {std::move(s), false}; }
  static PgParam num(int64_t v) { return {std::to_string(v), false}; }
  static PgParam blob(ByteView b) { return {std::string(as_chars(b)), true}; }
};

// The rows of a query, in text format.
class PgResult {
 public:
  int rows() const;
  std::string_view text(int row, int column) const;
  int64_t num(int row, int column) const;
  Bytes bytea(int row, int column) const;
  bool is_null(int row, int column) const;

 private:
  friend class PgConnection;
  struct Free {
    void operator()(pg_result* r) const;
  };
  explicit PgResult(pg_result* r) : result_(r) {}
  std::unique_ptr<pg_result, Free> result_;
};

class PgConnection {
 public:
  // A libpq connection URI ("postgres://…"). synchronous_commit is forced on for the session,
  // so that COMMIT returns once the server has flushed the transaction.
  static Result<PgConnection> connect(const std::string& url);

  // One statement with parameters.
  Result<PgResult> exec(std::string_view sql, const std::vector<PgParam>& params = {});
  static constexpr std::string_view kBeginTransaction = "BEGIN";
  // One or more statements without parameters (a schema, BEGIN, COMMIT).
  Status exec_script(std::string_view sql);

  // Whether the connection is usable; reset() reconnects one that broke.
  bool healthy() const;
  void reset();

 private:
  struct Finish {
    void operator()(pg_conn* c) const;
  };
  std::unique_ptr<pg_conn, Finish> conn_;
};

// BEGIN … COMMIT; rolled back when it goes out of scope uncommitted.
using PgTransaction = Transaction<PgConnection>;

}  // namespace vouch::db
