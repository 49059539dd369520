#include "vouch/admission/report_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include <unistd.h>

#include "../temp_dir.h"
#include "vouch/admission/policy_reports.h"
#include "vouch/db/postgres.h"
#include "vouch/db/sqlite.h"

namespace vouch::admission {
namespace {

namespace fs = std::filesystem;
using policy::FailureAction;
using policy::RuleStatus;

constexpr UnixSeconds kNow = 1'700'000'000;
constexpr UnixSeconds kDay = 86400;

RecordedResult result(std::string ns, std::string name, std::string rule, RuleStatus status, UnixSeconds when,
                      FailureAction action = FailureAction::kAudit, std::string kind = "Pod") {
  RecordedResult r;
  r.result.policy = "image-hygiene";
  r.result.rule = std::move(rule);
  r.result.type = "Validation";
  r.result.status = status;
  r.result.message = fmt::format("{} at {}", policy::rule_status_name(status), when);
  r.result.action = action;
  r.resource = {kind == "Pod" ? "v1" : "apps/v1", kind, std::move(name), std::move(ns)};
  r.resource_uid = "uid-" + r.resource.name;
  r.process = std::string(kProcessAdmission);
  r.when = when;
  return r;
}

const RuleHistory* find_history(const std::vector<RuleHistory>& h, const std::string& ns, const std::string& rule) {
  for (const auto& x : h)
    if (x.ns == ns && x.rule == rule) return &x;
  return nullptr;
}

int64_t count_of(const RuleHistory& h, const std::string& status) {
  auto it = h.counts.find(status);
  return it == h.counts.end() ? 0 : it->second;
}

// The store under test: a SQLite file in a temporary directory, or a fresh database in the
// PostgreSQL server named by $VOUCH_TEST_POSTGRES_URL (tests/integration/tlog_postgres.sh starts one).
class ReportStoreBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      // Not testing::TempDir: a parameterised test's name holds a '/'.
      dir_ = fs::temp_directory_path() / fmt::format("vouch-report-store-test-{}-{}", ::getpid(), std::random_device{}());
      fs::create_directories(dir_);
      url_ = (dir_ / "reports.db").string();
      return;
    }
    const char* base = std::getenv("VOUCH_TEST_POSTGRES_URL");
    if (!base) GTEST_SKIP() << "VOUCH_TEST_POSTGRES_URL is not set (tests/integration/tlog_postgres.sh sets it)";
    auto admin = db::PgConnection::connect(base);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    std::string name = fmt::format("report_test_{}", std::random_device{}());
    ASSERT_TRUE(admin->exec_script("CREATE DATABASE " + name).ok());
    std::string url = base;
    url_ = url.substr(0, url.rfind('/') + 1) + name;
  }

  std::unique_ptr<ReportStore> open(UnixSeconds* clock = nullptr, std::chrono::seconds retention = std::chrono::hours(24 * 90)) {
    ReportStoreOptions options;
    options.retention = retention;
    if (clock) options.clock = [clock] { return *clock; };
    auto store = open_report_store(url_, options);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path dir_;
  std::string url_;
};

TEST_P(ReportStoreBackend, LatestResultPerResourcePolicyAndRule) {
  UnixSeconds now = kNow;
  auto store = open(&now);
  ASSERT_TRUE(store);
  RecordedResult web = result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow - 100);
  web.result.patches.push_back(boost::json::object{{"op", "replace"}, {"path", "/spec/containers/0/image"}, {"value", "x@sha256:1"}});
  RecordedResult ns = result("", "shop", "require-labels", RuleStatus::kPass, kNow - 50, FailureAction::kEnforce, "Namespace");
  ns.resource.api_version = "v1";
  ns.process = std::string(kProcessBackgroundScan);
  RecordedResult dep = result("shop", "dep", "autogen-no-latest-tag", RuleStatus::kFail, kNow - 40, FailureAction::kAudit, "Deployment");
  dep.result.autogen = true;
  dep.result.origin_rule = "no-latest-tag";
  ASSERT_TRUE(store->record({web, ns, dep}).ok());
  // A newer result replaces the older one; one that arrives late (older) does not.
  ASSERT_TRUE(store->record({result("shop", "web", "no-latest-tag", RuleStatus::kPass, kNow - 10)}).ok());
  ASSERT_TRUE(store->record({result("shop", "web", "no-latest-tag", RuleStatus::kError, kNow - 20)}).ok());

  auto all = store->latest(std::nullopt);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  auto by_name = [&](const std::string& name) {
    return *std::find_if(all->begin(), all->end(), [&](const RecordedResult& r) { return r.resource.name == name; });
  };
  RecordedResult got = by_name("web");
  EXPECT_EQ(got.result.status, RuleStatus::kPass);
  EXPECT_EQ(got.when, kNow - 10);
  EXPECT_TRUE(got.result.patches.empty());
  got = by_name("shop");
  EXPECT_EQ(got.resource.ns, "");
  EXPECT_EQ(got.resource.kind, "Namespace");
  EXPECT_EQ(got.result.action, FailureAction::kEnforce);
  EXPECT_EQ(got.process, kProcessBackgroundScan);
  got = by_name("dep");
  EXPECT_EQ(got.resource.api_version, "apps/v1");
  EXPECT_EQ(got.resource_uid, "uid-dep");
  EXPECT_TRUE(got.result.autogen);
  EXPECT_EQ(got.result.origin_rule, "no-latest-tag");
  EXPECT_EQ(got.result.rule, "autogen-no-latest-tag");
  EXPECT_EQ(got.result.type, "Validation");
  EXPECT_EQ(got.result.message, dep.result.message);

  // Patches survive the round trip.
  ASSERT_TRUE(store->record({web}).ok());  // older than the pass: ignored
  RecordedResult patched = web;
  patched.when = kNow;
  ASSERT_TRUE(store->record({patched}).ok());
  auto shop = store->latest(std::string("shop"));
  ASSERT_TRUE(shop.ok());
  ASSERT_EQ(shop->size(), 2u);
  for (const auto& r : *shop) {
    if (r.resource.name != "web") continue;
    ASSERT_EQ(r.result.patches.size(), 1u);
    EXPECT_EQ(r.result.patches[0], web.result.patches[0]);
  }
  auto cluster = store->latest(std::string(""));
  ASSERT_TRUE(cluster.ok());
  ASSERT_EQ(cluster->size(), 1u);
  EXPECT_EQ((*cluster)[0].resource.name, "shop");
  auto none = store->latest(std::string("elsewhere"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(ReportStoreBackend, HistoryCountsTheWindowAndGroupsProblemsByResource) {
  UnixSeconds now = kNow;
  auto store = open(&now);
  ASSERT_TRUE(store);
  std::vector<RecordedResult> batch;
  // Before the window: counts only for the first result recorded.
  batch.push_back(result("shop", "old", "no-latest-tag", RuleStatus::kFail, kNow - 30 * kDay));
  for (int i = 0; i < 3; ++i) batch.push_back(result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow - 5 * kDay + i));
  batch.push_back(result("shop", "api", "no-latest-tag", RuleStatus::kPass, kNow - 4 * kDay));
  batch.push_back(result("shop", "api", "no-latest-tag", RuleStatus::kError, kNow - 3 * kDay));
  RecordedResult dep = result("shop", "dep", "autogen-no-latest-tag", RuleStatus::kFail, kNow - kDay, FailureAction::kAudit, "Deployment");
  dep.result.autogen = true;
  dep.result.origin_rule = "no-latest-tag";
  batch.push_back(dep);
  batch.push_back(result("shop", "api", "no-latest-tag", RuleStatus::kPass, kNow - 100, FailureAction::kEnforce));
  batch.push_back(result("dev", "web", "no-latest-tag", RuleStatus::kPass, kNow - 2 * kDay));
  ASSERT_TRUE(store->record(batch).ok());

  auto h = store->history(kNow - 14 * kDay, std::nullopt);
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->size(), 2u);
  const RuleHistory* shop = find_history(*h, "shop", "no-latest-tag");
  ASSERT_NE(shop, nullptr);
  EXPECT_EQ(shop->policy, "image-hygiene");
  EXPECT_EQ(shop->first_recorded, kNow - 30 * kDay);
  EXPECT_EQ(shop->last_recorded, kNow - 100);
  EXPECT_EQ(shop->action, FailureAction::kEnforce);  // the newest result's
  EXPECT_EQ(count_of(*shop, "fail"), 4);             // 3 web + 1 dep (autogen counts for its rule)
  EXPECT_EQ(count_of(*shop, "error"), 1);
  EXPECT_EQ(count_of(*shop, "pass"), 2);
  ASSERT_EQ(shop->problems.size(), 3u);
  for (const ResultGroup& g : shop->problems) {
    if (g.resource.name == "web") {
      EXPECT_EQ(g.status, RuleStatus::kFail);
      EXPECT_EQ(g.count, 3);
      EXPECT_EQ(g.first_seen, kNow - 5 * kDay);
      EXPECT_EQ(g.last_seen, kNow - 5 * kDay + 2);
      EXPECT_EQ(g.message, fmt::format("fail at {}", kNow - 5 * kDay + 2));
      EXPECT_EQ(g.resource.api_version, "v1");
      EXPECT_EQ(g.resource.ns, "shop");
      EXPECT_EQ(g.resource_uid, "uid-web");
    } else if (g.resource.name == "api") {
      EXPECT_EQ(g.status, RuleStatus::kError);
      EXPECT_EQ(g.count, 1);
    } else {
      EXPECT_EQ(g.resource.name, "dep");
      EXPECT_EQ(g.resource.kind, "Deployment");
    }
  }
  auto dev = store->history(kNow - 14 * kDay, std::string("dev"));
  ASSERT_TRUE(dev.ok());
  ASSERT_EQ(dev->size(), 1u);
  EXPECT_EQ((*dev)[0].ns, "dev");
  EXPECT_TRUE((*dev)[0].problems.empty());
  // A narrower window counts less, and the first result recorded stays what it was.
  auto narrow = store->history(kNow - 2 * kDay, std::string("shop"));
  ASSERT_TRUE(narrow.ok());
  ASSERT_EQ(narrow->size(), 1u);
  EXPECT_EQ(count_of((*narrow)[0], "fail"), 1);
  EXPECT_EQ((*narrow)[0].first_recorded, kNow - 30 * kDay);
}

TEST_P(ReportStoreBackend, PrunesHistoryOlderThanTheRetentionOnWrite) {
  UnixSeconds now = kNow;
  auto store = open(&now, std::chrono::hours(24 * 10));
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->record({result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow - 20 * kDay),
                             result("gone", "web", "no-latest-tag", RuleStatus::kFail, kNow - 20 * kDay),
                             result("shop", "web", "no-latest-tag", RuleStatus::kPass, kNow - 5 * kDay)})
                  .ok());
  auto h = store->history(0, std::nullopt);
  ASSERT_TRUE(h.ok());
  // Pruned as it was written: the results 20 days old are gone, and with them the rule state of
  // a namespace that has nothing newer; the first result of "shop" stays as recorded.
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].ns, "shop");
  EXPECT_EQ(count_of((*h)[0], "fail"), 0);
  EXPECT_EQ(count_of((*h)[0], "pass"), 1);
  EXPECT_EQ((*h)[0].first_recorded, kNow - 20 * kDay);
  // Time passes: the next write prunes the pass too. The latest results are kept for reports.
  now = kNow + 10 * kDay;
  ASSERT_TRUE(store->record({result("dev", "web", "no-latest-tag", RuleStatus::kPass, now)}).ok());
  h = store->history(0, std::nullopt);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].ns, "dev");
  auto latest = store->latest(std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->size(), 3u);
}

TEST_P(ReportStoreBackend, ConcurrentRecordsAreAllKept) {
  UnixSeconds now = kNow;
  auto store = open(&now);
  ASSERT_TRUE(store);
  constexpr int kThreads = 8, kCalls = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        auto st = store->record({result("shop", fmt::format("pod-{}-{}", t, i), "no-latest-tag", RuleStatus::kPass, kNow - i),
                                 result("shop", fmt::format("pod-{}-{}", t, i), "require-digest", RuleStatus::kFail, kNow - i)});
        if (!st.ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto h = store->history(0, std::nullopt);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ(count_of(*find_history(*h, "shop", "no-latest-tag"), "pass"), kThreads * kCalls);
  EXPECT_EQ(find_history(*h, "shop", "require-digest")->problems.size(), size_t{kThreads * kCalls});
  auto latest = store->latest(std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->size(), size_t{2 * kThreads * kCalls});
}

// Webhook replicas write the same rows (a resource admitted twice) at the same time: rows are
// written in key order, so neither waits on the other forever.
TEST_P(ReportStoreBackend, ReplicasWritingTheSameRowsConcurrently) {
  UnixSeconds now = kNow;
  auto a = open(&now);
  auto b = open(&now);
  ASSERT_TRUE(a && b);
  // Enough rounds on PostgreSQL that writers taking row locks in different orders deadlock.
  const int kRounds = GetParam() == "postgres" ? 100 : 10;
  constexpr int kThreads = 4, kPods = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 shuffle(static_cast<unsigned>(t));
      for (int round = 0; round < kRounds; ++round) {
        std::vector<RecordedResult> batch;
        for (int p = 0; p < kPods; ++p)
          for (const char* rule : {"no-latest-tag", "require-digest"})
            batch.push_back(result(p % 2 ? "shop" : "dev", fmt::format("pod-{}", p), rule, RuleStatus::kPass, kNow - round));
        std::shuffle(batch.begin(), batch.end(), shuffle);
        auto st = (t % 2 ? a : b)->record(batch);
        if (!st.ok()) {
          ADD_FAILURE() << st.error().message;
          failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto latest = a->latest(std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->size(), size_t{2 * kPods});
  auto h = b->history(0, std::string("shop"));
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ(count_of((*h)[0], "pass"), kThreads * kRounds * kPods / 2);
}

TEST_P(ReportStoreBackend, SurvivesReopeningAndIsSharedBetweenStores) {
  UnixSeconds now = kNow;
  {
    auto store = open(&now);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->record({result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow)}).ok());
  }
  // Two stores on the same database, as two processes or webhook replicas.
  auto a = open(&now);
  auto b = open(&now);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->record({result("shop", "api", "no-latest-tag", RuleStatus::kPass, kNow)}).ok());
  ASSERT_TRUE(b->record({result("dev", "api", "no-latest-tag", RuleStatus::kPass, kNow)}).ok());
  for (ReportStore* s : {a.get(), b.get()}) {
    auto latest = s->latest(std::nullopt);
    ASSERT_TRUE(latest.ok());
    EXPECT_EQ(latest->size(), 3u);
  }
}

TEST_P(ReportStoreBackend, RefusesResultsWithoutNamesAndKeepsNothingOfTheCall) {
  auto store = open();
  ASSERT_TRUE(store);
  RecordedResult nameless = result("shop", "", "no-latest-tag", RuleStatus::kFail, kNow);
  auto st = store->record({result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow), nameless});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
  RecordedResult ruleless = result("shop", "web", "", RuleStatus::kFail, kNow);
  EXPECT_FALSE(store->record({ruleless}).ok());
  auto latest = store->latest(std::nullopt);
  ASSERT_TRUE(latest.ok());
  EXPECT_TRUE(latest->empty());
  EXPECT_TRUE(store->record({}).ok());
}

// The rule's reportProperties and the policy's scored annotation come back from the store, and
// the PolicyReport shows them as Kyverno does: the properties among the result's properties, a
// failure of an unscored policy as warn (scored: false).
TEST_P(ReportStoreBackend, KeepsReportPropertiesAndScoredForPolicyReports) {
  UnixSeconds now = kNow;
  auto store = open(&now);
  ASSERT_TRUE(store);
  RecordedResult scored = result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow - 10);
  scored.result.properties = {{"category", "Pod Security"}, {"severity", "high"}, {"quote", "a \"b\" \\ c"}};
  RecordedResult unscored = result("shop", "web", "require-digest", RuleStatus::kFail, kNow - 10);
  unscored.result.scored = false;
  RecordedResult unscored_pass = result("shop", "api", "require-digest", RuleStatus::kPass, kNow - 10);
  unscored_pass.result.scored = false;
  ASSERT_TRUE(store->record({scored, unscored, unscored_pass}).ok());

  auto latest = store->latest(std::string("shop"));
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 3u);
  auto find = [&](const std::string& name, const std::string& rule) -> const RecordedResult& {
    return *std::find_if(latest->begin(), latest->end(), [&](const RecordedResult& r) {
      return r.resource.name == name && r.result.rule == rule;
    });
  };
  const RecordedResult& got_scored = find("web", "no-latest-tag");
  EXPECT_TRUE(got_scored.result.scored);
  EXPECT_EQ(got_scored.result.properties, scored.result.properties);
  const RecordedResult& got_unscored = find("web", "require-digest");
  EXPECT_FALSE(got_unscored.result.scored);
  EXPECT_TRUE(got_unscored.result.properties.empty());
  // The store keeps the status the engine gave; the report turns it into Kyverno's.
  EXPECT_EQ(got_unscored.result.status, RuleStatus::kFail);
  EXPECT_FALSE(find("api", "require-digest").result.scored);

  boost::json::object report = policy_report("shop", *latest);
  const auto& summary = report.at("summary").as_object();
  EXPECT_EQ(summary.at("fail").as_int64(), 1);
  EXPECT_EQ(summary.at("warn").as_int64(), 1);
  EXPECT_EQ(summary.at("pass").as_int64(), 1);
  bool saw_scored = false, saw_unscored = false;
  for (const auto& item : report.at("results").as_array()) {
    const auto& o = item.as_object();
    const auto& props = o.at("properties").as_object();
    if (o.at("rule").as_string() == "no-latest-tag") {
      saw_scored = true;
      EXPECT_EQ(o.at("result").as_string(), "fail");
      EXPECT_TRUE(o.at("scored").as_bool());
      EXPECT_EQ(props.at("category").as_string(), "Pod Security");
      EXPECT_EQ(props.at("severity").as_string(), "high");
      EXPECT_EQ(props.at("quote").as_string(), "a \"b\" \\ c");
      EXPECT_EQ(props.at("type").as_string(), "Validation");
      EXPECT_EQ(props.at("process").as_string(), "admission review");
    } else if (o.at("resources").as_array()[0].as_object().at("name").as_string() == "web") {
      saw_unscored = true;
      EXPECT_EQ(o.at("result").as_string(), "warn");
      EXPECT_FALSE(o.at("scored").as_bool());
      EXPECT_FALSE(props.contains("category"));
    } else {
      EXPECT_EQ(o.at("result").as_string(), "pass");
      EXPECT_FALSE(o.at("scored").as_bool());
    }
  }
  EXPECT_TRUE(saw_scored && saw_unscored);

  // A newer result replaces both: the policy is scored again and the rule has no properties.
  RecordedResult rescored = result("shop", "web", "require-digest", RuleStatus::kFail, kNow);
  RecordedResult plain = result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow);
  ASSERT_TRUE(store->record({rescored, plain}).ok());
  latest = store->latest(std::string("shop"));
  ASSERT_TRUE(latest.ok());
  EXPECT_TRUE(find("web", "require-digest").result.scored);
  EXPECT_TRUE(find("web", "no-latest-tag").result.properties.empty());
}

// A store written before the properties and scored columns: it opens (the schema is migrated)
// and its rows read as results of scored policies without properties.
TEST_P(ReportStoreBackend, OpensAStoreOfTheFirstSchema) {
  // The tables as the first version of the store created them, and one row of its.
  const bool sqlite = GetParam() == "sqlite";
  const std::string autogen_type = sqlite ? "INTEGER" : "BOOLEAN";
  const std::string time_type = sqlite ? "INTEGER" : "BIGINT";
  const std::string without_rowid = sqlite ? " WITHOUT ROWID" : "";
  const std::string schema = fmt::format(R"sql(
CREATE TABLE admission_latest (
  ns TEXT NOT NULL, kind TEXT NOT NULL, api_group TEXT NOT NULL, name TEXT NOT NULL,
  policy TEXT NOT NULL, rule TEXT NOT NULL,
  api_version TEXT NOT NULL, uid TEXT NOT NULL, origin_rule TEXT NOT NULL, autogen {0} NOT NULL,
  type TEXT NOT NULL, status TEXT NOT NULL, action TEXT NOT NULL, message TEXT NOT NULL, patches TEXT NOT NULL,
  process TEXT NOT NULL, recorded_at {1} NOT NULL,
  PRIMARY KEY (ns, kind, api_group, name, policy, rule)){2};
CREATE TABLE admission_history (
  id {3} PRIMARY KEY,
  recorded_at {1} NOT NULL,
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL, reported_rule TEXT NOT NULL,
  status TEXT NOT NULL, action TEXT NOT NULL,
  api_version TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,
  process TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX admission_history_time ON admission_history(recorded_at);
CREATE TABLE admission_rules (
  ns TEXT NOT NULL, policy TEXT NOT NULL, rule TEXT NOT NULL,
  first_recorded {1} NOT NULL, last_recorded {1} NOT NULL, action TEXT NOT NULL,
  PRIMARY KEY (ns, policy, rule)){2};
INSERT INTO admission_latest VALUES ('shop', 'Pod', '', 'web', 'image-hygiene', 'no-latest-tag', 'v1', 'uid-web', '',
  {4}, 'Validation', 'fail', 'Audit', 'an old failure', '[]', 'admission review', {5});
)sql",
                                         autogen_type, time_type, without_rowid, sqlite ? "INTEGER" : "BIGSERIAL",
                                         sqlite ? "0" : "false", kNow - 100);
  if (sqlite) {
    auto c = db::SqliteConnection::open(url_, {.writable = true, .create = true});
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->exec_script(schema + "PRAGMA user_version = 1;").ok());
  } else {
    auto c = db::PgConnection::connect(url_);
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto st = c->exec_script(schema + "CREATE TABLE admission_schema (version INTEGER NOT NULL);"
                                      "INSERT INTO admission_schema(version) VALUES (1);");
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  UnixSeconds now = kNow;
  auto store = open(&now);
  ASSERT_TRUE(store);
  auto latest = store->latest(std::nullopt);
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].result.message, "an old failure");
  EXPECT_TRUE((*latest)[0].result.scored);
  EXPECT_TRUE((*latest)[0].result.properties.empty());
  auto report = policy_report("shop", *latest);
  EXPECT_EQ(report.at("results").as_array()[0].as_object().at("result").as_string(), "fail");

  // The migrated store takes new results with both.
  RecordedResult next = result("shop", "web", "no-latest-tag", RuleStatus::kFail, kNow);
  next.result.scored = false;
  next.result.properties = {{"severity", "low"}};
  ASSERT_TRUE(store->record({next}).ok());
  latest = store->latest(std::nullopt);
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_FALSE((*latest)[0].result.scored);
  EXPECT_EQ((*latest)[0].result.properties, next.result.properties);
  // And opens again without migrating twice.
  store.reset();
  EXPECT_TRUE(open(&now));
}

INSTANTIATE_TEST_SUITE_P(ReportStoreSqlite, ReportStoreBackend, ::testing::Values("sqlite"));
INSTANTIATE_TEST_SUITE_P(ReportStorePostgres, ReportStoreBackend, ::testing::Values("postgres"));

TEST(ReportStore, ReadingAMissingFileIsAnErrorAndCreatesNothing) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "missing.db";
  auto store = open_report_store(path.string(), {.must_exist = true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kNotFound);
  EXPECT_NE(store.error().message.find(path.string()), std::string::npos) << store.error().message;
  EXPECT_FALSE(fs::exists(path));
  // Without must_exist the file is created, also through a sqlite: URL.
  auto created = open_report_store("sqlite:" + path.string());
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(open_report_store(path.string(), {.must_exist = true}).ok());
}

TEST(ReportStore, RefusesUnknownSchemesAndNewerSchemas) {
  auto bad = open_report_store("mysql://db.example/reports");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidInput);
  EXPECT_FALSE(open_report_store("").ok());
  EXPECT_FALSE(open_report_store("x.db", {.retention = std::chrono::seconds(0)}).ok());

  testing::TempDir dir;
  const std::string path = (dir.path() / "future.db").string();
  {
    auto c = db::SqliteConnection::open(path, {.writable = true, .create = true});
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->exec_script("PRAGMA user_version = 99").ok());
  }
  auto store = open_report_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

TEST(ReportStore, DefaultUrlIsTheEnvironmentsOrAFileHere) {
  const char* saved = std::getenv("VOUCH_REPORTS");
  std::string keep = saved ? saved : "";
  ::unsetenv("VOUCH_REPORTS");
  EXPECT_EQ(default_report_store_url(), "vouch-reports.db");
  ::setenv("VOUCH_REPORTS", "postgres://reports.example/vouch", 1);
  EXPECT_EQ(default_report_store_url(), "postgres://reports.example/vouch");
  ::setenv("VOUCH_REPORTS", "", 1);
  EXPECT_EQ(default_report_store_url(), "vouch-reports.db");
  if (saved) ::setenv("VOUCH_REPORTS", keep.c_str(), 1);
  else ::unsetenv("VOUCH_REPORTS");
}

}  // namespace
}  // namespace vouch::admission
