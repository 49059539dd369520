#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <random>

#include "../temp_dir.h"
#include "vouch/base/file.h"
#include "vouch/inventory/alerts.h"
#include "vouch/inventory/scan.h"
#include "vouch/inventory/store.h"
#include "vouch/vuln/update.h"

namespace vouch::inventory {
namespace {

namespace fs = std::filesystem;

// SQLite in a temporary directory, or a fresh database in the PostgreSQL server named by
// $VOUCH_TEST_POSTGRES_URL (tests/integration/inventory_rescan.sh starts one).
std::string fresh_store(const std::string& kind, const fs::path& dir) {
  if (kind == "sqlite") return (dir / "inventory.db").string();
  const char* base = std::getenv("VOUCH_TEST_POSTGRES_URL");
  if (!base) return "";
  std::string db = fmt::format("inventory_test_{}", std::random_device{}());
  PGconn* c = PQconnectdb(base);
  EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PQclear(PQexec(c, ("CREATE DATABASE " + db).c_str()));
  PQfinish(c);
  std::string url = base;
  return url.substr(0, url.rfind('/') + 1) + db;
}

sbom::Package pkg(std::string id, std::string name, std::string version, std::string purl,
                  std::string type = "python") {
  sbom::Package p;
  p.id = std::move(id);
  p.name = std::move(name);
  p.version = std::move(version);
  p.type = std::move(type);
  p.purl = std::move(purl);
  return p;
}

sbom::Sbom python_image(std::string_view jinja_version, std::string_view flask_version) {
  sbom::Sbom doc;
  doc.name = "test";
  doc.format = "spdx-2.3";
  doc.packages.push_back(pkg("p1", "Jinja2", std::string(jinja_version), fmt::format("pkg:pypi/jinja2@{}", jinja_version)));
  doc.packages.push_back(pkg("p2", "flask", std::string(flask_version), fmt::format("pkg:pypi/flask@{}", flask_version)));
  return doc;
}

Image image(std::string digest, std::string repo, UnixSeconds seen) {
  Image i;
  i.digest = std::move(digest);
  i.repository = std::move(repo);
  i.tags = {"latest"};
  i.last_seen = seen;
  return i;
}

FindingRow finding(std::string vuln, std::string pkg_id, std::string severity = "High") {
  FindingRow f;
  f.vulnerability = std::move(vuln);
  f.package_id = std::move(pkg_id);
  f.package_name = "jinja2";
  f.package_version = "2.10";
  f.severity = std::move(severity);
  f.aliases = {"GHSA-aaaa-bbbb-cccc"};
  return f;
}

std::string record(std::string_view id, std::string_view modified, std::string_view package, std::string_view fixed,
                   bool withdrawn = false) {
  return fmt::format(R"({{"id":"{}","modified":"{}",{}"affected":[{{"package":{{"ecosystem":"PyPI","name":"{}"}},
    "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}"}}]}}]}}],
    "database_specific":{{"severity":"HIGH"}}}})",
                     id, modified, withdrawn ? "\"withdrawn\":\"2030-01-01T00:00:00Z\"," : "", package, fixed);
}

FindingFilter with_status(FindingStatus s) {
  FindingFilter f;
  f.status = s;
  return f;
}

FindingFilter with_vulnerability(std::string id) {
  FindingFilter f;
  f.vulnerability = std::move(id);
  return f;
}

class InventoryStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = fresh_store(GetParam(), dir_.path());
    if (url_.empty()) GTEST_SKIP() << "VOUCH_TEST_POSTGRES_URL is not set (tests/integration/inventory_rescan.sh sets it)";
    auto s = open_inventory_store(url_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<InventoryStore> store_;
};

TEST_P(InventoryStoreTest, FindingLifecycleAndOutbox) {
  ASSERT_TRUE(store_->put_image(image("sha256:01", "reg/app", 100), python_image("2.10", "1.0")).ok());
  auto r = store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, 100);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->opened.size(), 1u);

  // Seen again: no event, last seen moves.
  r = store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, 200);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->opened.empty());
  EXPECT_EQ(r->still_active, 1u);

  // A rescan of another package leaves CVE-1 alone; one of p1 that no longer matches closes it.
  r = store_->reconcile("sha256:01", {"p2"}, {}, 250);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->closed.empty());
  r = store_->reconcile("sha256:01", {"p1"}, {}, 300);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->closed.size(), 1u);
  auto closed = store_->findings(with_status(FindingStatus::kClosed));
  ASSERT_TRUE(closed.ok());
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0].first_seen, 100);
  EXPECT_EQ((*closed)[0].last_seen, 200);
  EXPECT_EQ((*closed)[0].closed_at, 300);
  EXPECT_EQ((*closed)[0].repository, "reg/app");

  // Back again within 7 days of closing: reopened, the same finding.
  r = store_->reconcile("sha256:01", {"p1"}, {finding("CVE-1", "p1")}, 400);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->opened.empty());
  ASSERT_EQ(r->reopened.size(), 1u);
  EXPECT_EQ(r->reopened[0].first_seen, 100);

  // By alias.
  auto by_alias = store_->findings(with_vulnerability("GHSA-aaaa-bbbb-cccc"));
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(by_alias->size(), 1u);

  // Outbox: opened, closed, reopened, in order; delivered ones are not listed again.
  auto due = store_->undelivered_events(10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 3u);
  EXPECT_EQ((*due)[0].kind, "opened");
  EXPECT_EQ((*due)[1].kind, "closed");
  EXPECT_EQ((*due)[2].kind, "reopened");
  EXPECT_EQ((*due)[1].finding.vulnerability, "CVE-1");
  EXPECT_EQ((*due)[1].finding.digest, "sha256:01");
  ASSERT_TRUE(store_->delivered((*due)[0].id, 1000).ok());
  ASSERT_TRUE(store_->delivery_failed((*due)[1].id, 2000, "connection refused").ok());
  due = store_->undelivered_events(10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].next_attempt, 2000);  // the failed one waits for its next attempt
  EXPECT_EQ((*due)[0].attempts, 1);
  EXPECT_EQ(store_->pending_events().value(), 2);

  // Suppression keeps the finding out of the active list while it matches.
  ASSERT_EQ(store_->suppress("CVE-1", "", "not reachable", true, 500).value(), 1u);
  r = store_->reconcile("sha256:01", {"p1"}, {finding("CVE-1", "p1")}, 600);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->opened.empty());
  auto suppressed = store_->findings(with_status(FindingStatus::kSuppressed));
  ASSERT_EQ(suppressed->size(), 1u);
  EXPECT_EQ((*suppressed)[0].reason, "not reachable");
}

TEST_P(InventoryStoreTest, PackageIndexAndRetention) {
  ASSERT_TRUE(store_->put_image(image("sha256:01", "reg/a", 100), python_image("2.10", "1.0")).ok());
  ASSERT_TRUE(store_->put_image(image("sha256:02", "reg/b", 5000), python_image("3.1", "2.0")).ok());
  auto holding = store_->images_holding({{"PyPI", "Jinja2"}});
  ASSERT_TRUE(holding.ok()) << holding.error().message;
  ASSERT_EQ(holding->size(), 2u);
  EXPECT_EQ((*holding)[0].second, std::vector<std::string>{"p1"});
  auto named = store_->packages_named("pypi", "jinja2", false);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->size(), 2u);

  ASSERT_TRUE(store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, 100).ok());
  auto expired = store_->expire(1000, 6000);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, std::vector<std::string>{"sha256:01"});
  auto open = store_->findings(with_status(FindingStatus::kActive));
  EXPECT_TRUE(open->empty());
  auto closed = store_->findings(with_status(FindingStatus::kClosed));
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0].reason, "image inactive");
  holding = store_->images_holding({{"PyPI", "jinja2"}});
  ASSERT_EQ(holding->size(), 1u);  // inactive images are not rescanned
  EXPECT_EQ((*holding)[0].first, "sha256:02");

  // Seen again: active again, tags merged.
  Image again = image("sha256:01", "reg/a", 7000);
  again.tags = {"v2"};
  ASSERT_TRUE(store_->put_image(again, python_image("2.10", "1.0")).ok());
  auto img = store_->image("sha256:01");
  ASSERT_TRUE(img.ok() && img->has_value());
  EXPECT_TRUE((*img)->active);
  EXPECT_EQ((*img)->tags, (std::vector<std::string>{"latest", "v2"}));
  EXPECT_EQ((*img)->first_seen, 100);
  EXPECT_EQ((*img)->packages, 2);
}

TEST_P(InventoryStoreTest, RescanOpensAndClosesOnlyWhatChanged) {
  fs::path in = dir_.path() / "osv", vdb = dir_.path() / "vulns" / "vulnerabilities.db";
  fs::create_directories(in);
  ASSERT_TRUE(write_file_atomic(in / "a.json", record("PYSEC-A", "2024-01-01T00:00:00Z", "jinja2", "2.11")).ok());
  ASSERT_TRUE(write_file_atomic(in / "w.json", record("PYSEC-W", "2024-01-01T00:00:00Z", "werkzeug", "9.0")).ok());
  ASSERT_TRUE(vuln::update_from_osv(vdb, {in}, "t").ok());
  auto vulns = vuln::open_sqlite_store(vdb, false);
  ASSERT_TRUE(vulns.ok());

  auto added = add_and_scan(*store_, **vulns, vdb, image("sha256:01", "reg/old", now_unix()), python_image("2.10", "1.0"));
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_EQ(added->opened.size(), 1u);
  EXPECT_EQ(added->opened[0].vulnerability, "PYSEC-A");
  ASSERT_TRUE(add_and_scan(*store_, **vulns, vdb, image("sha256:02", "reg/new", now_unix()), python_image("3.1", "1.0")).ok());
  EXPECT_EQ(store_->rescanned_through().value(), 1);

  // PYSEC-A now fixed in 2.10 (2.10 no longer affected), PYSEC-F new for flask < 2.0.
  ASSERT_TRUE(write_file_atomic(in / "a.json", record("PYSEC-A", "2024-02-01T00:00:00Z", "jinja2", "2.10")).ok());
  ASSERT_TRUE(write_file_atomic(in / "f.json", record("PYSEC-F", "2024-02-01T00:00:00Z", "flask", "2.0")).ok());
  vulns->reset();
  ASSERT_TRUE(vuln::update_from_osv(vdb, {in}, "t").ok());
  vulns = vuln::open_sqlite_store(vdb, false);
  ASSERT_TRUE(vulns.ok());
  auto r = rescan(*store_, **vulns, vdb, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->from_seq, 1);
  EXPECT_EQ(r->to_seq, 2);
  EXPECT_EQ(r->changed_records, 2u);
  EXPECT_EQ(r->images, 2u);
  EXPECT_EQ(r->closed, 1u);  // PYSEC-A on sha256:01
  EXPECT_EQ(r->opened, 2u);  // PYSEC-F on both
  auto active = store_->findings(with_status(FindingStatus::kActive));
  ASSERT_EQ(active->size(), 2u);
  for (const auto& f : *active) EXPECT_EQ(f.vulnerability, "PYSEC-F");

  // Nothing new: nothing matched again.
  r = rescan(*store_, **vulns, vdb, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->images, 0u);

  // PYSEC-F withdrawn: its findings close.
  ASSERT_TRUE(write_file_atomic(in / "f.json", record("PYSEC-F", "2024-03-01T00:00:00Z", "flask", "2.0", true)).ok());
  vulns->reset();
  ASSERT_TRUE(vuln::update_from_osv(vdb, {in}, "t").ok());
  vulns = vuln::open_sqlite_store(vdb, false);
  r = rescan(*store_, **vulns, vdb, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->closed, 2u);
  active = store_->findings(with_status(FindingStatus::kActive));
  EXPECT_TRUE(active->empty());
}

constexpr UnixSeconds kDay = 86400;

// ECR's lifecycle on a controlled clock: a closed finding back within 7 days of closing reopens
// (same finding, first seen kept); back later, a new finding opens and the closed one stays
// listed until closed findings are deleted, 30 days after closing.
TEST_P(InventoryStoreTest, ReopensWithinSevenDaysElseOpensANewFinding) {
  const UnixSeconds t0 = 1'700'000'000;
  ASSERT_TRUE(store_->put_image(image("sha256:01", "reg/app", t0), python_image("2.10", "1.0")).ok());
  ASSERT_EQ(store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, t0)->opened.size(), 1u);
  const UnixSeconds closed1 = t0 + kDay;
  ASSERT_EQ(store_->reconcile("sha256:01", {}, {}, closed1)->closed.size(), 1u);

  // 6 days 23 hours after closing: reopened.
  auto r = store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, closed1 + 7 * kDay - 3600);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->opened.empty());
  ASSERT_EQ(r->reopened.size(), 1u);
  auto all = store_->findings({});
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].status, FindingStatus::kActive);
  EXPECT_EQ((*all)[0].first_seen, t0);
  EXPECT_FALSE((*all)[0].closed_at.has_value());

  // Closed again, back 8 days later: a new finding; the closed one is still listed.
  const UnixSeconds closed2 = closed1 + 10 * kDay;
  ASSERT_EQ(store_->reconcile("sha256:01", {}, {}, closed2)->closed.size(), 1u);
  const UnixSeconds back = closed2 + 8 * kDay;
  r = store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, back);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->reopened.empty());
  ASSERT_EQ(r->opened.size(), 1u);
  EXPECT_EQ(r->opened[0].first_seen, back);
  auto active = store_->findings(with_status(FindingStatus::kActive));
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].first_seen, back);
  auto closed = store_->findings(with_status(FindingStatus::kClosed));
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0].first_seen, t0);
  EXPECT_EQ((*closed)[0].closed_at, closed2);
  EXPECT_EQ(store_->findings({})->size(), 2u);
  EXPECT_EQ(store_->findings(with_vulnerability("GHSA-aaaa-bbbb-cccc"))->size(), 2u);

  // A window of 0 days: even a finding closed a second ago comes back as a new one.
  ASSERT_EQ(store_->reconcile("sha256:01", {}, {}, back + 10)->closed.size(), 1u);
  r = store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1")}, back + 11, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->opened.size(), 1u);
  EXPECT_EQ(store_->findings(with_status(FindingStatus::kClosed))->size(), 2u);

  // Deleted 30 days after closing: the one closed at closed2 goes first, then the other.
  EXPECT_EQ(store_->purge_closed(closed2 + 29 * kDay - 30 * kDay).value(), 0u);
  EXPECT_EQ(store_->purge_closed(closed2 + 31 * kDay - 30 * kDay).value(), 1u);
  EXPECT_EQ(store_->findings(with_status(FindingStatus::kClosed))->size(), 1u);
  EXPECT_EQ(store_->purge_closed(back + 10 + 31 * kDay - 30 * kDay).value(), 1u);
  EXPECT_TRUE(store_->findings(with_status(FindingStatus::kClosed))->empty());
  EXPECT_EQ(store_->findings(with_status(FindingStatus::kActive))->size(), 1u);  // open ones are never deleted

  auto due = store_->undelivered_events(20);
  std::vector<std::string> kinds;
  for (const auto& e : *due) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"opened", "closed", "reopened", "closed", "opened", "closed", "opened"}));
}

// The same rules through `rescan` and its options, with retention: an image neither pushed nor
// seen for 14 days goes inactive and its findings close; they are deleted 30 days later; the
// image itself stays (inactive) for `images --all` and `query --all`.
TEST_P(InventoryStoreTest, RescanAppliesRetentionAndDeletesClosedFindingsOnAControlledClock) {
  fs::path in = dir_.path() / "osv", vdb = dir_.path() / "vulns" / "vulnerabilities.db";
  fs::create_directories(in);
  ASSERT_TRUE(write_file_atomic(in / "a.json", record("PYSEC-A", "2024-01-01T00:00:00Z", "jinja2", "2.11")).ok());
  ASSERT_TRUE(vuln::update_from_osv(vdb, {in}, "t").ok());
  auto vulns = vuln::open_sqlite_store(vdb, false);
  ASSERT_TRUE(vulns.ok());
  const UnixSeconds t0 = 1'700'000'000;
  ASSERT_TRUE(add_and_scan(*store_, **vulns, vdb, image("sha256:01", "reg/old", t0), python_image("2.10", "1.0")).ok());
  ASSERT_TRUE(add_and_scan(*store_, **vulns, vdb, image("sha256:02", "reg/new", t0 + 10 * kDay), python_image("2.10", "1.0")).ok());

  RescanOptions o;
  o.retention_days = 14;
  o.now = t0 + 15 * kDay;
  auto r = rescan(*store_, **vulns, vdb, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->expired, std::vector<std::string>{"sha256:01"});
  EXPECT_EQ(r->purged, 0u);
  auto closed = store_->findings(with_status(FindingStatus::kClosed));
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0].reason, "image inactive");
  EXPECT_EQ((*closed)[0].closed_at, t0 + 15 * kDay);

  o.retention_days = 0;
  o.now = t0 + 15 * kDay + 29 * kDay;
  r = rescan(*store_, **vulns, vdb, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->purged, 0u);
  o.delete_closed_days = 0;  // 0 keeps closed findings
  o.now = t0 + 15 * kDay + 40 * kDay;
  EXPECT_EQ(rescan(*store_, **vulns, vdb, o)->purged, 0u);
  o.delete_closed_days = 30;
  r = rescan(*store_, **vulns, vdb, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->purged, 1u);
  EXPECT_TRUE(store_->findings(with_status(FindingStatus::kClosed))->empty());
  EXPECT_EQ(store_->findings(with_status(FindingStatus::kActive))->size(), 1u);  // sha256:02's
  auto images = store_->images(true);
  ASSERT_EQ(images->size(), 2u);
  EXPECT_FALSE((*images)[1].active);  // reg/old, sorted after reg/new
  o.reopen_days = -1;
  EXPECT_FALSE(rescan(*store_, **vulns, vdb, o).ok());
}

TEST_P(InventoryStoreTest, SbomSourceIsKept) {
  Image i = image("sha256:01", "reg/app", 100);
  i.sbom_source.kind = "attestation";
  i.sbom_source.predicate_type = "https://cyclonedx.org/bom";
  i.sbom_source.digest = "sha256:abcd";
  i.sbom_source.signer = "key sha256:00";
  ASSERT_TRUE(store_->put_image(i, python_image("2.10", "1.0")).ok());
  auto got = store_->image("sha256:01");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->sbom_source.kind, "attestation");
  EXPECT_EQ((*got)->sbom_source.signer, "key sha256:00");
  EXPECT_EQ(image_json(**got).at("sbomSource").at("predicateType"), "https://cyclonedx.org/bom");
  i.sbom_source = {};
  i.sbom_source.note = "no attestation verified";
  ASSERT_TRUE(store_->put_image(i, python_image("2.10", "1.0")).ok());
  got = store_->image("sha256:01");
  EXPECT_EQ((*got)->sbom_source.kind, "catalogued");
  EXPECT_EQ((*got)->sbom_source.note, "no attestation verified");
}

// What `inventory add` verified is kept with the image and replaced when it is added again.
TEST_P(InventoryStoreTest, VerificationsAreKeptAndReplaced) {
  Image i = image("sha256:01", "reg/app", 100);
  ImageVerification signature;
  signature.kind = "signature";
  signature.verified = true;
  signature.signer = "key sha256:00";
  signature.signed_at = "2026-12-01T10:00:00Z";
  signature.log_indexes = {7, 9};
  ImageVerification provenance;
  provenance.kind = "provenance";
  provenance.predicate_type = "https://slsa.dev/provenance/v1";
  provenance.reason = "no signatures found";
  i.verifications = {signature, provenance};
  ASSERT_TRUE(store_->put_image(i, python_image("2.10", "1.0")).ok());
  auto got = store_->image("sha256:01");
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_EQ((*got)->verifications.size(), 2u);
  EXPECT_EQ((*got)->verifications[0].log_indexes, (std::vector<int64_t>{7, 9}));
  EXPECT_EQ((*got)->verifications[0].signed_at, "2026-12-01T10:00:00Z");
  EXPECT_FALSE((*got)->verifications[1].verified);
  EXPECT_EQ((*got)->verifications[1].reason, "no signatures found");
  EXPECT_EQ(boost::json::serialize(image_json(**got).at("verifications").at(0)),
            R"({"kind":"signature","verified":true,"signer":"key sha256:00","signedAt":"2026-12-01T10:00:00Z","logIndexes":[7,9]})");
  i.verifications.clear();
  ASSERT_TRUE(store_->put_image(i, python_image("2.10", "1.0")).ok());
  EXPECT_TRUE((*store_->image("sha256:01"))->verifications.empty());
}

// A sink that fails when told to and remembers what it took.
class RecordingSink final : public AlertSink {
 public:
  Status deliver(const FindingEvent& event) override {
    if (fail_next) {
      fail_next = false;
      return io_error("sink down");
    }
    taken.push_back(event.id);
    return ok_status();
  }
  bool fail_next = false;
  std::vector<int64_t> taken;
};

TEST_P(InventoryStoreTest, AlertsRetryWithBackoffInOrderAndFilterBySeverity) {
  ASSERT_TRUE(store_->put_image(image("sha256:01", "reg/app", 100), python_image("2.10", "1.0")).ok());
  ASSERT_TRUE(store_->reconcile("sha256:01", {}, {finding("CVE-1", "p1", "Critical"), finding("CVE-2", "p1", "Low"),
                                                  finding("CVE-3", "p2", "High")},
                                100)
                  .ok());
  RecordingSink sink;
  sink.fail_next = true;
  DeliveryOptions options;  // at or above High
  auto r = deliver_due(*store_, sink, options, 1000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->failed, 1u);
  EXPECT_TRUE(sink.taken.empty());  // stopped at the first failure: order kept
  r = deliver_due(*store_, sink, options, 1001);  // backoff: not due yet
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delivered + r->failed + r->below_threshold, 0u);
  r = deliver_due(*store_, sink, options, 1002);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->delivered, 2u);
  EXPECT_EQ(r->below_threshold, 1u);
  ASSERT_EQ(sink.taken.size(), 2u);
  EXPECT_LT(sink.taken[0], sink.taken[1]);
  EXPECT_EQ(store_->pending_events().value(), 0);
  auto event = cloud_event(FindingEvent{7, "opened", finding("CVE-1", "p1"), 100, 0});
  EXPECT_EQ(event["id"], "vouch-inventory-7");
  EXPECT_EQ(event["type"], "dev.vouch.inventory.finding.opened");
  EXPECT_FALSE(make_sink("ftp://x").ok());
}

INSTANTIATE_TEST_SUITE_P(Inventory, InventoryStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(InventoryQuery, VersionRangesInTheEcosystemsOwnOrdering) {
  testing::TempDir t;
  auto store = open_inventory_store((t.path() / "inv.db").string());
  ASSERT_TRUE(store.ok());
  int n = 0;
  for (const char* v : {"2.14.1", "2.17.1", "2.3", "2.17.0-rc1"}) {
    sbom::Sbom doc;
    doc.packages.push_back(pkg("j", "log4j-core", v, fmt::format("pkg:maven/org.apache.logging.log4j/log4j-core@{}", v),
                               "java-archive"));
    ASSERT_TRUE((*store)->put_image(image(fmt::format("sha256:0{}", ++n), "reg/java", 100), doc).ok());
  }
  auto q = query_packages(**store, "pkg:maven/org.apache.logging.log4j/log4j-core", "<2.17.0", false);
  ASSERT_TRUE(q.ok()) << q.error().message;
  std::vector<std::string> versions;
  for (const auto& h : q->hits) versions.push_back(h.version);
  std::sort(versions.begin(), versions.end());
  // Maven: 2.3 < 2.14.1 < 2.17.0-rc1 < 2.17.0 (a plain string order would put 2.3 last).
  EXPECT_EQ(versions, (std::vector<std::string>{"2.14.1", "2.17.0-rc1", "2.3"}));
  q = query_packages(**store, "pkg:maven/org.apache.logging.log4j/log4j-core@9", ">=2.14,<2.17.0,!=2.17.0-rc1", false);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->hits.size(), 1u);
  EXPECT_EQ(q->hits[0].version, "2.14.1");
  EXPECT_EQ(query_packages(**store, "pkg:maven/org.apache.logging.log4j/log4j-core", "", false)->hits.size(), 4u);
  EXPECT_FALSE(parse_constraint("<").ok());
  EXPECT_FALSE(parse_constraint("").ok());
  EXPECT_FALSE(query_packages(**store, "not a purl", "<1", false).ok());
}

TEST(InventoryRow, SeveritySourceNamesTheScoringRecord) {
  vuln::Finding f;
  f.id = "CVE-2019-10906";
  f.records = {"PYSEC-2019-217"};
  f.severity = vuln::Severity::kHigh;
  f.score = 8.6;
  f.severity_source = "CVSS_V3";
  f.scored_by = "GHSA-462w-v97r-4m45";
  FindingRow r = row_from_finding(f);
  EXPECT_EQ(r.severity, "High");
  EXPECT_EQ(r.score, "8.6");
  EXPECT_EQ(r.severity_source, "GHSA-462w-v97r-4m45 CVSS_V3");
  f.scored_by.clear();
  EXPECT_EQ(row_from_finding(f).severity_source, "CVSS_V3");
}

}  // namespace
}  // namespace vouch::inventory
