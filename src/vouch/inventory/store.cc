// The inventory store, written once over the SQL of sql.h: SQLite and PostgreSQL differ only in
// how a table numbers its rows and how the schema is guarded while it is created.
#include "vouch/inventory/store.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "sql.h"
#include "vouch/base/json.h"
#include "vouch/sbom/purl.h"
#include "vouch/vuln/cvss.h"
#include "vouch/vuln/matcher.h"

namespace vouch::inventory {
namespace {

namespace bj = boost::json;
using sql::num;
using sql::Param;
using sql::Row;
using sql::text;

std::string schema(bool postgres) {
  const char* serial = postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  // `inventory query` reads only this index in SQLite (no row lookups). PostgreSQL limits an
  // index entry to about 2.7 kB, which a long purl could pass: there the index holds the key.
  const char* by_purl = postgres ? "purl_type, purl_name"
                                 : "purl_type, purl_name, digest, pkg_id, name, version, type, purl";
  return fmt::format(R"(
CREATE TABLE IF NOT EXISTS inv_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inv_images(
  digest TEXT PRIMARY KEY, repository TEXT NOT NULL, tags TEXT NOT NULL, platform TEXT NOT NULL,
  pushed BIGINT, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, active INTEGER NOT NULL,
  distro_id TEXT NOT NULL, distro_version TEXT NOT NULL, sbom_name TEXT NOT NULL, sbom_format TEXT NOT NULL,
  sbom_source TEXT NOT NULL DEFAULT '', verifications TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS inv_packages(
  digest TEXT NOT NULL, pkg_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL,
  purl TEXT NOT NULL, purl_type TEXT NOT NULL, purl_name TEXT NOT NULL,
  source_name TEXT NOT NULL, source_version TEXT NOT NULL,
  matchable INTEGER NOT NULL, match_ecosystem TEXT NOT NULL, match_name TEXT NOT NULL, alt_name TEXT NOT NULL,
  PRIMARY KEY(digest, pkg_id));
DROP INDEX IF EXISTS inv_packages_purl;
CREATE INDEX IF NOT EXISTS inv_packages_by_purl ON inv_packages({1});
CREATE INDEX IF NOT EXISTS inv_packages_match ON inv_packages(match_ecosystem, match_name);
CREATE INDEX IF NOT EXISTS inv_packages_alt ON inv_packages(match_ecosystem, alt_name);
CREATE TABLE IF NOT EXISTS inv_findings(
  digest TEXT NOT NULL, vuln TEXT NOT NULL, pkg_id TEXT NOT NULL,
  aliases TEXT NOT NULL, records TEXT NOT NULL,
  package_name TEXT NOT NULL, package_version TEXT NOT NULL, package_type TEXT NOT NULL, purl TEXT NOT NULL,
  ecosystem TEXT NOT NULL, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL, score TEXT NOT NULL,
  severity_source TEXT NOT NULL, fixed TEXT NOT NULL, summary TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, closed_at BIGINT,
  content TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(digest, vuln, pkg_id));
CREATE INDEX IF NOT EXISTS inv_findings_vuln ON inv_findings(vuln);
CREATE INDEX IF NOT EXISTS inv_findings_status ON inv_findings(status, severity_rank);
CREATE INDEX IF NOT EXISTS inv_findings_closed ON inv_findings(closed_at) WHERE status = 'CLOSED';
CREATE TABLE IF NOT EXISTS inv_findings_archive(
  digest TEXT NOT NULL, vuln TEXT NOT NULL, pkg_id TEXT NOT NULL,
  aliases TEXT NOT NULL, records TEXT NOT NULL,
  package_name TEXT NOT NULL, package_version TEXT NOT NULL, package_type TEXT NOT NULL, purl TEXT NOT NULL,
  ecosystem TEXT NOT NULL, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL, score TEXT NOT NULL,
  severity_source TEXT NOT NULL, fixed TEXT NOT NULL, summary TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, closed_at BIGINT);
CREATE INDEX IF NOT EXISTS inv_findings_archive_key ON inv_findings_archive(digest, vuln, pkg_id);
CREATE INDEX IF NOT EXISTS inv_findings_archive_closed ON inv_findings_archive(closed_at);
CREATE TABLE IF NOT EXISTS inv_finding_ids(alias TEXT NOT NULL, vuln TEXT NOT NULL, PRIMARY KEY(alias, vuln));
CREATE TABLE IF NOT EXISTS inv_outbox(
  id {0}, created BIGINT NOT NULL, kind TEXT NOT NULL, finding TEXT NOT NULL,
  attempts INTEGER NOT NULL, next_attempt BIGINT NOT NULL, delivered BIGINT, last_error TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS inv_outbox_due ON inv_outbox(delivered, next_attempt);
)",
                     serial, by_purl);
}

// Advisory lock key for PostgreSQL schema creation ("vouchinv").
constexpr int64_t kSchemaLock = 0x766f756368696e76;

std::string json_list(const std::vector<std::string>& v) {
  bj::array a;
  for (const auto& s : v) a.emplace_back(s);
  return bj::serialize(a);
}

// What a finding says besides its lifecycle, as a 64-bit FNV-1a digest: a finding matched again
// with the same content needs only its last seen moved.
std::string content_of(const FindingRow& f) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0x1f;  // field separator
    h *= 0x100000001b3ULL;
  };
  for (const auto& a : f.aliases) mix(a);
  mix("|");
  for (const auto& r : f.records) mix(r);
  mix("|");
  for (const auto& v : f.fixed_versions) mix(v);
  for (std::string_view s : {std::string_view(f.package_name), std::string_view(f.package_version),
                             std::string_view(f.package_type), std::string_view(f.purl), std::string_view(f.ecosystem),
                             std::string_view(f.severity), std::string_view(f.score), std::string_view(f.severity_source),
                             std::string_view(f.summary)})
    mix(s);
  return fmt::format("{:016x}", h);
}

std::vector<std::string> parse_list(std::string_view text) {
  std::vector<std::string> out;
  auto v = json::parse(text);
  if (!v.ok() || !v->is_array()) return out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

int severity_rank(std::string_view name) {
  auto s = vuln::parse_severity(name);
  if (s.ok()) return static_cast<int>(*s);
  if (name == "Negligible") return static_cast<int>(vuln::Severity::kNegligible);
  return 0;
}

std::optional<UnixSeconds> opt_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return std::atoll(s.c_str());
}

FindingStatus status_or_active(std::string_view name) {
  auto s = parse_status(name);
  return s.ok() ? *s : FindingStatus::kActive;
}

std::string base_ecosystem(std::string_view ecosystem) { return std::string(ecosystem.substr(0, ecosystem.find(':'))); }

bj::array verifications_json(const std::vector<ImageVerification>& list) {
  bj::array a;
  for (const auto& v : list) a.push_back(image_verification_json(v));
  return a;
}

// The image columns, in the order image_from reads them.
constexpr std::string_view kImageColumns =
    "i.digest, i.repository, i.tags, i.platform, i.pushed, i.first_seen, i.last_seen, i.active, i.distro_id, "
    "i.distro_version, (SELECT COUNT(*) FROM inv_packages p WHERE p.digest = i.digest), i.sbom_source, "
    "i.verifications";
constexpr int kImageColumnCount = 13;

Image image_from(const Row& r) {
  Image i;
  i.digest = r[0];
  i.repository = r[1];
  i.tags = parse_list(r[2]);
  i.platform = r[3];
  i.pushed = opt_int(r[4]);
  i.first_seen = std::atoll(r[5].c_str());
  i.last_seen = std::atoll(r[6].c_str());
  i.active = r[7] == "1";
  i.distro = r[8].empty() ? "" : fmt::format("{} {}", r[8], r[9]);
  i.packages = std::atoll(r[10].c_str());
  if (auto v = json::parse(r[11]); v.ok()) i.sbom_source = sbom_source_from_json(*v);
  if (auto v = json::parse(r[12]); v.ok() && v->is_array())
    for (const auto& e : v->get_array()) i.verifications.push_back(image_verification_from_json(e));
  return i;
}

// The columns of inv_findings (and of inv_findings_archive), in the order write_findings gives them.
constexpr std::string_view kFindingTableColumns =
    "digest, vuln, pkg_id, aliases, records, package_name, package_version, package_type, purl, ecosystem, severity, "
    "severity_rank, score, severity_source, fixed, summary, status, reason, first_seen, last_seen, closed_at";

constexpr std::string_view kFindingColumns =
    "f.digest, i.repository, f.vuln, f.aliases, f.records, f.pkg_id, f.package_name, f.package_version, "
    "f.package_type, f.purl, f.ecosystem, f.severity, f.score, f.severity_source, f.fixed, f.summary, f.status, "
    "f.reason, f.first_seen, f.last_seen, f.closed_at";
constexpr int kFindingColumnCount = 21;

FindingRow finding_from(const Row& r) {
  FindingRow f;
  f.digest = r[0];
  f.repository = r[1];
  f.vulnerability = r[2];
  f.aliases = parse_list(r[3]);
  f.records = parse_list(r[4]);
  f.package_id = r[5];
  f.package_name = r[6];
  f.package_version = r[7];
  f.package_type = r[8];
  f.purl = r[9];
  f.ecosystem = r[10];
  f.severity = r[11];
  f.score = r[12];
  f.severity_source = r[13];
  f.fixed_versions = parse_list(r[14]);
  f.summary = r[15];
  f.status = status_or_active(r[16]);
  f.reason = r[17];
  f.first_seen = std::atoll(r[18].c_str());
  f.last_seen = std::atoll(r[19].c_str());
  f.closed_at = opt_int(r[20]);
  return f;
}

class Store final : public InventoryStore {
 public:
  explicit Store(std::unique_ptr<sql::Database> db) : db_(std::move(db)) {}

  Status init() {
    if (!db_->is_postgres()) {
      VOUCH_RETURN_IF_ERROR(db_->script(schema(false)));
      return migrate();
    }
    // IF NOT EXISTS on an existing table is a NOTICE; the store has nothing to say about it.
    VOUCH_RETURN_IF_ERROR(db_->script("SET client_min_messages = warning"));
    VOUCH_RETURN_IF_ERROR(db_->exec(fmt::format("SELECT pg_advisory_lock({})", kSchemaLock)));
    Status s = db_->script(schema(true));
    if (s.ok()) s = migrate();
    (void)db_->exec(fmt::format("SELECT pg_advisory_unlock({})", kSchemaLock));
    return s;
  }

  // Columns added after the first schema, for stores made before them.
  Status migrate() {
    for (auto [table, column] : {std::pair{"inv_images", "sbom_source"}, std::pair{"inv_images", "verifications"},
                                 std::pair{"inv_findings", "content"}}) {
      VOUCH_ASSIGN_OR_RETURN(
          auto columns,
          db_->query(db_->is_postgres()
                         ? "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                           "AND table_name = ?"
                         : "SELECT name FROM pragma_table_info(?)",
                     {text(table)}, 1));
      bool present = false;
      for (const auto& c : columns) present = present || c[0] == column;
      if (!present)
        VOUCH_RETURN_IF_ERROR(
            db_->script(fmt::format("ALTER TABLE {} ADD COLUMN {} TEXT NOT NULL DEFAULT ''", table, column)));
    }
    return ok_status();
  }

  Status put_image(const Image& image, const sbom::Sbom& doc) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto tx, sql::Transaction::begin(*db_));
    VOUCH_ASSIGN_OR_RETURN(auto old, db_->query("SELECT tags, first_seen, pushed FROM inv_images WHERE digest=?",
                                                {text(image.digest)}, 3));
    std::vector<std::string> tags = image.tags;
    UnixSeconds first = image.first_seen ? image.first_seen : image.last_seen;
    std::optional<UnixSeconds> pushed = image.pushed;
    if (!old.empty()) {
      for (auto& t : parse_list(old[0][0]))
        if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
      first = std::atoll(old[0][1].c_str());
      if (!pushed) pushed = opt_int(old[0][2]);
    }
    std::sort(tags.begin(), tags.end());
    std::string distro_id = doc.distro ? doc.distro->id : "", distro_version = doc.distro ? doc.distro->version_id : "";
    VOUCH_RETURN_IF_ERROR(db_->exec(
        "INSERT INTO inv_images(digest, repository, tags, platform, pushed, first_seen, last_seen, active, distro_id, "
        "distro_version, sbom_name, sbom_format, sbom_source, verifications) VALUES(?,?,?,?,?,?,?,1,?,?,?,?,?,?) "
        "ON CONFLICT(digest) DO UPDATE SET repository=excluded.repository, tags=excluded.tags, "
        "platform=excluded.platform, pushed=excluded.pushed, last_seen=excluded.last_seen, active=1, "
        "distro_id=excluded.distro_id, distro_version=excluded.distro_version, sbom_name=excluded.sbom_name, "
        "sbom_format=excluded.sbom_format, sbom_source=excluded.sbom_source, verifications=excluded.verifications",
        {text(image.digest), text(image.repository), text(json_list(tags)), text(image.platform),
         pushed ? num(*pushed) : Param(), num(first), num(image.last_seen), text(distro_id), text(distro_version),
         text(doc.name), text(doc.format), text(json::serialize(sbom_source_json(image.sbom_source))),
         text(json::serialize(verifications_json(image.verifications)))}));
    VOUCH_RETURN_IF_ERROR(db_->exec("DELETE FROM inv_packages WHERE digest=?", {text(image.digest)}));
    std::vector<Param> values;
    values.reserve(doc.packages.size() * 14);
    std::set<std::string> ids;
    for (const auto& p : doc.packages) {
      if (p.id.empty() || !ids.insert(p.id).second) continue;
      std::string purl_type, purl_name;
      if (auto key = purl_key(p.purl); key.ok()) std::tie(purl_type, purl_name) = *key;
      // A language package an OS package owns is left to the distribution's advisories.
      bool owned = false;
      if (!p.owner_id.empty())
        if (const sbom::Package* owner = doc.find(p.owner_id)) owned = sbom::is_os_package_type(owner->type);
      std::string eco, match_name, alt_name;
      bool matchable = false;
      if (!owned)
        if (auto key = vuln::match_key(p, doc.distro); key.ok()) {
          matchable = true;
          eco = base_ecosystem(key->ecosystem);
          match_name = vuln::normalize_package_name(eco, key->name);
          alt_name = key->binary_name.empty() ? match_name : vuln::normalize_package_name(eco, key->binary_name);
        }
      for (auto v : {p.id, p.name, p.version, p.type, p.purl, purl_type, purl_name, p.source_name, p.source_version})
        values.push_back(text(std::move(v)));
      values.push_back(num(matchable ? 1 : 0));
      values.push_back(text(eco));
      values.push_back(text(match_name));
      values.push_back(text(alt_name));
      values.push_back(text(image.digest));
    }
    VOUCH_RETURN_IF_ERROR(db_->insert_rows(
        "INSERT INTO inv_packages(pkg_id, name, version, type, purl, purl_type, purl_name, source_name, "
        "source_version, matchable, match_ecosystem, match_name, alt_name, digest) VALUES",
        "", 14, values));
    return tx.commit();
  }

  Result<std::optional<Image>> image(std::string_view digest) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("SELECT {} FROM inv_images i WHERE i.digest=?", kImageColumns),
                                                 {text(std::string(digest))}, kImageColumnCount));
    if (rows.empty()) return std::optional<Image>();
    return std::optional<Image>(image_from(rows[0]));
  }

  Result<std::vector<Image>> images(bool include_inactive) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("SELECT {} FROM inv_images i {} ORDER BY i.repository, i.digest",
                                                             kImageColumns, include_inactive ? "" : "WHERE i.active=1"),
                                                 {}, kImageColumnCount));
    std::vector<Image> out;
    for (const auto& r : rows) out.push_back(image_from(r));
    return out;
  }

  Result<sbom::Sbom> image_sbom(std::string_view digest, const std::vector<std::string>& package_ids) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto head, db_->query("SELECT distro_id, distro_version, sbom_name, sbom_format FROM "
                                                 "inv_images WHERE digest=?",
                                                 {text(std::string(digest))}, 4));
    if (head.empty()) return not_found(fmt::format("inventory: no image {}", digest));
    sbom::Sbom doc;
    if (!head[0][0].empty()) doc.distro = sbom::Distro{head[0][0], head[0][1], ""};
    doc.name = head[0][2];
    doc.format = head[0][3];
    auto add = [&](const Row& r) {
      sbom::Package p;
      p.id = r[0];
      p.name = r[1];
      p.version = r[2];
      p.type = r[3];
      p.purl = r[4];
      p.source_name = r[5];
      p.source_version = r[6];
      doc.packages.push_back(std::move(p));
    };
    constexpr std::string_view kColumns =
        "SELECT pkg_id, name, version, type, purl, source_name, source_version FROM inv_packages WHERE digest=? ";
    // One query for the image; a few ids are picked from it rather than asked for one by one.
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("{} AND matchable=1 ORDER BY pkg_id", kColumns),
                                                 {text(std::string(digest))}, 7));
    const std::set<std::string_view> wanted(package_ids.begin(), package_ids.end());
    for (const auto& r : rows)
      if (wanted.empty() || wanted.count(r[0])) add(r);
    return doc;
  }

  Result<std::vector<std::pair<std::string, std::vector<std::string>>>> images_holding(
      const std::vector<std::pair<std::string, std::string>>& keys) override {
    std::lock_guard lock(mu_);
    std::map<std::string, std::set<std::string>> hits;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& [ecosystem, name] : keys) {
      std::string eco = base_ecosystem(ecosystem);
      std::string n = vuln::normalize_package_name(eco, name);
      if (!seen.emplace(eco, n).second) continue;
      for (const char* column : {"match_name", "alt_name"}) {
        VOUCH_ASSIGN_OR_RETURN(auto rows,
                               db_->query(fmt::format("SELECT p.digest, p.pkg_id FROM inv_packages p JOIN inv_images i "
                                                      "ON i.digest = p.digest WHERE p.match_ecosystem=? AND p.{}=? AND "
                                                      "p.matchable=1 AND i.active=1",
                                                      column),
                                          {text(eco), text(n)}, 2));
        for (auto& r : rows) hits[r[0]].insert(r[1]);
      }
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (auto& [digest, ids] : hits) out.emplace_back(digest, std::vector<std::string>(ids.begin(), ids.end()));
    return out;
  }

  Result<std::vector<PackageHit>> packages_named(std::string_view type, std::string_view name,
                                                 bool include_inactive) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(
        auto rows,
        db_->query(fmt::format("SELECT p.digest, i.repository, p.pkg_id, p.name, p.version, p.type, p.purl FROM "
                               "inv_packages p JOIN inv_images i ON i.digest = p.digest WHERE p.purl_type=? AND "
                               "p.purl_name=? {} ORDER BY i.repository, p.digest, p.pkg_id",
                               include_inactive ? "" : "AND i.active=1"),
                   {text(std::string(type)), text(std::string(name))}, 7));
    std::vector<PackageHit> out;
    for (auto& r : rows) out.push_back(PackageHit{r[0], r[1], r[2], r[3], r[4], r[5], r[6]});
    return out;
  }

  Result<Reconciled> reconcile(std::string_view digest_view, const std::vector<std::string>& package_ids,
                               const std::vector<FindingRow>& current, UnixSeconds now,
                               int64_t reopen_within_seconds) override {
    std::lock_guard lock(mu_);
    const std::string digest(digest_view);
    std::optional<sql::Transaction> tx;
    if (!batch_) {
      uncommitted_ids_.clear();
      VOUCH_ASSIGN_OR_RETURN(auto t, sql::Transaction::begin(*db_));
      tx.emplace(std::move(t));
    }
    VOUCH_ASSIGN_OR_RETURN(auto repo, db_->query("SELECT repository FROM inv_images WHERE digest=?", {text(digest)}, 1));
    const std::string repository = repo.empty() ? "" : repo[0][0];
    // The stored findings in scope, by (vulnerability, package): what decides their fate only,
    // read in one query; the full rows of those that close are read afterwards.
    struct Stored {
      FindingStatus status;
      std::string reason;
      UnixSeconds first_seen;
      std::optional<UnixSeconds> closed_at;
      std::string content;
    };
    std::map<std::pair<std::string, std::string>, Stored> stored;
    const std::set<std::string> scope(package_ids.begin(), package_ids.end());
    {
      VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query("SELECT vuln, pkg_id, status, reason, first_seen, closed_at, content "
                                                   "FROM inv_findings WHERE digest=?",
                                                   {text(digest)}, 7));
      for (auto& r : rows) {
        if (!scope.empty() && !scope.count(r[1])) continue;
        stored.emplace(std::make_pair(std::move(r[0]), std::move(r[1])),
                       Stored{status_or_active(r[2]), std::move(r[3]), std::atoll(r[4].c_str()), opt_int(r[5]),
                              std::move(r[6])});
      }
    }
    Reconciled out;
    std::set<std::pair<std::string, std::string>> present;
    std::vector<FindingRow> writes;
    std::vector<std::pair<std::string_view, size_t>> events;  // kind, index into writes
    std::vector<std::pair<std::string, std::string>> seen_again;  // unchanged: only last seen moves
    writes.reserve(current.size());
    for (const FindingRow& c : current) {
      auto key = std::make_pair(c.vulnerability, c.package_id);
      if (!present.insert(key).second) continue;
      FindingRow f = c;
      f.digest = digest;
      f.repository = repository;
      auto it = stored.find(key);
      std::string_view kind;
      if (it == stored.end()) {
        f.status = FindingStatus::kActive;
        f.first_seen = now;
        kind = "opened";
      } else if (it->second.status == FindingStatus::kClosed) {
        f.status = FindingStatus::kActive;
        if (it->second.closed_at && now - *it->second.closed_at <= reopen_within_seconds) {
          // Back within the reopening window (ECR: 7 days): the same finding, active again.
          f.first_seen = it->second.first_seen;
          kind = "reopened";
        } else {
          // Later: a new finding; the closed one is kept beside it until it is deleted.
          VOUCH_RETURN_IF_ERROR(db_->exec(fmt::format("INSERT INTO inv_findings_archive({0}) SELECT {0} FROM "
                                                      "inv_findings WHERE digest=? AND vuln=? AND pkg_id=?",
                                                      kFindingTableColumns),
                                          {text(digest), text(key.first), text(key.second)}));
          f.first_seen = now;
          kind = "opened";
        }
      } else {
        ++out.still_active;
        if (it->second.content == content_of(f)) {
          seen_again.push_back(key);
          continue;
        }
        f.status = it->second.status;
        f.reason = it->second.reason;
        f.first_seen = it->second.first_seen;
      }
      f.last_seen = now;
      f.closed_at.reset();
      if (!kind.empty()) events.emplace_back(kind, writes.size());
      writes.push_back(std::move(f));
    }
    // #4518: what no longer matches closes.
    std::vector<std::pair<std::string, std::string>> closing;
    for (const auto& [key, f] : stored)
      if (!present.count(key) && f.status != FindingStatus::kClosed) closing.push_back(key);
    if (!closing.empty()) {
      VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("SELECT {} FROM inv_findings f JOIN inv_images i ON "
                                                               "i.digest = f.digest WHERE f.digest=? AND f.status != 'CLOSED'",
                                                               kFindingColumns),
                                                   {text(digest)}, kFindingColumnCount));
      std::map<std::pair<std::string, std::string>, FindingRow> open;
      for (const auto& r : rows) {
        FindingRow f = finding_from(r);
        open.emplace(std::make_pair(f.vulnerability, f.package_id), std::move(f));
      }
      for (const auto& key : closing) {
        auto it = open.find(key);
        if (it == open.end()) continue;
        FindingRow f = std::move(it->second);
        f.status = FindingStatus::kClosed;
        f.reason = "no longer matches";
        f.closed_at = now;
        events.emplace_back("closed", writes.size());
        writes.push_back(std::move(f));
      }
    }
    VOUCH_RETURN_IF_ERROR(write_findings(writes));
    VOUCH_RETURN_IF_ERROR(touch_findings(digest, seen_again, now));
    VOUCH_RETURN_IF_ERROR(enqueue(events, writes, now));
    for (const auto& [kind, index] : events) {
      auto& list = kind == "opened" ? out.opened : kind == "reopened" ? out.reopened : out.closed;
      list.push_back(writes[index]);
    }
    if (tx) {
      VOUCH_RETURN_IF_ERROR(tx->commit());
      known_ids_.merge(uncommitted_ids_);
      uncommitted_ids_.clear();
    }
    return out;
  }

  Status begin_batch() override {
    std::lock_guard lock(mu_);
    if (batch_) return internal_error("inventory: a batch is already open");
    uncommitted_ids_.clear();
    VOUCH_ASSIGN_OR_RETURN(auto t, sql::Transaction::begin(*db_));
    batch_.emplace(std::move(t));
    return ok_status();
  }

  Status commit_batch() override {
    std::lock_guard lock(mu_);
    if (!batch_) return internal_error("inventory: no batch is open");
    sql::Transaction t = std::move(*batch_);
    batch_.reset();
    VOUCH_RETURN_IF_ERROR(t.commit());
    known_ids_.merge(uncommitted_ids_);
    uncommitted_ids_.clear();
    return ok_status();
  }

  void rollback_batch() override {
    std::lock_guard lock(mu_);
    batch_.reset();  // rolls back
    uncommitted_ids_.clear();
  }

  Result<size_t> purge_closed(UnixSeconds cutoff) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto tx, sql::Transaction::begin(*db_));
    size_t n = 0;
    for (const char* table : {"inv_findings", "inv_findings_archive"}) {
      VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("DELETE FROM {} WHERE status='CLOSED' AND closed_at < ? "
                                                               "RETURNING vuln",
                                                               table),
                                                   {num(cutoff)}, 1));
      n += rows.size();
    }
    VOUCH_RETURN_IF_ERROR(tx.commit());
    return n;
  }

  Result<std::vector<FindingRow>> findings(const FindingFilter& filter) override {
    std::lock_guard lock(mu_);
    std::string where = "WHERE 1=1";
    std::vector<Param> params;
    if (!filter.digest.empty()) {
      where += " AND f.digest=?";
      params.push_back(text(filter.digest));
    }
    if (filter.status) {
      where += " AND f.status=?";
      params.push_back(text(std::string(status_name(*filter.status))));
    }
    if (!filter.min_severity.empty()) {
      where += " AND f.severity_rank>=?";
      params.push_back(num(severity_rank(filter.min_severity)));
    }
    if (!filter.vulnerability.empty()) {
      where += " AND f.vuln IN (SELECT vuln FROM inv_finding_ids WHERE alias=? UNION SELECT ?)";
      params.push_back(text(filter.vulnerability));
      params.push_back(text(filter.vulnerability));
    }
    // Closed findings that a new one replaced are kept beside the current ones until deleted.
    const bool archived = !filter.status || *filter.status == FindingStatus::kClosed;
    const std::string source =
        archived ? fmt::format("(SELECT {0} FROM inv_findings UNION ALL SELECT {0} FROM inv_findings_archive) f",
                               kFindingTableColumns)
                 : std::string("inv_findings f");
    VOUCH_ASSIGN_OR_RETURN(
        auto rows, db_->query(fmt::format("SELECT {} FROM {} JOIN inv_images i ON i.digest = f.digest {} "
                                          "ORDER BY f.severity_rank DESC, f.vuln, i.repository, f.digest, f.pkg_id, "
                                          "f.first_seen",
                                          kFindingColumns, source, where),
                              params, kFindingColumnCount));
    std::vector<FindingRow> out;
    for (const auto& r : rows) out.push_back(finding_from(r));
    return out;
  }

  Result<size_t> suppress(std::string_view vulnerability, std::string_view digest, std::string_view reason,
                          bool on, UnixSeconds) override {
    std::lock_guard lock(mu_);
    std::string where = "vuln IN (SELECT vuln FROM inv_finding_ids WHERE alias=? UNION SELECT ?)";
    std::vector<Param> params{text(on ? "SUPPRESSED" : "ACTIVE"), text(std::string(on ? reason : "")),
                              text(std::string(vulnerability)), text(std::string(vulnerability))};
    if (!digest.empty()) {
      where += " AND digest=?";
      params.push_back(text(std::string(digest)));
    }
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("UPDATE inv_findings SET status=?, reason=? WHERE {} AND "
                                                             "status {} RETURNING vuln",
                                                             where, on ? "= 'ACTIVE'" : "= 'SUPPRESSED'"),
                                                 params, 1));
    return rows.size();
  }

  Result<std::vector<std::string>> expire(UnixSeconds cutoff, UnixSeconds now) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto tx, sql::Transaction::begin(*db_));
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query("SELECT digest FROM inv_images WHERE active=1 AND last_seen < ? AND "
                                                 "COALESCE(pushed, 0) < ? ORDER BY digest",
                                                 {num(cutoff), num(cutoff)}, 1));
    std::vector<std::string> out;
    for (const auto& r : rows) {
      const std::string& digest = r[0];
      VOUCH_ASSIGN_OR_RETURN(auto open, db_->query(fmt::format("SELECT {} FROM inv_findings f JOIN inv_images i ON "
                                                               "i.digest = f.digest WHERE f.digest=? AND f.status != 'CLOSED'",
                                                               kFindingColumns),
                                                   {text(digest)}, kFindingColumnCount));
      for (const auto& fr : open) {
        FindingRow f = finding_from(fr);
        f.status = FindingStatus::kClosed;
        f.reason = "image inactive";
        f.closed_at = now;
        VOUCH_RETURN_IF_ERROR(close_finding(f));
        VOUCH_RETURN_IF_ERROR(enqueue("closed", f, now));
      }
      VOUCH_RETURN_IF_ERROR(db_->exec("UPDATE inv_images SET active=0 WHERE digest=?", {text(digest)}));
      out.push_back(digest);
    }
    VOUCH_RETURN_IF_ERROR(tx.commit());
    return out;
  }

  Result<int64_t> rescanned_through() override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query("SELECT value FROM inv_meta WHERE key='rescanned_through'", {}, 1));
    return rows.empty() ? int64_t{0} : std::atoll(rows[0][0].c_str());
  }

  Status set_rescanned_through(int64_t seq) override {
    std::lock_guard lock(mu_);
    return db_->exec("INSERT INTO inv_meta(key, value) VALUES('rescanned_through', ?) ON CONFLICT(key) DO UPDATE "
                     "SET value=excluded.value",
                     {num(seq)});
  }

  Result<std::vector<FindingEvent>> undelivered_events(size_t limit) override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query(fmt::format("SELECT id, kind, finding, created, attempts, next_attempt "
                                                             "FROM inv_outbox WHERE delivered IS NULL ORDER BY id LIMIT {}",
                                                             limit),
                                                 {}, 6));
    std::vector<FindingEvent> out;
    for (const auto& r : rows) {
      FindingEvent e;
      e.id = std::atoll(r[0].c_str());
      e.kind = r[1];
      auto v = json::parse(r[2]);
      if (v.ok()) {
        auto f = finding_from_json(*v);
        if (f.ok()) e.finding = std::move(*f);
      }
      e.at = std::atoll(r[3].c_str());
      e.attempts = std::atoi(r[4].c_str());
      e.next_attempt = std::atoll(r[5].c_str());
      out.push_back(std::move(e));
    }
    return out;
  }

  Status delivered(int64_t event_id, UnixSeconds now) override {
    std::lock_guard lock(mu_);
    return db_->exec("UPDATE inv_outbox SET delivered=?, attempts=attempts+1 WHERE id=?", {num(now), num(event_id)});
  }

  Status delivery_failed(int64_t event_id, UnixSeconds next_attempt, std::string_view error) override {
    std::lock_guard lock(mu_);
    return db_->exec("UPDATE inv_outbox SET attempts=attempts+1, next_attempt=?, last_error=? WHERE id=?",
                     {num(next_attempt), text(std::string(error)), num(event_id)});
  }

  Result<int64_t> pending_events() override {
    std::lock_guard lock(mu_);
    VOUCH_ASSIGN_OR_RETURN(auto rows, db_->query("SELECT COUNT(*) FROM inv_outbox WHERE delivered IS NULL", {}, 1));
    return rows.empty() ? int64_t{0} : std::atoll(rows[0][0].c_str());
  }

 private:
  // Upserts `rows` (all columns, status and closed_at as the rows say) and records their ids and
  // aliases for lookups by alias, in as few statements as the database takes.
  Status write_findings(const std::vector<FindingRow>& rows) {
    if (rows.empty()) return ok_status();
    std::vector<Param> values;
    values.reserve(rows.size() * 22);
    std::vector<Param> ids;
    for (const FindingRow& f : rows) {
      for (const Param& p : std::initializer_list<Param>{
               text(f.digest), text(f.vulnerability), text(f.package_id), text(json_list(f.aliases)),
               text(json_list(f.records)), text(f.package_name), text(f.package_version), text(f.package_type),
               text(f.purl), text(f.ecosystem), text(f.severity), num(severity_rank(f.severity)), text(f.score),
               text(f.severity_source), text(json_list(f.fixed_versions)), text(f.summary),
               text(std::string(status_name(f.status))), text(f.reason), num(f.first_seen), num(f.last_seen),
               f.closed_at ? num(*f.closed_at) : Param(), text(content_of(f))})
        values.push_back(p);
      // inv_finding_ids is shared by every image: most pairs are known already.
      auto note = [&](const std::string& alias) {
        auto pair = std::make_pair(alias, f.vulnerability);
        if (known_ids_.count(pair) || !uncommitted_ids_.insert(pair).second) return;
        ids.push_back(text(alias));
        ids.push_back(text(f.vulnerability));
      };
      for (const auto& a : f.aliases) note(a);
      for (const auto& r : f.records) note(r);
    }
    VOUCH_RETURN_IF_ERROR(db_->insert_rows(
        fmt::format("INSERT INTO inv_findings({}, content) VALUES", kFindingTableColumns),
        " ON CONFLICT(digest, vuln, pkg_id) DO UPDATE SET aliases=excluded.aliases, records=excluded.records, "
        "package_name=excluded.package_name, package_version=excluded.package_version, "
        "package_type=excluded.package_type, purl=excluded.purl, ecosystem=excluded.ecosystem, "
        "severity=excluded.severity, severity_rank=excluded.severity_rank, score=excluded.score, "
        "severity_source=excluded.severity_source, fixed=excluded.fixed, summary=excluded.summary, "
        "status=excluded.status, reason=excluded.reason, first_seen=excluded.first_seen, "
        "last_seen=excluded.last_seen, closed_at=excluded.closed_at, content=excluded.content",
        22, values));
    return db_->insert_rows("INSERT INTO inv_finding_ids(alias, vuln) VALUES", " ON CONFLICT DO NOTHING", 2, ids);
  }

  // Findings matched again unchanged: only their last seen moves (no row rewritten, no index
  // touched). SQLite runs one prepared statement per finding in process; PostgreSQL gets them in
  // chunks, one round trip each.
  Status touch_findings(const std::string& digest, const std::vector<std::pair<std::string, std::string>>& keys,
                        UnixSeconds now) {
    if (!db_->is_postgres()) {
      for (const auto& [vuln, pkg] : keys)
        VOUCH_RETURN_IF_ERROR(db_->exec("UPDATE inv_findings SET last_seen=? WHERE digest=? AND vuln=? AND pkg_id=?",
                                        {num(now), text(digest), text(vuln), text(pkg)}));
      return ok_status();
    }
    constexpr size_t kChunk = 1000;
    for (size_t start = 0; start < keys.size(); start += kChunk) {
      size_t n = std::min(kChunk, keys.size() - start);
      std::string sql = "UPDATE inv_findings SET last_seen=? WHERE digest=? AND (vuln, pkg_id) IN (";
      std::vector<Param> params{num(now), text(digest)};
      params.reserve(2 + 2 * n);
      for (size_t i = 0; i < n; ++i) {
        sql += i ? ",(?,?)" : "(?,?)";
        params.push_back(text(keys[start + i].first));
        params.push_back(text(keys[start + i].second));
      }
      sql += ")";
      VOUCH_RETURN_IF_ERROR(db_->exec(sql, params));
    }
    return ok_status();
  }

  Status close_finding(const FindingRow& f) {
    return db_->exec("UPDATE inv_findings SET status='CLOSED', reason=?, closed_at=? WHERE digest=? AND vuln=? AND "
                     "pkg_id=?",
                     {text(f.reason), num(f.closed_at.value_or(0)), text(f.digest), text(f.vulnerability),
                      text(f.package_id)});
  }

  // Queues the events (kind, index into `rows`) in order.
  Status enqueue(const std::vector<std::pair<std::string_view, size_t>>& events, const std::vector<FindingRow>& rows,
                 UnixSeconds now) {
    if (events.empty()) return ok_status();
    std::vector<Param> values;
    values.reserve(events.size() * 7);
    for (const auto& [kind, index] : events) {
      values.push_back(num(now));
      values.push_back(text(std::string(kind)));
      values.push_back(text(json::serialize(finding_json(rows[index]))));
      values.push_back(text("0"));
      values.push_back(num(now));
      values.push_back(Param());
      values.push_back(text(""));
    }
    return db_->insert_rows(
        "INSERT INTO inv_outbox(created, kind, finding, attempts, next_attempt, delivered, last_error) VALUES", "", 7,
        values);
  }

  Status enqueue(std::string_view kind, const FindingRow& f, UnixSeconds now) {
    return enqueue({{kind, 0}}, {f}, now);
  }

  std::mutex mu_;
  std::unique_ptr<sql::Database> db_;
  // (alias, vulnerability) pairs this process wrote to inv_finding_ids, and those of the
  // transaction under way (known once it commits).
  std::set<std::pair<std::string, std::string>> known_ids_, uncommitted_ids_;
  std::optional<sql::Transaction> batch_;  // declared after db_: rolled back before it closes
};

}  // namespace

std::string_view status_name(FindingStatus s) {
  switch (s) {
    case FindingStatus::kActive: return "ACTIVE";
    case FindingStatus::kSuppressed: return "SUPPRESSED";
    case FindingStatus::kClosed: return "CLOSED";
  }
  return "ACTIVE";
}

Result<FindingStatus> parse_status(std::string_view text) {
  std::string up;
  for (char c : text) up += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  if (up == "ACTIVE") return FindingStatus::kActive;
  if (up == "SUPPRESSED") return FindingStatus::kSuppressed;
  if (up == "CLOSED") return FindingStatus::kClosed;
  return invalid_input(fmt::format("finding status '{}': want active, suppressed or closed", text));
}

Result<std::pair<std::string, std::string>> purl_key(std::string_view purl) {
  VOUCH_ASSIGN_OR_RETURN(sbom::Purl p, sbom::parse_purl(purl));
  std::string name = p.namespace_.empty() ? p.name : p.namespace_ + "/" + p.name;
  if (p.type == "pypi") name = vuln::normalize_package_name("PyPI", name);
  return std::make_pair(p.type, name);
}

bj::object image_json(const Image& i) {
  bj::array tags;
  for (const auto& t : i.tags) tags.emplace_back(t);
  bj::object o{{"digest", i.digest},   {"repository", i.repository}, {"tags", std::move(tags)},
               {"platform", i.platform}, {"firstSeen", format_rfc3339(i.first_seen)},
               {"lastSeen", format_rfc3339(i.last_seen)}, {"active", i.active}, {"packages", i.packages}};
  if (i.pushed) o["pushed"] = format_rfc3339(*i.pushed);
  if (!i.distro.empty()) o["distro"] = i.distro;
  o["sbomSource"] = sbom_source_json(i.sbom_source);
  o["verifications"] = verifications_json(i.verifications);
  return o;
}

bj::object image_verification_json(const ImageVerification& v) {
  bj::object o{{"kind", v.kind}, {"verified", v.verified}};
  auto put = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) o[key] = value;
  };
  put("predicateType", v.predicate_type);
  put("signer", v.signer);
  put("signedAt", v.signed_at);
  if (!v.log_indexes.empty()) {
    bj::array a;
    for (int64_t i : v.log_indexes) a.emplace_back(i);
    o["logIndexes"] = std::move(a);
  }
  put("location", v.location);
  put("reason", v.reason);
  return o;
}

ImageVerification image_verification_from_json(const bj::value& value) {
  ImageVerification v;
  if (!value.is_object()) return v;
  const bj::object& o = value.as_object();
  auto str = [&](std::string_view key) -> std::string {
    auto* x = o.if_contains(key);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  v.kind = str("kind");
  if (auto* x = o.if_contains("verified"); x && x->is_bool()) v.verified = x->as_bool();
  v.predicate_type = str("predicateType");
  v.signer = str("signer");
  v.signed_at = str("signedAt");
  if (auto* x = o.if_contains("logIndexes"); x && x->is_array())
    for (const auto& i : x->as_array())
      if (i.is_int64()) v.log_indexes.push_back(i.as_int64());
  v.location = str("location");
  v.reason = str("reason");
  return v;
}

bj::object sbom_source_json(const SbomSource& s) {
  bj::object o{{"kind", s.kind}};
  auto put = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) o[key] = value;
  };
  put("predicateType", s.predicate_type);
  put("digest", s.digest);
  put("location", s.location);
  put("signer", s.signer);
  put("signedAt", s.signed_at);
  put("note", s.note);
  return o;
}

SbomSource sbom_source_from_json(const bj::value& value) {
  SbomSource s;
  if (!value.is_object()) return s;
  const bj::object& o = value.as_object();
  auto str = [&](std::string_view key) -> std::string {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (std::string kind = str("kind"); !kind.empty()) s.kind = kind;
  s.predicate_type = str("predicateType");
  s.digest = str("digest");
  s.location = str("location");
  s.signer = str("signer");
  s.signed_at = str("signedAt");
  s.note = str("note");
  return s;
}

bj::object finding_json(const FindingRow& f) {
  auto list = [](const std::vector<std::string>& v) {
    bj::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  bj::object o{{"vulnerability", f.vulnerability},
               {"aliases", list(f.aliases)},
               {"records", list(f.records)},
               {"image", bj::object{{"digest", f.digest}, {"repository", f.repository}}},
               {"package", bj::object{{"id", f.package_id},
                                      {"name", f.package_name},
                                      {"version", f.package_version},
                                      {"type", f.package_type},
                                      {"purl", f.purl}}},
               {"ecosystem", f.ecosystem},
               {"severity", f.severity},
               {"severitySource", f.severity_source},
               {"fixedVersions", list(f.fixed_versions)},
               {"summary", f.summary},
               {"status", status_name(f.status)},
               {"firstSeen", f.first_seen},
               {"lastSeen", f.last_seen}};
  if (!f.score.empty()) o["score"] = f.score;
  if (!f.reason.empty()) o["reason"] = f.reason;
  if (f.closed_at) o["closedAt"] = *f.closed_at;
  return o;
}

Result<FindingRow> finding_from_json(const bj::value& value) {
  if (!value.is_object()) return invalid_input("finding: not an object");
  const bj::object& o = value.as_object();
  auto str = [&](const bj::object& obj, std::string_view key) -> std::string {
    auto* v = obj.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto list = [&](std::string_view key) {
    std::vector<std::string> out;
    if (auto* v = o.if_contains(key); v && v->is_array())
      for (const auto& e : v->as_array())
        if (e.is_string()) out.emplace_back(e.as_string());
    return out;
  };
  auto integer = [&](std::string_view key) -> std::optional<int64_t> {
    auto* v = o.if_contains(key);
    if (v && v->is_int64()) return v->as_int64();
    return std::nullopt;
  };
  FindingRow f;
  f.vulnerability = str(o, "vulnerability");
  f.aliases = list("aliases");
  f.records = list("records");
  if (auto* img = o.if_contains("image"); img && img->is_object()) {
    f.digest = str(img->as_object(), "digest");
    f.repository = str(img->as_object(), "repository");
  }
  if (auto* pkg = o.if_contains("package"); pkg && pkg->is_object()) {
    const auto& p = pkg->as_object();
    f.package_id = str(p, "id");
    f.package_name = str(p, "name");
    f.package_version = str(p, "version");
    f.package_type = str(p, "type");
    f.purl = str(p, "purl");
  }
  f.ecosystem = str(o, "ecosystem");
  f.severity = str(o, "severity");
  f.severity_source = str(o, "severitySource");
  f.fixed_versions = list("fixedVersions");
  f.summary = str(o, "summary");
  f.score = str(o, "score");
  f.reason = str(o, "reason");
  f.status = status_or_active(str(o, "status"));
  f.first_seen = integer("firstSeen").value_or(0);
  f.last_seen = integer("lastSeen").value_or(0);
  f.closed_at = integer("closedAt");
  return f;
}

Result<std::unique_ptr<InventoryStore>> open_inventory_store(const std::string& url) {
  std::string_view u = url;
  if (u.empty()) return invalid_input("inventory: empty store URL");
  std::unique_ptr<sql::Database> db;
  if (u.starts_with("postgres://") || u.starts_with("postgresql://")) {
    VOUCH_ASSIGN_OR_RETURN(db, sql::open_postgres(url));
  } else {
    if (u.find("://") != std::string_view::npos)
      return invalid_input(fmt::format("inventory store '{}': unsupported (use a file path, sqlite:PATH or postgres://…)", url));
    std::string path(u.starts_with("sqlite:") ? u.substr(7) : u);
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    VOUCH_ASSIGN_OR_RETURN(db, sql::open_sqlite(path));
  }
  auto store = std::make_unique<Store>(std::move(db));
  VOUCH_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<InventoryStore>(std::move(store));
}

std::string default_inventory_url() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/vouch/inventory.db";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/vouch/inventory.db";
  return "inventory.db";
}

}  // namespace vouch::inventory
