#include "vouch/db/sqlite.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"

namespace vouch::db {
namespace {

constexpr std::string_view kSteps[] = {
    "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB, n INTEGER);",
    "ALTER TABLE t ADD COLUMN extra TEXT;",
};

Result<SqliteConnection> open_rw(const std::filesystem::path& file) {
  return SqliteConnection::open(file.string(), {.writable = true, .create = true, .label = "test"});
}

TEST(Sqlite, MigratesToTheLastStepOnceAndRefusesANewerSchema) {
  testing::TempDir dir;
  auto file = dir.path() / "a.db";
  {
    auto c = open_rw(file);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->migrate(std::span(kSteps).first(1)).ok());
    EXPECT_EQ(*c->user_version(), 1);
    auto again = c->migrate(kSteps);  // runs only the second step
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*c->user_version(), 2);
    EXPECT_TRUE(c->migrate(kSteps).ok());  // nothing to do
  }
  auto c = open_rw(file);
  ASSERT_TRUE(c.ok());
  auto older = c->migrate(std::span(kSteps).first(1));
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.error().message.find("schema version 2 is newer"), std::string::npos) << older.error().message;
}

TEST(Sqlite, BindsStepsAndReadsColumns) {
  testing::TempDir dir;
  auto c = open_rw(dir.path() / "b.db");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->migrate(std::span(kSteps).first(1)).ok());
  auto ins = c->prepare("INSERT INTO t(k, v, n) VALUES(?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  Bytes blob{0, 1, 2, 255};
  ins->bind_text(1, "a").bind(2, blob).bind(3, int64_t{-7});
  ASSERT_TRUE(ins->run().ok());
  ins->reset();
  ins->bind_text(1, "a").bind(2, blob).bind(3, int64_t{1});
  auto dup = ins->run();
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().message.starts_with("test: INSERT INTO t")) << dup.error().message;

  auto sel = c->prepare("SELECT k, v, n, NULL FROM t WHERE k = ?");
  ASSERT_TRUE(sel.ok());
  sel->bind_text(1, "a");
  ASSERT_TRUE(*sel->step());
  EXPECT_EQ(sel->column_text(0), "a");
  EXPECT_EQ(sel->column_blob(1), blob);
  EXPECT_EQ(sel->column_int(2), -7);
  EXPECT_TRUE(sel->column_is_null(3));
  EXPECT_FALSE(*sel->step());
  EXPECT_FALSE(c->prepare("SELECT nonsense FROM nowhere").ok());
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  testing::TempDir dir;
  auto c = open_rw(dir.path() / "c.db");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->migrate(std::span(kSteps).first(1)).ok());
  auto count = [&] {
    auto s = c->prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(*s->step());
    return s->column_int(0);
  };
  {
    auto tx = SqliteTransaction::begin(*c);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(c->exec_script("INSERT INTO t(k) VALUES('gone')").ok());
  }
  EXPECT_EQ(count(), 0);
  {
    auto tx = SqliteTransaction::begin(*c);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(c->exec_script("INSERT INTO t(k) VALUES('kept')").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  EXPECT_EQ(count(), 1);
}

TEST(Sqlite, ReadOnlyConnectionCannotCreateOrWrite) {
  testing::TempDir dir;
  auto missing = SqliteConnection::open((dir.path() / "none.db").string(), {.label = "ro"});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().message.starts_with("ro: open ")) << missing.error().message;
  {
    auto rw = open_rw(dir.path() / "d.db");
    ASSERT_TRUE(rw.ok());
    ASSERT_TRUE(rw->migrate(std::span(kSteps).first(1)).ok());
  }
  auto ro = SqliteConnection::open((dir.path() / "d.db").string(), {.label = "ro"});
  ASSERT_TRUE(ro.ok());
  EXPECT_FALSE(ro->exec_script("INSERT INTO t(k) VALUES('x')").ok());
}

}  // namespace
}  // namespace vouch::db
