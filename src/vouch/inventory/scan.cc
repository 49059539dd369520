// Scans and rescans of the inventory against the vulnerability database, and version-range
// questions about the packages it holds.
#include "vouch/inventory/scan.h"

#include <chrono>
#include <map>

#include <fmt/format.h>

#include "vouch/vuln/cvss.h"
#include "vouch/vuln/update.h"
#include "vouch/vuln/version.h"

namespace vouch::inventory {
namespace {

// Record lookups shared by every image of a rescan: thousands of images hold the same packages.
class CachingStore final : public vuln::VulnerabilityStore {
 public:
  explicit CachingStore(vuln::VulnerabilityStore& inner) : inner_(inner) {}
  Result<int> put_if_newer(const vuln::OsvRecord& r) override { return inner_.put_if_newer(r); }
  Status begin_batch() override { return inner_.begin_batch(); }
  Status commit_batch() override { return inner_.commit_batch(); }
  Status set_last_import(UnixSeconds t) override { return inner_.set_last_import(t); }
  Result<std::vector<vuln::OsvRecord>> records_for(std::string_view ecosystem, std::string_view name) override {
    auto key = std::make_pair(std::string(ecosystem), std::string(name));
    auto it = records_.find(key);
    if (it != records_.end()) return it->second;
    VOUCH_ASSIGN_OR_RETURN(auto records, inner_.records_for(ecosystem, name));
    return records_.emplace(std::move(key), std::move(records)).first->second;
  }
  Result<std::optional<vuln::OsvRecord>> record(std::string_view id) override { return inner_.record(id); }
  Result<std::vector<std::string>> ecosystems_with_prefix(std::string_view prefix) override {
    auto it = prefixes_.find(std::string(prefix));
    if (it != prefixes_.end()) return it->second;
    VOUCH_ASSIGN_OR_RETURN(auto list, inner_.ecosystems_with_prefix(prefix));
    return prefixes_.emplace(std::string(prefix), std::move(list)).first->second;
  }
  Result<vuln::DatabaseStatus> status() override { return inner_.status(); }
  Result<vuln::DatabaseFreshness> freshness() override { return inner_.freshness(); }

 private:
  vuln::VulnerabilityStore& inner_;
  std::map<std::pair<std::string, std::string>, std::vector<vuln::OsvRecord>> records_;
  std::map<std::string, std::vector<std::string>> prefixes_;
};

std::vector<FindingRow> rows_of(const vuln::MatchReport& report) {
  std::vector<FindingRow> rows;
  for (const auto& f : report.vulnerabilities) rows.push_back(row_from_finding(f));
  for (const auto& f : report.suppressed) rows.push_back(row_from_finding(f, FindingStatus::kSuppressed));
  return rows;
}

Result<int64_t> latest_update(const std::filesystem::path& vuln_db_file) {
  VOUCH_ASSIGN_OR_RETURN(auto updates, vuln::list_updates(vuln_db_file));
  return updates.empty() ? int64_t{0} : updates.back().seq;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

FindingRow row_from_finding(const vuln::Finding& f, FindingStatus status) {
  FindingRow r;
  r.vulnerability = f.id;
  r.aliases = f.aliases;
  r.records = f.records;
  r.package_id = f.package.id;
  r.package_name = f.package.name;
  r.package_version = f.package.version;
  r.package_type = f.package.type;
  r.purl = f.package.purl;
  r.ecosystem = f.ecosystem;
  r.severity = std::string(vuln::severity_name(f.severity));
  if (f.score) r.score = fmt::format("{:.1f}", *f.score);
  // "GHSA-462w-v97r-4m45 CVSS_V3": the record that scored the finding and how.
  r.severity_source = f.scored_by.empty() ? f.severity_source : fmt::format("{} {}", f.scored_by, f.severity_source);
  r.fixed_versions = f.fixed_versions;
  r.summary = f.summary;
  r.status = status;
  if (status == FindingStatus::kSuppressed)
    r.reason = f.vex_status.empty() ? "suppressed" : fmt::format("VEX {} {}", f.vex_status, f.vex_justification);
  return r;
}

Result<Reconciled> add_and_scan(InventoryStore& store, vuln::VulnerabilityStore& vulns,
                                const std::filesystem::path& vuln_db_file, const Image& image, const sbom::Sbom& doc) {
  VOUCH_ASSIGN_OR_RETURN(auto before, store.images(true));
  VOUCH_ASSIGN_OR_RETURN(int64_t cursor, store.rescanned_through());
  VOUCH_RETURN_IF_ERROR(store.put_image(image, doc));
  VOUCH_ASSIGN_OR_RETURN(vuln::MatchReport report, vuln::match_sbom(doc, vulns));
  VOUCH_ASSIGN_OR_RETURN(Reconciled r, store.reconcile(image.digest, {}, rows_of(report), image.last_seen));
  // The first image is scanned against everything the database holds: no earlier update is
  // left for a rescan to apply.
  if (before.empty() && cursor == 0) {
    VOUCH_ASSIGN_OR_RETURN(int64_t latest, latest_update(vuln_db_file));
    VOUCH_RETURN_IF_ERROR(store.set_rescanned_through(latest));
  }
  return r;
}

Result<RescanResult> rescan(InventoryStore& store, vuln::VulnerabilityStore& vulns,
                            const std::filesystem::path& vuln_db_file, const RescanOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const UnixSeconds now = options.now.value_or(now_unix());
  if (options.retention_days < 0 || options.reopen_days < 0 || options.delete_closed_days < 0)
    return invalid_input("rescan: retention, reopening and deletion days cannot be negative");
  RescanResult out;
  VOUCH_ASSIGN_OR_RETURN(out.from_seq, store.rescanned_through());
  if (options.retention_days > 0) {
    VOUCH_ASSIGN_OR_RETURN(out.expired, store.expire(now - int64_t{options.retention_days} * 86400, now));
  }
  VOUCH_ASSIGN_OR_RETURN(vuln::ChangeSet changes, vuln::changes_since(vuln_db_file, out.from_seq));
  out.to_seq = changes.last_seq;
  out.changed_records = changes.ids.size();
  std::vector<std::pair<std::string, std::vector<std::string>>> targets;
  if (options.full) {
    VOUCH_ASSIGN_OR_RETURN(auto images, store.images(false));
    for (const auto& i : images) targets.emplace_back(i.digest, std::vector<std::string>());
  } else if (!changes.packages.empty()) {
    VOUCH_ASSIGN_OR_RETURN(targets, store.images_holding(changes.packages));
  }
  CachingStore cached(vulns);
  // The findings of a package depend only on the package and the distribution: images that share
  // one are matched once.
  std::map<std::string, std::vector<FindingRow>> by_package;
  auto package_key = [](const std::optional<sbom::Distro>& d, const sbom::Package& p) {
    return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", d ? d->id : "", d ? d->version_id : "", p.type,
                       p.purl, p.name, p.version, p.source_name, p.source_version);
  };
  // Images are written in batches, each one transaction: a commit per image would write the
  // same index pages again and again. A failure rolls back the batch under way; the cursor is
  // not moved, so the next rescan matches those images again.
  struct Batch {
    explicit Batch(InventoryStore& s) : store(s) {}
    InventoryStore& store;
    bool open = false;
    std::chrono::steady_clock::time_point started;
    size_t images = 0;
    Status begin() {
      VOUCH_RETURN_IF_ERROR(store.begin_batch());
      open = true;
      started = std::chrono::steady_clock::now();
      images = 0;
      return ok_status();
    }
    Status commit() {
      open = false;
      return store.commit_batch();
    }
    // Bounded in images and time, so that `inventory alerts` and other writers wait little.
    bool full() const {
      return images >= 500 || std::chrono::steady_clock::now() - started > std::chrono::seconds(2);
    }
    ~Batch() {
      if (open) store.rollback_batch();
    }
  } batch(store);
  VOUCH_RETURN_IF_ERROR(batch.begin());
  for (const auto& [digest, ids] : targets) {
    if (batch.full()) {
      VOUCH_RETURN_IF_ERROR(batch.commit());
      VOUCH_RETURN_IF_ERROR(batch.begin());
    }
    ++batch.images;
    VOUCH_ASSIGN_OR_RETURN(sbom::Sbom doc, store.image_sbom(digest, ids));
    sbom::Sbom unknown = doc;
    unknown.packages.clear();
    for (const auto& p : doc.packages)
      if (!by_package.count(package_key(doc.distro, p))) unknown.packages.push_back(p);
    if (!unknown.packages.empty()) {
      VOUCH_ASSIGN_OR_RETURN(vuln::MatchReport report, vuln::match_sbom(unknown, cached));
      std::map<std::string, std::vector<FindingRow>> found;
      for (auto& row : rows_of(report)) found[row.package_id].push_back(std::move(row));
      for (const auto& p : unknown.packages) by_package[package_key(doc.distro, p)] = std::move(found[p.id]);
    }
    std::vector<FindingRow> rows;
    for (const auto& p : doc.packages)
      for (FindingRow row : by_package[package_key(doc.distro, p)]) {
        row.package_id = p.id;
        rows.push_back(std::move(row));
      }
    VOUCH_ASSIGN_OR_RETURN(Reconciled r,
                           store.reconcile(digest, ids, rows, now, int64_t{options.reopen_days} * 86400));
    ++out.images;
    out.packages += doc.packages.size();
    out.opened += r.opened.size();
    out.reopened += r.reopened.size();
    out.closed += r.closed.size();
  }
  VOUCH_RETURN_IF_ERROR(batch.commit());
  if (options.delete_closed_days > 0) {
    VOUCH_ASSIGN_OR_RETURN(out.purged, store.purge_closed(now - int64_t{options.delete_closed_days} * 86400));
  }
  VOUCH_RETURN_IF_ERROR(store.set_rescanned_through(out.to_seq));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Result<VersionConstraint> parse_constraint(std::string_view text) {
  VersionConstraint c;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string term = trim(text.substr(start, end - start));
    start = end + 1;
    if (term.empty()) {
      if (end == text.size()) break;
      return invalid_input(fmt::format("version constraint '{}': empty term", text));
    }
    std::string op = "=";
    for (std::string_view candidate : {"<=", ">=", "!=", "==", "<", ">", "="})
      if (term.starts_with(candidate)) {
        op = candidate == "==" ? "=" : std::string(candidate);
        term = trim(std::string_view(term).substr(candidate.size()));
        break;
      }
    if (term.empty()) return invalid_input(fmt::format("version constraint '{}': '{}' has no version", text, op));
    c.terms.push_back({op, term});
    if (end == text.size()) break;
  }
  if (c.terms.empty()) return invalid_input("version constraint: empty");
  return c;
}

Result<vuln::VersionScheme> scheme_for_purl_type(std::string_view type) {
  using vuln::VersionScheme;
  if (type == "maven") return VersionScheme::kMaven;
  if (type == "pypi") return VersionScheme::kPypi;
  if (type == "npm" || type == "golang" || type == "cargo" || type == "hex") return VersionScheme::kSemver;
  if (type == "gem") return VersionScheme::kRubyGems;
  if (type == "composer") return VersionScheme::kPackagist;
  if (type == "nuget") return VersionScheme::kNuget;
  if (type == "deb") return VersionScheme::kDebian;
  if (type == "apk") return VersionScheme::kAlpine;
  if (type == "rpm") return VersionScheme::kRpm;
  return invalid_input(fmt::format("purl type '{}': no version ordering known", type));
}

Result<bool> satisfies(vuln::VersionScheme scheme, std::string_view version, const VersionConstraint& constraint) {
  for (const auto& t : constraint.terms) {
    VOUCH_ASSIGN_OR_RETURN(int c, vuln::compare_versions(scheme, version, t.version));
    bool ok = t.op == "<" ? c < 0 : t.op == "<=" ? c <= 0 : t.op == ">" ? c > 0 : t.op == ">=" ? c >= 0
                                   : t.op == "!=" ? c != 0 : c == 0;
    if (!ok) return false;
  }
  return true;
}

Result<QueryResult> query_packages(InventoryStore& store, std::string_view purl, std::string_view constraint,
                                   bool include_inactive) {
  VOUCH_ASSIGN_OR_RETURN(auto key, purl_key(purl));
  QueryResult out;
  VOUCH_ASSIGN_OR_RETURN(auto hits, store.packages_named(key.first, key.second, include_inactive));
  if (constraint.empty()) {
    out.hits = std::move(hits);
    return out;
  }
  VOUCH_ASSIGN_OR_RETURN(VersionConstraint c, parse_constraint(constraint));
  VOUCH_ASSIGN_OR_RETURN(vuln::VersionScheme scheme, scheme_for_purl_type(key.first));
  for (const auto& t : c.terms) {
    VOUCH_RETURN_IF_ERROR(vuln::validate_version(scheme, t.version));
  }
  // Thousands of images hold the same few versions: each is ordered once.
  std::map<std::string, Result<bool>, std::less<>> verdicts;
  for (auto& h : hits) {
    auto it = verdicts.find(h.version);
    if (it == verdicts.end()) it = verdicts.emplace(h.version, satisfies(scheme, h.version, c)).first;
    const Result<bool>& ok = it->second;
    if (!ok.ok()) {
      out.notes.push_back(fmt::format("{} {}: {}", h.digest, h.version, ok.error().message));
      continue;
    }
    if (*ok) out.hits.push_back(std::move(h));
  }
  return out;
}

}  // namespace vouch::inventory
