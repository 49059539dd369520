// The few SQL operations the inventory store needs, over SQLite or PostgreSQL, so that the store
// is written once: statements with '?' placeholders (numbered $1, $2, … for PostgreSQL), text
// parameters and text results (NULL reads as empty), and transactions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"

namespace vouch::inventory::sql {

using Row = std::vector<std::string>;

// A parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

class Database {
 public:
  virtual ~Database() = default;
  // Rows of `columns` columns.
  virtual Result<std::vector<Row>> query(std::string_view sql, const std::vector<Param>& params, int columns) = 0;
  Status exec(std::string_view sql, const std::vector<Param>& params = {});
  // INSERT `head` (… VALUES) of many rows of `columns` parameters each, then `tail` (ON CONFLICT …).
  virtual Status insert_rows(std::string_view head, std::string_view tail, int columns,
                             const std::vector<Param>& values) = 0;
  // Statements without parameters, separated by ';'.
  virtual Status script(std::string_view sql) = 0;
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  virtual bool is_postgres() const = 0;
};

// Rolls back unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db) {
    VOUCH_RETURN_IF_ERROR(db.begin());
    return Transaction(&db);
  }
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (db_) db_->rollback();
  }
  Status commit() {
    Database* d = db_;
    db_ = nullptr;
    return d->commit();
  }

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

inline Param num(int64_t v) { return std::to_string(v); }
inline Param text(std::string s) { return Param(std::move(s)); }

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path);
Result<std::unique_ptr<Database>> open_postgres(const std::string& url);

}  // namespace vouch::inventory::sql
