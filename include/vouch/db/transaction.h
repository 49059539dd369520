// A transaction guard for a SQLite or PostgreSQL connection: begins with the connection's
// kBeginTransaction, commits on commit(), and rolls back when it goes out of scope uncommitted
// (an early return on an error leaves nothing half-written).
#pragma once

#include <string_view>

#include "vouch/base/result.h"

namespace vouch::db {

template <class Connection>
class Transaction {
 public:
  static Result<Transaction> begin(Connection& connection) {
    VOUCH_RETURN_IF_ERROR(connection.exec_script(Connection::kBeginTransaction));
    return Transaction(&connection);
  }
  Transaction(Transaction&& other) noexcept : connection_(other.connection_) { other.connection_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction() {
    if (connection_) (void)connection_->exec_script("ROLLBACK");
  }

  Status commit() {
    Connection* c = connection_;
    connection_ = nullptr;
    if (!c) return internal_error("transaction already finished");
    return c->exec_script("COMMIT");
  }

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}
  Connection* connection_;
};

}  // namespace vouch::db
