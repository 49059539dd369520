#include "vouch/ui/dashboard.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/crypto/digest.h"
#include "vouch/base/json.h"
#include "vouch/ui/app.h"

namespace vouch::ui {
namespace {

namespace bj = boost::json;
using admission::RecordedResult;
using policy::FailureAction;
using policy::RuleStatus;

constexpr UnixSeconds kNow = 1'700'000'000;
constexpr UnixSeconds kDay = 86400;
const std::string kDigest = "sha256:" + std::string(64, 'a');
const std::string kOtherDigest = "sha256:" + std::string(64, 'b');

RecordedResult result(std::string ns, std::string name, RuleStatus status, UnixSeconds when,
                      std::string rule = "no-latest-tag") {
  RecordedResult r;
  r.result.policy = "image-hygiene";
  r.result.rule = std::move(rule);
  r.result.type = "Validation";
  r.result.status = status;
  r.result.message = status == RuleStatus::kPass ? "validation rule passed" : "The :latest tag is not allowed.";
  r.result.action = FailureAction::kAudit;
  r.resource = {"v1", "Pod", std::move(name), std::move(ns)};
  r.resource_uid = "uid-" + r.resource.name;
  r.process = std::string(admission::kProcessAdmission);
  r.when = when;
  return r;
}

net::HttpRequest get(std::string path, std::multimap<std::string, std::string> query = {}) {
  net::HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.target = r.path;
  r.query = std::move(query);
  r.peer_is_loopback = true;
  return r;
}

bj::object body_of(const net::HttpResponse& r) {
  auto v = json::parse(r.body);
  EXPECT_TRUE(v.ok()) << r.body;
  return v.ok() && v->is_object() ? v->get_object() : bj::object{};
}

constexpr std::string_view kPolicy = R"(
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: image-hygiene
spec:
  validationFailureAction: Audit
  rules:
    - name: no-latest-tag
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "The :latest tag is not allowed."
        pattern:
          spec:
            containers:
              - image: "!*:latest"
)";

class FakeLog final : public LogReader {
 public:
  const std::string& url() const override { return url_; }
  Result<tlog::RekorLogInfo> info() override {
    if (down) return io_error("connection refused");
    tlog::RekorLogInfo i;
    i.tree_size = 3;
    i.root_hash = Bytes(32, 0xab);
    i.tree_id = "42";
    i.signed_tree_head = "log.example - 42\n3\nq80=\n\n— log.example sig\n";
    return i;
  }
  Result<std::vector<std::string>> search(const std::optional<std::string>& hash,
                                          const std::optional<std::string>& email) override {
    searched_hash = hash.value_or("");
    searched_email = email.value_or("");
    if (hash && *hash == kDigest) return std::vector<std::string>{"u1"};
    return std::vector<std::string>{};
  }
  Result<tlog::RekorLogEntry> entry(const std::string& uuid) override {
    tlog::RekorLogEntry e;
    e.uuid = uuid;
    e.body = R"({"apiVersion":"0.0.1","kind":"dsse","spec":{}})";
    e.log_index = 7;
    e.integrated_time = kNow;
    e.log_id = Bytes(32, 1);
    return e;
  }
  bool down = false;
  std::string searched_hash, searched_email;

 private:
  std::string url_ = "http://127.0.0.1:1";
};

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The history is pruned against the store's clock: the test's time, not today's.
    admission::ReportStoreOptions ro;
    ro.clock = [] { return kNow; };
    auto store = admission::open_report_store((dir_.path() / "reports.db").string(), ro);
    ASSERT_TRUE(store.ok()) << store.error().message;
    reports_ = std::move(*store);
    auto inv = inventory::open_inventory_store((dir_.path() / "inventory.db").string());
    ASSERT_TRUE(inv.ok()) << inv.error().message;
    inventory_ = std::move(*inv);
    log_ = std::make_shared<FakeLog>();
  }

  // shop: audited for 20 days, failed 18 days ago only (GO); dev: fails today (NO-GO).
  void fill_reports() {
    std::vector<RecordedResult> rs{
        result("shop", "web", RuleStatus::kFail, kNow - 20 * kDay),
        result("shop", "web", RuleStatus::kPass, kNow - 2 * kDay - 60),
        result("shop", "api", RuleStatus::kPass, kNow - 20 * kDay),
        result("shop", "api", RuleStatus::kPass, kNow - kDay - 60),
        result("dev", "tool", RuleStatus::kPass, kNow - 20 * kDay),
        result("dev", "tool", RuleStatus::kFail, kNow - 3600),
    };
    for (int i = 0; i < 120; ++i) rs.push_back(result("load", fmt::format("pod-{:03}", i), i % 3 ? RuleStatus::kPass : RuleStatus::kFail, kNow - 600 - i));
    ASSERT_TRUE(reports_->record(rs).ok());
  }

  void fill_inventory() {
    inventory::Image img;
    img.digest = kDigest;
    img.repository = "registry.example/shop/web";
    img.tags = {"v1"};
    img.platform = "linux/amd64";
    img.first_seen = img.last_seen = kNow - 10 * kDay;
    sbom::Sbom s;
    s.distro = sbom::Distro{"debian", "12", "Debian GNU/Linux 12 (bookworm)"};
    for (auto [name, version] : {std::pair{"jinja2", "2.10"}, std::pair{"urllib3", "1.26.0"}}) {
      sbom::Package p;
      p.id = name;
      p.name = name;
      p.version = version;
      p.type = "python";
      p.purl = fmt::format("pkg:pypi/{}@{}", name, version);
      s.packages.push_back(p);
    }
    ASSERT_TRUE(inventory_->put_image(img, s).ok());
    auto finding = [&](std::string id, std::string severity, std::string pkg) {
      inventory::FindingRow f;
      f.digest = kDigest;
      f.repository = img.repository;
      f.vulnerability = std::move(id);
      f.package_id = pkg;
      f.package_name = pkg;
      f.package_version = "1";
      f.package_type = "python";
      f.ecosystem = "PyPI";
      f.severity = std::move(severity);
      f.summary = "a flaw";
      return f;
    };
    auto rec = inventory_->reconcile(kDigest, {}, {finding("CVE-2024-0001", "High", "jinja2"),
                                                   finding("CVE-2024-0002", "Low", "urllib3")},
                                     kNow - 2 * kDay);
    ASSERT_TRUE(rec.ok()) << rec.error().message;
    // The Low one is gone at the next scan: closed.
    rec = inventory_->reconcile(kDigest, {}, {finding("CVE-2024-0001", "High", "jinja2")}, kNow - kDay);
    ASSERT_TRUE(rec.ok()) << rec.error().message;
  }

  Dashboard make(bool with_policies = false) {
    DashboardOptions o;
    o.reports = reports_;
    o.reports_url = "reports.db";
    o.inventory = inventory_;
    o.inventory_url = "inventory.db";
    o.log = log_;
    o.clock = [] { return kNow; };
    o.cache_for = std::chrono::milliseconds(0);
    if (with_policies) {
      o.policies = [] { return policy::parse_policies(kPolicy, "policy.yaml"); };
      o.policies_source = "policy.yaml";
    }
    return Dashboard(std::move(o));
  }

  testing::TempDir dir_;
  std::shared_ptr<admission::ReportStore> reports_;
  std::shared_ptr<inventory::InventoryStore> inventory_;
  std::shared_ptr<FakeLog> log_;
};

TEST_F(DashboardTest, ResultsAreFilteredCountedAndPaged) {
  fill_reports();
  Dashboard d = make();
  auto all = body_of(d.handle(get("/api/reports/results")));
  EXPECT_EQ(all["total"].as_int64(), 123);  // the latest result per resource and rule
  EXPECT_EQ(all["items"].as_array().size(), 50u);
  EXPECT_EQ(all["counts"].at("fail").as_int64(), 41);  // 40 of load, dev/tool
  // Newest first by default.
  EXPECT_EQ(all["items"].as_array()[0].at("name").as_string(), "pod-000");

  auto fails = body_of(d.handle(get("/api/reports/results", {{"result", "fail"}, {"namespace", "load"}, {"limit", "10"}, {"offset", "35"}})));
  EXPECT_EQ(fails["total"].as_int64(), 40);
  EXPECT_EQ(fails["items"].as_array().size(), 5u);
  for (const auto& i : fails["items"].as_array()) {
    EXPECT_EQ(i.at("result").as_string(), "fail");
    EXPECT_EQ(i.at("namespace").as_string(), "load");
  }
  // The counts offered beside the filter ignore the status filter itself.
  EXPECT_EQ(fails["counts"].at("pass").as_int64(), 80);

  auto search = body_of(d.handle(get("/api/reports/results", {{"q", "POD-007"}})));
  EXPECT_EQ(search["total"].as_int64(), 1);
  auto by_name = body_of(d.handle(get("/api/reports/results", {{"namespace", "shop"}, {"name", "web"}, {"kind", "Pod"}})));
  ASSERT_EQ(by_name["total"].as_int64(), 1);
  EXPECT_EQ(by_name["items"].as_array()[0].at("result").as_string(), "pass");  // the latest result
  auto sorted = body_of(d.handle(get("/api/reports/results", {{"sort", "result"}, {"limit", "1"}})));
  EXPECT_EQ(sorted["items"].as_array()[0].at("result").as_string(), "fail");

  for (auto [k, v] : {std::pair{"limit", "0"}, std::pair{"limit", "abc"}, std::pair{"offset", "-1"},
                      std::pair{"result", "maybe"}, std::pair{"sort", "color"}, std::pair{"order", "up"}}) {
    auto r = d.handle(get("/api/reports/results", {{k, v}}));
    EXPECT_EQ(r.status, 400) << k << "=" << v;
    EXPECT_TRUE(body_of(r).contains("error"));
  }
}

// Results as the PolicyReports give them: a failure of an unscored policy is a warn, and the
// rule's reportProperties come along.
TEST_F(DashboardTest, UnscoredFailuresAreWarningsWithTheRulesProperties) {
  RecordedResult advisory = result("shop", "web", RuleStatus::kFail, kNow - 10, "pin-versions");
  advisory.result.policy = "advisory";
  advisory.result.scored = false;
  advisory.result.properties = {{"category", "Best Practices"}};
  ASSERT_TRUE(reports_->record({advisory, result("shop", "api", RuleStatus::kFail, kNow - 10)}).ok());
  Dashboard d = make();
  auto all = body_of(d.handle(get("/api/reports/results")));
  ASSERT_EQ(all["total"].as_int64(), 2);
  EXPECT_EQ(all["counts"].at("warn").as_int64(), 1);
  EXPECT_EQ(all["counts"].at("fail").as_int64(), 1);
  auto warned = body_of(d.handle(get("/api/reports/results", {{"result", "warn"}})));
  ASSERT_EQ(warned["total"].as_int64(), 1);
  const auto& item = warned["items"].as_array()[0].as_object();
  EXPECT_EQ(item.at("policy").as_string(), "advisory");
  EXPECT_FALSE(item.at("scored").as_bool());
  EXPECT_EQ(item.at("properties").at("category").as_string(), "Best Practices");
  auto failed = body_of(d.handle(get("/api/reports/results", {{"result", "fail"}})));
  ASSERT_EQ(failed["total"].as_int64(), 1);
  EXPECT_TRUE(failed["items"].as_array()[0].at("scored").as_bool());
  EXPECT_FALSE(failed["items"].as_array()[0].as_object().contains("properties"));
  auto summary = body_of(d.handle(get("/api/reports/summary")));
  EXPECT_EQ(summary["totals"].at("warn").as_int64(), 1);
  EXPECT_EQ(summary["totals"].at("fail").as_int64(), 1);
}

TEST_F(DashboardTest, SummaryAndTrend) {
  fill_reports();
  Dashboard d = make();
  auto s = body_of(d.handle(get("/api/reports/summary")));
  EXPECT_EQ(s["totals"].at("fail").as_int64(), 41);
  EXPECT_EQ(s["resources"].as_int64(), 123);
  ASSERT_EQ(s["namespaces"].as_array().size(), 3u);
  EXPECT_EQ(s["namespaces"].as_array()[0].at("namespace").as_string(), "dev");
  EXPECT_EQ(s["policies"].as_array()[0].at("rules").as_array()[0].as_string(), "no-latest-tag");

  auto t = body_of(d.handle(get("/api/reports/trend", {{"days", "3"}})));
  auto& buckets = t["buckets"].as_array();
  ASSERT_EQ(buckets.size(), 3u);
  // The last 24 hours: dev's fail and the 120 load results; the day before: shop/api's pass; the
  // one before: shop/web's pass.
  EXPECT_EQ(buckets[2].at("fail").as_int64(), 41);
  EXPECT_EQ(buckets[2].at("pass").as_int64(), 80);
  EXPECT_EQ(buckets[1].at("pass").as_int64(), 1);
  EXPECT_EQ(buckets[0].at("pass").as_int64(), 1);
  auto shop = body_of(d.handle(get("/api/reports/trend", {{"days", "21"}, {"namespace", "shop"}})));
  int64_t fails = 0, passes = 0;
  for (const auto& b : shop["buckets"].as_array()) {
    fails += b.at("fail").as_int64();
    passes += b.at("pass").as_int64();
  }
  EXPECT_EQ(fails, 1);
  EXPECT_EQ(passes, 3);
  EXPECT_EQ(d.handle(get("/api/reports/trend", {{"days", "91"}})).status, 400);
}

TEST_F(DashboardTest, LadderShowsGoNoGoAndThePlan) {
  fill_reports();
  Dashboard d = make(true);
  auto l = body_of(d.handle(get("/api/ladder", {{"days", "14"}})));
  ASSERT_EQ(l["rules"].as_array().size(), 1u);
  const auto& rule = l["rules"].as_array()[0].as_object();
  EXPECT_EQ(rule.at("fullEnforce").at("verdict").as_string(), "NO-GO");
  std::map<std::string, std::string> verdicts;
  std::map<std::string, int64_t> quiet;
  for (const auto& n : rule.at("namespaces").as_array()) {
    verdicts[std::string(n.at("namespace").as_string())] = std::string(n.at("verdict").as_string());
    quiet[std::string(n.at("namespace").as_string())] = n.at("daysWithoutFailures").as_int64();
  }
  EXPECT_EQ(verdicts["shop"], "GO");
  EXPECT_EQ(verdicts["dev"], "NO-GO");
  EXPECT_EQ(quiet["shop"], 14);  // at least the window
  EXPECT_EQ(quiet["dev"], 0);
  const auto& plan = l["plan"].as_object();
  EXPECT_TRUE(plan.at("available").as_bool());
  ASSERT_EQ(plan.at("changes").as_array().size(), 1u);
  EXPECT_NE(std::string(plan.at("changes").as_array()[0].as_string()).find("shop"), std::string::npos);
  EXPECT_NE(std::string(plan.at("yaml").as_string()).find("failureActionOverrides"), std::string::npos);

  auto no_plan = body_of(make(false).handle(get("/api/ladder")));
  EXPECT_FALSE(no_plan["plan"].at("available").as_bool());
}

TEST_F(DashboardTest, ImagesFindingsAndPackages) {
  fill_inventory();
  Dashboard d = make();
  auto imgs = body_of(d.handle(get("/api/images")));
  ASSERT_EQ(imgs["total"].as_int64(), 1);
  const auto& i = imgs["items"].as_array()[0].as_object();
  EXPECT_EQ(i.at("findings").at("active").as_int64(), 1);
  EXPECT_EQ(i.at("findings").at("activeBySeverity").at("High").as_int64(), 1);
  EXPECT_EQ(i.at("findings").at("closed").as_int64(), 1);
  EXPECT_EQ(body_of(d.handle(get("/api/images", {{"q", "nothing-like-it"}})))["total"].as_int64(), 0);

  auto one = d.handle(get("/api/images/" + kDigest));
  ASSERT_EQ(one.status, 200) << one.body;
  auto img = body_of(one);
  EXPECT_EQ(img["packages"].as_array().size(), 2u);
  EXPECT_EQ(img["distro"].at("id").as_string(), "debian");
  ASSERT_EQ(img["findings"].as_array().size(), 2u);
  EXPECT_EQ(img["log"].at("total").as_int64(), 1);
  EXPECT_EQ(img["log"].at("entries").as_array()[0].at("kind").as_string(), "dsse");
  EXPECT_EQ(log_->searched_hash, kDigest);
  EXPECT_FALSE(img["verification"].at("recorded").as_bool());

  EXPECT_EQ(d.handle(get("/api/images/" + kOtherDigest)).status, 404);
  EXPECT_EQ(d.handle(get("/api/images/sha256:zz")).status, 400);

  auto high = body_of(d.handle(get("/api/findings", {{"severity", "high"}})));
  EXPECT_EQ(high["total"].as_int64(), 1);
  auto closed = body_of(d.handle(get("/api/findings", {{"status", "closed"}})));
  ASSERT_EQ(closed["total"].as_int64(), 1);
  EXPECT_EQ(closed["items"].as_array()[0].at("vulnerability").as_string(), "CVE-2024-0002");
  auto active = body_of(d.handle(get("/api/findings", {{"status", "active"}})));
  EXPECT_TRUE(active["items"].as_array()[0].at("new").as_bool());
  EXPECT_EQ(body_of(d.handle(get("/api/findings", {{"q", "urllib"}})))["total"].as_int64(), 1);
  EXPECT_EQ(d.handle(get("/api/findings", {{"severity", "dire"}})).status, 400);
  EXPECT_EQ(d.handle(get("/api/findings", {{"status", "open"}})).status, 400);
}

TEST_F(DashboardTest, Log) {
  Dashboard d = make();
  EXPECT_EQ(d.stores(), "reports inventory log");
  auto info = body_of(d.handle(get("/api/log")));
  EXPECT_EQ(info["treeSize"].as_int64(), 3);
  EXPECT_EQ(info["origin"].as_string(), "log.example - 42");
  auto found = body_of(d.handle(get("/api/log/search", {{"digest", kDigest}})));
  EXPECT_EQ(found["total"].as_int64(), 1);
  auto by_email = d.handle(get("/api/log/search", {{"email", "dev@example.com"}}));
  EXPECT_EQ(by_email.status, 200);
  EXPECT_EQ(log_->searched_email, "dev@example.com");
  EXPECT_EQ(d.handle(get("/api/log/search")).status, 400);
  EXPECT_EQ(d.handle(get("/api/log/search", {{"digest", "sha256:12"}})).status, 400);
  EXPECT_EQ(d.handle(get("/api/log/search", {{"digest", kDigest}, {"email", "a@b"}})).status, 400);
  log_->down = true;
  auto down = d.handle(get("/api/log"));
  EXPECT_EQ(down.status, 502);
  EXPECT_NE(down.body.find("connection refused"), std::string::npos);
}

TEST_F(DashboardTest, StoresThatAreNotConfigured) {
  Dashboard d(DashboardOptions{});
  for (const char* p : {"/api/reports/results", "/api/ladder", "/api/images", "/api/findings", "/api/log"}) {
    auto r = d.handle(get(p));
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_NE(r.body.find("start vouch ui serve with"), std::string::npos) << r.body;
  }
  auto o = body_of(d.handle(get("/api/overview")));
  EXPECT_FALSE(o["reports"].at("configured").as_bool());
  EXPECT_EQ(d.handle(get("/api/nothing")).status, 404);
}

// ---------------------------------------------------------------- the application around it

TEST(UiAppTest, ReadOnlyAndAssets) {
  UiApp app(std::make_shared<Dashboard>(DashboardOptions{}), {});
  auto page = app.handle(get("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  // The script and style sheet are inlined, and the policy allows exactly them.
  EXPECT_NE(page.body.find("function el(tag"), std::string::npos);
  EXPECT_EQ(page.body.find("src=\"/app.js\""), std::string::npos);
  EXPECT_NE(page.body.find("data-stores=\"\""), std::string::npos);  // no store: the page offers nothing
  bool csp = false;
  const std::string js(find_asset("/app.js")->body);
  const std::string script_hash = "'sha256-" + base64_encode(crypto::sha256(js)) + "'";
  for (const auto& [k, v] : page.headers)
    csp = csp || (k == "Content-Security-Policy" && v.find("script-src 'self' " + script_hash) != std::string::npos &&
                  v.find("'unsafe-inline'") == std::string::npos);
  EXPECT_TRUE(csp);
  EXPECT_EQ(app.handle(get("/app.js")).content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(app.handle(get("/style.css")).status, 200);
  EXPECT_EQ(app.handle(get("/nothing.js")).status, 404);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    auto req = get("/api/overview");
    req.method = method;
    auto r = app.handle(req);
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.headers.front().first, "Allow");
  }
  EXPECT_EQ(app.handle(get("/healthz")).status, 200);
  EXPECT_EQ(app.handle(get("/api/overview")).status, 200);
  auto m = app.handle(get("/metrics"));
  EXPECT_NE(m.body.find("vouch_ui_requests_total{route=\"/api/overview\",status=\"200\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("status=\"405\""), std::string::npos);
  EXPECT_GE(all_assets().size(), 4u);
}

TEST(UiAppTest, BearerToken) {
  UiApp app(std::make_shared<Dashboard>(DashboardOptions{}),
            {.token = "0123456789abcdef-token", .client_certificates = false, .loopback_only = false});
  EXPECT_EQ(app.handle(get("/api/overview")).status, 401);
  EXPECT_EQ(app.handle(get("/metrics")).status, 401);
  auto wrong = get("/api/overview");
  wrong.headers = {{"authorization", "Bearer 0123456789abcdef-tokeX"}};
  EXPECT_EQ(app.handle(wrong).status, 401);
  auto right = get("/api/overview");
  right.headers = {{"authorization", "Bearer 0123456789abcdef-token"}};
  EXPECT_EQ(app.handle(right).status, 200);
  // The pages hold no data and load without the token; probes need none.
  EXPECT_EQ(app.handle(get("/")).status, 200);
  EXPECT_EQ(app.handle(get("/healthz")).status, 200);
}

TEST(UiAppTest, ClientCertificates) {
  UiApp app(std::make_shared<Dashboard>(DashboardOptions{}), {.token = "", .client_certificates = true, .loopback_only = false});
  EXPECT_EQ(app.handle(get("/api/overview")).status, 401);
  auto with_cert = get("/api/overview");
  with_cert.client_subject = "/CN=ops";
  EXPECT_EQ(app.handle(with_cert).status, 200);
}

TEST(UiAppTest, Exposure) {
  EXPECT_TRUE(is_loopback_listen("127.0.0.1:8080"));
  EXPECT_TRUE(is_loopback_listen("127.1.2.3:0"));
  EXPECT_TRUE(is_loopback_listen("[::1]:8080"));
  EXPECT_TRUE(is_loopback_listen("localhost:8080"));
  EXPECT_FALSE(is_loopback_listen("0.0.0.0:8080"));
  EXPECT_FALSE(is_loopback_listen("[::]:8080"));
  EXPECT_FALSE(is_loopback_listen("10.0.0.5:8080"));
  EXPECT_FALSE(is_loopback_listen("dashboard.example:8080"));
  EXPECT_TRUE(check_exposure("127.0.0.1:8080", false, false, false).ok());
  auto bare = check_exposure("0.0.0.0:8080", false, false, false);
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("needs credentials"), std::string::npos);
  EXPECT_FALSE(check_exposure("0.0.0.0:8080", false, true, false).ok());  // a token in the clear
  EXPECT_TRUE(check_exposure("0.0.0.0:8080", true, true, false).ok());
  EXPECT_TRUE(check_exposure("0.0.0.0:8080", true, false, true).ok());
}

TEST(UiAppTest, TokenFile) {
  testing::TempDir dir;
  auto path = (dir.path() / "token").string();
  ASSERT_TRUE(write_file_atomic(path, "  0123456789abcdef0123\n").ok());
  auto t = read_token_file(path);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, "0123456789abcdef0123");
  ASSERT_TRUE(write_file_atomic(path, "short\n").ok());
  EXPECT_FALSE(read_token_file(path).ok());
  EXPECT_FALSE(read_token_file((dir.path() / "missing").string()).ok());
}

}  // namespace
}  // namespace vouch::ui
